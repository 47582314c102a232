// The job registry: which jobs each Cron Trigger runs (schedules.ts names the triggers, wrangler.toml declares
// them). Each job runs through JobRunner and so is recorded in ingestion_jobs; one failing job does not stop
// the others of the same trigger.
import { configFrom, type Config, type Env } from '../env';
import { createDatabase } from '../db/client';
import { createLogger, type Logger } from '../lib/logging';
import { withJobMetrics } from '../lib/metrics';
import { otlpSettingsFrom } from '../lib/tracing';
import { JobRunner, type JobResult } from '../services/jobs';
import { ensurePartitionsAhead, oldestServedVector } from '../services/partitions';
import type { Database } from '../db/client';
import { artifactSync } from './artifact-sync';
import { featureStoreJob } from './feature-store';
import { footballDataJob } from './football-data';
import { runIngestion, type IngestionKind } from './ingestion';
import { scheduleNameFor, type ScheduleName } from './schedules';
import { settlement } from './settlement';

export interface JobEnvironment {
  env: Env;
  db: () => Database;
  logger: Logger;
}

type Job = (runner: JobRunner, now: Date, config: Config, context: JobEnvironment) => Promise<JobResult>;

const ingestion =
  (kind: IngestionKind): Job =>
  (runner, now, config, { env, db, logger }) =>
    runIngestion(kind, { runner, now, config, env, db, logger });

const featureStore: Job = (runner, now, _config, context) => featureStoreJob(runner, now, context);

// Served feature vectors are not deleted here: the monthly archive (npm run archive) moves them to the lake and
// deletes them only once they are verified there. The upkeep reports the oldest one, so a stalled archive shows.
const partitionUpkeep: Job = (runner, now) =>
  runner.run('partition-upkeep', 'internal', async (tx) => ({
    partitions: await ensurePartitionsAhead(tx, now),
    oldestServedVector: await oldestServedVector(tx),
  }));

// The hourly feature store advance applies results that became known since the results jobs stored them.
// Results come before settlement (it settles on the scores they bring); partitions and the artifact mirror last.
const JOBS: Record<ScheduleName, Job[]> = {
  odds: [ingestion('odds')],
  fixtures: [ingestion('fixtures'), featureStore],
  daily: [ingestion('results'), footballDataJob(), settlement, partitionUpkeep, artifactSync],
};

export async function runScheduled(controller: ScheduledController, env: Env, logger: Logger = createLogger()): Promise<JobResult[]> {
  const name = scheduleNameFor(controller.cron);
  if (!name) {
    logger.error('unknown cron schedule', { cron: controller.cron });
    return [];
  }
  const config = configFrom(env);
  const handle = createDatabase(config.DATABASE_URL, config.WS_PROXY, logger);
  try {
    const scoped = logger.child({ schedule: name });
    const runner = new JobRunner(() => handle.db, scoped);
    const context: JobEnvironment = { env, db: () => handle.db, logger: scoped };
    const results: JobResult[] = [];
    for (const job of JOBS[name]) {
      try {
        results.push(await job(runner, new Date(controller.scheduledTime), config, context));
      } catch (error) {
        // Only the job row itself failing to be written gets here (JobRunner records everything else).
        scoped.error('job could not be recorded', { errorCode: 'job-unrecorded', error: (error as Error).message });
      }
    }
    return results;
  } finally {
    await handle.end();
  }
}

/** The Worker's `scheduled` handler: the trigger's jobs, then their metrics exported, all after the event returns. */
export function handleScheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): void {
  const logger = createLogger();
  ctx.waitUntil(
    withJobMetrics(otlpSettingsFrom(configFrom(env)), () => runScheduled(controller, env, logger), (error) =>
      logger.warn('telemetry export failed', { errorCode: 'telemetry-export-failed', error }),
    ),
  );
}
