// Registering a bundle (npm start, the test setup and npm run model:register share registerBundle) stores its
// training window and the rolling-origin evaluation it carries, and the default activation goes through the gate:
// the committed bundle is activated without force; a bundle with no evaluation, or one behind the market, is not.
import { mkdtemp, rm, writeFile, readFile, cp } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activateDefault, BUNDLES_DIR, defaultBundleDir, readBundle, registerBundle, storedGateDecision } from '../../scripts/lib/models/bundle-files';
import type { RollingEvaluation } from '../../scripts/lib/models/rolling';
import { isolatedDatabase } from './support/isolated-database';

const db = isolatedDatabase();
const noUpload = async () => undefined;
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'senzu-registration-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** A copy of the default bundle whose evaluation.json says something else, re-hashed in its bundle.json. */
async function withEvaluation(name: string, change: (e: RollingEvaluation) => void): Promise<string> {
  const from = await defaultBundleDir();
  const dir = join(scratch, name);
  await cp(from, dir, { recursive: true });
  const evaluation = JSON.parse(await readFile(join(dir, 'evaluation.json'), 'utf8')) as RollingEvaluation;
  change(evaluation);
  const bytes = Buffer.from(JSON.stringify(evaluation));
  await writeFile(join(dir, 'evaluation.json'), bytes);
  const manifest = JSON.parse(await readFile(join(dir, 'bundle.json'), 'utf8'));
  manifest.id = name;
  manifest.files['evaluation.json'] = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(dir, 'bundle.json'), JSON.stringify(manifest, null, 2));
  return dir;
}

describe('registering a bundle', () => {
  it('activates the committed default bundle through the gate, not forced, with its training window', async () => {
    const bundle = await readBundle(await defaultBundleDir());
    const run = await registerBundle(db.pool, bundle, noUpload);
    expect(run.created).toBe(true);
    expect((await storedGateDecision(db.pool, run.id)).passes).toBe(true);
    expect(await activateDefault(db.pool, run.id)).toBe(true);
    const { rows } = await db.pool.query(
      `select status, activation_forced, trained_from::text, trained_to::text,
              (select count(*)::int from model_evaluations e where e.model_run_id = r.id and e.split = 'rolling') as evaluations,
              (select count(*)::int from backtest_results b where b.model_run_id = r.id) as backtests
       from model_runs r where id = $1`,
      [run.id],
    );
    const trainedOn = (bundle.manifest as unknown as { trainedOn: { from: string; to: string } }).trainedOn;
    expect(rows[0]).toEqual({ status: 'active', activation_forced: false, trained_from: trainedOn.from, trained_to: trainedOn.to, evaluations: 1, backtests: 8 });
    expect(trainedOn.from < '2015-01-01' && trainedOn.to > '2024-05-01').toBe(true);
    // A second registration of the same bytes is the same run.
    expect(await registerBundle(db.pool, bundle, noUpload)).toEqual({ id: run.id, created: false });
  });

  it('does not activate, and says why, a bundle the gate refuses or one without an evaluation', async () => {
    await db.pool.query(`update model_runs set status = 'retired' where status = 'active'`);
    const behind = await readBundle(
      await withEvaluation('behind-the-market', (e) => {
        e.gate!.markets.ou25.pooled.logLossDelta = 0.0012;
      }),
    );
    const run = await registerBundle(db.pool, behind, noUpload);
    await expect(activateDefault(db.pool, run.id)).rejects.toThrow(/the activation gate refuses .*ou25: pooled log loss is worse than Pinnacle's by \+0\.00120/);
    const legacy = await registerBundle(db.pool, await readBundle(join(BUNDLES_DIR, 'xgb-v1-20261126-151831')), noUpload);
    await expect(activateDefault(db.pool, legacy.id)).rejects.toThrow(/no rolling-origin evaluation is stored/);
    const { rows } = await db.pool.query(`select count(*)::int as n from model_runs where status = 'active'`);
    expect(rows[0].n).toBe(0);
  });

  it('refuses a bundle whose evaluation.json is not the one its bundle.json hashed', async () => {
    const dir = await withEvaluation('tampered', () => undefined);
    await writeFile(join(dir, 'evaluation.json'), '{"kind":"rolling"}');
    await expect(readBundle(dir)).rejects.toThrow(/evaluation\.json: sha256 does not match bundle\.json/);
  });
});
