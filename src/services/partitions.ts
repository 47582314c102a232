import { sql } from 'drizzle-orm';
import { servedFeatureVectors } from '../db/schema';
import type { Transaction } from './jobs';

export const PARTITIONED_TABLES = ['odds_snapshots', 'predictions'] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

const monthStart = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
const isoDate = (d: Date) => d.toISOString().slice(0, 10);

/** Creates the monthly partitions of `table` covering [from, to]; returns their names. Idempotent. */
export async function ensureMonthPartitions(tx: Pick<Transaction, 'execute'>, table: PartitionedTable, from: Date, to: Date): Promise<string[]> {
  // A `sql` template because the builder cannot select from a set-returning function.
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

/**
 * How long the vectors predictions were served from stay in Postgres (the seed's "feature vectors: 6 months in
 * Postgres + S3"). The Worker deletes none of them: the archive (`npm run archive`, scripts/lib/lake/archive.ts)
 * writes each whole calendar month past this retention to the S3 lake, verifies it there and only then deletes
 * it, so a vector leaves Postgres only once the lake holds it (docs/decisions.md, "Served vectors leave Postgres
 * through the archive").
 */
export const SERVED_VECTOR_RETENTION_MONTHS = 6;

/**
 * The oldest served vector still in Postgres (null: none), for the daily upkeep's stats: a month older than
 * retention + 1 there means the monthly archive has not been running. One read of the predicted_at index.
 */
export async function oldestServedVector(tx: Pick<Transaction, 'select'>): Promise<string | null> {
  const [row] = await tx
    .select({ oldest: sql<string | null>`to_char(min(${servedFeatureVectors.predictedAt}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')` })
    .from(servedFeatureVectors);
  return row?.oldest ?? null;
}
