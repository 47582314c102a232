// The feature queue consumer's work: the feature store advanced over any result that has become known, the
// feature state of every match the batch concerns copied from the store to KV, and for matches whose odds
// changed a fresh prediction put in the cache (and persisted), so the next reader hits: its sport's active run's,
// or for a sport without one the market-only one. A new result or fixture changes the states of upcoming matches
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
  const { upcoming, marketOnly, closed } = await deps.predictions.featureStates.refresh([...ids], now);
  if (closed.length > 0) {
    // A match no longer open (its kick-off moved into the past, say) may have a prediction cached by a request
    // made from its old state in the meantime: dropped, so the next request serves the stored pre-kick-off one.
    const runIds = (await deps.predictions.activeRuns()).map((r) => r.id);
    await Promise.all(closed.map((id) => deps.predictions.cache.invalidateMatch(runIds, id)));
  }

  const oddsChanged = new Set(messages.filter((m) => m.reason === 'odds').map((m) => m.matchId));
  const warmed: Array<{ prediction: MatchPrediction; sport: string; features?: Float64Array }> = [];
  const attempt = async (matchId: number, sport: string, make: () => Promise<{ prediction: MatchPrediction; features?: Float64Array }>) => {
    try {
      warmed.push({ ...(await make()), sport });
    } catch (error) {
      // A broken bundle fails every match alike: stop, write nothing, and let the queue retry the batch later.
      if (error instanceof ModelUnavailableError) throw error;
      deps.logger.warn('prediction warm-up failed', { matchId, error: (error as Error).message });
    }
  };
  const toWarm = upcoming.filter((u) => oddsChanged.has(u.state.matchId));
  const runs = toWarm.length > 0 ? await deps.predictions.activeRuns() : [];
  for (const { sport, state } of toWarm) {
    const run = runs.find((r) => r.sport === sport);
    // A sport with no active run (a fresh deploy, or none trained) is warmed market-only, as a miss would serve it.
    if (run) await attempt(state.matchId, sport, () => deps.predictions.compute(run, state, now));
    else await attempt(state.matchId, sport, async () => ({ prediction: await deps.predictions.computeMarketOnly({ matchId: state.matchId, sport, startAt: state.match.startAt }, now) }));
  }
  // A sport without a feature store needs no run: its prediction is the live odds' margin-free prices.
  for (const match of marketOnly.filter((m) => oddsChanged.has(m.matchId))) {
    await attempt(match.matchId, match.sport, async () => ({ prediction: await deps.predictions.computeMarketOnly(match, now) }));
  }
  const predictionsPersisted = await deps.predictions.writer.warm(warmed);
  const summary = { statesWritten: upcoming.length, predictionsWarmed: warmed.length, predictionsPersisted, skipped: ids.size - upcoming.length - marketOnly.length, resultsApplied: advanced.applied };
  deps.logger.info('feature states recomputed', { ...summary, messages: messages.length });
  return summary;
}
