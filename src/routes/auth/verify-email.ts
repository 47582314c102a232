import { createRoute, z } from '@hono/zod-openapi';
import { problemResponses } from '../../lib/problem';
import { PUBLIC } from '../../schemas/auth';
import type { App } from '../../types';

const route = createRoute({
  method: 'post',
  path: '/auth/verify-email',
  tags: ['auth'],
  operationId: 'verifyEmail',
  security: PUBLIC,
  summary: 'Verify your email address with the token mailed at registration',
  description: "Unlocks the free tier's daily prediction quota. A token works once and for 7 days.",
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.object({ token: z.string().min(1, 'is required').max(256).openapi({ example: 'ev_Zk3...' }) }).openapi('EmailVerification'),
        },
      },
    },
  },
  responses: { 204: { description: 'Verified' }, ...problemResponses(400, 429) },
});

export const registerVerifyEmail = (app: App) =>
  app.openapi(route, async (c) => {
    const services = c.get('services');
    const userId = await services.accounts.verifyEmail(c.req.valid('json').token);
    await services.rateLimiter(`user:${userId}`).setEmailVerified(true);
    return c.body(null, 204);
  });
