import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { requireTier } from '../../middleware/auth';
import { SECURITY } from '../../schemas/auth';
import { EvaluationSchema, ModelIdParams } from '../../schemas/models';
import type { App } from '../../types';

const route = createRoute({
  method: 'get',
  path: '/models/{modelId}/evaluations',
  tags: ['models'],
  operationId: 'listModelEvaluations',
  summary: 'Walk-forward evaluations of a model beside the market baselines (pro)',
  security: SECURITY,
  middleware: [requireTier('pro')] as const,
  request: { params: ModelIdParams },
  responses: { 200: json(z.object({ data: z.array(EvaluationSchema) }).openapi('ModelEvaluationList'), 'Evaluations'), ...problemResponses(401, 403, 404, 429) },
});

export const registerListModelEvaluations = (app: App) =>
  app.openapi(route, async (c) => {
    const { modelId } = c.req.valid('param');
    const models = c.get('services').models;
    await models.get(modelId);
    const rows = await models.evaluations(modelId);
    return c.json(
      {
        data: rows.map((e) => ({
          id: e.id,
          split: e.split,
          matchCount: e.matchCount,
          metrics: e.metrics,
          baselineMetrics: e.baselineMetrics ?? null,
          createdAt: e.createdAt.toISOString(),
        })),
      },
      200,
    );
  });
