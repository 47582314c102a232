// Loads the NBA archive's CSV files (data/nba/README.md) into Postgres: each game a match of the NBA competition
// with its final score, each closing line odds snapshots (provider `sbr-nba`, bookmaker `consensus`, phase
// `closing`). The sport, the competition and the teams come from data/sports/basketball.json, which db:migrate
// loads; codes resolve through its `sbr-nba` aliases, so a relocated franchise is one team in every season.
//
// Each file is one transaction and one ingestion_jobs row: a file that fails leaves nothing behind and says why.
// A row that cannot be a game (bad date, unknown team code, half a score) is skipped and reported as file:line,
// as the football importer does; a single unusable line is dropped and reported, and the rest of the row kept.
// A second run over the same files writes nothing: matches are upserted only where a value differs, and the
// stored prices of the file's matches are read first, so only new lines are inserted and only changed ones
// rewritten. A line the file no longer has is removed (the archive is the truth for its own rows); a cell that
// is there but unreadable removes nothing. The feature stores are advanced at the end, as after a football import:
// serving reads the basketball store, never the history.
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { and, between, eq, inArray, sql } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { advanceFeatureStore, type AdvanceSummary } from '../../../src/services/feature-store';
import { nodeDatabase } from '../db';
import { competitions, ingestionJobs, matches, oddsSnapshots, teamAliases } from '../../../src/db/schema';
import {
  NBA_ARCHIVE_BOOKMAKER,
  NBA_ARCHIVE_PROVIDER,
  NBA_COMPETITION_KEY,
  parseNbaArchiveCsv,
  type NbaGame,
  type RowProblem,
} from '../../../src/providers/nba-archive/parse';

export { expandPaths } from '../football-data/import';

export const NBA_DATA_DIR = new URL('../../../data/nba/', import.meta.url).pathname;

type Db = NodePgDatabase;
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface WriteCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

export interface NbaFileSummary {
  file: string;
  jobId: string;
  status: 'succeeded' | 'failed';
  error?: string;
  matches: WriteCounts;
  odds: WriteCounts & { removed: number };
  rejected: RowProblem[];
  invalidPrices: RowProblem[];
}

export interface NbaImportSummary {
  files: NbaFileSummary[];
  matches: WriteCounts;
  odds: WriteCounts & { removed: number };
  rejected: RowProblem[];
  invalidPrices: RowProblem[];
  failedFiles: number;
  /** The feature stores' advance after the import; null when the caller asked for none. */
  featureStore: AdvanceSummary | null;
  durationMs: number;
}

const emptyCounts = (): WriteCounts => ({ inserted: 0, updated: 0, unchanged: 0 });
const emptyOdds = () => ({ ...emptyCounts(), removed: 0 });
/** Rows per insert: 10 columns × 2,000 stays far below Postgres' 65,535 parameters. */
const BATCH = 2000;
/** odds_snapshots.price is numeric(10, 3): compare what would be stored. */
const stored3 = (price: number) => Math.round(price * 1000) / 1000;

export async function importNbaArchive(
  pool: pg.Pool,
  paths: string[],
  options: {
    onFile?: (summary: NbaFileSummary) => void;
    /** When to advance the feature stores to after the import (ms); null: not at all (a test that walks it itself). */
    featureStoreAt?: number | null;
  } = {},
): Promise<NbaImportSummary> {
  const started = performance.now();
  const db = drizzle({ client: pool });
  const summary: NbaImportSummary = {
    files: [],
    matches: emptyCounts(),
    odds: emptyOdds(),
    rejected: [],
    invalidPrices: [],
    failedFiles: 0,
    featureStore: null,
    durationMs: 0,
  };
  for (const path of paths) {
    const parsed = parseNbaArchiveCsv(await readFile(path, 'utf8'), basename(path));
    const file = await importFile(db, parsed.file, parsed.games, parsed.rejected, parsed.invalidPrices);
    summary.files.push(file);
    for (const key of ['inserted', 'updated', 'unchanged'] as const) {
      summary.matches[key] += file.matches[key];
      summary.odds[key] += file.odds[key];
    }
    summary.odds.removed += file.odds.removed;
    summary.rejected.push(...file.rejected);
    summary.invalidPrices.push(...file.invalidPrices);
    if (file.status === 'failed') summary.failedFiles++;
    options.onFile?.(file);
  }
  const at = options.featureStoreAt === undefined ? Date.now() : options.featureStoreAt;
  summary.featureStore = at === null ? null : await advanceFeatureStore(nodeDatabase(pool), at);
  summary.durationMs = performance.now() - started;
  return summary;
}

