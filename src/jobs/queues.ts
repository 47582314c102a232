// The queue consumers, by queue name. A batch from a queue bound in wrangler.toml without a consumer here is
// retried, so its messages reach the dead-letter queue rather than being dropped.
import { configFrom, QUEUES, type Env, type FeatureRecomputeMessage } from '../env';
import { createLogger, type Logger } from '../lib/logging';
import { createServices } from '../services';
import { isFeatureRecomputeMessage, warmFeaturesAndPredictions } from '../services/predictions/warmup';

type Consumer = (batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext, logger: Logger) => Promise<void>;

/** Cache misses' predictions, persisted a batch per connection (write-queue.ts). */
const persistPredictions: Consumer = async (batch, env, ctx, logger) => {
  const services = createServices(configFrom(env), env, logger);
  try {
    await services.predictions.writer.persistBatch(batch.messages);
  } finally {
    ctx.waitUntil(services.close());
  }
};

/**
 * Feature recomputation: the ingestion jobs send one message per match whose odds, result or fixture changed.
 * One batch advances the feature store over results that became known, copies the concerned matches' states
 * to KV, and gives matches with new odds a fresh cached prediction. A failed batch is retried (max_retries, then the dead-letter queue); malformed messages are
 * acknowledged with a log line, since retrying cannot fix them.
 */
const recomputeFeatures: Consumer = async (batch, env, ctx, logger) => {
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
    await warmFeaturesAndPredictions(valid, { predictions: services.predictions, featureStore: services.featureStore(), logger });
    for (const message of batch.messages) message.ack();
  } catch (error) {
    logger.error('feature recompute failed', { error: (error as Error).message, messages: valid.length });
    batch.retryAll();
  } finally {
    ctx.waitUntil(services.close());
  }
};

export const QUEUE_CONSUMERS: Record<string, Consumer> = {
  [QUEUES.featureRecompute]: recomputeFeatures,
  [QUEUES.predictionWrites]: persistPredictions,
  // The dead-letter queue gets the same consumer, so after fixing what refused them an operator replays
  // dead-lettered predictions by attaching the Worker to it (docs/runbooks/ingestion.md).
  [`${QUEUES.predictionWrites}-dlq`]: persistPredictions,
};

export async function runQueue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
  const logger = createLogger({ queue: batch.queue });
  const consumer = QUEUE_CONSUMERS[batch.queue];
  if (!consumer) {
    logger.error('no consumer for queue', { errorCode: 'unknown-queue', messages: batch.messages.length });
    batch.retryAll();
    return;
  }
  await consumer(batch, env, ctx, logger);
}
