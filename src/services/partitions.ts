import { sql } from 'drizzle-orm';
import type { Transaction } from './jobs';

export const PARTITIONED_TABLES = ['odds_snapshots', 'predictions'] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

const monthStart = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
const isoDate = (d: Date) => d.toISOString().slice(0, 10);

/** Creates the monthly partitions of `table` covering [from, to]; returns their names. Idempotent. */
export async function ensureMonthPartitions(tx: Pick<Transaction, 'execute'>, table: PartitionedTable, from: Date, to: Date): Promise<string[]> {
  const result = await tx.execute<{ name: string }>(
    sql`select ensure_month_partitions(${table}::regclass, ${isoDate(monthStart(from))}::date, ${isoDate(monthStart(to))}::date) as name`,
  );
  return result.rows.map((r) => r.name);
}

/** The daily upkeep: this month and the next `monthsAhead` exist for every partitioned table. */
export async function ensurePartitionsAhead(tx: Pick<Transaction, 'execute'>, now: Date, monthsAhead = 3): Promise<string[]> {
  const until = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + monthsAhead, 1));
  const names: string[] = [];
  for (const table of PARTITIONED_TABLES) names.push(...(await ensureMonthPartitions(tx, table, now, until)));
  return names;
}

/**
 * Postgres refused a row because no partition covers it: SQLSTATE 23514 is also every CHECK violation, so the
 * message decides. drizzle wraps the driver's error as the cause of its own.
 */
export function isMissingPartition(error: unknown): boolean {
  for (let e = error as { code?: string; message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === '23514' && /no partition of relation/.test(e.message ?? '')) return true;
  }
  return false;
}

/** How long the vectors predictions were served from stay in Postgres (the seed's "feature vectors: 6 months"). */
export const SERVED_VECTOR_RETENTION = '6 months';

/**
 * Deletes served feature vectors past SERVED_VECTOR_RETENTION. Measured against the database's clock, not the
 * job's: a job run with another scheduled time (a test, a replay) must not delete what was served today.
 */
export async function deleteExpiredServedVectors(tx: Pick<Transaction, 'execute'>): Promise<number> {
  const result = await tx.execute(sql`delete from served_feature_vectors where predicted_at < now() - ${SERVED_VECTOR_RETENTION}::interval`);
  return (result as { rowCount?: number | null }).rowCount ?? 0;
}