async function importFile(db: Db, file: string, games: NbaGame[], rejected: RowProblem[], invalidPrices: RowProblem[]): Promise<NbaFileSummary> {
  const result: NbaFileSummary = { file, jobId: '', status: 'succeeded', matches: emptyCounts(), odds: emptyOdds(), rejected: [...rejected], invalidPrices };
  const [job] = await db
    .insert(ingestionJobs)
    .values({ kind: 'import', provider: NBA_ARCHIVE_PROVIDER, trigger: 'manual', stats: { file } })
    .returning({ id: ingestionJobs.id });
  result.jobId = job!.id;
  const started = performance.now();
  try {
    await db.transaction(async (tx) => {
      const counts = await writeGames(tx, file, games, result.rejected);
      result.matches = counts.matches;
      result.odds = counts.odds;
    });
  } catch (error) {
    result.status = 'failed';
    result.error = (error as Error).message;
    result.matches = emptyCounts();
    result.odds = emptyOdds();
  }
  result.rejected.sort((a, b) => a.line - b.line);
  await db
    .update(ingestionJobs)
    .set({
      status: result.status,
      finishedAt: new Date(),
      durationMs: Math.round(performance.now() - started),
      error: result.error ?? null,
      stats: { file, matches: result.matches, odds: result.odds, rejected: result.rejected.length, invalidPrices: result.invalidPrices.length },
    })
    .where(eq(ingestionJobs.id, result.jobId));
  return result;
}

