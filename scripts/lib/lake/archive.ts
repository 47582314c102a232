// The partition archive (`npm run archive`): live-provider rows of monthly partitions past retention go to
// the S3 lake as Parquet, are verified there, and only then leave Postgres. An unpartitioned table
// (served_feature_vectors) is archived the same way one calendar month (UTC) of its time column at a time;
// "the partition" below is then that month's rows, and step 5 is always a DELETE of the month's range.
//
// Per partition, in ONE transaction on one connection (so any failure rolls back and the partition and its
// rows stay exactly as they were):
// 1. LOCK the partition IN SHARE MODE (reads go on, writes wait) and count the rows to archive. An
//    unpartitioned table is locked SHARE UPDATE EXCLUSIVE instead (see lockMode).
// 2. Stream them through a cursor, CHUNK_ROWS at a time; each chunk is one Parquet object
//    archive/<table>/month=YYYY-MM/run=<run id>/part-NNNNN.parquet with its sha256 in x-amz-meta-sha256.
// 3. Read every part back from S3: its bytes must hash to what was written, its footer and its decoded rows
//    must give the row count, and the rows' digest must equal the digest of the rows streamed from Postgres.
//    The parts' total must equal the count of step 1.
// 4. Write _manifest.json (columns, counts, digests, sha256 per part), read back and checked.
// 5. Remove: a partition holding nothing but archivable rows is DETACHed and DROPped; a partition that also
//    holds rows that are never archived (historical football-data odds) keeps them: only the archived
//    rows are DELETEd, and the deleted count must equal the exported count.
// 6. COMMIT, then write _SUCCESS into the run's folder: the marker that the rows now live only in the lake.
// On failure the run's objects are deleted (best effort) and the error is reported; a run folder without
// _SUCCESS is never restored.
import type pg from 'pg';
import { sha256Hex, type ObjectStore } from '../../../src/services/artifacts';
import { encodeParquet, parquetFooter, readParquetRows, RowDigest, digestRows, type LakeValue } from './parquet';
import { quoteIdent, tableColumns, toPgText, type PgLakeColumn } from './pg-columns';
import { SERVED_VECTOR_RETENTION_MONTHS } from '../../../src/services/partitions';

/** The provider whose rows expire; every other provider's rows (football-data: the training set) are kept. */
export const LIVE_ODDS_PROVIDER = 'the-odds-api';

export interface ArchivedTable {
  table: 'odds_snapshots' | 'predictions' | 'served_feature_vectors';
  retentionMonths: number;
  /** SQL condition (on the partition) of the rows that expire. Rows outside it are never archived away. */
  archivable: string;
  /**
   * What a month is. 'partition': the table's monthly partition (<table>_yYYYYmMM), dropped when it held only
   * archivable rows. 'column': the table is not partitioned; a month is the rows whose `column` (timestamptz)
   * falls in that calendar month in UTC, and they leave by a DELETE of that range.
   */
  months: { by: 'partition' } | { by: 'column'; column: string };
}

export const ARCHIVED_TABLES: readonly ArchivedTable[] = [
  { table: 'odds_snapshots', retentionMonths: 24, archivable: `provider = '${LIVE_ODDS_PROVIDER}'`, months: { by: 'partition' } },
  // Every prediction is the live model's output: all of it expires.
  { table: 'predictions', retentionMonths: 12, archivable: 'true', months: { by: 'partition' } },
  // The vectors predictions were served from (written with them by the write queue). The Worker no longer
  // deletes them: this archive is the only way out of Postgres (src/services/partitions.ts).
  { table: 'served_feature_vectors', retentionMonths: SERVED_VECTOR_RETENTION_MONTHS, archivable: 'true', months: { by: 'column', column: 'predicted_at' } },
];

export const CHUNK_ROWS = 50_000;

export interface ExpiredPartition {
  table: ArchivedTable;
  /** The partition's name; for a table archived by column, `<table>/month=YYYY-MM` (a label, not a relation). */
  partition: string;
  /** 'YYYY-MM' */
  month: string;
}

