import { createRoute } from '@hono/zod-openapi';
import { problemResponses } from '../../lib/problem';
import { RefreshRequest, PUBLIC } from '../../schemas/auth';
import type { App } from '../../types';

const route = createRoute({
  method: 'post',
  path: '/auth/logout',
  tags: ['auth'],
  operationId: 'logout',
  security: PUBLIC,
  summary: 'Revoke the refresh token and every token of its family',
  request: { body: { required: true, content: { 'application/json': { schema: RefreshRequest } } } },
  responses: { 204: { description: 'Signed out' }, ...problemResponses(401, 429) },
});

export const registerLogout = (app: App) =>
  app.openapi(route, async (c) => {
    await c.get('services').accounts.logout(c.req.valid('json').refreshToken);
    return c.body(null, 204);
  });
