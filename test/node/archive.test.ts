// The partition archive against real Postgres and a real S3-compatible server on loopback: live rows past
// retention go to the lake as Parquet, are verified there, and leave Postgres only then; historical rows
// stay; a failure at any point leaves the partition and every row in place; a run can be restored.
import { execFile } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { archiveExpiredPartitions, archivePartition, expiredPartitions, restoreArchive, ARCHIVED_TABLES } from '../../scripts/lib/lake/archive';
import { parquetFooter, readParquetRows, type LakeColumn } from '../../scripts/lib/lake/parquet';
import type { ObjectStore } from '../../src/services/artifacts';
import { isolatedDatabase } from './support/isolated-database';
import { loopbackS3 } from './support/s3-server';

const db = isolatedDatabase();
const lake = loopbackS3(['senzu-lake']);
const flaky = loopbackS3(['senzu-lake']);
const NOW = new Date('2026-12-15T04:00:00Z');

let matchId: number;
let runId: number;

async function seedOdds(month: string, provider: string, count: number, first = 1) {
  await db.pool.query(`select ensure_month_partition('odds_snapshots', $1::date)`, [`${month}-01`]);
  await db.pool.query(
    `insert into odds_snapshots (match_id, provider, bookmaker, market, outcome, point, price, phase, captured_at, ingested_at)
     select $1, $2, 'bk' || (g % 7), case when g % 3 = 0 then 'totals' else 'h2h' end, case when g % 2 = 0 then 'home' else 'away' end,
            case when g % 3 = 0 then 2.5 end, 1.5 + (g % 50) / 100.0, 'pre_match',
            ($3 || '-01T00:00:00.123456Z')::timestamptz + g * interval '3 hours 17.000001 seconds', clock_timestamp()
     from generate_series($4::int, $4::int + $5::int - 1) g`,
    [matchId, provider, month, first, count],
  );
}

async function seedPredictions(month: string, count: number) {
  await db.pool.query(`select ensure_month_partition('predictions', $1::date)`, [`${month}-01`]);
  await db.pool.query(
    `insert into predictions (match_id, model_run_id, market, outcome, point, probability, market_probability, best_price, best_bookmaker,
                              expected_value, kelly_fraction, predicted_at, settled_at, won, closing_price, kickoff, feature_version,
                              margin_method, kelly_multiplier, kelly_stake, profit, clv,
                              anchor_source, anchor_bookmakers, anchor_last_update, anchor_hours_to_kickoff, best_price_net, exchange_commission)
     select $1, $2, 'h2h', (array['home','draw','away'])[g % 3 + 1], null, 0.3 + g / 1000.0, 0.31, 2.875, 'pinnacle',
            case when g % 4 = 0 then null else -0.05 + g / 10000.0 end, 0.01, ($3 || '-01T00:00:00Z')::timestamptz + g * interval '7 hours 0.5 seconds',
            case when g % 2 = 0 then now() end, case when g % 2 = 0 then g % 3 = 0 end, 2.9, ($3 || '-20T15:00:00Z')::timestamptz, 'v1', 'shin', 0.25,
            0.0025, case when g % 2 = 0 then 1.875 end, -0.0086,
            -- Half the rows with their anchor on record (a text array with characters a literal must escape), half
            -- from before anchors were recorded.
            case when g % 2 = 1 then 'consensus' end,
            case when g % 2 = 1 then array['bet365', 'a "quoted", back\slashed {book}'] end,
            case when g % 2 = 1 then ($3 || '-01T00:00:00.000001Z')::timestamptz + g * interval '7 hours' end,
            case when g % 2 = 1 then 3.25 end,
            case when g % 2 = 1 then 2.7812 end,
            case when g % 2 = 1 then 0.05 end
     from generate_series(1, $4::int) g`,
    [matchId, runId, month, count],
  );
}

const snapshot = async (table: string, where = 'true') =>
  (await db.pool.query<{ row: string }>(`select t::text as row from ${table} t where ${where} order by t::text`)).rows.map((r) => r.row);
