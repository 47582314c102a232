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

describe('registering the NBA default bundle beside football', () => {
  const own = isolatedDatabase();

  it('registers it as a basketball run, stores its evaluation where the gate reads it, and the gate passes it on the moneyline', async () => {
    const bundle = await readBundle(await defaultBundleDir('basketball'));
    const run = await registerBundle(own.pool, bundle, noUpload);
    expect(run.created).toBe(true);
    const { rows } = await own.pool.query(
      `select s.key as sport, r.feature_version, r.trained_from::text, r.trained_to::text,
              e.match_count, e.metrics -> 'gate' -> 'markets' ? 'h2h' as h2h_gate, e.metrics ->> 'sport' as evaluated_sport,
              (select count(*)::int from backtest_results b where b.model_run_id = r.id) as backtests
       from model_runs r join sports s on s.id = r.sport_id join model_evaluations e on e.model_run_id = r.id and e.split = 'rolling'
       where r.id = $1`,
      [run.id],
    );
    expect(rows[0]).toMatchObject({ sport: 'basketball', feature_version: 'nba-v1', evaluated_sport: 'basketball', h2h_gate: true, backtests: 0 });
    expect(rows[0].match_count).toBeGreaterThan(10_000);
    expect(rows[0].trained_from < '2008-01-01' && rows[0].trained_to > '2022-06-01').toBe(true);
    // Only the moneyline is judged: the gate's figures hold no football market, which a football reading would miss.
    expect(await storedGateDecision(own.pool, run.id)).toEqual({ passes: true, reasons: [] });
  });

  it('activates one run per sport: the NBA default beside the active football run, and no second basketball run', async () => {
    const football = await registerBundle(own.pool, await readBundle(await defaultBundleDir()), noUpload);
    expect(await activateDefault(own.pool, football.id)).toBe(true);
    const nbaBundle = await readBundle(await defaultBundleDir('basketball'));
    const nba = await registerBundle(own.pool, nbaBundle, noUpload);
    expect(await activateDefault(own.pool, nba.id)).toBe(true);
    const active = await own.pool.query(`select r.id, s.key from model_runs r join sports s on s.id = r.sport_id where r.status = 'active' order by s.key`);
    expect(active.rows).toEqual([
      { id: nba.id, key: 'basketball' },
      { id: football.id, key: 'soccer' },
    ]);

    // Another basketball run (a copy of the bundle under another id): the sport is served, so nothing changes.
    const other = await copyWithId(await defaultBundleDir('basketball'), 'xgb-nba-v1-other');
    const second = await registerBundle(own.pool, await readBundle(other), noUpload);
    expect(second.created).toBe(true);
    expect(await activateDefault(own.pool, second.id)).toBe(false);
    const after = await own.pool.query(`select id from model_runs where status = 'active' order by id`);
    expect(after.rows.map((r) => r.id).sort()).toEqual([football.id, nba.id].sort());
  });

  it('refuses a run whose sport has no model recipe, naming the sport', async () => {
    const hockey = await own.pool.query(`insert into sports (key, name) values ('icehockey', 'Ice hockey') returning id`);
    const copy = await copyWithId(await defaultBundleDir('basketball'), 'xgb-nba-v1-hockey');
    const run = await registerBundle(own.pool, await readBundle(copy), noUpload);
    await own.pool.query(`update model_runs set sport_id = $1 where id = $2`, [hockey.rows[0].id, run.id]);
    const decision = await storedGateDecision(own.pool, run.id);
    expect(decision.passes).toBe(false);
    expect(decision.reasons.join()).toMatch(/sport icehockey of model run .* has no model recipe/);
  });
});

/** A copy of a bundle under another id (so another bundle.json hash, another run). */
async function copyWithId(from: string, id: string): Promise<string> {
  const dir = join(scratch, id);
  await cp(from, dir, { recursive: true });
  const manifest = JSON.parse(await readFile(join(dir, 'bundle.json'), 'utf8'));
  manifest.id = id;
  await writeFile(join(dir, 'bundle.json'), JSON.stringify(manifest, null, 2));
  return dir;
}
