import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Config, Env } from './env';
import type { Logger } from './lib/logging';
import type { Principal } from './middleware/auth';
import type { Services } from './services';

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
