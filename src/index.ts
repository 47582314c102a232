import { createApp } from './app';
import { runScheduled } from '../cron';
import type { Env, FeatureRecomputeMessage } from './env';
import { createLogger } from './lib/logging';

export { RateLimiter } from '../durable-objects/rate-limiter';
export { MatchOdds } from '../durable-objects/match-odds';

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),

  async scheduled(controller, env, ctx) {
    ctx.waitUntil(runScheduled(controller, env));
  },

  async queue(batch, _env, _ctx) {
    const logger = createLogger({ queue: batch.queue });
    // Feature recomputation lands with the features issue; until then nothing produces messages. Valid
    // ones are acknowledged with a log line, malformed ones too (retrying cannot fix them).
    for (const message of batch.messages) {
      const body = message.body;
      if (typeof body?.matchId !== 'number') logger.error('malformed feature message', { id: message.id });
      else logger.info('feature recompute requested', { matchId: body.matchId, reason: body.reason });
      message.ack();
    }
  },
} satisfies ExportedHandler<Env, FeatureRecomputeMessage>;
