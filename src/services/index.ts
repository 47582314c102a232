// The per-request service container. Handlers reach services through c.get('services'); services take
// plain arguments and know nothing of Hono, so cron jobs and queue consumers build the same container.
import type { Config, Env } from '../env';
import { matchOddsStub, type MatchOdds } from '../../durable-objects/match-odds';
import { createDatabase, createReadDatabase, type Database, type DatabaseHandle, type ReadDatabase } from '../db/client';
import type { PgDb } from '../db/pg';
import type { Logger } from '../lib/logging';
import { AccountService } from './auth/accounts';
import { ApiKeyService } from './auth/api-keys';
import { loadSigningKeys, type SigningKeys } from './auth/signing-keys';
import { IngestionAdminService } from './ingestion/admin';
import { MatchesService } from './matches';
import { ModelRegistryService } from './models';
import { OddsService } from './odds';
import { PredictionService } from './predictions/service';
import { PredictionStore } from './predictions/store';
import { SportsService } from './sports';
import { SystemService } from './system';

export interface Services {
  system: SystemService;
  sports: SportsService;
  matches: MatchesService;
  odds: OddsService;
  accounts: AccountService;
  apiKeys: ApiKeyService;
  models: ModelRegistryService;
  /** The database the feature store is advanced on (advanceFeatureStore): the queue consumer advances it before it warms. */
  featureStore(): PgDb;
  /** Persisted predictions: writes from the hot path, the value finder and settled predictions. */
  predictionStore: PredictionStore;
  /** Inference for one match: KV cache, precomputed features, live odds, ONNX, EV and Kelly. */
  predictions: PredictionService;
  /** Ingestion runs: the recorded jobs, and runs started by an admin. */
  ingestion: IngestionAdminService;
  /** The signing and verification keys, parsed once per isolate. */
  signingKeys(): Promise<SigningKeys>;
  /** The RateLimiter of one subject (`user:<id>` or `ip:<addr>`). */
  rateLimiter(subject: string): DurableObjectStub<import('../../durable-objects/rate-limiter').RateLimiter>;
  /** The MatchOdds object of one match (live prices and the WebSocket stream). */
  matchOdds(matchId: number): DurableObjectStub<MatchOdds>;
  /** Work that must finish but not delay the response (ends up in waitUntil). */
  defer(work: Promise<unknown>): void;
  /** Awaits deferred work, then ends the request's database pool, if one was opened. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** The clock of the services that judge time themselves (refresh-token grace, API key use); tests move it. */
  now?: () => Date;
}

export function createServices(
  config: Config,
  env: Pick<Env, 'RATE_LIMITER' | 'PREDICTIONS' | 'MODELS' | 'MATCH_ODDS' | 'FEATURE_QUEUE' | 'PREDICTION_QUEUE'>,
  logger: Logger,
  options: ServiceOptions = {},
): Services {
  let handle: DatabaseHandle | undefined;
  const deferred: Promise<unknown>[] = [];
  // Opening a pool costs a connection; routes that never touch Postgres (/health, cache hits) must not pay it.
  const db = (): Database => (handle ??= createDatabase(config.DATABASE_URL, config.WS_PROXY, logger)).db;
  let readDb: ReadDatabase | undefined;
  const reads = (): ReadDatabase => (readDb ??= createReadDatabase(config.DATABASE_URL, config.WS_PROXY));
  const signingKeys = () => loadSigningKeys(config.JWT_PRIVATE_KEYS, config.JWT_PUBLIC_KEYS);
  const defer = (work: Promise<unknown>) => {
    deferred.push(work.catch((error: Error) => logger.warn('deferred work failed', { error: error.message })));
  };
  // Through the container, not c.env, so the stub's calls are traced like every other binding's.
  const matchOdds = (matchId: number) => matchOddsStub(env.MATCH_ODDS, matchId);
  const models = new ModelRegistryService(db);
  const predictionStore = new PredictionStore(db);
  return {
    system: new SystemService(db),
    // The public read routes answer with one or two statements and no transaction: over Neon's HTTP endpoint
    // each is one fetch, where the Pool would first open a WebSocket and have Postgres start a backend for this
    // request alone (src/db/client.ts). Their answers are one page, well under Neon's size cap.
    sports: new SportsService(reads),
    matches: new MatchesService(reads),
    odds: new OddsService(reads),
    accounts: new AccountService(
      db,
      signingKeys,
      {
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        pepper: config.PASSWORD_PEPPER,
      },
      options.now,
    ),
    apiKeys: new ApiKeyService(db, options.now),
    models,
    predictionStore,
    predictions: new PredictionService({
      kv: env.PREDICTIONS,
      models: env.MODELS,
      matchOdds,
      db,
      reads,
      registry: models,
      store: predictionStore,
      writes: env.PREDICTION_QUEUE,
      settings: { kellyMultiplier: config.KELLY_FRACTION, exchangeCommission: config.EXCHANGE_COMMISSION },
      defer,
      logger,
    }),
    ingestion: new IngestionAdminService(db, config, env, logger),
    featureStore: db,
    signingKeys,
    rateLimiter: (subject) => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(subject)),
    matchOdds,
    defer,
    close: async () => {
      await Promise.all(deferred);
      await handle?.end();
    },
  };
}
