import { createRoute, z } from '@hono/zod-openapi';
import { ROLES, TIERS } from '../../db/schema';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { principalOf, requireRole } from '../../middleware/auth';
import { ProfileSchema, SECURITY, toProfileJson } from '../../schemas/auth';
import { disconnectLiveSockets } from '../../services/auth/live-sockets';
import { policyFor } from '../../services/auth/tiers';
import type { App } from '../../types';

const route = createRoute({
  method: 'patch',
  path: '/admin/users/{userId}',
  tags: ['admin'],
  operationId: 'updateUser',
  summary: "Set a user's tier and/or role (admins only)",
  description:
    'The change applies at once: API keys use the new tier and role, and every access token the user holds is refused (401) from now on; the user refreshes or signs in again to get one with the new claims.',
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
    const services = c.get('services');
    const updated = await services.accounts.updateUser(userId, c.req.valid('json'), principalOf(c).userId);
    // After the commit, so the floor never runs ahead of the epoch new tokens are signed with. Should this call
    // fail, the 5xx tells the admin to retry; the retry bumps the epoch again and raises the floor past it.
    await services.rateLimiter(`user:${userId}`).raiseTokenEpoch(updated.tokenEpoch);
    if (!policyFor(updated.tier).liveStream) await disconnectLiveSockets(services, userId, `The ${updated.tier} tier does not include the live stream`);
    return c.json(toProfileJson(updated), 200);
  });
