// The Worker's entry points, thin adapters: HTTP to the Hono app, Cron Triggers to the job registry
// (jobs/scheduled.ts), queue batches to their consumers (jobs/queues.ts).
import { createApp } from './app';
import type { Env } from './env';
import { runQueue } from './jobs/queues';
import { handleScheduled } from './jobs/scheduled';

export { RateLimiter } from '../durable-objects/rate-limiter';
export { MatchOdds } from '../durable-objects/match-odds';

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  scheduled: (controller, env, ctx) => handleScheduled(controller, env, ctx),
  queue: (batch, env, ctx) => runQueue(batch, env, ctx),
} satisfies ExportedHandler<Env, unknown>;
