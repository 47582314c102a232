// The per-match feature state entry in KV: what a cache miss reads first. It is a copy of the feature store's
// states (src/services/feature-store) for one match; the queue consumer writes it after each advance of the
// store, and a miss that finds none (or a stale one) reads the store itself, four primary-key lookups.
import { FEATURE_VERSION } from '../features';
import type { MatchFeatureState } from '../feature-store';

export { isFresh, type MatchFeatureState } from '../feature-store';

export const featureStateKey = (matchId: number) => `feat:${FEATURE_VERSION}:${matchId}`;
/** Entries outlive their freshness only as a safety net; `staleAfter` decides whether they are used. */
export const FEATURE_STATE_TTL_SECONDS = 14 * 86_400;

export async function readMatchFeatureState(kv: KVNamespace, matchId: number): Promise<MatchFeatureState | null> {
  return kv.get<MatchFeatureState>(featureStateKey(matchId), 'json');
}

export async function writeMatchFeatureState(kv: KVNamespace, state: MatchFeatureState): Promise<void> {
  await kv.put(featureStateKey(state.matchId), JSON.stringify(state), { expirationTtl: FEATURE_STATE_TTL_SECONDS });
}