export interface PartPlan {
  key: string;
  rows: number;
  sha256: string;
  rowDigest: string;
}

export interface PartitionArchive {
  partition: string;
  month: string;
  prefix: string;
  rows: number;
  parts: PartPlan[];
  /** 'dropped': detached and dropped; 'deleted': archivable rows deleted, other rows kept; 'empty': nothing to archive. */
  action: 'dropped' | 'deleted' | 'empty';
  keptRows: number;
}

export interface ArchiveHooks {
  /** After each part is written (before verification): tests stop the server or corrupt an object here. */
  afterPart?(part: { key: string; index: number }): Promise<void> | void;
  /** After verification, before the rows are removed. */
  beforeRemove?(partition: string): Promise<void> | void;
}

export interface ArchiveOptions {
  now?: Date;
  chunkRows?: number;
  /** List what would be archived, write nothing. */
  dryRun?: boolean;
  /** Run id in the object keys (default: now, compact ISO). */
  runId?: string;
  hooks?: ArchiveHooks;
  /** How long a lock may be waited for before the partition is left for the next run (default 15 s). */
  lockTimeoutMs?: number;
  log?: (line: string) => void;
}

const monthKey = (y: number, m: number) => `${y}-${String(m).padStart(2, '0')}`;

/** The first instant of the month that no longer expires: months ending on or before it are past retention. */
const retentionCutoff = (now: Date, table: ArchivedTable) => Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - table.retentionMonths, 1);

/**
 * Partitions of the archived tables whose whole month is older than its table's retention, and the months of
 * rows of the tables archived by column, oldest first.
 */
export async function expiredPartitions(db: Pick<pg.Pool, 'query'>, now: Date): Promise<ExpiredPartition[]> {
  const { rows } = await db.query<{ parent: string; partition: string }>(
    `select p.relname as parent, c.relname as partition
     from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
     where p.relname = any($1::text[])`,
    [ARCHIVED_TABLES.filter((t) => t.months.by === 'partition').map((t) => t.table)],
  );
  const expired: ExpiredPartition[] = [];
  for (const r of rows) {
    const table = ARCHIVED_TABLES.find((t) => t.table === r.parent)!;
    const m = r.partition.match(/_y(\d{4})m(\d{2})$/);
    if (!m) continue;
    const year = Number(m[1]);
    const month = Number(m[2]);
    // Expired when the month ends on or before the first day of (this month − retention).
    const end = Date.UTC(year, month, 1);
    if (end <= retentionCutoff(now, table)) expired.push({ table, partition: r.partition, month: monthKey(year, month) });
  }
  for (const table of ARCHIVED_TABLES) {
    if (table.months.by !== 'column') continue;
    const col = quoteIdent(table.months.column);
    const from = quoteIdent(table.table);
    // The months holding rows before the cutoff, one index probe per month (a loose index scan) rather than a
    // scan of every expired row.
    const months = await db.query<{ month: string }>(
      `with recursive m(start) as (
         select date_trunc('month', min(${col}) at time zone 'UTC') from ${from} where ${col} < $1::timestamptz
         union all
         select (select date_trunc('month', min(${col}) at time zone 'UTC') from ${from}
                 where ${col} >= (m.start + interval '1 month') at time zone 'UTC' and ${col} < $1::timestamptz)
         from m where m.start is not null
       )
       select to_char(start, 'YYYY-MM') as month from m where start is not null`,
      [new Date(retentionCutoff(now, table)).toISOString()],
    );
    for (const r of months.rows) expired.push({ table, partition: `${table.table}/month=${r.month}`, month: r.month });
  }
  return expired.sort((a, b) => (a.month === b.month ? a.partition.localeCompare(b.partition) : a.month.localeCompare(b.month)));
}

export const runIdFor = (now: Date) => now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

export const archivePrefix = (table: string, month: string, runId: string) => `archive/${table}/month=${month}/run=${runId}/`;

const encoder = new TextEncoder();

