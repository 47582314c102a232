import { createRoute, z } from '@hono/zod-openapi';
import { ROLES, TIERS } from '../../db/schema';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { principalOf, requireUser } from '../../middleware/auth';
import { SECURITY } from '../../schemas/auth';
import type { App } from '../../types';

const SessionSchema = z
  .object({
    userId: z.uuid(),
    tier: z.enum(TIERS),
    role: z.enum(ROLES),
    via: z.enum(['access-token', 'api-key']),
    expiresAt: z.string().datetime().nullable().openapi({ description: 'Access tokens only' }),
  })
  .openapi('Session');

const route = createRoute({
  method: 'get',
  path: '/me/session',
  tags: ['account'],
  operationId: 'getSession',
  summary: 'What the presented credentials say, without a database read',
  security: SECURITY,
  middleware: [requireUser] as const,
  responses: { 200: json(SessionSchema, 'The verified credentials'), ...problemResponses(401, 429) },
});

export const registerGetSession = (app: App) =>
  app.openapi(route, (c) => {
    const p = principalOf(c);
    return c.json({ userId: p.userId, tier: p.tier, role: p.role, via: p.via, expiresAt: p.expiresAt ? new Date(p.expiresAt).toISOString() : null }, 200);
  });
