import { createRoute, z } from '@hono/zod-openapi';
import { problemResponses } from '../../lib/problem';
import { principalOf, requireUser } from '../../middleware/auth';
import { SECURITY } from '../../schemas/auth';
import type { App } from '../../types';

const route = createRoute({
  method: 'delete',
  path: '/me/api-keys/{keyId}',
  tags: ['account'],
  operationId: 'deleteApiKey',
  summary: 'Revoke one of your API keys',
  security: SECURITY,
  middleware: [requireUser] as const,
  request: { params: z.object({ keyId: z.uuid('must be a UUID').openapi({ param: { name: 'keyId', in: 'path' } }) }) },
  responses: { 204: { description: 'Revoked' }, ...problemResponses(401, 404, 429) },
});

export const registerDeleteApiKey = (app: App) =>
  app.openapi(route, async (c) => {
    const { keyId } = c.req.valid('param');
    // Someone else's key and no key at all are the same answer: its existence is not yours to learn.
    await c.get('services').apiKeys.revoke(principalOf(c).userId, keyId);
    return c.body(null, 204);
  });
