import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { Credentials, ProfileSchema, TokenPairSchema, toProfileJson, PUBLIC } from '../../schemas/auth';
import type { App } from '../../types';

const route = createRoute({
  method: 'post',
  path: '/auth/register',
  tags: ['auth'],
  operationId: 'register',
  security: PUBLIC,
  summary: 'Create an account (free tier) and sign in',
  description:
    'The account works at once, but the free tier\'s daily predictions need a verified email: a token is mailed to the address, to be sent to POST /auth/verify-email. A registration counts as 10 requests of the address\'s per-minute limit. ' +
    'Password policy: 12 to 128 characters, at least 4 different characters, not a common password, and not containing the local part of the email. A violation is a 400 problem naming `password` with every reason.',
  request: { body: { required: true, content: { 'application/json': { schema: Credentials } } } },
  responses: {
    201: json(z.object({ user: ProfileSchema, tokens: TokenPairSchema }).openapi('Registration'), 'Account created'),
    ...problemResponses(409, 429),
  },
});

export const registerRegister = (app: App) =>
  app.openapi(route, async (c) => {
    const { email, password } = c.req.valid('json');
    const services = c.get('services');
    // The limiter learns first, so no request of the new account can ever see a verified quota it has not earned.
    const userId = crypto.randomUUID();
    await services.rateLimiter(`user:${userId}`).setEmailVerified(false);
    const { profile, tokens } = await services.accounts.register(email, password, userId);
    return c.json({ user: toProfileJson(profile), tokens }, 201);
  });
