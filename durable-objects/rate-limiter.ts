import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../src/env';

/**
 * One instance per rate-limit subject (a user id, or an IP for anonymous callers). SQLite-backed and
 * called over native RPC. The sliding-window limit and the free-tier quota arrive with the auth work.
 */
export class RateLimiter extends DurableObject<Env> {}
