import { createRoute, z } from '@hono/zod-openapi';
import { ROLES, TIERS } from '../../db/schema';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { requireRole } from '../../middleware/auth';
import { ProfileSchema, SECURITY, toProfileJson } from '../../schemas/auth';
import type { App } from '../../types';

const route = createRoute({
  method: 'patch',
  path: '/admin/users/{userId}',
  tags: ['admin'],
  operationId: 'updateUser',
  summary: "Set a user's tier and/or role (admins only)",
  description: 'API keys use the new tier at once; access tokens carry the tier they were issued with until they expire (at most 15 minutes).',
  security: SECURITY,
  middleware: [requireRole('admin')] as const,
  request: {
    params: z.object({ userId: z.uuid('must be a UUID').openapi({ param: { name: 'userId', in: 'path' } }) }),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({ tier: z.enum(TIERS).optional(), role: z.enum(ROLES).optional() })
            .strict()
            .refine((b) => b.tier !== undefined || b.role !== undefined, { message: 'set tier, role or both' })
            .openapi('UserUpdate'),
        },
      },
    },
  },
  responses: { 200: json(ProfileSchema, 'Updated'), ...problemResponses(401, 403, 404, 429) },
});

export const registerUpdateUser = (app: App) =>
  app.openapi(route, async (c) => {
    const { userId } = c.req.valid('param');
    const updated = await c.get('services').accounts.updateUser(userId, c.req.valid('json'));
    return c.json(toProfileJson(updated), 200);
  });
