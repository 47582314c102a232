// Failed credentials are charged to the caller's address before any database work. Authentication runs
// before the rate limit (the limit depends on who the caller is), so without this a stream of well-formed fake
// API keys cost a Postgres connection and a query each, unlimited, and forged tokens were never counted.
//
// Each address has a bucket of its own for failures (`credentials:<address>`), as large as the anonymous
// limit. An API-key check reserves one unit before the lookup and gives it back when the key was good, so at
// most `limit` checks per minute can fail, whatever their concurrency, and good keys are never charged. A
// bearer token costs no database work to verify, so only a failed one is charged.
import type { Context } from 'hono';
import { RateLimitedError } from '../lib/errors';
import { requestsPerMinute } from '../services/auth/tiers';
import type { AppEnv } from '../types';
import { clientIp } from './client-address';

export interface Reservation {
  /** Gives the unit back: the credential was good. */
  release(): void;
}

const subjectOf = (c: Context<AppEnv>) => `credentials:${clientIp(c)}`;

/** Charges one failure to the caller's address; throws the 429 once the address is over its limit. */
export async function chargeCredentialFailure(c: Context<AppEnv>): Promise<Reservation> {
  const services = c.get('services');
  const limit = requestsPerMinute(c.get('config'), null);
  const now = Date.now();
  const bucket = services.rateLimiter(subjectOf(c));
  const result = await bucket.consume({ now, limit });
  if (!result.allowed) {
    throw new RateLimitedError(`Too many failed credentials from this address (${limit} per minute); retry in ${result.rate.retryAfterSeconds} s`, {
      retryAfterSeconds: result.rate.retryAfterSeconds ?? 1,
    });
  }
  return { release: () => services.defer(bucket.release(now, 1)) };
}
