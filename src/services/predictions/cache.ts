// PredictionCache: every KV key, TTL, isolate memo and invalidation of the prediction path, in one place.
// - `pred:v1:{run}:{match}`: the full (unshaped) prediction. The key carries the model run, so activating
//   another run changes the prefix and old entries simply stop being read (they expire on their TTL); new odds
//   for a match delete its key under every run that may still be cached (the odds job, invalidateMatch).
// - `feat:{featureVersion}:{match}`: the match's feature state, a copy of the feature store's rows for it
//   (src/services/feature-store). Its `staleAfter` decides whether it is used; the TTL is a safety net.
// - `model:active:v1`: serving's copy of the active model run; activation deletes it. The isolate keeps its
//   own copy for ACTIVE_RUN_ISOLATE_TTL_MS on top.
import { FEATURE_VERSION } from '../features';
import type { MatchFeatureState } from '../feature-store';
import type { ActiveRun, MatchPrediction } from './types';

export const ACTIVE_RUN_KV_KEY = 'model:active:v1';
/** How long the isolate trusts its copy of the active run before asking KV again. */
export const ACTIVE_RUN_ISOLATE_TTL_MS = 15_000;
/** How long KV keeps the active run (KV's minimum TTL is 60 s). Activation takes effect within this. */
export const ACTIVE_RUN_KV_TTL_SECONDS = 60;
/** Seconds a cached prediction lives. New odds delete it sooner; this bounds staleness of anything missed. */
export const PREDICTION_CACHE_TTL_SECONDS = 300;
/** Feature state entries outlive their freshness only as a safety net; `staleAfter` decides whether they are used. */
export const FEATURE_STATE_TTL_SECONDS = 14 * 86_400;

export const predictionCacheKey = (modelRunId: string, matchId: number): string => `pred:v1:${modelRunId}:${matchId}`;
export const featureStateKey = (matchId: number): string => `feat:${FEATURE_VERSION}:${matchId}`;

// Isolate memos: they outlive a request (a PredictionCache is made per request) on purpose.
let activeMemo: { run: ActiveRun | null; until: number } | undefined;
/** Per-isolate counters behind the `hitRate` log field. */
const counters = { hits: 0, misses: 0 };

/** Forgets the isolate's copy of the active run: for tests, and after an activation made by this isolate. */
export function forgetActiveRun(): void {
  activeMemo = undefined;
}

export function resetPredictionMemos(): void {
  activeMemo = undefined;
  counters.hits = 0;
  counters.misses = 0;
}

export class PredictionCache {
  constructor(private readonly kv: KVNamespace) {}

  prediction(modelRunId: string, matchId: number): Promise<MatchPrediction | null> {
    return this.kv.get<MatchPrediction>(predictionCacheKey(modelRunId, matchId), 'json');
  }

  async putPrediction(prediction: MatchPrediction): Promise<void> {
    await this.kv.put(predictionCacheKey(prediction.modelRunId, prediction.matchId), JSON.stringify(prediction), {
      expirationTtl: PREDICTION_CACHE_TTL_SECONDS,
    });
  }

  /** Deletes the match's cached prediction under each run; the odds job calls it after writing new odds. */
  async invalidateMatch(modelRunIds: readonly string[], matchId: number): Promise<void> {
    await Promise.all(modelRunIds.map((runId) => this.kv.delete(predictionCacheKey(runId, matchId))));
  }

  featureState(matchId: number): Promise<MatchFeatureState | null> {
    return this.kv.get<MatchFeatureState>(featureStateKey(matchId), 'json');
  }

  async putFeatureState(state: MatchFeatureState): Promise<void> {
    await this.kv.put(featureStateKey(state.matchId), JSON.stringify(state), { expirationTtl: FEATURE_STATE_TTL_SECONDS });
  }

  /**
   * The active run: from the isolate (15 s), else KV (60 s), else Postgres via `fromDatabase`, which is then
   * written back to KV in `defer`. Null when no run is active.
   */
  async activeRun(fromDatabase: () => Promise<ActiveRun | null>, defer: (work: Promise<unknown>) => void, now: number): Promise<ActiveRun | null> {
    if (activeMemo && activeMemo.until > now) return activeMemo.run;
    let run = await this.kv.get<ActiveRun>(ACTIVE_RUN_KV_KEY, 'json');
    if (!run) {
      run = await fromDatabase();
      if (run) defer(this.kv.put(ACTIVE_RUN_KV_KEY, JSON.stringify(run), { expirationTtl: ACTIVE_RUN_KV_TTL_SECONDS }));
    }
    activeMemo = { run, until: now + ACTIVE_RUN_ISOLATE_TTL_MS };
    return run;
  }

  /** Deletes the KV copy of the active run, so the next read goes to Postgres (call it after an activation). */
  async invalidateActiveRun(): Promise<void> {
    activeMemo = undefined;
    await this.kv.delete(ACTIVE_RUN_KV_KEY);
  }

  /** Counts a lookup in the isolate's counters; returns them for the log line. */
  count(status: 'HIT' | 'MISS'): { isolateHits: number; isolateMisses: number; hitRate: number } {
    if (status === 'HIT') counters.hits++;
    else counters.misses++;
    const total = counters.hits + counters.misses;
    return { isolateHits: counters.hits, isolateMisses: counters.misses, hitRate: Number((counters.hits / total).toFixed(4)) };
  }
}

/** Deletes the match's cached prediction under each run (what the odds job does after writing new odds). */
export function invalidateMatchPredictions(kv: KVNamespace, modelRunIds: string[], matchId: number): Promise<void> {
  return new PredictionCache(kv).invalidateMatch(modelRunIds, matchId);
}
