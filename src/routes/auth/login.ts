import { createRoute } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { Credentials, TokenPairSchema, PUBLIC } from '../../schemas/auth';
import type { App } from '../../types';

const route = createRoute({
  method: 'post',
  path: '/auth/login',
  tags: ['auth'],
  operationId: 'login',
  security: PUBLIC,
  summary: 'Exchange email and password for an access token and a refresh token',
  request: { body: { required: true, content: { 'application/json': { schema: Credentials } } } },
  responses: { 200: json(TokenPairSchema, 'Signed in'), ...problemResponses(401, 429) },
});

export const registerLogin = (app: App) =>
  app.openapi(route, async (c) => {
    const { email, password } = c.req.valid('json');
    return c.json(await c.get('services').accounts.login(email, password), 200);
  });