/**
 * Where a month's rows are and how they are taken. A partition is locked SHARE: nothing writes to a month that
 * old, and DETACH needs it quiet. An unpartitioned table keeps taking the live writes (the write queue inserts
 * today's vectors), so it is locked SHARE UPDATE EXCLUSIVE: inserts and deletes go on, a second archive run
 * waits. That is enough under the transaction's REPEATABLE READ snapshot: the DELETE sees exactly the rows
 * that were exported (a row written into the month later is neither exported nor deleted and waits for the
 * next run), and a concurrent change to an exported row makes the DELETE fail and the whole month roll back.
 */
function monthRows(expired: ExpiredPartition): { relation: string; range: string; lockMode: string; orderBy: string; bounds?: { column: string; from: string; to: string } } {
  const { table, partition, month } = expired;
  if (table.months.by === 'partition') return { relation: quoteIdent(partition), range: 'true', lockMode: 'share', orderBy: '' };
  const [year, m] = month.split('-').map(Number) as [number, number];
  const from = new Date(Date.UTC(year, m - 1, 1)).toISOString();
  const to = new Date(Date.UTC(year, m, 1)).toISOString();
  const col = quoteIdent(table.months.column);
  return {
    relation: quoteIdent(table.table),
    range: `${col} >= '${from}'::timestamptz and ${col} < '${to}'::timestamptz`,
    lockMode: 'share update exclusive',
    orderBy: ` order by ${col}`,
    bounds: { column: table.months.column, from, to },
  };
}

