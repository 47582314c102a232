// The served feature vectors through the archive, against real Postgres and a real S3-compatible server on
// loopback: whole calendar months (UTC, by predicted_at) past the 6-month retention go to the lake as Parquet,
// are verified there and only then deleted from the unpartitioned table; a newer month is untouched; a failure
// at any point before the delete leaves every row; a second run finds nothing; a restore gives back the rows
// bit for bit, NaN (a missing feature), -0, ±Infinity and NULL elements included.
import { execFile } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveExpiredPartitions, archivePartition, expiredPartitions, restoreArchive, ARCHIVED_TABLES } from '../../scripts/lib/lake/archive';
import { parquetFooter, readParquetRows, type LakeColumn } from '../../scripts/lib/lake/parquet';
import { SERVED_VECTOR_RETENTION_MONTHS } from '../../src/services/partitions';
import { isolatedDatabase } from './support/isolated-database';
import { loopbackS3 } from './support/s3-server';

const db = isolatedDatabase();
const lake = loopbackS3(['senzu-lake']);
const flaky = loopbackS3(['senzu-lake']);
// Retention 6 months: months ending on or before 2026-06-01 expire.
const NOW = new Date('2026-12-15T04:00:00Z');
const EXPIRED = ['served_feature_vectors/month=2025-11', 'served_feature_vectors/month=2026-04', 'served_feature_vectors/month=2026-05'];

// The archive runs on connections whose session time zone is not UTC: 2026-06-01T03:00Z is still May 31 in
// Los Angeles, and a month taken in local time would archive (and delete) a June row that has not expired.
let pool: pg.Pool;
let matchId: number;
let runId: string;

/** Every row as its text plus the binary of its array (array_send: the float4 bits of every element). */
const snapshot = async (where = 'true') =>
  (
    await db.pool.query<{ row: string }>(
      `select t::text || ' ' || encode(array_send(t.values), 'hex') as row from served_feature_vectors t where ${where} order by t.predicted_at, t.model_run_id`,
    )
  ).rows.map((r) => r.row);
const month = (m: string) => `predicted_at >= '${m}-01T00:00:00Z'::timestamptz and predicted_at < ('${m}-01T00:00:00Z'::timestamptz at time zone 'UTC' + interval '1 month') at time zone 'UTC'`;
const count = async (where = 'true') => Number((await db.pool.query<{ n: string }>(`select count(*) as n from served_feature_vectors where ${where}`)).rows[0]!.n);

/**
 * `n` vectors of 72 features from `first`, every `step` apart: float32 values that are not short decimals,
 * NaN (missing features) in varying places, -0, ±Infinity, the smallest subnormal and the largest float32.
 */
async function seedVectors(first: string, n: number, step: string, featureVersion = 'v1') {
  await db.pool.query(
    `insert into served_feature_vectors (match_id, model_run_id, predicted_at, feature_version, values)
     select $1, $2::uuid, $3::timestamptz + (g - 1) * $5::interval, $6,
            array(select case
                           when (g + i) % 11 = 0 then 'NaN'::real
                           when i = 1 then '-0'::real
                           when i = 2 and g % 2 = 0 then 'Infinity'::real
                           when i = 3 and g % 2 = 0 then '-Infinity'::real
                           when i = 4 then '1.4e-45'::real
                           when i = 5 then '3.4028235e38'::real
                           else ((g * 7919 + i * 104729) % 100003 / 997.0 - 50)::real
                         end
                  from generate_series(1, 72) i order by i)
     from generate_series(1, $4::int) g`,
    [matchId, runId, first, n, step, featureVersion],
  );
}

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: db.url, max: 2, options: '-c TimeZone=America/Los_Angeles' });
  // Migrating loaded data/sports/soccer.json: the sport, the Premier League and its clubs are there.
  const sport = await db.pool.query<{ id: number }>(`select id from sports where key = 'soccer'`);
  const comp = await db.pool.query<{ id: number }>(`select id from competitions where key = 'soccer_epl'`);
  const teams = await db.pool.query<{ id: number }>(`select id from teams where key in ('arsenal', 'chelsea') order by key`);
  const match = await db.pool.query<{ id: string }>(
    `insert into matches (sport_id, competition_id, home_team_id, away_team_id, start_at, provider, external_match_id)
     values ($1, $2, $3, $4, '2026-08-05T14:00:00Z', 'the-odds-api', 'evt-1') returning id`,
    [sport.rows[0]!.id, comp.rows[0]!.id, teams.rows[0]!.id, teams.rows[1]!.id],
  );
  matchId = Number(match.rows[0]!.id);
  const run = await db.pool.query<{ id: string }>(
    `insert into model_runs (name, sport_id, feature_version, artifact_key, artifact_sha256) values ('m', (select id from sports where key = 'soccer'), 'v1', 'models/m/', 'abc') returning id`,
  );
  runId = run.rows[0]!.id;
  await seedVectors('2025-11-03T10:00:00.000001Z', 7, '3 days 1.5 seconds', 'v0'); // expired, months before the others
  await seedVectors('2026-04-01T00:00:00Z', 90, '7 hours 0.000001 seconds'); // expired: 3 parts of 40
  await seedVectors('2026-05-01T00:00:00Z', 1, '1 day'); // expired, its first instant
  await seedVectors('2026-05-31T23:59:59.999999Z', 1, '1 day'); // expired, its last microsecond
  await seedVectors('2026-05-12T08:30:00.25Z', 12, '1 hour');
  await seedVectors('2026-06-01T00:00:00Z', 1, '1 day'); // not expired: the retention's first instant
  await seedVectors('2026-06-01T03:00:00Z', 1, '1 day'); // not expired (still May 31 in Los Angeles)
  await seedVectors('2026-11-20T12:00:00Z', 5, '1 day'); // recent
  // Rows the generator cannot make: an empty vector and one with a NULL element.
  await db.pool.query(
    `insert into served_feature_vectors (match_id, model_run_id, predicted_at, feature_version, values)
     values ($1, $2::uuid, '2026-04-30T23:00:00Z', 'v1', '{}'), ($1, $2::uuid, '2026-04-30T23:30:00Z', 'v1', '{1.5,NULL,NaN}')`,
    [matchId, runId],
  );
}, 60_000);

