import { createRoute } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { RateLimitedError } from '../../lib/errors';
import { problemResponses } from '../../lib/problem';
import { LOGIN_FAILURES_PER_ACCOUNT, reserveLoginAttempt } from '../../services/auth/login-backoff';
import { Credentials, TokenPairSchema, PUBLIC } from '../../schemas/auth';
import type { App } from '../../types';

const route = createRoute({
  method: 'post',
  path: '/auth/login',
  tags: ['auth'],
  operationId: 'login',
  security: PUBLIC,
  summary: 'Exchange email and password for an access token and a refresh token',
  description: `After ${LOGIN_FAILURES_PER_ACCOUNT} failed attempts for one email within 15 minutes, every attempt for it (the right password included) is refused with 429 until the oldest failure is 15 minutes old.`,
  request: { body: { required: true, content: { 'application/json': { schema: Credentials } } } },
  responses: { 200: json(TokenPairSchema, 'Signed in'), ...problemResponses(401, 429) },
});

export const registerLogin = (app: App) =>
  app.openapi(route, async (c) => {
    const { email, password } = c.req.valid('json');
    const services = c.get('services');
    const attempt = await reserveLoginAttempt(services.rateLimiter, email);
    if (!attempt.allowed) {
      throw new RateLimitedError(`Too many failed sign-ins for this account; retry in ${attempt.retryAfterSeconds} s`, { retryAfterSeconds: attempt.retryAfterSeconds });
    }
    const tokens = await services.accounts.login(email, password);
    services.defer(attempt.succeeded());
    return c.json(tokens, 200);
  });
