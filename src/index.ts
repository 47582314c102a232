import { createApp } from './app';
import { runScheduled } from '../cron';
import { configFrom, QUEUES, type Env, type FeatureRecomputeMessage } from './env';
import { createLogger } from './lib/logging';
import { withJobMetrics } from './lib/metrics';
import { otlpSettingsFrom } from './lib/tracing';
import { createServices } from './services';
import { isFeatureRecomputeMessage, warmFeaturesAndPredictions } from './services/predictions/warmup';

export { RateLimiter } from '../durable-objects/rate-limiter';
export { MatchOdds } from '../durable-objects/match-odds';

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),

  async scheduled(controller, env, ctx) {
    const logger = createLogger();
    ctx.waitUntil(
      withJobMetrics(otlpSettingsFrom(configFrom(env)), () => runScheduled(controller, env, logger), (error) =>
        logger.warn('telemetry export failed', { errorCode: 'telemetry-export-failed', error }),
      ),
    );
  },

  /**
   * Two queues, told apart by name:
   * - feature recomputation: the ingestion jobs send one message per match whose odds, result or fixture
   *   changed. One batch advances the feature store over results that became known, copies the concerned
   *   matches' states to KV, and gives matches with new odds a fresh cached prediction. A failed batch is retried (max_retries, then the dead-letter queue);
   *   malformed messages are acknowledged with a log line, since retrying cannot fix them.
   * - prediction writes: cache misses' predictions, persisted a batch per connection (write-queue.ts).
   */
  async queue(batch, env, ctx) {
    const logger = createLogger({ queue: batch.queue });
    // The dead-letter queue gets the same consumer, so after fixing what refused them an operator replays
    // dead-lettered predictions by attaching the Worker to it (docs/runbooks/ingestion.md).
    if (batch.queue === QUEUES.predictionWrites || batch.queue === `${QUEUES.predictionWrites}-dlq`) {
      const services = createServices(configFrom(env), env, logger);
      try {
        await services.predictions.writer.persistBatch(batch.messages);
      } finally {
        ctx.waitUntil(services.close());
      }
      return;
    }
    if (batch.queue !== QUEUES.featureRecompute) {
      // A queue bound in wrangler.toml without a consumer here: retried, so the messages reach the
      // dead-letter queue rather than being dropped.
      logger.error('no consumer for queue', { errorCode: 'unknown-queue', messages: batch.messages.length });
      batch.retryAll();
      return;
    }
    const valid: FeatureRecomputeMessage[] = [];
    for (const message of batch.messages) {
      if (isFeatureRecomputeMessage(message.body)) valid.push(message.body);
      else {
        logger.error('malformed feature message', { id: message.id });
        message.ack();
      }
    }
    if (valid.length === 0) return;
    const services = createServices(configFrom(env), env, logger);
    try {
      await warmFeaturesAndPredictions(valid, { predictions: services.predictions, featureStore: services.featureStore, logger });
      for (const message of batch.messages) message.ack();
    } catch (error) {
      logger.error('feature recompute failed', { error: (error as Error).message, messages: valid.length });
      batch.retryAll();
    } finally {
      ctx.waitUntil(services.close());
    }
  },
} satisfies ExportedHandler<Env, unknown>;
