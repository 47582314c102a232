// npm run evaluate on files the database has never seen: a later season of a league it does not know.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_DATA_DIR } from '../../scripts/lib/football-data/seed';
import { defaultBundleDir, readBundle } from '../../scripts/lib/models/bundle-files';
import { isolatedDatabase } from './support/isolated-database';

const db = isolatedDatabase();
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'senzu-evaluate-'));
  // Real 2022/23 and 2023/24 Premier League rows, moved eight years ahead under a league code nobody has.
  for (const file of ['E0_2223.csv', 'E0_2324.csv']) {
    const lines = (await readFile(join(REPO_DATA_DIR, file), 'utf8')).split('\n');
    const shifted = lines.map((l, i) => (i === 0 ? l : l.replace(/^E0,(\d\d)\/(\d\d)\/(\d{4})/, (_m, d, mo, y) => `ZZ1,${d}/${mo}/${Number(y) + 8}`)));
    await writeFile(join(scratch, file.replace('E0', 'ZZ1').replace(/_(\d\d)(\d\d)/, (_m, a, b) => `_${Number(a) + 8}${Number(b) + 8}`)), shifted.join('\n'));
  }
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** The CLI as `npm run evaluate -- ...` runs it; resolves with its exit code, whatever it is. */
const evaluate = (...args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile('node_modules/.bin/tsx', ['scripts/evaluate.ts', '--', ...args], { env: { ...process.env, DATABASE_URL: db.url }, maxBuffer: 64 * 1024 * 1024 }, (_error, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }),
    );
  });

describe('npm run evaluate', () => {
  it('imports unseen files, builds the window from earlier data only and reports the bundle beside the baselines', async () => {
    const { code, stdout, stderr } = await evaluate('--data', scratch, '--from', '2032-01-01', '--to', '2032-05-31', '--json');
    expect(code, stderr).toBe(0);
    const out = JSON.parse(stdout) as {
      model: { id: string; featureVersion: string };
      window: { from: string; to: string };
      matches: number;
      report: { markets: Record<string, { rows: { input: number; evaluated: number }; metrics: { model: { logLoss: number }; pinnacle: { logLoss: number } }; logLossDifference: { lower: number; upper: number; estimate: number } }> };
    };
    const bundle = await readBundle(await defaultBundleDir());
    expect(out.model).toEqual({ id: bundle.manifest.id, featureVersion: 'v1' });
    expect(out.window).toEqual({ from: '2032-01-01', to: '2032-05-31' });
    const { rows } = await db.pool.query(
      `select count(*)::int as n from matches where status = 'finished' and start_at >= '2032-01-01' and start_at < '2032-06-01'`,
    );
    expect(out.matches).toBe(rows[0].n);
    expect(out.matches).toBeGreaterThan(150);
    const h2h = out.report.markets['1x2']!;
    expect(h2h.rows.input).toBe(out.matches);
    expect(h2h.rows.evaluated).toBe(out.matches);
    expect(h2h.metrics.model.logLoss).toBeGreaterThan(0.8);
    expect(h2h.metrics.model.logLoss).toBeLessThan(1.2);
    expect(h2h.logLossDifference.lower).toBeLessThanOrEqual(h2h.logLossDifference.estimate);
    expect(h2h.logLossDifference.upper).toBeGreaterThanOrEqual(h2h.logLossDifference.estimate);
  }, 120_000);

  it('refuses bad arguments with exit code 2 and says why', async () => {
    const reversed = await evaluate('--from', '2032-05-31', '--to', '2032-01-01');
    expect(reversed).toMatchObject({ code: 2, stdout: '' });
    expect(reversed.stderr).toContain('--from must not be after --to');
    const missing = await evaluate('--to', '2032-01-01');
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toContain('--from YYYY-MM-DD is required');
  });
});
