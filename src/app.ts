// Builds the OpenAPIHono app. Middleware order matters: the request id first (everything logs it), then
// the request log (so it sees the final status, errors included), CORS and secure headers, 405 detection,
// and last the services container.
import { OpenAPIHono } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { configFrom } from './env';
import { createLogger, errorFields } from './lib/logging';
import { DomainError } from './lib/errors';
import { problem, problemOf, ProblemError, type InvalidParam } from './lib/problem';
import { requireKeyScope } from './middleware/api-key-scopes';
import { authenticate } from './middleware/auth';
import { noStoreForAccounts, requestBodyLimit } from './middleware/hardening';
import { rateLimit } from './middleware/rate-limit';
import { requestLog, servicesMiddleware } from './middleware/request-context';
import { registerLogin } from './routes/auth/login';
import { registerLogout } from './routes/auth/logout';
import { registerRefresh } from './routes/auth/refresh';
import { registerRegister } from './routes/auth/register';
import { registerVerifyEmail } from './routes/auth/verify-email';
import { registerGetSession } from './routes/me/get-session';
import { registerUpdateUser } from './routes/admin/update-user';
import { registerListIngestionJobs } from './routes/admin/list-ingestion-jobs';
import { registerRunIngestion } from './routes/admin/run-ingestion';
import { registerCreateApiKey } from './routes/me/create-api-key';
import { registerDeleteApiKey } from './routes/me/delete-api-key';
import { registerDeleteMe } from './routes/me/delete-me';
import { registerGetMe } from './routes/me/get-me';
import { registerListApiKeys } from './routes/me/list-api-keys';
import { registerGetJwks } from './routes/well-known/jwks';
import { registerActivateModel } from './routes/models/activate-model';
import { registerGetModel } from './routes/models/get-model';
import { registerGetModelBacktest } from './routes/models/get-model-backtest';
import { registerGetLivePerformance } from './routes/models/get-live-performance';
import { registerListModelEvaluations } from './routes/models/list-model-evaluations';
import { registerListModels } from './routes/models/list-models';
import { registerGetMatch } from './routes/matches/get-match';
import { registerListPredictions } from './routes/predictions/list-predictions';
import { registerGetMatchPredictions } from './routes/matches/get-match-predictions';
import { registerListMatchOdds } from './routes/matches/list-match-odds';
import { registerListMatches } from './routes/matches/list-matches';
import { registerCreateLiveOddsTicket } from './routes/matches/live-odds-ticket';
import { registerStreamLiveOdds } from './routes/matches/live-odds-stream';
import { registerGetSportLivePerformance } from './routes/sports/get-sport-live-performance';
import { registerListSportTeams } from './routes/sports/list-sport-teams';
import { registerListSports } from './routes/sports/list-sports';
import { registerGetHealth } from './routes/system/get-health';
import { registerGetReady } from './routes/system/get-ready';
import type { App, AppEnv } from './types';

/**
 * The Swagger UI release behind /docs: the swagger-ui-dist package, served by the Worker itself from its static
 * assets (wrangler.toml [assets]), so the page needs no CDN and works offline. It must equal the installed
 * package's version (test/node/docs-browser.test.ts checks); the version in the asset URLs lets browsers cache
 * them for good.
 */
const SWAGGER_UI_VERSION = '5.35.0';
const DOCS_ASSETS = '/docs/assets';
const DOCS_ASSET_FILES: Record<string, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
};

const VALIDATION_TARGET_TO_IN: Record<string, InvalidParam['in']> = {
  query: 'query',
  param: 'path',
  header: 'header',
  cookie: 'cookie',
  json: 'body',
  form: 'body',
};

