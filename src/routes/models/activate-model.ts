import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { principalOf, requireRole } from '../../middleware/auth';
import { SECURITY } from '../../schemas/auth';
import { ModelIdParams, ModelSummarySchema, toModelSummaryJson } from '../../schemas/models';
import { invalidateActiveRun } from '../../services/predictions/model-service';
import type { App } from '../../types';

const route = createRoute({
  method: 'post',
  path: '/models/{modelId}/activate',
  tags: ['models'],
  operationId: 'activateModel',
  summary: 'Make a model run the one that serves predictions (admin)',
  description:
    "Refused with 409 when the run's test-season 1X2 log loss is worse than Pinnacle's pre-match baseline on the same matches (or it has no test evaluation), unless `force` is true and a `reason` is given; the override is recorded. Activation retires the previous run and, because prediction cache keys contain the run id, invalidates every cached prediction.",
  security: SECURITY,
  middleware: [requireRole('admin')] as const,
  request: {
    params: ModelIdParams,
    body: {
      required: false,
      content: {
        'application/json': {
          schema: z.object({ force: z.boolean().optional(), reason: z.string().max(1000).optional() }).strict().openapi('ModelActivation'),
        },
      },
    },
  },
  responses: { 200: json(ModelSummarySchema, 'The now active run'), ...problemResponses(401, 403, 404, 409, 429) },
});

export const registerActivateModel = (app: App) =>
  app.openapi(route, async (c) => {
    const { modelId } = c.req.valid('param');
    const body = c.req.header('content-type')?.includes('application/json') ? c.req.valid('json') : {};
    const run = await c.get('services').models.activate(modelId, principalOf(c).userId, body ?? {});
    // Serving reads the active run from KV (60 s): drop that copy so the new run serves from the next request.
    await invalidateActiveRun(c.env.PREDICTIONS);
    return c.json(toModelSummaryJson(run), 200);
  });