async function writeGames(tx: Tx, file: string, games: NbaGame[], rejected: RowProblem[]) {
  const [competition] = await tx
    .select({ id: competitions.id, sportId: competitions.sportId })
    .from(competitions)
    .where(eq(competitions.key, NBA_COMPETITION_KEY));
  if (!competition) throw new Error(`no competition ${NBA_COMPETITION_KEY}: data/sports/basketball.json is not loaded (run npm run db:migrate)`);

  // Codes → teams through the data file's aliases. An unknown code is a row problem, never a new team: the
  // data file, not the archive, says which teams exist.
  const codes = [...new Set(games.flatMap((g) => [g.homeCode, g.awayCode]))];
  const aliasRows = codes.length
    ? await tx
        .select({ alias: teamAliases.alias, teamId: teamAliases.teamId })
        .from(teamAliases)
        .where(and(eq(teamAliases.provider, NBA_ARCHIVE_PROVIDER), inArray(teamAliases.alias, codes)))
    : [];
  const teamOf = new Map(aliasRows.map((r) => [r.alias, r.teamId]));
  const known: NbaGame[] = [];
  for (const g of games) {
    const unknown = [g.homeCode, g.awayCode].filter((c) => !teamOf.has(c));
    if (unknown.length) rejected.push({ file, line: g.line, reason: `unknown team code ${unknown.map((c) => `"${c}"`).join(' and ')} (not an sbr-nba alias in data/sports/basketball.json)` });
    else known.push(g);
  }
  const counts = { matches: emptyCounts(), odds: emptyOdds() };
  if (known.length === 0) return counts;

  // Matches: inserted, or rewritten only where the file says something else (a corrected score).
  const matchIdOf = new Map<string, number>();
  for (let start = 0; start < known.length; start += BATCH) {
    const batch = known.slice(start, start + BATCH);
    const rows = await tx
      .insert(matches)
      .values(
        batch.map((g) => ({
          sportId: competition.sportId,
          competitionId: competition.id,
          season: g.season,
          homeTeamId: teamOf.get(g.homeCode)!,
          awayTeamId: teamOf.get(g.awayCode)!,
          startAt: g.startAt,
          startTimeKnown: false,
          status: g.status,
          provider: NBA_ARCHIVE_PROVIDER,
          externalMatchId: g.externalId,
          homeScore: g.homeScore,
          awayScore: g.awayScore,
        })),
      )
      .onConflictDoUpdate({
        target: [matches.provider, matches.externalMatchId],
        // `excluded.*` and the row comparison are beyond drizzle's builder, hence the sql template.
        set: {
          competitionId: sql`excluded.competition_id`,
          season: sql`excluded.season`,
          status: sql`excluded.status`,
          homeScore: sql`excluded.home_score`,
          awayScore: sql`excluded.away_score`,
          updatedAt: sql`now()`,
        },
        setWhere: sql`(${matches.competitionId}, ${matches.season}, ${matches.status}, ${matches.homeScore}, ${matches.awayScore})
          is distinct from (excluded.competition_id, excluded.season, excluded.status, excluded.home_score, excluded.away_score)`,
      })
      // xmax = 0 marks a row this statement inserted (matches is not partitioned, so RETURNING can read it).
      .returning({ id: matches.id, externalId: matches.externalMatchId, created: sql<boolean>`(xmax = 0)` });
    for (const r of rows) {
      matchIdOf.set(r.externalId, r.id);
      if (r.created) counts.matches.inserted++;
      else counts.matches.updated++;
    }
    const untouched = batch.filter((g) => !matchIdOf.has(g.externalId)).map((g) => g.externalId);
    if (untouched.length) {
      const existing = await tx
        .select({ id: matches.id, externalId: matches.externalMatchId })
        .from(matches)
        .where(and(eq(matches.provider, NBA_ARCHIVE_PROVIDER), inArray(matches.externalMatchId, untouched)));
      for (const r of existing) matchIdOf.set(r.externalId, r.id);
      counts.matches.unchanged += existing.length;
    }
  }

  // Odds: every line captured at the game's startAt (before any tip-off of that US date), phase closing.
  type Row = { matchId: number; market: 'h2h' | 'spreads' | 'totals'; outcome: string; point: number | null; price: number; capturedAt: Date };
  const rows: Row[] = known.flatMap((g) =>
    g.odds.map((o) => ({ matchId: matchIdOf.get(g.externalId)!, market: o.market, outcome: o.outcome, point: o.point, price: stored3(o.price), capturedAt: g.startAt })),
  );
  const keyOf = (r: Pick<Row, 'matchId' | 'market' | 'outcome' | 'point' | 'capturedAt'>) =>
    `${r.matchId}|${r.market}|${r.outcome}|${r.point ?? ''}|${r.capturedAt.getTime()}`;
  let firstMs = Infinity;
  let lastMs = -Infinity;
  for (const g of known) {
    firstMs = Math.min(firstMs, g.startAt.getTime());
    lastMs = Math.max(lastMs, g.startAt.getTime());
  }
  const first = new Date(firstMs);
  const last = new Date(lastMs);
  const matchIds = [...new Set(matchIdOf.values())];
  const storedRows: Row[] = [];
  for (let start = 0; start < matchIds.length; start += BATCH) {
    storedRows.push(
      ...(await tx
        .select({
          matchId: oddsSnapshots.matchId,
          market: oddsSnapshots.market,
          outcome: oddsSnapshots.outcome,
          point: oddsSnapshots.point,
          price: oddsSnapshots.price,
          capturedAt: oddsSnapshots.capturedAt,
        })
        .from(oddsSnapshots)
        .where(
          and(
            eq(oddsSnapshots.provider, NBA_ARCHIVE_PROVIDER),
            eq(oddsSnapshots.bookmaker, NBA_ARCHIVE_BOOKMAKER),
            inArray(oddsSnapshots.matchId, matchIds.slice(start, start + BATCH)),
            between(oddsSnapshots.capturedAt, first, last),
          ),
        )),
    );
  }
  const storedByKey = new Map(storedRows.map((r) => [keyOf(r), r]));
  const wanted = new Set(rows.map(keyOf));
  const toInsert = rows.filter((r) => !storedByKey.has(keyOf(r)));
  const toUpdate = rows.filter((r) => {
    const s = storedByKey.get(keyOf(r));
    return s !== undefined && s.price !== r.price;
  });
  // A line the file no longer has is withdrawn; one whose cell is unreadable this time keeps what was stored.
  const kept = new Set(known.flatMap((g) => g.unreadable.map((u) => `${matchIdOf.get(g.externalId)}|${u.market}|${u.outcome}`)));
  const toRemove = storedRows.filter((r) => !wanted.has(keyOf(r)) && !kept.has(`${r.matchId}|${r.market}|${r.outcome}`));

  if (toInsert.length) {
    // A month's partition must exist before a row lands in it; the function is the migrations' (0002), which
    // the builder cannot call.
    const months = [...new Set(toInsert.map((r) => r.capturedAt.toISOString().slice(0, 7)))].sort();
    for (const month of months) await tx.execute(sql`select ensure_month_partition('odds_snapshots'::regclass, ${`${month}-01`}::date)`);
    for (let start = 0; start < toInsert.length; start += BATCH) {
      const written = await tx
        .insert(oddsSnapshots)
        .values(
          toInsert.slice(start, start + BATCH).map((r) => ({
            matchId: r.matchId,
            provider: NBA_ARCHIVE_PROVIDER,
            bookmaker: NBA_ARCHIVE_BOOKMAKER,
            market: r.market,
            outcome: r.outcome,
            point: r.point,
            price: r.price,
            phase: 'closing' as const,
            capturedAt: r.capturedAt,
          })),
        )
        .onConflictDoNothing()
        .returning({ matchId: oddsSnapshots.matchId });
      counts.odds.inserted += written.length;
    }
  }
  const sameLine = (r: Row) =>
    and(
      eq(oddsSnapshots.matchId, r.matchId),
      eq(oddsSnapshots.provider, NBA_ARCHIVE_PROVIDER),
      eq(oddsSnapshots.bookmaker, NBA_ARCHIVE_BOOKMAKER),
      eq(oddsSnapshots.market, r.market),
      eq(oddsSnapshots.outcome, r.outcome),
      r.point === null ? sql`${oddsSnapshots.point} is null` : eq(oddsSnapshots.point, r.point),
      eq(oddsSnapshots.capturedAt, r.capturedAt),
    );
  // Corrections are rare (none on a re-run), so one statement each is fine.
  for (const r of toUpdate) {
    await tx.update(oddsSnapshots).set({ price: r.price, ingestedAt: new Date() }).where(sameLine(r));
    counts.odds.updated++;
  }
  for (const r of toRemove) {
    await tx.delete(oddsSnapshots).where(sameLine(r));
    counts.odds.removed++;
  }
  counts.odds.unchanged = rows.length - toInsert.length - toUpdate.length;

  // Odds reads bound their partition scan by matches.odds_captured_from/to (migration 0005): widen them (never
  // narrow) to cover the new rows, which are all captured at the match's start_at.
  const widened = [...new Set(toInsert.map((r) => r.matchId))];
  for (let start = 0; start < widened.length; start += BATCH) {
    await tx
      .update(matches)
      .set({
        oddsCapturedFrom: sql`least(${matches.oddsCapturedFrom}, ${matches.startAt})`,
        oddsCapturedTo: sql`greatest(${matches.oddsCapturedTo}, ${matches.startAt})`,
      })
      .where(inArray(matches.id, widened.slice(start, start + BATCH)));
  }
  return counts;
}

