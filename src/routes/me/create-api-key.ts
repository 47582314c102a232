import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { principalOf, requireUser } from '../../middleware/auth';
import { API_KEY_SCOPES } from '../../db/schema';
import { ApiKeySchema, SECURITY, toApiKeyJson } from '../../schemas/auth';
import type { App } from '../../types';

const route = createRoute({
  method: 'post',
  path: '/me/api-keys',
  tags: ['account'],
  operationId: 'createApiKey',
  summary: 'Create an API key; the key itself is shown only in this response',
  description:
    'Send it as `X-API-Key: <key>` or `Authorization: Bearer <key>`. It authenticates as you, with your tier and limits, within its scopes ' +
    '(default `read` and `predictions`; `account` must be asked for) and until its optional expiry. Admin routes never accept a key.',
  security: SECURITY,
  middleware: [requireUser] as const,
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({
              name: z.string().trim().min(1, 'is required').max(100),
              scopes: z
                .array(z.enum(API_KEY_SCOPES))
                .min(1, 'must name at least one scope')
                .max(API_KEY_SCOPES.length * 4)
                .optional()
                .openapi({ description: 'Default: ["read", "predictions"]', example: ['read', 'predictions'] }),
              expiresAt: z.iso
                .datetime({ offset: true, message: 'must be an ISO 8601 date-time' })
                .refine((value) => Date.parse(value) > Date.now(), 'must be in the future')
                .optional()
                .openapi({ description: 'When the key stops working; default: never' }),
            })
            .openapi('NewApiKey'),
        },
      },
    },
  },
  responses: {
    201: json(ApiKeySchema.extend({ key: z.string().openapi({ example: 'sk_1a2b3c4d_...' }) }).openapi('CreatedApiKey'), 'Created; store the key now'),
    ...problemResponses(400, 401, 403, 429),
  },
});

export const registerCreateApiKey = (app: App) =>
  app.openapi(route, async (c) => {
    const { name, scopes, expiresAt } = c.req.valid('json');
    const created = await c.get('services').apiKeys.create(principalOf(c).userId, name, {
      ...(scopes ? { scopes } : {}),
      ...(expiresAt ? { expiresAt: new Date(expiresAt) } : {}),
    });
    return c.json({ ...toApiKeyJson(created), key: created.key }, 201);
  });
