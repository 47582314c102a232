// Every scheduled or batch job runs through runJob, so each run leaves one ingestion_jobs row that says
// whether it succeeded, what it did, and why it failed. The work itself runs in a transaction, so a failed
// job writes nothing partial; the job row is written outside it and survives the rollback.
import { eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { ingestionJobs } from '../db/schema';
import { errorFields, type Logger } from '../lib/logging';

export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

export interface JobResult {
  id: string;
  status: 'succeeded' | 'failed';
  stats: Record<string, unknown>;
  error?: string;
}

export class JobRunner {
  constructor(
    private readonly db: () => Database,
    private readonly logger: Logger,
  ) {}

  async run(kind: string, provider: string, work: (tx: Transaction) => Promise<Record<string, unknown>>): Promise<JobResult> {
    const [job] = await this.db().insert(ingestionJobs).values({ kind, provider }).returning({ id: ingestionJobs.id });
    const id = job!.id;
    try {
      const stats = await this.db().transaction((tx) => work(tx));
      await this.db().update(ingestionJobs).set({ status: 'succeeded', finishedAt: new Date(), stats }).where(eq(ingestionJobs.id, id));
      this.logger.info('job succeeded', { jobId: id, kind, provider, ...stats });
      return { id, status: 'succeeded', stats };
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      await this.db().update(ingestionJobs).set({ status: 'failed', finishedAt: new Date(), error: message }).where(eq(ingestionJobs.id, id));
      this.logger.error('job failed', { jobId: id, kind, provider, ...errorFields(error) });
      return { id, status: 'failed', stats: {}, error: message };
    }
  }
}
