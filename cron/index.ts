// Dispatches a Cron Trigger to its jobs. Each job runs through JobRunner and so is recorded in
// ingestion_jobs; one failing job does not stop the others of the same trigger.
import { configFrom, type Env } from '../src/env';
import { createDatabase } from '../src/db/client';
import { createLogger, type Logger } from '../src/lib/logging';
import { JobRunner, type JobResult } from '../src/services/jobs';
import { ensurePartitionsAhead } from '../src/services/partitions';
import { scheduleNameFor, type ScheduleName } from './schedules';
import { settlement } from './settlement';

type Job = (runner: JobRunner, now: Date) => Promise<JobResult>;

const partitionUpkeep: Job = (runner, now) =>
  runner.run('partition-upkeep', 'internal', async (tx) => ({ partitions: await ensurePartitionsAhead(tx, now) }));

// Odds, fixtures, results, settlement and artifact sync join these lists with their issues.
const JOBS: Record<ScheduleName, Job[]> = {
  odds: [],
  fixtures: [],
  daily: [partitionUpkeep, settlement],
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
    const runner = new JobRunner(() => handle.db, logger.child({ schedule: name }));
    const results: JobResult[] = [];
    for (const job of JOBS[name]) results.push(await job(runner, new Date(controller.scheduledTime)));
    return results;
  } finally {
    await handle.end();
  }
}
