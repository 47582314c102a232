// Who is calling. `authenticate` runs for every request: no credentials make an anonymous caller, valid
// ones a principal, and invalid ones a 401 at once (a client sending a broken token wants to know, even on
// a public route). `requireUser` and `requireRole` guard the routes that need them.
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Role, Tier } from '../db/schema';
import { ForbiddenError, UnauthorizedError } from '../lib/errors';
import { AccessTokenError, verifyAccessToken } from '../services/auth/access-tokens';
import { looksLikeApiKey } from '../services/auth/api-keys';
import type { AppEnv, Principal } from '../types';
import { chargeCredentialFailure } from './credential-failures';


function credentials(c: Context<AppEnv>): { kind: 'bearer' | 'api-key'; value: string } | null | 'malformed' {
  const apiKey = c.req.header('x-api-key');
  if (apiKey !== undefined) return { kind: 'api-key', value: apiKey.trim() };
  const header = c.req.header('authorization');
  if (header === undefined) return null;
  const match = header.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match) return 'malformed';
  return looksLikeApiKey(match[1]!) ? { kind: 'api-key', value: match[1]! } : { kind: 'bearer', value: match[1]! };
}

export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const presented = credentials(c);
  c.set('principal', null);
  if (presented === 'malformed') {
    await chargeCredentialFailure(c);
    throw new UnauthorizedError('The Authorization header must be "Bearer <token>"', 'invalid_request');
  }
  if (presented?.kind === 'api-key') {
    const services = c.get('services');
    const reservation = await chargeCredentialFailure(c);
    const identity = await services.apiKeys.authenticate(presented.value);
    if (!identity) throw new UnauthorizedError('The API key is not valid, has been revoked or has expired');
    reservation.release();
    c.set('principal', { userId: identity.userId, tier: identity.tier, role: identity.role, via: 'api-key', keyId: identity.keyId, scopes: identity.scopes });
    // The lookup already read last_used_at: only a stale one costs a write, not every request of a busy key.
    if (services.apiKeys.needsTouch(identity)) services.defer(services.apiKeys.touch(identity.keyId));
  } else if (presented?.kind === 'bearer') {
    try {
      const config = c.get('config');
      const claims = await verifyAccessToken(await c.get('services').signingKeys(), { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }, presented.value);
      c.set('principal', {
        userId: claims.sub,
        tier: claims.tier,
        role: claims.role,
        via: 'access-token',
        issuedAt: claims.iat * 1000,
        expiresAt: claims.exp * 1000,
        tokenEpoch: claims.epoch,
      });
    } catch (error) {
      if (error instanceof AccessTokenError) {
        await chargeCredentialFailure(c);
        throw new UnauthorizedError(error.message);
      }
      throw error;
    }
  }
  await next();
});

export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.get('principal')) throw new UnauthorizedError('This route needs an access token or an API key', 'bearer');
  await next();
});

export const requireRole = (role: Role) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const principal = c.get('principal');
    if (!principal) throw new UnauthorizedError('This route needs an access token or an API key', 'bearer');
    if (principal.role !== role) throw new ForbiddenError(`This route needs the ${role} role`);
    // A key lives in scripts, CI variables and config files, so it leaks more easily than a 15-minute token:
    // what only an admin may do needs the admin signed in.
    if (principal.via === 'api-key') throw new ForbiddenError(`This route needs an access token of an ${role}; API keys are refused`);
    await next();
  });

/** Tiers that include a feature, in the tier table's order (free < premium < pro). */
const TIER_RANK: Record<Tier, number> = { free: 0, premium: 1, pro: 2 };

export const requireTier = (minimum: Tier) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const principal = c.get('principal');
    if (!principal) throw new UnauthorizedError('This route needs an access token or an API key', 'bearer');
    if (TIER_RANK[principal.tier] < TIER_RANK[minimum]) throw new ForbiddenError(`This route is part of the ${minimum} tier`);
    await next();
  });

/** The authenticated caller; only for handlers behind requireUser. */
export function principalOf(c: Context<AppEnv>): Principal {
  const principal = c.get('principal');
  if (!principal) throw new UnauthorizedError('This route needs an access token or an API key', 'bearer');
  return principal;
}