const exists = async (name: string) => (await db.pool.query<{ r: string | null }>(`select to_regclass($1)::text as r`, [name])).rows[0]!.r !== null;
const count = async (table: string, where = 'true') => Number((await db.pool.query<{ n: string }>(`select count(*) as n from ${table} where ${where}`)).rows[0]!.n);

beforeAll(async () => {
  // Migrating loaded data/sports/soccer.json: the sport, the Premier League and its clubs are there.
  const sport = await db.pool.query<{ id: number }>(`select id from sports where key = 'soccer'`);
  const comp = await db.pool.query<{ id: number }>(`select id from competitions where key = 'soccer_epl'`);
  const teams = await db.pool.query<{ id: number }>(`select id from teams where key in ('arsenal', 'chelsea') order by key`);
  const match = await db.pool.query<{ id: string }>(
    `insert into matches (sport_id, competition_id, home_team_id, away_team_id, start_at, provider, external_match_id)
     values ($1, $2, $3, $4, '2024-10-05T14:00:00Z', 'the-odds-api', 'evt-1') returning id`,
    [sport.rows[0]!.id, comp.rows[0]!.id, teams.rows[0]!.id, teams.rows[1]!.id],
  );
  matchId = Number(match.rows[0]!.id);
  const run = await db.pool.query<{ id: number }>(
    `insert into model_runs (name, sport_id, feature_version, artifact_key, artifact_sha256) values ('m', (select id from sports where key = 'soccer'), 'v1', 'models/m/', 'abc') returning id`,
  );
  runId = run.rows[0]!.id;
  await seedOdds('2024-10', 'the-odds-api', 137); // expired, live only → dropped
  await seedOdds('2024-09', 'the-odds-api', 45); // expired, mixed → live rows deleted, history kept
  await seedOdds('2024-09', 'football-data', 30);
  await seedOdds('2024-12', 'the-odds-api', 10); // inside 24 months → untouched
  await seedPredictions('2025-10', 64); // past 12 months → dropped
  await seedPredictions('2025-12', 5); // inside 12 months → untouched
}, 60_000);

