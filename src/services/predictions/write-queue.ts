// The prediction write queue (PREDICTION_QUEUE). A cache miss hands its prediction to the queue in waitUntil
// instead of writing it to Postgres itself: a Worker cannot keep a connection across requests, and a new
// Postgres connection per miss cost more CPU than the whole miss (docs/benchmarks.md). The consumer writes a
// batch over one connection. Delivery is at least once; predictions_natural_key makes a redelivery a no-op.
import { z } from 'zod';
import type { Logger } from '../../lib/logging';
import { parseInstant } from '../../schemas/common';
import { MatchPredictionSchema, StrictMarketPredictionSchema } from '../../schemas/predictions';
import { builtVersion } from '../features/versions';
import type { PredictionStore, ServedPrediction } from './store';
import type { MatchPrediction } from './types';

const Instant = z.string().refine((s) => parseInstant(s) !== undefined, 'must be an ISO 8601 instant');

/**
 * What a producer sends: a MatchPrediction as the service made it (and as the KV cache holds it). The API's
 * schema with what a row needs made strict: the full view (no field left out for a tier), real instants, and
 * at least one market and outcome. `source` and `view` belong to a response, not to a prediction. A market-only
 * prediction (model null) comes without a feature vector.
 */
export const PredictionWriteMessageSchema = MatchPredictionSchema.omit({ source: true, view: true }).extend({
  predictedAt: Instant,
  kickoff: Instant,
  markets: z.array(StrictMarketPredictionSchema).min(1).refine((ms) => ms.every((m) => m.outcomes.length > 0), 'every market needs an outcome'),
  /** The vector the prediction was made from (null: a missing feature); stored in served_feature_vectors. */
  features: z.array(z.number().nullable()).optional(),
})
  // The vector is as long as its feature version's (72 for football's v1, 18 for the NBA's nba-v1).
  .refine((p) => p.features === undefined || (p.featureVersion !== null && p.features.length === builtVersion(p.featureVersion)?.length), {
    message: 'features must have the length of the prediction\'s feature version',
    path: ['features'],
  }) satisfies z.ZodType<MatchPrediction>;

export interface PredictionWriteSummary {
  written: number;
  retried: number;
  malformed: number;
}

/**
 * Persists a batch of queued predictions. The whole batch is one write; if that fails, each prediction is
 * written on its own so that one bad message (a match deleted since, say) neither blocks the others nor is
 * dropped: it is retried, and after max_retries it lands in the dead-letter queue. A malformed body is
 * acknowledged with an error log, since no retry can fix it.
 */
export async function persistPredictionBatch(
  messages: readonly Message<unknown>[],
  deps: { store: Pick<PredictionStore, 'persistMany'>; logger: Logger },
): Promise<PredictionWriteSummary> {
  const valid: { message: Message<unknown>; prediction: ServedPrediction }[] = [];
  let malformed = 0;
  for (const message of messages) {
    const parsed = PredictionWriteMessageSchema.safeParse(message.body);
    if (parsed.success) valid.push({ message, prediction: parsed.data });
    else {
      malformed++;
      deps.logger.error('malformed prediction message', {
        errorCode: 'malformed-prediction-message',
        id: message.id,
        issues: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`),
      });
      message.ack();
    }
  }
  if (valid.length === 0) return { written: 0, retried: 0, malformed };

  const failed = await persistEach(deps.store, valid.map((v) => v.prediction), deps.logger);
  let written = 0;
  let retried = 0;
  for (const [i, { message, prediction }] of valid.entries()) {
    const error = failed.get(i);
    if (!error) {
      message.ack();
      written++;
      continue;
    }
    retried++;
    deps.logger.error('prediction write failed', {
      errorCode: 'prediction-write-failed',
      id: message.id,
      attempts: message.attempts,
      matchId: prediction.matchId,
      modelRunId: prediction.modelRunId,
      predictedAt: prediction.predictedAt,
      error: error.message,
    });
    message.retry();
  }
  deps.logger.info('predictions persisted', { written, retried, malformed });
  return { written, retried, malformed };
}

/**
 * Writes the predictions as one statement; should that fail, each on its own, so that one bad prediction (a match
 * deleted since, a price the column refuses) neither blocks the others nor takes them down with it. Answers the
 * ones that failed, by index, with their errors (none when the batch went through).
 */
export async function persistEach(
  store: Pick<PredictionStore, 'persistMany'>,
  predictions: readonly ServedPrediction[],
  logger: Logger,
): Promise<Map<number, Error>> {
  const failed = new Map<number, Error>();
  if (predictions.length === 0) return failed;
  try {
    await store.persistMany(predictions);
    return failed;
  } catch (error) {
    if (predictions.length === 1) return failed.set(0, error as Error);
    logger.warn('prediction batch write failed; writing one at a time', {
      errorCode: 'prediction-batch-write-failed',
      predictions: predictions.length,
      error: (error as Error).message,
    });
  }
  for (const [i, prediction] of predictions.entries()) {
    try {
      await store.persistMany([prediction]);
    } catch (error) {
      failed.set(i, error as Error);
    }
  }
  return failed;
}
