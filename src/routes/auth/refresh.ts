import { createRoute } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { RefreshRequest, TokenPairSchema, PUBLIC } from '../../schemas/auth';
import type { App } from '../../types';

const route = createRoute({
  method: 'post',
  path: '/auth/refresh',
  tags: ['auth'],
  operationId: 'refresh',
  security: PUBLIC,
  summary: 'Rotate a refresh token: returns a new access token and a new refresh token',
  description:
    'Every refresh token works once. Presenting an already-rotated token again more than 5 seconds after its rotation is treated as theft: the whole family (every token descended from the same login) is revoked. Within those 5 seconds a second use is a concurrent refresh and gets its own successor.',
  request: { body: { required: true, content: { 'application/json': { schema: RefreshRequest } } } },
  responses: { 200: json(TokenPairSchema, 'Rotated'), ...problemResponses(401, 429) },
});

export const registerRefresh = (app: App) =>
  app.openapi(route, async (c) => c.json(await c.get('services').accounts.refresh(c.req.valid('json').refreshToken), 200));