describe('npm run archive (archiveExpiredPartitions)', () => {
  let store: ObjectStore;
  const before = new Map<string, string[]>();

  it('plans exactly the partitions whose whole month is past its table retention', async () => {
    store = lake.store('s3', 'senzu-lake');
    expect(ARCHIVED_TABLES.map((t) => [t.table, t.retentionMonths])).toEqual([
      ['odds_snapshots', 24],
      ['predictions', 12],
      ['served_feature_vectors', 6], // by month of predicted_at: test/node/archive-served-vectors.test.ts
    ]);
    const planned = await expiredPartitions(db.pool, NOW);
    expect(planned.map((p) => p.partition)).toEqual(['odds_snapshots_y2024m09', 'odds_snapshots_y2024m10', 'predictions_y2025m10']);
    const dry = await archiveExpiredPartitions(db.pool, store, { now: NOW, dryRun: true });
    expect(dry.archived).toEqual([]);
    expect(await store.list('archive/')).toEqual([]);
  });

  it('npm run archive -- --dry-run needs no S3 settings: it lists the plan and changes nothing', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: db.url };
    for (const name of Object.keys(env)) if (/^(S3_|AWS_|R2_)/.test(name)) delete env[name];
    const tables = ['odds_snapshots_y2024m09', 'odds_snapshots_y2024m10', 'predictions_y2025m10'];
    const before = await Promise.all(tables.map((t) => snapshot(t)));
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', 'scripts/archive.ts', '--', '--dry-run', '--now', '2026-12-15'], { env }, (_e, out, err) =>
        resolve({ code: child.exitCode, stdout: out, stderr: err }),
      );
    });
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('would archive ')).map((l) => l.split(' ')[2])).toEqual(tables);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ planned: 3, archived: [], failed: [] });
    expect(await Promise.all(tables.map((t) => snapshot(t)))).toEqual(before);
  });

  it('exports in chunks, verifies against the source, then drops live-only partitions and deletes only live rows from mixed ones', async () => {
    for (const p of ['odds_snapshots_y2024m09', 'odds_snapshots_y2024m10', 'predictions_y2025m10']) before.set(p, await snapshot(p));
    const untouched = [await snapshot('odds_snapshots_y2024m12'), await snapshot('predictions_y2025m12')];

    const report = await archiveExpiredPartitions(db.pool, store, { now: NOW, chunkRows: 40, runId: 'r1' });
    expect(report.failed).toEqual([]);
    expect(report.archived.map((a) => [a.partition, a.rows, a.parts.length, a.action, a.keptRows])).toEqual([
      ['odds_snapshots_y2024m09', 45, 2, 'deleted', 30],
      ['odds_snapshots_y2024m10', 137, 4, 'dropped', 0],
      ['predictions_y2025m10', 64, 2, 'dropped', 0],
    ]);

    expect(await exists('odds_snapshots_y2024m10')).toBe(false);
    expect(await exists('predictions_y2025m10')).toBe(false);
    expect(await count('odds_snapshots_y2024m09', `provider = 'the-odds-api'`)).toBe(0);
    expect(await snapshot('odds_snapshots_y2024m09')).toEqual(before.get('odds_snapshots_y2024m09')!.filter((r) => r.includes(',football-data,')));
    expect(await count('odds_snapshots_y2024m09')).toBe(30);
    expect([await snapshot('odds_snapshots_y2024m12'), await snapshot('predictions_y2025m12')]).toEqual(untouched);
  });

  it('leaves Parquet in the lake that reads back with the row counts, every column and a _SUCCESS marker', async () => {
    const keys = (await store.list('archive/')).map((o) => o.key);
    expect(keys.filter((k) => k.startsWith('archive/odds_snapshots/month=2024-10/run=r1/'))).toEqual([
      'archive/odds_snapshots/month=2024-10/run=r1/_SUCCESS',
      'archive/odds_snapshots/month=2024-10/run=r1/_manifest.json',
      ...[0, 1, 2, 3].map((i) => `archive/odds_snapshots/month=2024-10/run=r1/part-0000${i}.parquet`),
    ]);
    const manifest = JSON.parse(new TextDecoder().decode((await store.get('archive/predictions/month=2025-10/run=r1/_manifest.json')).bytes)) as {
      rows: number;
      columns: LakeColumn[];
      parts: Array<{ key: string; rows: number }>;
    };
    expect(manifest.rows).toBe(64);
    // Every column of the table, including those later migrations added (settlement's profit, clv, …).
    const { rows: tableColumns } = await db.pool.query<{ column_name: string }>(
      `select column_name from information_schema.columns where table_name = 'predictions' order by ordinal_position`,
    );
    expect(manifest.columns.map((c) => c.name)).toEqual(tableColumns.map((c) => c.column_name));
    let total = 0;
    for (const part of manifest.parts) {
      const bytes = (await store.get(part.key)).bytes;
      expect(parquetFooter(bytes).rows).toBe(part.rows);
      const rows = await readParquetRows(bytes, manifest.columns);
      total += rows.length;
      const at = (name: string) => manifest.columns.findIndex((c) => c.name === name);
      for (const r of rows) {
        expect(typeof r[at('id')]).toBe('bigint');
        expect(r[at('best_price')]).toBe(2.875);
        expect(typeof r[at('predicted_at')]).toBe('bigint'); // µs
      }
    }
    expect(total).toBe(64);
  });

  it('a second run finds nothing left to archive and writes nothing', async () => {
    const objects = (await store.list('archive/')).length;
    const report = await archiveExpiredPartitions(db.pool, store, { now: NOW, chunkRows: 40, runId: 'r2' });
    expect(report.failed).toEqual([]);
    expect(report.archived.map((a) => [a.partition, a.action, a.rows, a.keptRows])).toEqual([['odds_snapshots_y2024m09', 'empty', 0, 30]]);
    expect((await store.list('archive/')).length).toBe(objects);
  });

  it('restores a run from the lake: the same rows, to the microsecond, in a recreated partition', async () => {
    expect(await restoreArchive(db.pool, store, 'archive/odds_snapshots/month=2024-10/run=r1/')).toBe(137);
    expect(await snapshot('odds_snapshots_y2024m10')).toEqual(before.get('odds_snapshots_y2024m10'));
    expect(await restoreArchive(db.pool, store, 'archive/predictions/month=2025-10/run=r1')).toBe(64);
    expect(await snapshot('predictions_y2025m10')).toEqual(before.get('predictions_y2025m10'));
    await expect(restoreArchive(db.pool, store, 'archive/predictions/month=2025-10/run=nope/')).rejects.toThrow(/no _SUCCESS marker/);
  });
});

