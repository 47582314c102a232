// Every sport's feature store, advanced together: whoever learns of new results (an ingestion job, the feature
// queue's consumer, the hourly job, an import) advances them all, each in its own transaction, so one sport's
// rebuild never holds up another's.
import type { PgDb } from '../../db/pg';
import { advanceSportFeatureStore, FOOTBALL_FEATURE_STORE, type AdvanceSummary, type PendingResult, type SportFeatureStore } from './advance';
import { BASKETBALL_FEATURE_STORE } from './basketball';

export const FEATURE_STORES: ReadonlyArray<SportFeatureStore<PendingResult, unknown>> = [
  FOOTBALL_FEATURE_STORE as SportFeatureStore<PendingResult, unknown>,
  BASKETBALL_FEATURE_STORE as unknown as SportFeatureStore<PendingResult, unknown>,
];

export interface FeatureStoresSummary extends AdvanceSummary {
  /** Each store's own summary, by feature version. */
  stores: Record<string, AdvanceSummary>;
}

/** Advances every sport's store; the totals add them up (nextKnownAt: the earliest). */
export async function advanceFeatureStore(db: PgDb, now: number): Promise<FeatureStoresSummary> {
  const stores: Record<string, AdvanceSummary> = {};
  for (const store of FEATURE_STORES) stores[store.featureVersion] = await advanceSportFeatureStore(db, store, now);
  const all = Object.values(stores);
  const next = all.map((s) => s.nextKnownAt).filter((t): t is number => t !== null);
  return {
    applied: all.reduce((n, s) => n + s.applied, 0),
    rebuilt: all.some((s) => s.rebuilt),
    matchIds: all.flatMap((s) => s.matchIds),
    nextKnownAt: next.length > 0 ? Math.min(...next) : null,
    stores,
  };
}
