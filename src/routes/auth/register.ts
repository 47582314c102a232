import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { Credentials, PUBLIC } from '../../schemas/auth';
import type { App } from '../../types';

/** One answer for a new and a taken address alike (issue 20, gap 8), so it does not tell which emails have accounts. */
export const RegistrationAcceptedSchema = z
  .object({
    status: z.literal('verification_sent').openapi({ description: 'A mail is on its way to the address' }),
    email: z.string().openapi({ description: 'The address as registered (trimmed)', example: 'ada@example.com' }),
  })
  .openapi('RegistrationAccepted');

const route = createRoute({
  method: 'post',
  path: '/auth/register',
  tags: ['auth'],
  operationId: 'register',
  security: PUBLIC,
  summary: 'Create an account (free tier); sign in with POST /auth/login',
  description:
    'Answers 202 with the same body whether or not the address already has an account, so the answer does not tell which emails are registered. ' +
    'A new address gets a free account and a mail with a verification token, to be sent to POST /auth/verify-email. An address that already has an account gets a mail telling its owner that someone tried to register with it (at most one such mail a day), and the account is left as it is. ' +
    'No tokens are issued: sign in with POST /auth/login, which works before the email is verified; the free tier\'s daily predictions need a verified email. A registration counts as 10 requests of the address\'s per-minute limit. ' +
    'Password policy: 12 to 128 characters, at least 4 different characters, not a common password, and not containing the local part of the email. A violation is a 400 problem naming `password` with every reason.',
  request: { body: { required: true, content: { 'application/json': { schema: Credentials } } } },
  responses: {
    202: json(RegistrationAcceptedSchema, 'Registration accepted: a mail is on its way to the address'),
    ...problemResponses(429),
  },
});

export const registerRegister = (app: App) =>
  app.openapi(route, async (c) => {
    const { email, password } = c.req.valid('json');
    const services = c.get('services');
    // The limiter learns first, so no request of a new account can ever see a verified quota it has not earned.
    // Done for a taken address too (its id is then never used): the same work on both paths.
    const userId = crypto.randomUUID();
    await services.rateLimiter(`user:${userId}`).setEmailVerified(false);
    const accepted = await services.accounts.register(email, password, userId);
    return c.json({ status: 'verification_sent' as const, email: accepted.email }, 202);
  });