afterAll(async () => {
  await pool?.end();
});

describe('served feature vectors in the archive', () => {
  it('plans the whole UTC months of vectors past the 6-month retention, and only those', async () => {
    expect(SERVED_VECTOR_RETENTION_MONTHS).toBe(6);
    expect(ARCHIVED_TABLES.find((t) => t.table === 'served_feature_vectors')).toMatchObject({ retentionMonths: 6, months: { by: 'column', column: 'predicted_at' } });
    const planned = (await expiredPartitions(pool, NOW)).filter((p) => p.table.table === 'served_feature_vectors');
    expect(planned.map((p) => [p.partition, p.month])).toEqual(EXPIRED.map((p) => [p, p.slice(-7)]));
  });

  it('npm run archive -- --dry-run lists those months without S3 settings and changes nothing', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: db.url, PGOPTIONS: '-c TimeZone=America/Los_Angeles' };
    for (const name of Object.keys(env)) if (/^(S3_|AWS_|R2_)/.test(name)) delete env[name];
    const before = await snapshot();
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', 'scripts/archive.ts', '--', '--dry-run', '--now', '2026-12-15'], { env }, (_e, out, err) =>
        resolve({ code: child.exitCode, stdout: out, stderr: err }),
      );
    });
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('would archive served_feature_vectors')).map((l) => l.split(' ')[2])).toEqual(EXPIRED);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ planned: 3, archived: [], failed: [] });
    expect(await snapshot()).toEqual(before);
  });
});

