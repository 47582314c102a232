import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import { configFrom } from '../env';
import { createLogger } from '../lib/logging';
import { createServices } from '../services';
import type { AppEnv } from '../types';

/** One structured line per request: id, method, route, status, duration. Runs outermost, after requestId. */
export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  const logger = createLogger({ requestId: c.get('requestId') });
  c.set('logger', logger);
  c.header('x-request-id', c.get('requestId'));
  await next();
  const route = routePath(c, -1);
  logger.info('request', {
    method: c.req.method,
    route: route && route !== '/*' && route !== '*' ? route : null,
    path: c.req.path,
    status: c.res.status,
    durationMs: Math.round((performance.now() - started) * 100) / 100,
  });
});

/** Validated config and the per-request service container; the database pool is ended after the response. */
export const servicesMiddleware = createMiddleware<AppEnv>(async (c, next) => {
  const config = configFrom(c.env);
  c.set('config', config);
  const services = createServices(config, c.env, c.get('logger'));
  c.set('services', services);
  try {
    await next();
  } finally {
    const closing = services.close().catch((error: Error) => c.get('logger').warn('closing services failed', { error: error.message }));
    let ctx: { waitUntil(p: Promise<unknown>): void } | undefined;
    try {
      ctx = c.executionCtx;
    } catch {
      ctx = undefined;
    }
    // Awaiting pool.end() inside a request hangs on workerd; waitUntil lets the response go first.
    if (ctx) ctx.waitUntil(closing);
    else await closing;
  }
});
