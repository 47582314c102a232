// What an API key may do. A key is a long-lived secret that ends up in scripts and CI variables, so a leaked
// one must not be able to mint more keys or delete the account: those need the `account` scope, which a key
// only has when its owner asked for it. Access tokens are not scoped (they last 15 minutes).
import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import type { ApiKeyScope } from '../db/schema';
import type { AppEnv } from '../types';
import { ForbiddenError } from '../lib/errors';

/** Routes that need more than `read` (method and Hono route pattern → scope). Every other route needs `read`. */
export const ROUTE_SCOPES: Record<string, ApiKeyScope> = {
  'GET /me/api-keys': 'account',
  'POST /me/api-keys': 'account',
  'DELETE /me/api-keys/:keyId': 'account',
  'DELETE /me': 'account',
  'GET /matches/:matchId/predictions': 'predictions',
  'GET /predictions': 'predictions',
};

export function scopeFor(method: string, route: string): ApiKeyScope {
  return ROUTE_SCOPES[`${method} ${route}`] ?? 'read';
}

export const requireKeyScope = createMiddleware<AppEnv>(async (c, next) => {
  const principal = c.get('principal');
  const route = routePath(c, -1);
  // Unmatched paths (the catch-all middleware pattern) answer 404 whatever the key may do.
  if (principal?.via === 'api-key' && principal.scopes && route !== '/*' && route !== '*') {
    const needed = scopeFor(c.req.method === 'HEAD' ? 'GET' : c.req.method, route);
    if (!principal.scopes.includes(needed)) throw new ForbiddenError(`This API key lacks the ${needed} scope this route needs`);
  }
  await next();
});
