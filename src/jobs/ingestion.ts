// The Odds API jobs of the three Cron Triggers (odds every 5 min, fixtures hourly, results daily), wired to
// the Worker's bindings: the MatchOdds DO, the PREDICTIONS KV namespace and the feature queue. The same
// functions run when an admin starts a run (POST /admin/ingestion/run).
import { eq, gt, or, sql } from 'drizzle-orm';
import type { Config, Env, FeatureRecomputeMessage } from '../env';
import type { Database } from '../db/client';
import { modelRuns } from '../db/schema';
import type { Logger } from '../lib/logging';
import { TheOddsApiClient, THE_ODDS_API_PROVIDER } from '../providers/the-odds-api/client';
import type { OddsProvider } from '../providers/types';
import { oddsRequestFor, pollTiers } from '../services/ingestion/budget';
import { ingestFixtures, ingestOdds, ingestResults, type IngestionDeps, type IngestionFanOut } from '../services/ingestion/pipeline';
import type { JobContext, JobOutcome, JobResult, JobRunner } from '../services/jobs';
import { PredictionCache } from '../services/predictions/cache';
import { matchOddsStub } from '../../durable-objects/match-odds';

export const INGESTION_KINDS = ['odds', 'fixtures', 'results'] as const;
export type IngestionKind = (typeof INGESTION_KINDS)[number];

const FIXTURES_HORIZON_DAYS = 14;
/** Queue.sendBatch takes at most 100 messages. */
const QUEUE_BATCH = 100;

export type IngestionEnv = Pick<Env, 'MATCH_ODDS' | 'PREDICTIONS' | 'FEATURE_QUEUE'>;

export function workerFanOut(env: IngestionEnv, db: () => Database): IngestionFanOut {
  return {
    applyOdds: (matchId, rows, meta) => matchOddsStub(env.MATCH_ODDS, matchId).applyOdds(rows, meta),
    async invalidatePredictions(matchIds, liveStates = new Map()) {
      const cache = new PredictionCache(env.PREDICTIONS);
      // A state whose prices did not move (a newer capture at the same price, an earlier opening price) is
      // published alone: its cached predictions stand.
      const invalidated = new Set(matchIds);
      const alone = [...liveStates].filter(([matchId]) => !invalidated.has(matchId)).map(([matchId, live]) => cache.publishLiveOdds(matchId, live));
      const invalidate = async () => {
        if (matchIds.length === 0) return;
        // Every run that may still be cached: the active one and any activated within the cache's TTL, and the
        // match's market-only key (invalidateMatch).
        // A run retired less than a cache TTL ago may still have entries being read until isolates notice.
        const runs = await db()
          .select({ id: modelRuns.id })
          .from(modelRuns)
          .where(or(eq(modelRuns.status, 'active'), gt(modelRuns.retiredAt, sql`now() - interval '10 minutes'`)));
        // With no run at all, the market-only predictions (sports without a model) are still cached.
        const runIds = runs.map((r) => r.id);
        await Promise.all(matchIds.map((matchId) => cache.invalidateMatch(runIds, matchId, liveStates.get(matchId))));
      };
      // One failure does not stop the other writes; the first is reported once all have settled.
      const failed = (await Promise.allSettled([...alone, invalidate()])).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
    async enqueueFeatureRecompute(messages: FeatureRecomputeMessage[]) {
      for (let i = 0; i < messages.length; i += QUEUE_BATCH) {
        await env.FEATURE_QUEUE.sendBatch(messages.slice(i, i + QUEUE_BATCH).map((body) => ({ body, contentType: 'json' })));
      }
    },
  };
}

export function oddsApiProvider(config: Config, now: Date): OddsProvider | null {
  if (!config.ODDS_API_KEY) return null;
  return new TheOddsApiClient({
    apiKey: config.ODDS_API_KEY,
    baseUrl: config.ODDS_API_BASE_URL,
    regions: config.ODDS_API_REGIONS,
    now: () => now,
  });
}

export interface IngestionRun {
  runner: JobRunner;
  now: Date;
  config: Config;
  env: IngestionEnv;
  db: () => Database;
  logger: Logger;
  /** Tests inject a provider; otherwise The Odds API client from the configuration. */
  provider?: OddsProvider;
}

const WORK: Record<IngestionKind, (job: JobContext, deps: IngestionDeps) => Promise<JobOutcome>> = {
  odds: ingestOdds,
  fixtures: ingestFixtures,
  results: ingestResults,
};

export function runIngestion(kind: IngestionKind, run: IngestionRun): Promise<JobResult> {
  const provider = run.provider ?? oddsApiProvider(run.config, run.now);
  if (!provider) {
    return run.runner.track(kind, THE_ODDS_API_PROVIDER, async () => ({ status: 'skipped', reason: 'not configured: ODDS_API_KEY is not set' }));
  }
  const deps: IngestionDeps = {
    db: run.db,
    provider,
    fanOut: workerFanOut(run.env, run.db),
    settings: {
      sports: run.config.ODDS_API_SPORTS,
      monthlyCredits: run.config.ODDS_API_MONTHLY_CREDITS,
      oddsRequest: (competitionKey) => oddsRequestFor(competitionKey, run.config.ODDS_API_REGIONS),
      pollTiers: pollTiers(run.config.ODDS_POLL_WINDOW_HOURS),
      fixturesHorizonDays: FIXTURES_HORIZON_DAYS,
    },
    logger: run.logger,
    now: run.now,
  };
  return run.runner.track(kind, provider.name, (job) => WORK[kind](job, deps));
}
