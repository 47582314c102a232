// The nba-v1 feature table from the database: every basketball game with its closing consensus lines (the NBA
// archive's, `npm run import:nba`), through the one builder in src/services/features/basketball. Used by
// `npm run features:export -- --sport basketball` and `npm run evaluate -- --sport basketball`.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type pg from 'pg';
import { matches, oddsSnapshots } from '../../../src/db/schema';
import { nbaGameOf, ofSport, selectNbaGames } from '../../../src/services/feature-store';
import { MARGIN_METHODS, removeMargin, type MarginMethod } from '../../../src/domain/odds';
import { NBA_ARCHIVE_BOOKMAKER } from '../../../src/providers/nba-archive/parse';
import {
  NBA_FEATURE_NAMES,
  NBA_FEATURE_SPORT,
  NBA_FEATURE_VERSION,
  computeNbaFeatureVectors,
  NBA_VENUES,
  type NbaGameInput,
} from '../../../src/services/features/basketball';
import { csvField, formatFeatureValue, windowBounds, type FeatureMatrixOptions } from '../features';
import { nodeDatabase } from '../db';

/** A 2-way line as the evaluation needs it: decimal prices [first, second outcome] and the line's point. */
export interface TwoWayLine {
  point: number | null;
  prices: [number, number];
}

export interface NbaFeatureRow {
  matchId: number;
  startAt: Date;
  date: string;
  season: string;
  homeTeam: string;
  awayTeam: string;
  homeScore: number | null;
  awayScore: number | null;
  /** 1 home win, 0 away win; null until finished. */
  labelHomeWin: 0 | 1 | null;
  featureVersion: typeof NBA_FEATURE_VERSION;
  values: Float64Array;
  /** The closing consensus lines: moneyline [home, away], spread [home, away] at the home point, total [over, under]. */
  closing: { h2h: TwoWayLine | null; spreads: TwoWayLine | null; totals: TwoWayLine | null };
}

/** Every basketball game with its closing consensus lines, by start then id. An offline read of all history. */
export async function loadNbaGames(pool: pg.Pool): Promise<{ inputs: NbaGameInput[]; rows: Omit<NbaFeatureRow, 'values' | 'featureVersion'>[] }> {
  const db = nodeDatabase(pool);
  // The same read and the same game input as the basketball feature store's (selectNbaGames, nbaGameOf), so the
  // walker and the store learn the same games.
  const games = await selectNbaGames(db)
    .where(ofSport(db, NBA_FEATURE_SPORT))
    .orderBy(asc(matches.startAt), asc(matches.id));
  const ids = games.map((g) => g.id);
  const lines = new Map<number, Map<string, { point: number | null; price: number }>>();
  for (let i = 0; i < ids.length; i += 5000) {
    const odds = await db
      .select({ matchId: oddsSnapshots.matchId, market: oddsSnapshots.market, outcome: oddsSnapshots.outcome, point: oddsSnapshots.point, price: oddsSnapshots.price })
      .from(oddsSnapshots)
      .where(and(inArray(oddsSnapshots.matchId, ids.slice(i, i + 5000)), eq(oddsSnapshots.bookmaker, NBA_ARCHIVE_BOOKMAKER), eq(oddsSnapshots.phase, 'closing')));
    for (const o of odds) {
      const byKey = lines.get(o.matchId) ?? new Map();
      lines.set(o.matchId, byKey);
      byKey.set(`${o.market}|${o.outcome}`, { point: o.point, price: Number(o.price) });
    }
  }
  const inputs: NbaGameInput[] = [];
  const rows: Omit<NbaFeatureRow, 'values' | 'featureVersion'>[] = [];
  for (const g of games) {
    const finished = g.status === 'finished' && g.homeScore !== null && g.awayScore !== null;
    // A game of a team the data file does not declare (no key) cannot have arenas or a rating history.
    const game = nbaGameOf({ ...g, homeScore: finished ? g.homeScore : null, awayScore: finished ? g.awayScore : null });
    if (!game) continue;
    const l = lines.get(g.id);
    const pair = (market: string, a: string, b: string): TwoWayLine | null => {
      const x = l?.get(`${market}|${a}`);
      const y = l?.get(`${market}|${b}`);
      return x && y ? { point: x.point, prices: [x.price, y.price] } : null;
    };
    const h2h = pair('h2h', 'home', 'away');
    const spreads = pair('spreads', 'home', 'away');
    const totals = pair('totals', 'over', 'under');
    const { date, season, homeTeam, awayTeam, homeScore, awayScore } = game;
    inputs.push({ ...game, moneyline: h2h ? { home: h2h.prices[0], away: h2h.prices[1] } : null, spreadHome: spreads?.point ?? null, total: totals?.point ?? null });
    rows.push({
      matchId: g.id,
      startAt: g.startAt,
      date,
      season,
      homeTeam,
      awayTeam,
      homeScore,
      awayScore,
      labelHomeWin: homeScore === null || awayScore === null ? null : homeScore > awayScore ? 1 : 0,
      closing: { h2h, spreads, totals },
    });
  }
  return { inputs, rows };
}

