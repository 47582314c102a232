// The feature queue consumer's work: the feature store advanced over any result that has become known, the
// feature state of every match the batch concerns copied from the store to KV, and for matches whose odds
// changed a fresh prediction put in the cache (and persisted), so the next reader hits: the active run's, or for
// a sport without a model the market-only one. A new result or fixture changes the states of upcoming matches
// (Elo, form and league rates move), so those reasons refresh all upcoming matches.
import type { FeatureRecomputeMessage } from '../../env';
import type { Logger } from '../../lib/logging';
import type { PredictionService } from './service';
import { advanceFeatureStore } from '../feature-store';
import type { PgDb } from '../../db/pg';
import { ModelUnavailableError } from './model-service';
import type { MatchPrediction } from './types';

/** How far ahead a new result refreshes upcoming matches' feature states. */
export const UPCOMING_HORIZON_MS = 14 * 86_400_000;

export interface WarmupSummary {
  statesWritten: number;
  /** Cached in KV. */
  predictionsWarmed: number;
  /** Of those, written to Postgres (one without any market has nothing to store; a failed write is logged). */
  predictionsPersisted: number;
  skipped: number;
  resultsApplied: number;
}

export function isFeatureRecomputeMessage(body: unknown): body is FeatureRecomputeMessage {
  if (typeof body !== 'object' || body === null) return false;
  const { matchId, reason } = body as Record<string, unknown>;
  return typeof matchId === 'number' && Number.isSafeInteger(matchId) && matchId > 0 && (reason === 'odds' || reason === 'result' || reason === 'fixture');
}

export async function warmFeaturesAndPredictions(
  messages: readonly FeatureRecomputeMessage[],
  deps: { predictions: PredictionService; featureStore: PgDb; logger: Logger; now?: number },
): Promise<WarmupSummary> {
  const now = deps.now ?? Date.now();
  const ids = new Set(messages.map((m) => m.matchId));
  if (messages.some((m) => m.reason !== 'odds')) {
    for (const id of await deps.predictions.featureStates.upcomingMatchIds(now, UPCOMING_HORIZON_MS)) ids.add(id);
  }
  // Applies what the ingestion job's own advance could not (a result that became known since, a failed
  // advance); when nothing is pending this is one indexed read.
  const advanced = await advanceFeatureStore(deps.featureStore, now);
  const { states, marketOnly } = await deps.predictions.featureStates.refresh([...ids], now);

  const oddsChanged = new Set(messages.filter((m) => m.reason === 'odds').map((m) => m.matchId));
  const toWarm = states.filter((s) => oddsChanged.has(s.matchId));
  const warmed: Array<{ prediction: MatchPrediction; features?: Float64Array }> = [];
  const attempt = async (matchId: number, make: () => Promise<{ prediction: MatchPrediction; features?: Float64Array }>) => {
    try {
      warmed.push(await make());
    } catch (error) {
      // A broken bundle fails every match alike: stop, write nothing, and let the queue retry the batch later.
      if (error instanceof ModelUnavailableError) throw error;
      deps.logger.warn('prediction warm-up failed', { matchId, error: (error as Error).message });
    }
  };
  // Without an active model (a fresh deploy) the states are still written; there is just nothing to warm, and
  // failing the batch would only retry it into the dead-letter queue.
  const run = toWarm.length > 0 ? await deps.predictions.activeRun() : null;
  if (toWarm.length > 0 && !run) deps.logger.warn('no active model: predictions not warmed', { errorCode: 'no-active-model', matches: toWarm.length });
  if (run) for (const state of toWarm) await attempt(state.matchId, () => deps.predictions.compute(run, state, now));
  // A sport without a model needs no run: its prediction is the live odds' margin-free prices.
  for (const match of marketOnly.filter((m) => oddsChanged.has(m.matchId))) {
    await attempt(match.matchId, async () => ({ prediction: await deps.predictions.computeMarketOnly(match, now) }));
  }
  const predictionsPersisted = await deps.predictions.writer.warm(warmed);
  const summary = { statesWritten: states.length, predictionsWarmed: warmed.length, predictionsPersisted, skipped: ids.size - states.length - marketOnly.length, resultsApplied: advanced.applied };
  deps.logger.info('feature states recomputed', { ...summary, messages: messages.length });
  return summary;
}
