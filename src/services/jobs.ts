// Every scheduled or admin-started job runs through JobRunner, so each run leaves one ingestion_jobs row that
// says whether it succeeded, was skipped or failed, what it did (stats), what it cost in provider credits, how
// long it took and why it failed. The job row is written outside the job's own transaction, so it survives the
// rollback of a failed run: a failed job is recorded and leaves nothing partial behind.
import { eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { ingestionJobs } from '../db/schema';
import { errorFields, type Logger } from '../lib/logging';
import { recordJobOutcome } from '../lib/metrics';
import { ProviderError, type ProviderCall } from '../providers/types';

export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

export type JobTrigger = 'cron' | 'manual';

export interface JobResult {
  id: string;
  kind: string;
  provider: string;
  status: 'succeeded' | 'failed' | 'skipped';
  stats: Record<string, unknown>;
  error?: string;
  creditsUsed: number;
  creditsRemaining: number | null;
  durationMs: number;
}

/** What a tracked job returns: it succeeded (with counts) or decided not to run (with the reason). */
export type JobOutcome = { status?: 'succeeded'; stats: Record<string, unknown> } | { status: 'skipped'; reason: string; stats?: Record<string, unknown> };

/** Handed to a tracked job so the credits of every provider call count, whether the job then succeeds or not. */
export class JobContext {
  private readonly providerCalls: ProviderCall[] = [];

  constructor(readonly id: string) {}

  recordCalls(calls: readonly ProviderCall[]): void {
    for (const call of calls) if (!this.providerCalls.includes(call)) this.providerCalls.push(call);
  }

  get calls(): readonly ProviderCall[] {
    return this.providerCalls;
  }
}

/** Credits charged (sum of x-requests-last) and the quota left after the newest call that reported it. */
export function creditsOf(calls: readonly ProviderCall[]): { used: number; remaining: number | null } {
  let used = 0;
  let remaining: number | null = null;
  let latest = -Infinity;
  for (const call of calls) {
    used += call.requestsLast ?? 0;
    if (call.requestsRemaining !== null && call.at.getTime() >= latest) {
      latest = call.at.getTime();
      remaining = call.requestsRemaining;
    }
  }
  return { used, remaining };
}

export class JobRunner {
  constructor(
    private readonly db: () => Database,
    private readonly logger: Logger,
    private readonly options: { trigger?: JobTrigger; clock?: () => number } = {},
  ) {}

  /** A job whose whole work is one database transaction (partition upkeep, settlement, …). */
  run(kind: string, provider: string, work: (tx: Transaction) => Promise<Record<string, unknown>>): Promise<JobResult> {
    return this.track(kind, provider, async () => ({ stats: await this.db().transaction((tx) => work(tx)) }));
  }

  /**
   * A job that manages its own transactions, typically: call the provider first (no transaction held open
   * across the network), then write everything in one transaction. Provider calls recorded on the context
   * (and those carried by a ProviderError) are charged to the run even when it fails.
   */
  async track(kind: string, provider: string, work: (job: JobContext) => Promise<JobOutcome>): Promise<JobResult> {
    const clock = this.options.clock ?? Date.now;
    const trigger = this.options.trigger ?? 'cron';
    const started = clock();
    const [row] = await this.db().insert(ingestionJobs).values({ kind, provider, trigger }).returning({ id: ingestionJobs.id });
    const id = row!.id;
    const job = new JobContext(id);
    let result: JobResult;
    try {
      const outcome = await work(job);
      const credits = creditsOf(job.calls);
      const base = { id, kind, provider, creditsUsed: credits.used, creditsRemaining: credits.remaining, durationMs: Math.max(0, Math.round(clock() - started)) };
      result =
        outcome.status === 'skipped'
          ? { ...base, status: 'skipped', stats: { ...outcome.stats, reason: outcome.reason } }
          : { ...base, status: 'succeeded', stats: outcome.stats };
    } catch (error) {
      if (error instanceof ProviderError) job.recordCalls(error.details.calls);
      const credits = creditsOf(job.calls);
      const message = describeFailure(error);
      result = {
        id,
        kind,
        provider,
        status: 'failed',
        stats: error instanceof ProviderError ? { errorKind: error.kind, ...(error.details.path ? { path: error.details.path } : {}) } : {},
        error: message,
        creditsUsed: credits.used,
        creditsRemaining: credits.remaining,
        durationMs: Math.max(0, Math.round(clock() - started)),
      };
      this.logger.error('job failed', { jobId: id, kind, provider, trigger, errorCode: 'job-failed', ...errorFields(error) });
    }
    await this.db()
      .update(ingestionJobs)
      .set({
        status: result.status,
        finishedAt: new Date(),
        stats: result.stats,
        error: result.error ?? null,
        creditsUsed: result.creditsUsed,
        creditsRemaining: result.creditsRemaining,
        durationMs: result.durationMs,
      })
      .where(eq(ingestionJobs.id, id));
    if (result.status !== 'failed') {
      this.logger.info(`job ${result.status}`, { jobId: id, kind, provider, trigger, durationMs: result.durationMs, creditsUsed: result.creditsUsed, ...result.stats });
    }
    // Counted here, so cron and admin-started runs both reach the job metrics (a no-op while telemetry is off).
    recordJobOutcome(result);
    return result;
  }
}

function describeFailure(error: unknown): string {
  if (error instanceof ProviderError) {
    const status = error.details.status ? ` (HTTP ${error.details.status}${error.details.errorCode ? ` ${error.details.errorCode}` : ''})` : '';
    return `${error.kind}${status} after ${error.details.attempts} attempt(s) at ${error.details.endpoint}: ${error.message}`;
  }
  if (!(error instanceof Error)) return truncate(String(error));
  // drizzle wraps a database error as "Failed query: <sql> params: <every parameter>", megabytes for a bulk
  // write; the database's own reason is what an operator needs.
  const cause = (error as { cause?: unknown }).cause;
  if (error.message.startsWith('Failed query') && cause instanceof Error) return truncate(`database: ${cause.message}`);
  return truncate(error.message);
}

const MAX_ERROR_LENGTH = 2000;

function truncate(message: string): string {
  return message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH)}…` : message;
}
