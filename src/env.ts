// Typed bindings and secrets. `configFrom(env)` validates the string settings once per isolate (the env
// object is stable for an isolate's lifetime), so a misconfigured deploy fails with one clear message.
import { z } from 'zod';
import type { MatchOdds } from '../durable-objects/match-odds';
import type { RateLimiter } from '../durable-objects/rate-limiter';
import type { MatchPrediction } from './services/predictions/types';

/**
 * Anonymous callers, and every /auth/* request, are limited per IP (ANONYMOUS_RATE_LIMIT's default). No more
 * than a free account gets: else dropping the credentials would be an upgrade. Declared here, not in
 * services/auth/tiers.ts (which re-exports it), so that env.ts imports nothing of the app at run time.
 */
export const ANONYMOUS_REQUESTS_PER_MINUTE = 60;

/** The queues the Worker consumes, by name (the same in every environment: wrangler.toml, terraform/). */
export const QUEUES = { featureRecompute: 'senzu-feature-recompute', predictionWrites: 'senzu-prediction-writes' } as const;

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
  FOOTBALL_DATA_CSV_URLS?: string;
  R2_S3_ENDPOINT?: string;
  R2_ACCESS_KEY_ID?: string;
  R2_SECRET_ACCESS_KEY?: string;
  R2_BUCKET?: string;
  S3_ENDPOINT?: string;
  S3_BUCKET?: string;
  AWS_REGION?: string;
  AWS_ACCESS_KEY_ID?: string;
  AWS_SECRET_ACCESS_KEY?: string;
  ANONYMOUS_RATE_LIMIT?: string;
  RATE_LIMIT_SCALE?: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_HEADERS?: string;
  OTEL_SERVICE_NAME?: string;
  OTEL_METRIC_EXPORT_INTERVAL?: string;
  KELLY_FRACTION?: string;
  EXCHANGE_COMMISSION?: string;
  PREDICTIONS: KVNamespace;
  MODELS: R2Bucket;
  FEATURE_QUEUE: Queue<FeatureRecomputeMessage>;
  /** Predictions made on a cache miss, persisted in batches by the consumer (services/predictions/write-queue.ts). */
  PREDICTION_QUEUE: Queue<MatchPrediction>;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  MATCH_ODDS: DurableObjectNamespace<MatchOdds>;
  /** The pinned swagger-ui-dist files behind /docs (wrangler.toml [assets]); reached only through the Worker. */
  ASSETS: Fetcher;
}

/** An optional string setting: empty means unset (wrangler [vars] and .dev.vars cannot express "absent"). */
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v ? v : undefined));

/** A comma-separated list setting: items trimmed, empty items dropped (so '' is the empty list). */
const commaList = (v: string) =>
  v
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

const ConfigSchema = z.object({
  ENVIRONMENT: z.string().default('development'),
  DATABASE_URL: z
    .string({ error: 'DATABASE_URL is not set (a secret; see .dev.vars.example)' })
    .min(1, 'DATABASE_URL is not set (a secret; see .dev.vars.example)')
    .refine((v) => /^postgres(ql)?:\/\//.test(v), 'DATABASE_URL must be a postgres:// URL'),
  WS_PROXY: optionalString,
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform(commaList),
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
  /**
   * OTLP/HTTP base URL for traces and metrics (`/v1/traces`, `/v1/metrics` are appended), e.g. Datadog's
   * OTLP intake or a collector. Empty: no spans or metrics are recorded at all (the local default).
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString.pipe(z.string().url('OTEL_EXPORTER_OTLP_ENDPOINT must be a URL').optional()),
  /** Headers of every export, `key=value,key2=value2` (the OpenTelemetry convention), e.g. `dd-api-key=...`. A secret. */
  OTEL_EXPORTER_OTLP_HEADERS: z.string().default(''),
  OTEL_SERVICE_NAME: z.string().min(1).default('senzu-api'),
  /** Minimum milliseconds between two metric exports of an isolate (0: after every request, as in the tests). */
  OTEL_METRIC_EXPORT_INTERVAL: z.coerce.number().int().min(0).default(10_000),
  /** The Odds API v4. Locally `npm start` points this at the loopback stand-in. */
  ODDS_API_BASE_URL: z.string().url().default('https://api.the-odds-api.com'),
  /** Unset: the odds, fixtures and results jobs record themselves as skipped (not configured). */
  ODDS_API_KEY: optionalString,
  /** Comma-separated sport keys to ingest. */
  ODDS_API_SPORTS: z
    .string()
    .default('soccer_epl')
    .transform(commaList),
  ODDS_API_REGIONS: z.string().default('uk,eu'),
  /** The plan's monthly credits; runs are spread so the month's spend stays inside this. */
  ODDS_API_MONTHLY_CREDITS: z.coerce.number().int().positive().default(20_000),
  /** Odds are polled only for events starting within this many hours. */
  ODDS_POLL_WINDOW_HOURS: z.coerce.number().positive().default(48),
  /**
   * Comma-separated football-data.co.uk CSV URLs (the current seasons, e.g.
   * https://www.football-data.co.uk/mmz4281/2425/E0.csv) the daily job fetches for results and statistics.
   * Empty: the job records itself as skipped.
   */
  FOOTBALL_DATA_CSV_URLS: z
    .string()
    .default('')
    .transform(commaList)
    .pipe(z.array(z.string().url('FOOTBALL_DATA_CSV_URLS must be comma-separated URLs'))),
  /** The Kelly multiplier of every prediction's `kellyStake` (0.25 = quarter Kelly). */
  KELLY_FRACTION: z.coerce.number().min(0).max(1).default(0.25),
  /**
   * The share of net winnings a betting exchange keeps (0.05 = 5%, Betfair's base rate). An exchange's price is
   * compared, and EV and Kelly computed, after it: a quoted 3.0 pays 1 + 2 × 0.95 = 2.9.
   */
  EXCHANGE_COMMISSION: z.coerce.number().min(0).max(0.5).default(0.05),
  /**
   * The artifact mirror (R2 ↔ S3) and the data lake. R2 is reached through its S3 API
   * (https://<account id>.r2.cloudflarestorage.com, with an R2 API token's access key pair), AWS S3 through
   * its own (S3_ENDPOINT unset). When either side is incomplete the daily sync records itself as skipped.
   */
  R2_S3_ENDPOINT: optionalString,
  R2_ACCESS_KEY_ID: optionalString,
  R2_SECRET_ACCESS_KEY: optionalString,
  R2_BUCKET: z.string().default('senzu-models'),
  S3_ENDPOINT: optionalString,
  S3_BUCKET: optionalString,
  AWS_REGION: z.string().default('eu-west-1'),
  AWS_ACCESS_KEY_ID: optionalString,
  AWS_SECRET_ACCESS_KEY: optionalString,
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