export function createApp(): App {
  const app: App = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      throw problem.validation(
        result.error.issues.map((issue) => ({
          name: issue.path.length ? issue.path.join('.') : '(root)',
          in: VALIDATION_TARGET_TO_IN[result.target] ?? 'query',
          reason: issue.message,
        })),
      );
    },
  });

  app.use(requestId({ limitLength: 128 }));
  app.use(requestLog);
  app.use(
    cors({
      origin: (origin, c) => (configFrom(c.env).CORS_ORIGINS.includes(origin) ? origin : null),
      allowHeaders: ['authorization', 'content-type', 'x-api-key', 'x-request-id'],
      allowMethods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
      exposeHeaders: ['x-request-id', 'x-cache', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'],
      maxAge: 600,
    }),
  );
  app.use(secureHeaders({ crossOriginResourcePolicy: 'cross-origin' }));
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, allowed) =>
        problem.methodNotAllowed(c.req.method, c.req.path, allowed).toResponse(c.req.path, c.get('requestId')),
    }),
  );
  app.use(noStoreForAccounts);
  app.use(requestBodyLimit);
  app.use(servicesMiddleware);
  app.use(authenticate);
  app.use(rateLimit);
  app.use(requireKeyScope);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'An access token from /auth/login or /auth/refresh (RS256, 15 minutes); /auth/register issues none.',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKeyAuth', {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description: 'An API key from POST /me/api-keys (also accepted as `Authorization: Bearer sk_...`).',
  });

  registerGetHealth(app);
  registerGetReady(app);

  registerRegister(app);
  registerVerifyEmail(app);
  registerLogin(app);
  registerRefresh(app);
  registerLogout(app);
  registerGetJwks(app);

  registerGetSession(app);
  registerGetMe(app);
  registerDeleteMe(app);
  registerCreateApiKey(app);
  registerListApiKeys(app);
  registerDeleteApiKey(app);

  registerListModels(app);
  registerGetModel(app);
  registerListModelEvaluations(app);
  registerGetModelBacktest(app);
  registerGetLivePerformance(app);
  registerActivateModel(app);

  registerUpdateUser(app);
  registerListIngestionJobs(app);
  registerRunIngestion(app);

  registerListSports(app);
  registerListSportTeams(app);
  registerGetSportLivePerformance(app);

  registerListMatches(app);
  registerGetMatch(app);
  registerListMatchOdds(app);
  registerGetMatchPredictions(app);
  registerCreateLiveOddsTicket(app);
  registerStreamLiveOdds(app);

  registerListPredictions(app);

  app.doc31('/openapi.json', (c) => ({
    openapi: '3.1.0',
    info: {
      title: 'Senzu AI API',
      version: '0.1.0',
      description:
        'Calibrated match probabilities, expected value and Kelly stakes at the best available price. ' +
        'Every error is an RFC 9457 application/problem+json document.',
    },
    servers: [{ url: new URL(c.req.url).origin }],
  }));
  app.get('/docs', swaggerUI({ url: '/openapi.json', title: 'Senzu AI API', baseUrl: DOCS_ASSETS, version: SWAGGER_UI_VERSION }));
  app.get(`${DOCS_ASSETS}/:release/:file`, async (c) => {
    const { release, file } = c.req.param();
    const contentType = DOCS_ASSET_FILES[file];
    if (release !== `swagger-ui-dist@${SWAGGER_UI_VERSION}` || !contentType) throw problem.routeNotFound(c.req.method, c.req.path);
    const asset = await c.env.ASSETS.fetch(new URL(`/${file}`, c.req.url));
    if (!asset.ok) throw new Error(`the static asset ${file} is missing (${asset.status}): wrangler.toml [assets] must point at swagger-ui-dist`);
    return new Response(asset.body, {
      headers: { 'content-type': contentType, 'cache-control': 'public, max-age=31536000, immutable' },
    });
  });

  app.notFound((c) => problem.routeNotFound(c.req.method, c.req.path).toResponse(c.req.path, c.get('requestId') ?? 'unknown'));

  app.onError((error, c) => {
    const id = c.get('requestId') ?? crypto.randomUUID();
    const instance = c.req.path;
    if (error instanceof ProblemError) return error.toResponse(instance, id);
    if (error instanceof DomainError) {
      const { log } = error.options;
      if (log) (c.get('logger') ?? createLogger({ requestId: id })).error(log.msg, { ...log.fields, path: instance });
      return problemOf(error).toResponse(instance, id);
    }
    if (error instanceof HTTPException && error.status < 500) {
      return problem.fromStatus(error.status, error.message || 'Bad request').toResponse(instance, id);
    }
    (c.get('logger') ?? createLogger({ requestId: id })).error('unhandled error', { errorCode: 'internal', ...errorFields(error), path: instance });
    return problem.internal().toResponse(instance, id);
  });

  return app;
}