/** The nba-v1 rows of the games in the window (US game dates, both inclusive), built from all history. */
export async function buildNbaFeatureMatrix(pool: pg.Pool, window: FeatureMatrixOptions = {}): Promise<NbaFeatureRow[]> {
  const { inputs, rows } = await loadNbaGames(pool);
  const { from, to } = windowBounds(window);
  const inWindow = (date: string) => {
    const t = Date.parse(`${date}T00:00:00Z`);
    return t >= from && t < to;
  };
  const vectors = new Map(computeNbaFeatureVectors(inputs, NBA_VENUES, { include: (g) => inWindow(g.date) }).map((v) => [v.matchId, v.values]));
  return rows
    .filter((r) => vectors.has(r.matchId))
    .map((r) => ({ ...r, featureVersion: NBA_FEATURE_VERSION, values: vectors.get(r.matchId)! }))
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.matchId - b.matchId));
}

/** The margin-free home probability of the closing moneyline under `method`; null without a complete line. */
export function moneylineAnchor(row: Pick<NbaFeatureRow, 'closing'>, method: MarginMethod): number | null {
  const line = row.closing.h2h;
  if (!line || !line.prices.every((p) => p > 1 && Number.isFinite(p))) return null;
  return removeMargin(line.prices, method).probabilities[0]!;
}

// The training CSV (a contract with models/train_nba.py): match_id, start_at, date (US game date), season,
// home_team, away_team, label_home_win (1/0, empty if unfinished), the nba-v1 features, then the margin-free
// closing moneyline home probability under each margin method (empty where the game has no moneyline). As for
// football, the anchors come from the TypeScript margin removal the Worker runs, so Python has no second Shin.
export const NBA_CSV_LEADING_COLUMNS = ['match_id', 'start_at', 'date', 'season', 'home_team', 'away_team', 'label_home_win'] as const;
export const NBA_ANCHOR_COLUMNS = MARGIN_METHODS.map((m) => `anchor_h2h_${m}_home`);
export const NBA_CSV_COLUMNS: readonly string[] = [...NBA_CSV_LEADING_COLUMNS, ...NBA_FEATURE_NAMES, ...NBA_ANCHOR_COLUMNS];

export function nbaFeatureCsvLine(r: NbaFeatureRow): string {
  const fields = [String(r.matchId), r.startAt.toISOString(), r.date, csvField(r.season), csvField(r.homeTeam), csvField(r.awayTeam), r.labelHomeWin === null ? '' : String(r.labelHomeWin)];
  for (const v of r.values) fields.push(formatFeatureValue(v));
  for (const m of MARGIN_METHODS) {
    const a = moneylineAnchor(r, m);
    fields.push(a === null ? '' : formatFeatureValue(a));
  }
  return fields.join(',');
}

export async function writeNbaFeatureCsv(rows: readonly NbaFeatureRow[], path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const lines = function* () {
    yield NBA_CSV_COLUMNS.join(',') + '\n';
    for (const r of rows) yield nbaFeatureCsvLine(r) + '\n';
  };
  await pipeline(Readable.from(lines()), createWriteStream(path));
}
