// The one write path for odds snapshots: the odds cron job and bench/ingest.ts both call writeOdds. Rows are
// already resolved to match ids (match-resolver.ts). Everything happens in one transaction, so a failure in
// any batch leaves nothing of the call behind and a retry of the same rows completes it.
import type { ProviderOddsRow } from '../../providers/types';
import { addCapture, widenOddsRanges, type CaptureRanges } from './odds-ranges';
import { sql } from 'drizzle-orm';
import { bare, pgArray, type PgDb } from '../../db/pg';
import { oddsSnapshots } from '../../db/schema';

export type OddsPhase = 'opening' | 'pre_match' | 'closing' | 'live';

export interface ResolvedOddsRow extends Omit<ProviderOddsRow, 'eventId' | 'lastUpdate'> {
  /** matches.id (bigint: kept as a string or a safe integer). */
  matchId: string | number;
  phase: OddsPhase;
}

export interface OddsWriteCounts {
  /** Rows given. */
  rows: number;
  inserted: number;
  /**
   * Rows whose natural key was already stored (or repeated within the call): not written again. A capture stamp
   * keeps its first price, as the MatchOdds object does, so the record and the live state agree.
   */
  duplicates: number;
  /** The monthly partitions the rows needed (created if missing). */
  partitions: string[];
  /** Matches whose capture range was touched. */
  matches: number;
}

export interface WriteOddsOptions {
  /** Rows per INSERT statement. A few thousand keeps each statement's arrays small and the round trips few. */
  batchRows?: number;
}

export const DEFAULT_ODDS_BATCH_ROWS = 5000;

/** pre_match before kick-off, live from kick-off on: the phase a live poll's capture represents. */
export function phaseAt(capturedAt: Date, commenceTime: Date): OddsPhase {
  return capturedAt.getTime() < commenceTime.getTime() ? 'pre_match' : 'live';
}

export async function writeOdds(
  db: PgDb,
  provider: string,
  rows: readonly ResolvedOddsRow[],
  options: WriteOddsOptions = {},
): Promise<OddsWriteCounts> {
  if (rows.length === 0) return { rows: 0, inserted: 0, duplicates: 0, partitions: [], matches: 0 };
  return db.transaction((tx) => writeOddsInTransaction(tx, provider, rows, options));
}

/** For a caller that already holds a transaction (a job doing more than odds in one unit of work). */
export async function writeOddsInTransaction(
  db: PgDb,
  provider: string,
  rows: readonly ResolvedOddsRow[],
  options: WriteOddsOptions = {},
): Promise<OddsWriteCounts> {
  const batchRows = options.batchRows ?? DEFAULT_ODDS_BATCH_ROWS;
  if (!(batchRows >= 1)) throw new Error(`batchRows must be at least 1, got ${batchRows}`);

  const months = new Set<string>();
  const ranges: CaptureRanges = new Map();
  for (const row of rows) {
    const t = row.capturedAt.getTime();
    if (Number.isNaN(t)) throw new Error(`odds row of match ${row.matchId} has an invalid capturedAt`);
    months.add(row.capturedAt.toISOString().slice(0, 7) + '-01');
    addCapture(ranges, String(row.matchId), t);
  }
  // A function called once per month (DDL inside): not a table the builder can select from.
  const created = await db.execute<{ name: string }>(
    sql`select ensure_month_partition('odds_snapshots', m) as name from unnest(${pgArray([...months].sort(), 'date')}) as m`,
  );
  const partitions = created.rows.map((r) => r.name);

  let inserted = 0;
  for (let start = 0; start < rows.length; start += batchRows) {
    const batch = rows.slice(start, start + batchRows);
    const n = batch.length;
    const matchIds = new Array<string>(n);
    const bookmakers = new Array<string>(n);
    const markets = new Array<string>(n);
    const outcomes = new Array<string>(n);
    const points = new Array<number | null>(n);
    const prices = new Array<number>(n);
    const phases = new Array<string>(n);
    const captured = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const r = batch[i]!;
      matchIds[i] = String(r.matchId);
      bookmakers[i] = r.bookmaker;
      markets[i] = r.market;
      outcomes[i] = r.outcome;
      points[i] = r.point;
      prices[i] = r.price;
      phases[i] = r.phase;
      captured[i] = r.capturedAt.toISOString();
    }
    // The measured fast path (bench/ingest.ts, docs/decisions.md "Ingestion writes"): one INSERT ... SELECT FROM
    // unnest of nine arrays, nine parameters whatever the batch size, kept hand-written; the builder's multi-row
    // VALUES binds 45,000 parameters for a 5,000-row batch. The conflict target is the NULLS NOT DISTINCT key.
    const o = oddsSnapshots;
    const result = await db.execute(sql`
      insert into ${o} (${bare(o.matchId)}, ${bare(o.provider)}, ${bare(o.bookmaker)}, ${bare(o.market)}, ${bare(o.outcome)}, ${bare(o.point)},
                        ${bare(o.price)}, ${bare(o.phase)}, ${bare(o.capturedAt)})
      select r.match_id, ${provider}, r.bookmaker, r.market, r.outcome, r.point, r.price, r.phase, r.captured_at
      from unnest(${pgArray(matchIds, 'bigint')}, ${pgArray(bookmakers, 'text')}, ${pgArray(markets, 'text')}, ${pgArray(outcomes, 'text')},
                  ${pgArray(points, 'numeric')}, ${pgArray(prices, 'numeric')}, ${pgArray(phases, 'text')}, ${pgArray(captured, 'timestamptz')})
           as r(match_id, bookmaker, market, outcome, point, price, phase, captured_at)
      on conflict (${bare(o.matchId)}, ${bare(o.provider)}, ${bare(o.bookmaker)}, ${bare(o.market)}, ${bare(o.outcome)}, ${bare(o.point)}, ${bare(o.capturedAt)})
      do nothing`);
    inserted += result.rowCount ?? 0;
  }

  await widenOddsRanges(db, ranges);
  return { rows: rows.length, inserted, duplicates: rows.length - inserted, partitions, matches: ranges.size };
}
