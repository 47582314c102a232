// `npm run features:export -- --lake` end to end: the CLI writes Parquet to a real S3-compatible server on
// loopback, partitioned by feature version and kick-off month, and it reads back with its row count and
// the exact vectors the builder computes (NaN included). A second export uploads nothing.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFeatureMatrix } from '../../scripts/lib/features';
import { importFootballData } from '../../scripts/lib/football-data/import';
import { REPO_DATA_DIR } from '../../scripts/lib/football-data/seed';
import { FEATURE_LAKE_COLUMNS } from '../../scripts/lib/lake/features';
import { parquetFooter, readParquetRows } from '../../scripts/lib/lake/parquet';
import { FEATURE_NAMES } from '../../src/services/features';
import { isolatedDatabase } from './support/isolated-database';
import { loopbackS3 } from './support/s3-server';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const db = isolatedDatabase();
const s3 = loopbackS3(['senzu-lake']);
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'senzu-lake-features-'));
  const summary = await importFootballData(db.pool, [join(REPO_DATA_DIR, 'E0_2324.csv')]);
  expect(summary.failedFiles).toBe(0);
}, 300_000);
afterAll(() => rm(scratch, { recursive: true, force: true }));

const exportCli = (args: string[], env: Record<string, string> = {}) =>
  run(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'scripts/export-features.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: db.url, S3_ENDPOINT: s3.endpoint, S3_BUCKET: 'senzu-lake', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', ...env },
  });

describe('npm run features:export -- --lake', () => {
  const args = ['--', '--lake', '--no-store', '--from', '2023-08-01', '--to', '2023-09-30'];

  it('writes one Parquet object per feature version and kick-off month that reads back with its row count and the exact vectors', async () => {
    const { stdout } = await exportCli([...args, '--out', join(scratch, 'a.csv')]);
    expect(stdout).toMatch(/lake: 2 month\(s\) in s3:\/\/senzu-lake\/features\/, 2 uploaded and verified, 0 unchanged/);
    const store = s3.store('s3', 'senzu-lake');
    expect((await store.list('features/')).map((o) => o.key)).toEqual([
      'features/feature_version=v1/month=2023-08/part-00000.parquet',
      'features/feature_version=v1/month=2023-09/part-00000.parquet',
    ]);
    const matrix = await buildFeatureMatrix(db.pool, { from: '2023-08-01', to: '2023-09-30' });
    const august = matrix.filter((r) => r.startAt.toISOString() < '2023-09');
    expect(august).toHaveLength(29);

    const names = FEATURE_LAKE_COLUMNS.map((c) => c.name);
    const back = [];
    for (const month of ['2023-08', '2023-09']) {
      const object = await store.get(`features/feature_version=v1/month=${month}/part-00000.parquet`);
      const footer = parquetFooter(object.bytes);
      expect(footer.columns).toEqual(names);
      expect(footer.kv.feature_version).toBe('v1');
      const rows = await readParquetRows(object.bytes, FEATURE_LAKE_COLUMNS);
      expect(footer.rows).toBe(rows.length);
      back.push(...rows);
    }
    expect(back).toHaveLength(matrix.length);
    let nan = 0;
    back.forEach((row, i) => {
      const r = matrix[i]!;
      expect(row.slice(0, 9)).toEqual([BigInt(r.matchId), BigInt(r.startAt.getTime()) * 1000n, BigInt(r.asOf.getTime()) * 1000n, r.season, r.competition, r.homeTeam, r.awayTeam, r.label1x2, r.labelOu25]);
      row.slice(9).forEach((v, j) => {
        if (Number.isNaN(r.values[j])) {
          nan += 1;
          expect(v, FEATURE_NAMES[j]).toBeNaN();
        } else expect(v, FEATURE_NAMES[j]).toBe(r.values[j]);
      });
    });
    expect(nan).toBeGreaterThan(0);
  }, 120_000);

  it('uploads nothing when the months are unchanged', async () => {
    const { stdout } = await exportCli([...args, '--out', join(scratch, 'b.csv')]);
    expect(stdout).toMatch(/lake: 2 month\(s\) .*, 0 uploaded and verified, 2 unchanged/);
  }, 120_000);

  it('refuses --lake without the lake configured (exit 2), and the CSV-only export still needs none', async () => {
    const failure = await exportCli([...args, '--out', join(scratch, 'c.csv')], { S3_BUCKET: '' }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toMatch(/--lake needs the S3 lake configured; missing S3_BUCKET/);
    const csvOnly = await exportCli(['--no-store', '--from', '2023-08-01', '--to', '2023-08-31', '--out', join(scratch, 'd.csv')], { S3_BUCKET: '' });
    expect(csvOnly.stdout).toMatch(/built 29 feature vectors/);
  }, 120_000);
});