/**
 * Loads the archive's files that have no succeeded import yet (a second run loads nothing); with `before`, only the
 * seasons before that one (`2021-22`): npm start leaves the season its stand-in replays to the live jobs.
 */
export async function loadNbaArchiveIfNeeded(
  pool: pg.Pool,
  log: (message: string) => void,
  options: { dir?: string; before?: string } = {},
): Promise<void> {
  const dir = options.dir ?? NBA_DATA_DIR;
  const seasonOf = (file: string) => /(\d{4}-\d{2})\.csv$/.exec(file)?.[1];
  const files = (await readdir(dir))
    .filter((f) => f.endsWith('.csv'))
    .filter((f) => options.before === undefined || (seasonOf(f) !== undefined && seasonOf(f)! < options.before))
    .sort();
  const { rows } = await pool.query<{ file: string }>(
    `select distinct stats->>'file' as file from ingestion_jobs where kind = 'import' and provider = $1 and status = 'succeeded'`,
    [NBA_ARCHIVE_PROVIDER],
  );
  const loaded = new Set(rows.map((r) => r.file));
  const missing = files.filter((f) => !loaded.has(basename(f)));
  if (missing.length === 0) {
    log('NBA archive already loaded');
    return;
  }
  log(`loading ${missing.length} NBA archive files from data/nba${options.before ? ` (the seasons before ${options.before})` : ''}...`);
  const summary = await importNbaArchive(pool, missing.map((f) => join(dir, f)));
  if (summary.failedFiles > 0) throw new Error(`importing the NBA archive failed: ${summary.files.filter((f) => f.status === 'failed').map((f) => `${f.file}: ${f.error}`).join('; ')}`);
  log(`NBA archive: ${summary.matches.inserted} games added`);
}
