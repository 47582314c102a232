// Reading a model bundle directory from disk and registering it: artifacts to R2 under models/<id>/, a
// model_runs row pointing at them, and the rolling-origin evaluation the bundle carries, which the activation
// gate reads. Shared by `npm run model:register`, `npm start` and the test setup.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { gateDecision, gateMarketsOf, type GateDecision, type RollingGate, type RollingGateOf } from '../../../src/services/evaluation';
import { bundleSport, parseManifest, requiredBundleFiles, type BundleManifest } from '../../../src/services/inference/bundle';
import type { NbaRollingEvaluation } from '../nba/evaluate';
import type { RollingEvaluation } from './rolling';

export { bundleSport };

/** What a bundle carries as evaluation.json: football's rolling evaluation, or the NBA moneyline's. */
export type BundleEvaluation = RollingEvaluation | NbaRollingEvaluation;
export const isNbaEvaluation = (e: BundleEvaluation): e is NbaRollingEvaluation => (e as { sport?: string }).sport === 'basketball';

/** The rolling-origin evaluation a bundle made by `npm run model:train` carries. */
export const EVALUATION_FILE = 'evaluation.json';
import { ROLLING_SPLIT } from '../../../src/services/models';
export { ROLLING_SPLIT };

export const BUNDLES_DIR = new URL('../../../models/bundles/', import.meta.url).pathname;

export interface BundleOnDisk {
  dir: string;
  manifest: BundleManifest;
  /** file name → bytes, bundle.json included */
  files: Map<string, Buffer>;
  manifestSha256: string;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * models/bundles/DEFAULT names football's default bundle (it did before there was another sport, and it keeps
 * that meaning); DEFAULT.<sport> names another sport's (DEFAULT.basketball).
 */
export const defaultFileOf = (sport: string) => (sport === 'soccer' ? 'DEFAULT' : `DEFAULT.${sport}`);
/** The sports with a committed default bundle, football first. */
export const DEFAULT_BUNDLE_SPORTS = ['soccer', 'basketball'] as const;

/** Football's committed default bundle. */
export async function defaultBundleDir(sport = 'soccer'): Promise<string> {
  const id = (await readFile(join(BUNDLES_DIR, defaultFileOf(sport)), 'utf8')).trim();
  return join(BUNDLES_DIR, id);
}

/** Every committed default bundle, football's first. */
export async function defaultBundleDirs(): Promise<string[]> {
  return Promise.all(DEFAULT_BUNDLE_SPORTS.map((sport) => defaultBundleDir(sport)));
}

/** Reads bundle.json and every file it lists, and refuses the bundle if any sha256 differs. */
export async function readBundle(dir: string): Promise<BundleOnDisk> {
  const manifestBytes = await readFile(join(dir, 'bundle.json'));
  const manifest = parseManifest(JSON.parse(manifestBytes.toString('utf8')));
  const files = new Map<string, Buffer>([['bundle.json', manifestBytes]]);
  for (const name of new Set([...requiredBundleFiles(manifest), ...Object.keys(manifest.files)])) {
    if (name.includes('/') || name.startsWith('.')) throw new Error(`${dir}/bundle.json lists ${JSON.stringify(name)}, which is not a file of the bundle directory`);
    const bytes = await readFile(join(dir, name));
    if (sha256(bytes) !== manifest.files[name]) throw new Error(`${dir}/${name}: sha256 does not match bundle.json`);
    files.set(name, bytes);
  }
  return { dir, manifest, files, manifestSha256: sha256(manifestBytes) };
}

/** The rolling-origin evaluation the bundle carries (sha256-checked with the rest), or null. */
export function bundleEvaluation(bundle: BundleOnDisk): BundleEvaluation | null {
  const bytes = bundle.files.get(EVALUATION_FILE);
  if (!bytes) return null;
  const evaluation = JSON.parse(bytes.toString('utf8')) as BundleEvaluation;
  if (evaluation.kind !== 'rolling') throw new Error(`${bundle.dir}/${EVALUATION_FILE} is not a rolling-origin evaluation`);
  // Football's evaluation names no sport (it predates the others).
  const sport = (evaluation as { sport?: string }).sport ?? 'soccer';
  if (sport !== bundleSport(bundle.manifest)) {
    throw new Error(`${bundle.dir}/${EVALUATION_FILE} evaluates a ${sport} model, the bundle is ${bundleSport(bundle.manifest)}'s`);
  }
  return evaluation;
}