describe('an archive that fails midway', () => {
  it('leaves the partition and its rows in place when the rows read back from S3 differ from the source', async () => {
    const store = lake.store('s3', 'senzu-lake');
    await seedOdds('2024-07', 'the-odds-api', 90);
    const rows = await snapshot('odds_snapshots_y2024m07');
    const [expired] = (await expiredPartitions(db.pool, NOW)).filter((p) => p.partition === 'odds_snapshots_y2024m07');
    const failure = await archivePartition(db.pool, store, expired!, {
      chunkRows: 40,
      runId: 'rot',
      hooks: { afterPart: ({ key, index }) => (index === 1 ? lake.corrupt('senzu-lake', key) : undefined) },
    }).catch((e: Error) => e);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/part-00001\.parquet: read back sha256/);
    expect(await snapshot('odds_snapshots_y2024m07')).toEqual(rows);
    // The failed run's objects are removed: nothing half-written looks like an export.
    expect(await store.list('archive/odds_snapshots/month=2024-07/')).toEqual([]);
  });

  it('leaves the partition and its rows in place when S3 goes away after the first chunk', async () => {
    const store = flaky.store('s3', 'senzu-lake');
    const rows = await snapshot('odds_snapshots_y2024m07');
    const report = await archiveExpiredPartitions(db.pool, store, {
      now: NOW,
      chunkRows: 40,
      runId: 'down',
      hooks: { afterPart: ({ index }) => (index === 0 ? flaky.stop() : undefined) },
    });
    expect(report.failed.map((f) => f.partition)).toContain('odds_snapshots_y2024m07');
    expect(report.archived.filter((a) => a.action !== 'empty')).toEqual([]);
    expect(await snapshot('odds_snapshots_y2024m07')).toEqual(rows);
    expect(await exists('odds_snapshots_y2024m10')).toBe(true);
    expect(await count('odds_snapshots_y2024m10')).toBe(137);
  });

  // A second session holds a lock while the archive runs.
  it('leaves everything in place when the final removal cannot get its lock after a verified export', async () => {
    const store = lake.store('s3', 'senzu-lake');
    const rows = await snapshot('predictions_y2025m10');
    const [expired] = (await expiredPartitions(db.pool, NOW)).filter((p) => p.partition === 'predictions_y2025m10');
    // A long reader of predictions (e.g. the value finder mid-query) holds a lock DETACH has to wait for.
    const reader = await db.pool.connect();
    let removing = false;
    try {
      await reader.query('begin');
      await reader.query('select count(*) from predictions');
      const failure = await archivePartition(db.pool, store, expired!, {
        runId: 'locked',
        lockTimeoutMs: 300,
        hooks: { beforeRemove: () => void (removing = true) },
      }).catch((e: Error) => e);
      expect(removing, 'the export was verified and removal began').toBe(true);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(/lock timeout/);
    } finally {
      await reader.query('rollback');
      reader.release();
    }
    expect(await snapshot('predictions_y2025m10')).toEqual(rows);
    expect(await store.list('archive/predictions/month=2025-10/run=locked/')).toEqual([]);
  });
});
