// Per-account backoff for password guessing. The per-IP limit alone let a botnet try 100 passwords a minute
// per address against one account. Every login attempt reserves one unit of its account's budget (10 per
// 15 minutes) before any database or PBKDF2 work, and a successful login gives it back, so only failures
// count and concurrent guesses can never exceed the budget. The account is named by a hash of the normalised
// email, so unknown emails are limited exactly like real ones (the refusal reveals nothing) and no address
// is stored in the limiter.
import type { RateLimiter } from '../../../durable-objects/rate-limiter';
import { sha256Hex } from '../../lib/encoding';

export const LOGIN_FAILURES_PER_ACCOUNT = 10;
export const LOGIN_FAILURE_WINDOW_MS = 15 * 60_000;

export type LimiterFor = (subject: string) => DurableObjectStub<RateLimiter>;

export type LoginAttempt = { allowed: true; succeeded(): Promise<void> } | { allowed: false; retryAfterSeconds: number };

export async function reserveLoginAttempt(limiterFor: LimiterFor, email: string, now = Date.now()): Promise<LoginAttempt> {
  const limiter = limiterFor(`login:${await sha256Hex(email.trim().toLowerCase())}`);
  const result = await limiter.consume({ now, limit: LOGIN_FAILURES_PER_ACCOUNT, windowMs: LOGIN_FAILURE_WINDOW_MS });
  if (!result.allowed) return { allowed: false, retryAfterSeconds: result.rate.retryAfterSeconds ?? 1 };
  return { allowed: true, succeeded: () => limiter.release(now, 1) };
}