describe('a served-vector archive that fails before its delete', () => {
  const expiredApril = async () => (await expiredPartitions(pool, NOW)).find((p) => p.partition === 'served_feature_vectors/month=2026-04')!;

  it('keeps every row when a part read back from S3 differs from what was written, and removes its objects', async () => {
    const store = lake.store('s3', 'senzu-lake');
    const before = await snapshot();
    const failure = await archivePartition(pool, store, await expiredApril(), {
      chunkRows: 40,
      runId: 'rot',
      hooks: { afterPart: ({ key, index }) => (index === 1 ? lake.corrupt('senzu-lake', key) : undefined) },
    }).catch((e: Error) => e);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/part-00001\.parquet: read back sha256/);
    expect(await snapshot()).toEqual(before);
    expect(await store.list('archive/served_feature_vectors/')).toEqual([]);
  });

  it('keeps every row when S3 goes away after the first part', async () => {
    const store = flaky.store('s3', 'senzu-lake');
    const before = await snapshot();
    const report = await archiveExpiredPartitions(pool, store, {
      now: NOW,
      chunkRows: 40,
      runId: 'down',
      hooks: { afterPart: ({ index }) => (index === 0 ? flaky.stop() : undefined) },
    });
    // Every month fails (the first mid-export, the others on their first put); none is deleted.
    expect(report.failed.map((f) => f.partition).filter((p) => p.startsWith('served_feature_vectors'))).toEqual(EXPIRED);
    expect(report.archived.filter((a) => a.action !== 'empty')).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it('keeps every row when the run fails after a verified export, just before the delete', async () => {
    const store = lake.store('s3', 'senzu-lake');
    const before = await snapshot();
    let removing = false;
    const failure = await archivePartition(pool, store, await expiredApril(), {
      runId: 'late',
      hooks: {
        beforeRemove: () => {
          removing = true;
          throw new Error('the runner was cancelled');
        },
      },
    }).catch((e: Error) => e);
    expect(removing, 'the export was verified and removal began').toBe(true);
    expect((failure as Error).message).toBe('the runner was cancelled');
    expect(await snapshot()).toEqual(before);
    expect(await store.list('archive/served_feature_vectors/')).toEqual([]);
  });
});

describe('a served-vector archive that succeeds', () => {
  const store = () => lake.store('s3', 'senzu-lake');
  let before: string[];

  it('writes the expired months to the lake, verifies them, deletes exactly them and leaves newer months alone', async () => {
    before = await snapshot();
    const keep = await snapshot(`predicted_at >= '2026-06-01T00:00:00Z'`);
    expect(keep).toHaveLength(7);
    const aprilRows = await count(month('2026-04'));
    expect(aprilRows).toBe(92);

    const report = await archiveExpiredPartitions(pool, store(), { now: NOW, chunkRows: 40, runId: 'r1' });
    expect(report.failed).toEqual([]);
    expect(report.archived.filter((a) => a.partition.startsWith('served_feature_vectors')).map((a) => [a.partition, a.rows, a.parts.length, a.action, a.keptRows])).toEqual([
      ['served_feature_vectors/month=2025-11', 7, 1, 'deleted', 0],
      ['served_feature_vectors/month=2026-04', 92, 3, 'deleted', 0],
      ['served_feature_vectors/month=2026-05', 14, 1, 'deleted', 0],
    ]);
    expect(await count(`predicted_at < '2026-06-01T00:00:00Z'`)).toBe(0);
    expect(await snapshot()).toEqual(keep);
  });

  it('leaves the layout of the other tables: parts, a manifest with the month range, _SUCCESS, and Parquet lists of float', async () => {
    const prefix = 'archive/served_feature_vectors/month=2026-04/run=r1/';
    expect((await store().list(prefix)).map((o) => o.key)).toEqual([
      `${prefix}_SUCCESS`,
      `${prefix}_manifest.json`,
      ...[0, 1, 2].map((i) => `${prefix}part-0000${i}.parquet`),
    ]);
    const manifest = JSON.parse(new TextDecoder().decode((await store().get(`${prefix}_manifest.json`)).bytes)) as {
      table: string;
      rows: number;
      range: { column: string; from: string; to: string };
      columns: Array<LakeColumn & { pgType: string }>;
      parts: Array<{ key: string; rows: number }>;
    };
    expect(manifest).toMatchObject({ table: 'served_feature_vectors', rows: 92, range: { column: 'predicted_at', from: '2026-04-01T00:00:00.000Z', to: '2026-05-01T00:00:00.000Z' } });
    expect(manifest.columns.map((c) => [c.name, c.type, c.pgType])).toEqual([
      ['match_id', 'INT64', 'bigint'],
      ['model_run_id', 'STRING', 'uuid'],
      ['predicted_at', 'TIMESTAMP_MICROS', 'timestamp with time zone'],
      ['feature_version', 'STRING', 'text'],
      ['values', 'FLOAT_LIST', 'real[]'],
    ]);
    const at = manifest.columns.findIndex((c) => c.name === 'values');
    const vectors: Array<Array<number | null>> = [];
    for (const part of manifest.parts) {
      const bytes = (await store().get(part.key)).bytes;
      expect(parquetFooter(bytes)).toMatchObject({ rows: part.rows, columns: manifest.columns.map((c) => c.name) });
      for (const r of await readParquetRows(bytes, manifest.columns)) vectors.push(r[at] as Array<number | null>);
    }
    // In predicted_at order: the first row of the month is g = 1 of the generator.
    const first = vectors[0]!;
    expect(first).toHaveLength(72);
    expect(Object.is(first[0], -0)).toBe(true);
    expect(first[3]).toBe(1.401298464324817e-45);
    expect(first[4]).toBe(3.4028234663852886e38);
    expect(first.map((v, i) => (Number.isNaN(v) ? i + 1 : 0)).filter(Boolean)).toEqual([10, 21, 32, 43, 54, 65]);
    expect(vectors[1]!.slice(1, 3)).toEqual([Infinity, -Infinity]);
    expect(vectors.at(-2)).toEqual([]);
    expect(vectors.at(-1)).toEqual([1.5, null, NaN]);
  });

  it('a second run archives nothing and writes nothing', async () => {
    const objects = (await store().list('archive/')).length;
    expect((await expiredPartitions(pool, NOW)).filter((p) => p.table.table === 'served_feature_vectors')).toEqual([]);
    const report = await archiveExpiredPartitions(pool, store(), { now: NOW, runId: 'r2' });
    expect(report.failed).toEqual([]);
    expect(report.archived.filter((a) => a.partition.startsWith('served_feature_vectors'))).toEqual([]);
    expect((await store().list('archive/')).length).toBe(objects);
  });

  it('--restore brings every row back bit for bit, NaN, -0 and the microseconds included', async () => {
    let restored = 0;
    for (const m of ['2025-11', '2026-04', '2026-05']) restored += await restoreArchive(pool, store(), `archive/served_feature_vectors/month=${m}/run=r1/`);
    expect(restored).toBe(113);
    expect(await snapshot()).toEqual(before);
    // Restored rows past retention are archived again by the next run, under a new run id.
    expect((await expiredPartitions(pool, NOW)).filter((p) => p.table.table === 'served_feature_vectors').map((p) => p.partition)).toEqual(EXPIRED);
  });
});
