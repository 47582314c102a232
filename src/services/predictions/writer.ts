// PredictionWriter: every write of a prediction goes through here, so each one is made the same way.
// - A miss: the KV put and the send to the prediction write queue, both off the response path (defer). Should
//   the queue refuse, the prediction is written to Postgres directly: one connection's cost instead of a
//   prediction that a started match could no longer be served from.
// - The warm-up (the feature queue's consumer): the KV puts and one Postgres write for the batch, awaited. A
//   prediction Postgres refuses is logged and the rest stand; a write that fails for all of them (the database
//   is down) fails the batch and the queue retries it.
// - The write queue's consumer: a batch per connection (write-queue.ts).
// Each persisted prediction carries the feature vector it was made from, stored with its feature_version.
import type { Logger } from '../../lib/logging';
import type { PredictionCache } from './cache';
import type { PredictionStore, ServedPrediction } from './store';
import type { MatchPrediction } from './types';
import { persistEach, persistPredictionBatch, type PredictionWriteSummary } from './write-queue';

export interface PredictionWriterDeps {
  cache: PredictionCache;
  store: Pick<PredictionStore, 'persistMany'>;
  /** PREDICTION_QUEUE. */
  queue: Pick<Queue<unknown>, 'send'>;
  defer: (work: Promise<unknown>) => void;
  logger: Logger;
}

/** The vector as JSON carries it: a missing feature (NaN) is null. */
const servedVector = (features: Float64Array): (number | null)[] => Array.from(features, (v) => (Number.isNaN(v) ? null : v));

export class PredictionWriter {
  constructor(private readonly deps: PredictionWriterDeps) {}

  /**
   * A cache miss's prediction: cached and queued for Postgres, neither on the response path. A market-only
   * prediction has no feature vector; one without any market (no book quotes the match yet) has nothing to store.
   */
  afterMiss(prediction: MatchPrediction, sport: string, features?: Float64Array): void {
    this.deps.defer(this.deps.cache.putPrediction(prediction, sport));
    if (prediction.markets.length === 0) return;
    this.deps.defer(this.queue(features ? { ...prediction, features: servedVector(features) } : prediction));
  }

  /**
   * The warm-up's predictions: each cached, and all persisted in one write (each on its own should that fail),
   * before the batch is acknowledged. A market-only one has no vector; one without any market has nothing to
   * store, as on a miss. A prediction whose write fails is logged and the others stand; if every write fails (the
   * database is down, say) this throws, so the queue retries the batch. Answers how many were persisted.
   */
  async warm(computed: readonly { prediction: MatchPrediction; sport: string; features?: Float64Array }[]): Promise<number> {
    const stored = computed
      .filter(({ prediction }) => prediction.markets.length > 0)
      .map(({ prediction, features }) => (features ? { ...prediction, features: servedVector(features) } : prediction));
    const [failed] = await Promise.all([
      persistEach(this.deps.store, stored, this.deps.logger),
      ...computed.map(({ prediction, sport }) => this.deps.cache.putPrediction(prediction, sport)),
    ]);
    for (const [i, error] of failed) {
      this.deps.logger.error('prediction warm-up write failed', {
        errorCode: 'prediction-write-failed',
        matchId: stored[i]!.matchId,
        modelRunId: stored[i]!.modelRunId,
        error: error.message,
      });
    }
    if (stored.length > 0 && failed.size === stored.length) throw failed.get(0)!;
    return stored.length - failed.size;
  }

  /** The write queue's consumer. */
  persistBatch(messages: readonly Message<unknown>[]): Promise<PredictionWriteSummary> {
    return persistPredictionBatch(messages, { store: this.deps.store, logger: this.deps.logger });
  }

  private async queue(prediction: ServedPrediction): Promise<void> {
    try {
      await this.deps.queue.send(prediction, { contentType: 'json' });
    } catch (error) {
      this.deps.logger.warn('prediction queue refused a write; persisting directly', {
        errorCode: 'prediction-queue-unavailable',
        matchId: prediction.matchId,
        error: (error as Error).message,
      });
      await this.deps.store.persistMany([prediction]);
    }
  }
}
