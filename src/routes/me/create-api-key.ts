import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { principalOf, requireUser } from '../../middleware/auth';
import { ApiKeySchema, SECURITY, toApiKeyJson } from '../../schemas/auth';
import type { App } from '../../types';

const route = createRoute({
  method: 'post',
  path: '/me/api-keys',
  tags: ['account'],
  operationId: 'createApiKey',
  summary: 'Create an API key; the key itself is shown only in this response',
  description: 'Send it as `X-API-Key: <key>` or `Authorization: Bearer <key>`. It authenticates as you, with your tier and limits.',
  security: SECURITY,
  middleware: [requireUser] as const,
  request: {
    body: {
      required: true,
      content: { 'application/json': { schema: z.object({ name: z.string().trim().min(1, 'is required').max(100) }).openapi('NewApiKey') } },
    },
  },
  responses: {
    201: json(ApiKeySchema.extend({ key: z.string().openapi({ example: 'sk_1a2b3c4d_...' }) }).openapi('CreatedApiKey'), 'Created; store the key now'),
    ...problemResponses(401, 429),
  },
});

export const registerCreateApiKey = (app: App) =>
  app.openapi(route, async (c) => {
    const created = await c.get('services').apiKeys.create(principalOf(c).userId, c.req.valid('json').name);
    return c.json({ ...toApiKeyJson(created), key: created.key }, 201);
  });
