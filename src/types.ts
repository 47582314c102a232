import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Config, Env } from './env';
import type { Logger } from './lib/logging';
import type { ApiKeyScope, Role, Tier } from './db/schema';
import type { Services } from './services';

/** The authenticated caller (middleware/auth.ts sets it). */
export interface Principal {
  userId: string;
  tier: Tier;
  role: Role;
  via: 'access-token' | 'api-key';
  /** Access tokens: issued-at in ms, so a token minted before its user was deleted can be refused. */
  issuedAt?: number;
  expiresAt?: number;
  /** Access tokens: the user's token epoch when it was signed; the RateLimiter refuses superseded ones. */
  tokenEpoch?: number;
  keyId?: string;
  /** API keys: what the key may do (access tokens may do everything their role and tier allow). */
  scopes?: ApiKeyScope[];
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    logger: Logger;
    config: Config;
    services: Services;
    /** The authenticated caller, or null for an anonymous request. */
    principal: Principal | null;
  };
}

export type App = OpenAPIHono<AppEnv>;
