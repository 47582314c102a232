import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { principalOf, requireUser } from '../../middleware/auth';
import { ApiKeySchema, SECURITY, toApiKeyJson } from '../../schemas/auth';
import type { App } from '../../types';

const route = createRoute({
  method: 'get',
  path: '/me/api-keys',
  tags: ['account'],
  operationId: 'listApiKeys',
  summary: 'Your active API keys: prefixes, names and last use (never the keys)',
  security: SECURITY,
  middleware: [requireUser] as const,
  responses: { 200: json(z.object({ data: z.array(ApiKeySchema) }).openapi('ApiKeyList'), 'Your keys'), ...problemResponses(401, 429) },
});

export const registerListApiKeys = (app: App) =>
  app.openapi(route, async (c) => c.json({ data: (await c.get('services').apiKeys.list(principalOf(c).userId)).map(toApiKeyJson) }, 200));
