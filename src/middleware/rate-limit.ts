// One RPC per request to the caller's RateLimiter decides it: per user when authenticated (so a pro key
// behind a shared frontend IP is not capped at the IP's limit), per IP for anonymous callers and every
// /auth/* request (so credential stuffing is limited by where it comes from, not by whom it claims to be).
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import { ProblemError } from '../lib/problem';
import { policyFor, requestsPerMinute } from '../services/auth/tiers';
import type { AppEnv } from '../types';
import { UnauthorizedError } from '../lib/errors';
import { clientIp } from './client-address';

/**
 * The liveness probe must never be refused; it touches nothing. /ready is limited like any anonymous route:
 * it opens a database connection, so unlimited it was a way to exhaust them.
 */
const EXEMPT_ROUTES = new Set(['/health']);

/**
 * Routes that count as several requests (route pattern → cost). A readiness check is a database connection:
 * at 5, an address gets a dozen a minute, plenty for a probe every 10 s.
 */
export const ROUTE_COSTS: Record<string, number> = {
  '/ready': 5,
  // An account is worth more to a quota farmer than a request: registering costs a tenth of an address's minute.
  // A taken address costs the same, since its answer is the same; it also caps how fast one address can probe.
  '/auth/register': 10,
};

/**
 * Routes that count against the free tier's daily quota of distinct matches (route pattern → the match id
 * of the request). The quota travels in the same RPC as the rate limit. Ids are normalised ("012" is 12);
 * a non-numeric id counts nothing, since the route answers 400 for it.
 */
export const QUOTA_ROUTES: Record<string, (path: string) => string | undefined> = {
  '/matches/:matchId/predictions': (path) => {
    const id = /^\/matches\/(\d{1,15})\/predictions\/?$/.exec(path)?.[1];
    return id === undefined ? undefined : String(Number(id));
  },
};

// Re-exported: tests and GET /me import them from here.
export { clientIp, requestsPerMinute };

export const rateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const route = routePath(c, -1);
  if (EXEMPT_ROUTES.has(route) || c.req.method === 'OPTIONS') return next();
  const principal = c.get('principal');
  const byIp = !principal || c.req.path.startsWith('/auth/');
  const limit = requestsPerMinute(c.get('config'), byIp ? null : principal.tier);
  const subject = byIp ? `ip:${clientIp(c)}` : `user:${principal.userId}`;
  const cost = Math.min(ROUTE_COSTS[route] ?? 1, limit);
  const dailyLimit = byIp ? null : policyFor(principal.tier).dailyPredictionQuota;
  const quotaMatchId = dailyLimit === null ? undefined : QUOTA_ROUTES[route]?.(c.req.path);
  const result = await c.get('services').rateLimiter(subject).consume({
    now: Date.now(),
    limit,
    cost,
    ...(quotaMatchId !== undefined && dailyLimit !== null ? { quota: { matchId: quotaMatchId, dailyLimit } } : {}),
    ...(principal?.issuedAt !== undefined && !byIp ? { tokenIssuedAt: principal.issuedAt } : {}),
    ...(principal?.tokenEpoch !== undefined && !byIp ? { tokenEpoch: principal.tokenEpoch } : {}),
  });
  if (result.revoked) {
    throw new UnauthorizedError('The access token was issued before its account was changed (role or tier) or deleted; refresh it or sign in again');
  }
  const headers = {
    'ratelimit-limit': String(result.rate.limit),
    'ratelimit-remaining': String(result.rate.remaining),
    'ratelimit-reset': String(result.rate.resetSeconds),
  };
  if (!result.allowed) {
    if (result.rate.allowed && result.quota && !result.quota.allowed) {
      throw new ProblemError({
        slug: 'quota-exceeded',
        title: 'Daily quota exceeded',
        status: 429,
        detail: result.quota.limit === 0 && dailyLimit
          ? `Verify your email (POST /auth/verify-email with the token we sent) to get the ${principal?.tier ?? 'free'} tier's ${dailyLimit} predictions a day`
          : `The ${principal?.tier ?? 'free'} tier includes predictions for ${result.quota.limit} distinct matches per UTC day; matches already read today stay free`,
        headers: { ...headers, 'retry-after': String(Math.max(1, result.quota.resetSeconds)) },
      });
    }
    throw new ProblemError({
      slug: 'rate-limited',
      title: 'Too many requests',
      status: 429,
      detail: `${limit} requests per minute for ${byIp ? 'this address' : `the ${principal!.tier} tier`}; retry in ${result.rate.retryAfterSeconds} s`,
      headers: { ...headers, 'retry-after': String(result.rate.retryAfterSeconds ?? 1) },
    });
  }
  await next();
  for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
});

