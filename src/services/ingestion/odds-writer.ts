// The one write path for odds snapshots: the odds cron job and bench/ingest.ts both call writeOdds. Rows are
// already resolved to match ids (match-resolver.ts). Everything happens in one transaction, so a failure in
// any batch leaves nothing of the call behind and a retry of the same rows completes it.
import type { ProviderOddsRow } from '../../providers/types';
import { addCapture, widenOddsRanges, type CaptureRanges } from './odds-ranges';
import type { SqlQuery, SqlTransactor } from './sql';

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
  db: SqlTransactor,
  provider: string,
  rows: readonly ResolvedOddsRow[],
  options: WriteOddsOptions = {},
): Promise<OddsWriteCounts> {
  if (rows.length === 0) return { rows: 0, inserted: 0, duplicates: 0, partitions: [], matches: 0 };
  return db.transaction((query) => writeOddsInTransaction(query, provider, rows, options));
}

/** For a caller that already holds a transaction (a job doing more than odds in one unit of work). */
export async function writeOddsInTransaction(
  query: SqlQuery,
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
  const created = await query(`select ensure_month_partition('odds_snapshots', m) as name from unnest($1::date[]) as m`, [[...months].sort()]);
  const partitions = created.rows.map((r) => String(r.name));

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
    const result = await query(
      `insert into odds_snapshots (match_id, provider, bookmaker, market, outcome, point, price, phase, captured_at)
       select o.match_id, $1, o.bookmaker, o.market, o.outcome, o.point, o.price, o.phase, o.captured_at
       from unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::numeric[], $8::text[], $9::timestamptz[])
            as o(match_id, bookmaker, market, outcome, point, price, phase, captured_at)
       on conflict (match_id, provider, bookmaker, market, outcome, point, captured_at) do nothing`,
      [provider, matchIds, bookmakers, markets, outcomes, points, prices, phases, captured],
    );
    inserted += result.rowCount ?? 0;
  }

  await widenOddsRanges(query, ranges);
  return { rows: rows.length, inserted, duplicates: rows.length - inserted, partitions, matches: ranges.size };
}