/** Archives one partition (see the file comment for the steps). */
export async function archivePartition(pool: pg.Pool, store: ObjectStore, expired: ExpiredPartition, options: ArchiveOptions = {}): Promise<PartitionArchive> {
  const { table, partition, month } = expired;
  const chunkRows = options.chunkRows ?? CHUNK_ROWS;
  const runId = options.runId ?? runIdFor(options.now ?? new Date());
  const prefix = archivePrefix(table.table, month, runId);
  const { relation: part, range, lockMode, orderBy, bounds } = monthRows(expired);
  const written: string[] = [];
  const client = await pool.connect();
  try {
    await client.query('begin isolation level repeatable read');
    // Fail fast instead of queueing behind (and in front of) the API's writers; the next run retries. SET and
    // LOCK take no snapshot: the repeatable-read snapshot is fixed by the first query after the lock, so no
    // write that committed while we waited can be missing from what is exported and then dropped.
    const lockTimeoutMs = Math.max(1, Math.floor(options.lockTimeoutMs ?? 15_000));
    await client.query(`set local lock_timeout = '${lockTimeoutMs}ms'`);
    // Floats leave as the shortest text that parses back to the same value, whatever the server's default.
    await client.query(`set local extra_float_digits = 3`);
    await client.query(`lock table ${part} in ${lockMode} mode`);
    const columns = await tableColumns(client, table.months.by === 'partition' ? partition : table.table);
    const counts = await client.query<{ archivable: string; kept: string }>(
      `select count(*) filter (where ${table.archivable}) as archivable, count(*) filter (where not (${table.archivable})) as kept from ${part} where ${range}`,
    );
    const expected = Number(counts.rows[0]!.archivable);
    const keptRows = Number(counts.rows[0]!.kept);
    if (expected === 0) {
      await client.query('rollback');
      return { partition, month, prefix, rows: 0, parts: [], action: 'empty', keptRows };
    }

    // 2. Stream out, one Parquet object per chunk.
    const parts: PartPlan[] = [];
    const kv = { table: table.table, partition, month, run: runId };
    await client.query(
      `declare archive_cursor no scroll cursor for select ${columns.map((c) => c.selectExpression).join(', ')} from ${part} where ${range} and (${table.archivable})${orderBy}`,
    );
    for (let index = 0; ; index++) {
      const chunk = await client.query<unknown[]>({ text: `fetch ${chunkRows} from archive_cursor`, rowMode: 'array' });
      if (chunk.rows.length === 0) break;
      const rows = chunk.rows.map((r) => r.map((v, i) => columns[i]!.fromPg(v)));
      const key = `${prefix}part-${String(index).padStart(5, '0')}.parquet`;
      written.push(key);
      const sha256 = await store.put(key, encodeParquet(columns, rows, kv), { contentType: 'application/vnd.apache.parquet' });
      parts.push({ key, rows: rows.length, sha256, rowDigest: digestRows(rows) });
      await options.hooks?.afterPart?.({ key, index });
    }
    await client.query('close archive_cursor');

    // 3. Verify what S3 holds against what Postgres gave.
    await verifyParts(store, columns, parts);
    const exported = parts.reduce((n, p) => n + p.rows, 0);
    if (exported !== expected) throw new Error(`${partition}: exported ${exported} rows, the partition holds ${expected}`);

    // 4. The manifest: what a restore needs, and what this run vouches for.
    const manifest = {
      table: table.table,
      partition,
      month,
      run: runId,
      archivable: table.archivable,
      ...(bounds ? { range: bounds } : {}),
      rows: exported,
      keptRows,
      columns: columns.map(({ name, type, nullable, pgType }) => ({ name, type, nullable, pgType })),
      parts,
      exportedAt: new Date().toISOString(),
    };
    written.push(`${prefix}_manifest.json`);
    await store.putVerified(`${prefix}_manifest.json`, encoder.encode(JSON.stringify(manifest, null, 2)), { contentType: 'application/json' });

    // 5. Remove, still inside the transaction.
    await options.hooks?.beforeRemove?.(partition);
    let action: PartitionArchive['action'];
    if (table.months.by === 'partition' && keptRows === 0) {
      await client.query(`alter table ${quoteIdent(table.table)} detach partition ${part}`);
      await client.query(`drop table ${part}`);
      action = 'dropped';
    } else {
      const deleted = await client.query(`delete from ${part} where ${range} and (${table.archivable})`);
      if (deleted.rowCount !== exported) throw new Error(`${partition}: deleting would remove ${deleted.rowCount} rows, ${exported} were exported`);
      action = 'deleted';
    }
    await client.query('commit');
    written.length = 0; // committed: these objects are now the only copy, never clean them up
    await store.putVerified(`${prefix}_SUCCESS`, encoder.encode(`${exported} rows of ${partition} archived; ${action}\n`), { contentType: 'text/plain' });
    options.log?.(`${partition}: ${exported} rows in ${parts.length} part(s) at s3://${store.bucket}/${prefix}; ${action}${keptRows ? ` (${keptRows} rows kept)` : ''}`);
    return { partition, month, prefix, rows: exported, parts, action, keptRows };
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    if (written.length > 0) await store.delete(written).catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Re-reads every part from S3 and checks bytes, footer, decoded rows and digest. */
async function verifyParts(store: ObjectStore, columns: PgLakeColumn[], parts: readonly PartPlan[]): Promise<void> {
  for (const p of parts) {
    const got = await store.get(p.key);
    const actual = await sha256Hex(got.bytes);
    if (actual !== p.sha256 || got.sha256 !== p.sha256) throw new Error(`${p.key}: read back sha256 ${actual} (recorded ${got.sha256 ?? 'none'}), wrote ${p.sha256}`);
    const footer = parquetFooter(got.bytes);
    if (footer.rows !== p.rows) throw new Error(`${p.key}: the Parquet footer says ${footer.rows} rows, ${p.rows} were written`);
    const rows = await readParquetRows(got.bytes, columns);
    if (rows.length !== p.rows) throw new Error(`${p.key}: ${rows.length} rows read back, ${p.rows} written`);
    const digest = digestRows(rows);
    if (digest !== p.rowDigest) throw new Error(`${p.key}: the rows read back differ from the rows exported (digest ${digest} ≠ ${p.rowDigest})`);
  }
}

export interface ArchiveReport {
  runId: string;
  archived: PartitionArchive[];
  failed: Array<{ partition: string; error: string }>;
  planned: ExpiredPartition[];
}

/**
 * Every expired partition, one at a time; one partition's failure does not stop the others. A dry run only
 * plans (it reads Postgres, never the lake), so it needs no store.
 */
export async function archiveExpiredPartitions(pool: pg.Pool, store: ObjectStore | null, options: ArchiveOptions = {}): Promise<ArchiveReport> {
  const now = options.now ?? new Date();
  const runId = options.runId ?? runIdFor(now);
  const planned = await expiredPartitions(pool, now);
  const report: ArchiveReport = { runId, archived: [], failed: [], planned };
  if (options.dryRun) return report;
  if (!store) throw new Error('archiving needs the S3 lake: only a dry run goes without one');
  for (const expired of planned) {
    try {
      report.archived.push(await archivePartition(pool, store, expired, { ...options, runId }));
    } catch (error) {
      options.log?.(`${expired.partition}: FAILED, partition left in place: ${(error as Error).message}`);
      report.failed.push({ partition: expired.partition, error: (error as Error).message });
    }
  }
  return report;
}

/**
 * Puts an archived run back: reads its manifest and parts (each checked against the manifest's sha256 and
 * row digest), recreates the month's partition if it was dropped (a table archived by column has none), and
 * inserts the rows in one transaction.
 * Returns the number of rows inserted.
 */
export async function restoreArchive(pool: pg.Pool, store: ObjectStore, prefix: string): Promise<number> {
  const normalized = prefix.endsWith('/') ? prefix : `${prefix}/`;
  if (!(await store.head(`${normalized}_SUCCESS`))) throw new Error(`${normalized}: no _SUCCESS marker; this run did not complete and its rows are still in Postgres`);
  const manifest = JSON.parse(new TextDecoder().decode((await store.get(`${normalized}_manifest.json`)).bytes)) as {
    table: string;
    month: string;
    columns: Array<Pick<PgLakeColumn, 'name' | 'type' | 'nullable' | 'pgType'>>;
    parts: PartPlan[];
  };
  const archived = ARCHIVED_TABLES.find((t) => t.table === manifest.table);
  if (!archived) throw new Error(`${normalized}: the manifest names ${manifest.table}, which is not an archived table`);
  const client = await pool.connect();
  try {
    await client.query('begin');
    if (archived.months.by === 'partition') await client.query(`select ensure_month_partition($1::regclass, $2::date)`, [manifest.table, `${manifest.month}-01`]);
    const columns = manifest.columns as PgLakeColumn[];
    const identity = await client.query(`select 1 from pg_attribute where attrelid = $1::regclass and attidentity = 'a'`, [manifest.table]);
    let inserted = 0;
    for (const p of manifest.parts) {
      const got = await store.get(p.key);
      if ((await sha256Hex(got.bytes)) !== p.sha256) throw new Error(`${p.key}: sha256 does not match the manifest`);
      const rows: LakeValue[][] = await readParquetRows(got.bytes, columns);
      const digest = new RowDigest();
      for (const r of rows) digest.update(r);
      if (digest.digest() !== p.rowDigest) throw new Error(`${p.key}: rows do not match the manifest's digest`);
      for (let start = 0; start < rows.length; start += 5000) {
        const batch = rows.slice(start, start + 5000);
        const params = columns.map((c, i) => batch.map((r) => toPgText(c, r[i] ?? null)));
        const names = columns.map((c) => quoteIdent(c.name));
        const result = await client.query(
          `insert into ${quoteIdent(manifest.table)} (${names.join(', ')}) ${identity.rowCount ? 'overriding system value' : ''}
           select ${columns.map((c, i) => `r.c${i}::${c.pgType}`).join(', ')}
           from unnest(${columns.map((_, i) => `$${i + 1}::text[]`).join(', ')}) as r(${columns.map((_, i) => `c${i}`).join(', ')})`,
          params,
        );
        inserted += result.rowCount ?? 0;
      }
    }
    await client.query('commit');
    return inserted;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
