// The model-runtime provider: the ONNX session of a model run, per isolate. Nothing here waits for Postgres:
// the runtime (football's: one session serving both markets; basketball's: the moneyline's; loaded from R2 and
// checked by sha256) is built once per isolate and model run. A broken bundle is remembered as broken for a while, so a burst of requests does not
// re-download and re-verify it on every call. Which run is active is PredictionCache's (cache.ts).
import { UnavailableError } from '../../lib/errors';
import { span } from '../../lib/tracing';
import { BUNDLE_FILES, BundleError, isMoneylineManifest, MONEYLINE_BUNDLE_FILE, parseManifest, sha256Hex } from '../inference/bundle';
import { createMoneylineRuntime, type MoneylineRuntime } from '../inference/moneyline-runtime';
import { workerdOrt } from '../inference/ort-workerd';
import { createModelRuntime, type ModelRuntime } from '../inference/runtime';
import { ACTIVE_RUN_KV_KEY, forgetActiveRun, PredictionCache } from './cache';
import type { ActiveRun } from './types';

export type { ActiveRun };

/**
 * The model cannot serve: its bundle is missing or corrupt, or it needs other features. A 503 with Retry-After
 * (the bundle is retried after BROKEN_BUNDLE_RETRY_MS); the reason goes to the log, not to the caller.
 */
export class ModelUnavailableError extends UnavailableError {
  override name = 'ModelUnavailableError';
  constructor(readonly reason: string) {
    super('The prediction model cannot be loaded right now; the operators have been alerted', {
      retryAfterSeconds: BROKEN_BUNDLE_RETRY_MS / 1000,
      log: { msg: 'model unavailable', fields: { error: reason } },
    });
    this.message = reason;
  }
}

export { ACTIVE_RUN_KV_KEY, forgetActiveRun };
/** A bundle that failed to load is not retried for this long (per isolate). */
export const BROKEN_BUNDLE_RETRY_MS = 30_000;

/** A run's runtime: football's (1X2 and over/under 2.5) or basketball's moneyline. */
export type ServingRuntime = { kind: 'football'; runtime: ModelRuntime } | { kind: 'moneyline'; runtime: MoneylineRuntime };

const runtimes = new Map<string, { runtime: Promise<ServingRuntime>; failedAt?: number }>();

/** Deletes the KV copy of the active runs, so the next read goes to Postgres (call it after an activation). */
export function invalidateActiveRun(kv: KVNamespace): Promise<void> {
  return new PredictionCache(kv).invalidateActiveRun();
}

async function loadRuntime(bucket: R2Bucket, run: ActiveRun): Promise<ServingRuntime> {
  const read = async (name: string): Promise<ArrayBuffer> => {
    const object = await bucket.get(`${run.artifactKey}${name}`);
    if (!object) throw new BundleError(`${run.artifactKey}${name} is missing from R2`);
    return object.arrayBuffer();
  };
  const manifestBytes = await read('bundle.json');
  const manifestSha = await sha256Hex(manifestBytes);
  if (manifestSha !== run.artifactSha256) {
    throw new BundleError(`bundle.json: sha256 ${manifestSha} does not match the registered ${run.artifactSha256}`);
  }
  let manifestJson: unknown;
  try {
    manifestJson = JSON.parse(new TextDecoder().decode(manifestBytes));
  } catch {
    throw new BundleError('bundle.json is not JSON');
  }
  const manifest = parseManifest(manifestJson);
  // Each runtime checks its artifacts against the manifest's sha256 before ORT sees them.
  if (isMoneylineManifest(manifest)) {
    return { kind: 'moneyline', runtime: await createMoneylineRuntime(workerdOrt, manifest, { [MONEYLINE_BUNDLE_FILE]: await read(MONEYLINE_BUNDLE_FILE) }) };
  }
  const [h2h, ou25] = await Promise.all([read(BUNDLE_FILES.h2h), read(BUNDLE_FILES.ou25)]);
  const runtime = await createModelRuntime(workerdOrt, manifest, { [BUNDLE_FILES.h2h]: h2h, [BUNDLE_FILES.ou25]: ou25 } as Record<
    (typeof BUNDLE_FILES)[keyof typeof BUNDLE_FILES],
    ArrayBuffer
  >);
  return { kind: 'football', runtime };
}

/**
 * The runtime of a run, built once per isolate. Failures become ModelUnavailableError (with the reason) and
 * are remembered for BROKEN_BUNDLE_RETRY_MS, after which the next call tries R2 again (a fixed upload heals).
 */
export async function runtimeFor(bucket: R2Bucket, run: ActiveRun, now = Date.now()): Promise<ServingRuntime> {
  let entry = runtimes.get(run.id);
  if (entry?.failedAt !== undefined && now - entry.failedAt >= BROKEN_BUNDLE_RETRY_MS) entry = undefined;
  if (!entry) {
    // Its own span: on a local workerd everything shares one thread, so the ORT backend's first initialisation
    // (hundreds of ms of CPU, once per isolate) otherwise shows up as the duration of whatever call runs beside it,
    // the MatchOdds read (docs/benchmarks.md, "Where a cold MatchOdds read's time went").
    const created: { runtime: Promise<ServingRuntime>; failedAt?: number } = {
      runtime: span('model.load', () => loadRuntime(bucket, run), { 'model.run': run.id }),
    };
    created.runtime.catch(() => {
      created.failedAt = Date.now();
    });
    runtimes.set(run.id, created);
    entry = created;
  }
  try {
    return await entry.runtime;
  } catch (error) {
    throw new ModelUnavailableError(`model run ${run.id} (${run.name}) cannot be loaded: ${(error as Error).message}`);
  }
}

/** The runtime of an active run, for the prediction path: runtimeFor over the Worker's bucket. */
export class ModelRuntimeProvider {
  constructor(private readonly bucket: R2Bucket) {}

  forRun(run: ActiveRun, now: number): Promise<ServingRuntime> {
    return runtimeFor(this.bucket, run, now);
  }
}

/** Drops the isolate's runtime of a run (tests that replace the artifacts in R2). */
export function forgetRuntime(runId: string): void {
  runtimes.delete(runId);
}
