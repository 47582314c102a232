// The daily football-data.co.uk fetch: every configured current-season CSV (FOOTBALL_DATA_CSV_URLS) is read
// and synced, so results and statistics keep flowing after the history import. All files are fetched before
// the transaction opens: a network failure writes nothing and holds no connection, and a database failure
// rolls the whole run back. One ingestion_jobs row per run; unconfigured, it records itself as skipped.
// Matches whose result or statistics changed get their cached predictions dropped and features recomputed,
// as the live results job does.
import type { Database } from '../db/client';
import { databaseFailure } from '../db/pg';
import type { Config } from '../env';
import { FOOTBALL_DATA_PROVIDER, FootballDataProvider } from '../providers/football-data/provider';
import { ProviderError } from '../providers/types';
import { syncFootballData } from '../services/ingestion/football-data-sync';
import { advanceAfterResults, fanOutChanged, type IngestionFanOut } from '../services/ingestion/pipeline';
import { createLogger, type Logger } from '../lib/logging';
import type { JobResult, JobRunner } from '../services/jobs';
import { workerFanOut, type IngestionEnv } from './ingestion';

export const FOOTBALL_DATA_JOB_KIND = 'football-data-sync';

export interface FootballDataJobOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Where changed matches are announced; by default the Worker's (KV invalidation, feature queue) from `env`. */
  fanOut?: Pick<IngestionFanOut, 'invalidatePredictions' | 'enqueueFeatureRecompute'>;
}

export interface FootballDataJobContext {
  db: () => Database;
  env?: IngestionEnv;
  /** Where fan-out failures are logged; silent when absent (Node callers). */
  logger?: Logger;
}

export function footballDataJob(options: FootballDataJobOptions = {}) {
  return (runner: JobRunner, now: Date, config: Pick<Config, 'FOOTBALL_DATA_CSV_URLS'>, context: FootballDataJobContext): Promise<JobResult> =>
    runner.track(FOOTBALL_DATA_JOB_KIND, FOOTBALL_DATA_PROVIDER, async (job) => {
      const urls = config.FOOTBALL_DATA_CSV_URLS;
      if (urls.length === 0) return { status: 'skipped', reason: 'no URLs configured' };
      const provider = new FootballDataProvider({
        urls,
        now: () => now,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      });
      const started = Date.now();
      const snapshot = await provider.fetchAll().catch((error: unknown) => {
        if (error instanceof ProviderError) job.recordCalls(error.details.calls);
        throw error;
      });
      job.recordCalls(snapshot.calls);
      const fetchMs = Date.now() - started;
      const counts = await context
        .db()
        .transaction((tx) => syncFootballData(tx, snapshot))
        .catch((error: unknown) => {
          throw databaseFailure(error);
        });

      const changed = counts.changedMatchIds.map(Number);
      const featureStore =
        changed.length > 0 ? await advanceAfterResults(context.db(), now.getTime(), context.logger ?? createLogger({}, () => undefined)) : null;
      const fanOut = options.fanOut ?? (context.env ? workerFanOut(context.env, context.db) : undefined);
      const fanOutFailures = fanOut ? await fanOutChanged({ fanOut, logger: context.logger ?? createLogger({}, () => undefined) }, changed, 'result') : 0;
      const { changedMatchIds: _changed, ...written } = counts;
      return {
        stats: {
          files: snapshot.files.map((f) => ({ file: f.file, rows: f.rows, rejected: f.rejected.length, invalidPrices: f.invalidPrices.length })),
          fetchMs,
          ...written,
          recomputed: fanOut ? changed.length : 0,
          resultsApplied: featureStore?.applied ?? 0,
          fanOutFailures,
          rejected: snapshot.files.flatMap((f) => f.rejected).slice(0, 20),
        },
      };
    });
}

export const footballDataSync = footballDataJob();
