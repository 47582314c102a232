// The hourly advance of the feature store. A result stored before it is "known" (resultKnownAt: 3 hours
// after kick-off) is applied by no ingestion job, since none runs when it becomes known; this job applies it,
// and has the feature queue refresh the upcoming matches' KV entries when anything was applied.
import { advanceFeatureStore } from '../services/feature-store';
import type { JobResult, JobRunner } from '../services/jobs';
import type { Database } from '../db/client';
import type { Env } from '../env';
import { workerFanOut } from './ingestion';

export const FEATURE_STORE_JOB_KIND = 'feature-store';

export function featureStoreJob(runner: JobRunner, now: Date, context: { env: Env; db: () => Database }): Promise<JobResult> {
  return runner.track(FEATURE_STORE_JOB_KIND, 'internal', async () => {
    const advanced = await advanceFeatureStore(context.db(), now.getTime());
    // One 'result' message is enough: its consumer refreshes every upcoming match, whichever result it names.
    const last = advanced.matchIds[advanced.matchIds.length - 1];
    if (last !== undefined) await workerFanOut(context.env, context.db).enqueueFeatureRecompute([{ matchId: last, reason: 'result' }]);
    return { stats: { applied: advanced.applied, rebuilt: advanced.rebuilt, nextKnownAt: advanced.nextKnownAt === null ? null : new Date(advanced.nextKnownAt).toISOString() } };
  });
}
