// Typed bindings and secrets. `configFrom(env)` validates the string settings once per isolate (the env
// object is stable for an isolate's lifetime), so a misconfigured deploy fails with one clear message.
import { z } from 'zod';
import { ANONYMOUS_REQUESTS_PER_MINUTE } from './services/auth/tiers';
import { MARGIN_METHODS } from './services/margin';
import type { MatchOdds } from '../durable-objects/match-odds';
import type { RateLimiter } from '../durable-objects/rate-limiter';

export interface FeatureRecomputeMessage {
  matchId: number;
  reason: 'odds' | 'result' | 'fixture';
}

export interface Env {
  ENVIRONMENT: string;
  CORS_ORIGINS: string;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
  WS_PROXY?: string;
  DATABASE_URL: string;
  JWT_PRIVATE_KEYS?: string;
  JWT_PUBLIC_KEYS?: string;
  PASSWORD_PEPPER?: string;
  ODDS_API_KEY?: string;
  ANONYMOUS_RATE_LIMIT?: string;
  RATE_LIMIT_SCALE?: string;
  KELLY_FRACTION?: string;
  MARGIN_METHOD?: string;
  PREDICTIONS: KVNamespace;
  MODELS: R2Bucket;
  FEATURE_QUEUE: Queue<FeatureRecomputeMessage>;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  MATCH_ODDS: DurableObjectNamespace<MatchOdds>;
}

const ConfigSchema = z.object({
  ENVIRONMENT: z.string().default('development'),
  DATABASE_URL: z
    .string({ error: 'DATABASE_URL is not set (a secret; see .dev.vars.example)' })
    .min(1, 'DATABASE_URL is not set (a secret; see .dev.vars.example)')
    .refine((v) => /^postgres(ql)?:\/\//.test(v), 'DATABASE_URL must be a postgres:// URL'),
  WS_PROXY: z
    .string()
    .optional()
    .transform((v) => (v ? v : undefined)),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    ),
  JWT_ISSUER: z.string().min(1),
  JWT_AUDIENCE: z.string().min(1),
  JWT_PRIVATE_KEYS: z
    .string({ error: 'JWT_PRIVATE_KEYS is not set (a secret; see README "Keys and secrets")' })
    .min(1, 'JWT_PRIVATE_KEYS is not set (a secret; see README "Keys and secrets")'),
  JWT_PUBLIC_KEYS: z.string().optional(),
  PASSWORD_PEPPER: z
    .string({ error: 'PASSWORD_PEPPER is not set (a secret; see README "Keys and secrets")' })
    .min(16, 'PASSWORD_PEPPER must be at least 16 characters'),
  /** Requests per minute for anonymous callers and /auth/*, per IP. */
  ANONYMOUS_RATE_LIMIT: z.coerce.number().int().positive().default(ANONYMOUS_REQUESTS_PER_MINUTE),
  /**
   * Multiplies every rate limit. 1 in production; benchmarks raise it so they measure the admitted path
   * (the limiter's RPC still runs) instead of a wall of 429s from one address.
   */
  RATE_LIMIT_SCALE: z.coerce.number().positive().default(1),
  /** The Odds API v4. Locally `npm start` points this at the loopback stand-in. */
  ODDS_API_BASE_URL: z.string().url().default('https://api.the-odds-api.com'),
  /** Unset: the odds, fixtures and results jobs record themselves as skipped (not configured). */
  ODDS_API_KEY: z
    .string()
    .optional()
    .transform((v) => (v ? v : undefined)),
  /** Comma-separated sport keys to ingest. */
  ODDS_API_SPORTS: z
    .string()
    .default('soccer_epl')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ODDS_API_REGIONS: z.string().default('uk,eu'),
  /** The plan's monthly credits; runs are spread so the month's spend stays inside this. */
  ODDS_API_MONTHLY_CREDITS: z.coerce.number().int().positive().default(20_000),
  /** Odds are polled only for events starting within this many hours. */
  ODDS_POLL_WINDOW_HOURS: z.coerce.number().positive().default(48),
  /** The Kelly multiplier of every prediction's `kellyStake` (0.25 = quarter Kelly). */
  KELLY_FRACTION: z.coerce.number().min(0).max(1).default(0.25),
  /** How predictions remove the bookmakers' margin for `marketProbability` (the evaluation's default too). */
  MARGIN_METHOD: z.enum(MARGIN_METHODS).default('shin'),
});

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const configCache = new WeakMap<object, Config>();

export function configFrom(env: Env): Config {
  const cached = configCache.get(env);
  if (cached) return cached;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`invalid Worker configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  configCache.set(env, parsed.data);
  return parsed.data;
}
