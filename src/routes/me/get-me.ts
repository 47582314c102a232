import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { principalOf, requireUser } from '../../middleware/auth';
import { requestsPerMinute } from '../../middleware/rate-limit';
import { ProfileSchema, SECURITY, toProfileJson, UsageSchema } from '../../schemas/auth';
import { policyFor } from '../../services/auth/tiers';
import type { App } from '../../types';

const route = createRoute({
  method: 'get',
  path: '/me',
  tags: ['account'],
  operationId: 'getMe',
  summary: 'Your profile, tier and usage today',
  security: SECURITY,
  middleware: [requireUser] as const,
  responses: { 200: json(ProfileSchema.extend({ usage: UsageSchema }).openapi('Me'), 'Your account'), ...problemResponses(401, 429) },
});

export const registerGetMe = (app: App) =>
  app.openapi(route, async (c) => {
    const { userId, tier } = principalOf(c);
    const services = c.get('services');
    const [profile, usage] = await Promise.all([services.accounts.profile(userId), services.rateLimiter(`user:${userId}`).usage(Date.now())]);
    const policy = policyFor(profile.tier);
    return c.json(
      {
        ...toProfileJson(profile),
        usage: {
          requestsInWindow: usage.requestsInWindow,
          // The limit this request was counted against (the principal's tier, as the limiter saw it), so it
          // always equals the RateLimit-Limit header of the same response.
          requestsPerMinute: requestsPerMinute(c.get('config'), tier),
          predictionsToday: usage.quotaUsedToday,
          dailyPredictionQuota: policy.dailyPredictionQuota,
        },
      },
      200,
    );
  });
