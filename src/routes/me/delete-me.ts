import { createRoute } from '@hono/zod-openapi';
import { problemResponses } from '../../lib/problem';
import { principalOf, requireUser } from '../../middleware/auth';
import { SECURITY } from '../../schemas/auth';
import { disconnectLiveSockets } from '../../services/auth/live-sockets';
import type { App } from '../../types';

const route = createRoute({
  method: 'delete',
  path: '/me',
  tags: ['account'],
  operationId: 'deleteMe',
  summary: 'Delete your account; every refresh token, API key and access token stops working',
  security: SECURITY,
  middleware: [requireUser] as const,
  responses: { 204: { description: 'Deleted' }, ...problemResponses(401, 429) },
});

export const registerDeleteMe = (app: App) =>
  app.openapi(route, async (c) => {
    const { userId } = principalOf(c);
    const services = c.get('services');
    // Access tokens are stateless; the user's RateLimiter, which every authenticated request consults,
    // refuses the ones issued before this moment. Marked first, so no token outlives the account.
    await services.rateLimiter(`user:${userId}`).revokeTokens(Date.now());
    await services.accounts.deleteAccount(userId);
    await disconnectLiveSockets(services, userId, 'The account has been deleted');
    return c.body(null, 204);
  });
