// The KV cache of full (unshaped) match predictions. The key carries the model run, so activating another
// run changes the prefix and old entries simply stop being read (they expire on their TTL); new odds for a
// match delete that match's key under every active run.
import type { MatchPrediction } from './types';

/** Serving's copy of the active model run (model-service.ts); activation deletes it. */
export const ACTIVE_RUN_KV_KEY = 'model:active:v1';

/** Seconds a cached prediction lives. New odds delete it sooner; this bounds staleness of anything missed. */
export const PREDICTION_CACHE_TTL_SECONDS = 300;

export function predictionCacheKey(modelRunId: string, matchId: number): string {
  return `pred:v1:${modelRunId}:${matchId}`;
}

/** Deletes the match's cached prediction under each run; the ingestion job calls it after writing new odds. */
export async function invalidateMatchPredictions(kv: KVNamespace, modelRunIds: string[], matchId: number): Promise<void> {
  await Promise.all(modelRunIds.map((runId) => kv.delete(predictionCacheKey(runId, matchId))));
}

export async function readCachedPrediction(kv: KVNamespace, modelRunId: string, matchId: number): Promise<MatchPrediction | null> {
  return kv.get<MatchPrediction>(predictionCacheKey(modelRunId, matchId), 'json');
}

export async function writeCachedPrediction(kv: KVNamespace, prediction: MatchPrediction): Promise<void> {
  await kv.put(predictionCacheKey(prediction.modelRunId, prediction.matchId), JSON.stringify(prediction), {
    expirationTtl: PREDICTION_CACHE_TTL_SECONDS,
  });
}