/** The kick-off days the bundle's trees were fitted on, as train.py records them. */
function trainedOn(manifest: BundleManifest): { from: string | null; to: string | null } {
  const t = (manifest as { trainedOn?: { from?: unknown; to?: unknown } }).trainedOn;
  const day = (v: unknown) => (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : null);
  return { from: day(t?.from), to: day(t?.to) };
}

export const artifactPrefix = (manifest: BundleManifest) => `models/${manifest.id}/`;

export interface RegisteredRun {
  id: string;
  created: boolean;
}

/**
 * Inserts the model_runs row for a bundle (idempotent on the bundle.json hash) with its training window, and
 * the rolling-origin evaluation it carries, in one transaction. `upload` puts each file at its R2 key; it runs
 * before the row is written, so a registered run always has its artifacts.
 */
export async function registerBundle(
  pool: pg.Pool,
  bundle: BundleOnDisk,
  upload: (key: string, bytes: Buffer) => Promise<void>,
): Promise<RegisteredRun> {
  const existing = await pool.query<{ id: string }>(`select id from model_runs where artifact_sha256 = $1`, [bundle.manifestSha256]);
  for (const [name, bytes] of bundle.files) await upload(`${artifactPrefix(bundle.manifest)}${name}`, bytes);
  if (existing.rows[0]) return { id: existing.rows[0].id, created: false };
  const evaluation = bundleEvaluation(bundle);
  const window = trainedOn(bundle.manifest);
  const client = await pool.connect();
  try {
    await client.query('begin');
    const inserted = await client.query<{ id: string }>(
      `insert into model_runs (name, sport_id, feature_version, artifact_key, artifact_sha256, metadata, trained_from, trained_to)
       values ($1, (select id from sports where key = $8), $2, $3, $4, $5, $6, $7) returning id`,
      [bundle.manifest.id, bundle.manifest.featureVersion, artifactPrefix(bundle.manifest), bundle.manifestSha256, bundle.manifest, window.from, window.to, bundleSport(bundle.manifest)],
    );
    const id = inserted.rows[0]!.id;
    if (evaluation) await storeRollingEvaluation(client, id, evaluation);
    await client.query('commit');
    return { id, created: true };
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
}

/**
 * The rolling-origin evaluation as the registry keeps it: one model_evaluations row (split `rolling`) whose
 * `gate` the activation gate reads, with the per-season and pooled reports beside it.
 */
export async function storeRollingEvaluation(db: Pick<pg.ClientBase, 'query'>, runId: string, evaluation: BundleEvaluation): Promise<void> {
  await db.query(`delete from model_evaluations where model_run_id = $1 and split = $2`, [runId, ROLLING_SPLIT]);
  await db.query(`delete from backtest_results where model_run_id = $1`, [runId]);
  if (isNbaEvaluation(evaluation)) return storeNbaRollingEvaluation(db, runId, evaluation);
  const pooled = evaluation.pooled.report.markets;
  await db.query(`insert into model_evaluations (model_run_id, split, match_count, metrics, baseline_metrics) values ($1, $2, $3, $4, $5)`, [
    runId,
    ROLLING_SPLIT,
    evaluation.pooled.matches,
    { gate: evaluation.gate, recipe: evaluation.recipe, seasons: evaluation.seasons, pooled: evaluation.pooled.report },
    {
      '1x2': { pinnacle: pooled['1x2']?.metrics?.pinnacle ?? null, marketAverage: pooled['1x2']?.metrics?.marketAverage ?? null },
      ou25: { pinnacle: pooled.ou25?.metrics?.pinnacle ?? null, marketAverage: pooled.ou25?.metrics?.marketAverage ?? null },
    },
  ]);
  // The backtests (GET /models/{id}/backtest) are the pooled test seasons' flat-stake betting.
  for (const [market, r] of Object.entries(pooled)) {
    if (!r) continue;
    const strategies = [
      ['ev-threshold', 'bestPrice', r.betting.model.bestPrice],
      ['ev-threshold', 'pinnaclePreMatch', r.betting.model.pinnaclePreMatch],
      ['ev-threshold', 'marketAverage', r.betting.model.marketAverage],
      ['market-value-rule', 'bestPrice', r.betting.marketValueRule],
    ] as const;
    for (const [strategy, price, result] of strategies) {
      await db.query(`insert into backtest_results (model_run_id, strategy, params, metrics) values ($1, $2, $3, $4)`, [
        runId,
        strategy,
        { market, price, threshold: evaluation.pooled.report.settings.evThreshold, split: ROLLING_SPLIT, seasons: evaluation.seasons.map((x) => x.season) },
        result,
      ]);
    }
  }
}

/**
 * The NBA's: the same row and `gate` key (the registry's gate read is one for every sport). Its report has no
 * betting simulation, so there are no backtests; the baseline is the margin-free close each market is scored against.
 */
async function storeNbaRollingEvaluation(db: Pick<pg.ClientBase, 'query'>, runId: string, evaluation: NbaRollingEvaluation): Promise<void> {
  const pooled = evaluation.pooled.report.markets;
  const baseline = Object.fromEntries(Object.entries(pooled).map(([market, r]) => [market, { closing: r?.metrics?.closing ?? null }]));
  await db.query(`insert into model_evaluations (model_run_id, split, match_count, metrics, baseline_metrics) values ($1, $2, $3, $4, $5)`, [
    runId,
    ROLLING_SPLIT,
    evaluation.pooled.matches,
    { sport: evaluation.sport, gate: evaluation.gate, recipe: evaluation.recipe, seasons: evaluation.seasons, pooled: evaluation.pooled.report },
    baseline,
  ]);
}

/** The gate's decision on a run's stored rolling evaluation, over the markets its sport's model prices. */
export async function storedGateDecision(db: Pick<pg.ClientBase, 'query'>, runId: string): Promise<GateDecision> {
  const run = await db.query<{ sport: string | null }>(
    `select s.key as sport from model_runs r left join sports s on s.id = r.sport_id where r.id = $1`,
    [runId],
  );
  if (!run.rows[0]) return { passes: false, reasons: [`model run ${runId} does not exist`] };
  const sport = run.rows[0].sport;
  const markets = sport ? gateMarketsOf(sport) : null;
  if (!markets || markets.length === 0) return { passes: false, reasons: [`the sport ${sport ?? '(none)'} of model run ${runId} has no model recipe, so no market for the gate to check`] };
  const { rows } = await db.query<{ gate: RollingGate | RollingGateOf<string> | null }>(
    `select metrics -> 'gate' as gate from model_evaluations where model_run_id = $1 and split = $2 order by id desc limit 1`,
    [runId, ROLLING_SPLIT],
  );
  return gateDecision(rows[0]?.gate, markets);
}

/**
 * Makes a run active when no run of its sport is, through the activation gate: what `npm start` and the test
 * setup do with each default bundle, so a fresh machine serves predictions without training. A bundle the gate
 * refuses is not activated (an admin can still force it with a reason: POST /models/{id}/activate).
 */
export async function activateDefault(pool: pg.Pool, runId: string): Promise<boolean> {
  const decision = await storedGateDecision(pool, runId);
  if (!decision.passes) throw new Error(`the activation gate refuses model run ${runId}: ${decision.reasons.join('; ')}`);
  // Two concurrent calls for one sport: model_runs_one_active_per_sport lets one of them win; the loser changes
  // nothing rather than failing, as when it finds the sport already served.
  try {
    const result = await pool.query(
      `update model_runs r set status = 'active', activated_at = now(), activation_forced = false, activation_reason = null
       where r.id = $1 and not exists (select 1 from model_runs o where o.status = 'active' and o.sport_id = r.sport_id)`,
      [runId],
    );
    return (result.rowCount ?? 0) > 0;
  } catch (error) {
    if ((error as { code?: string; constraint?: string }).constraint === 'model_runs_one_active_per_sport') return false;
    throw error;
  }
}
