import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { requireTier } from '../../middleware/auth';
import { SECURITY } from '../../schemas/auth';
import { BacktestSchema, ModelIdParams } from '../../schemas/models';
import type { App } from '../../types';

const route = createRoute({
  method: 'get',
  path: '/models/{modelId}/backtest',
  tags: ['models'],
  operationId: 'getModelBacktest',
  summary: 'Backtests of a model: reliability tables and equity curves as data (pro)',
  security: SECURITY,
  middleware: [requireTier('pro')] as const,
  request: { params: ModelIdParams },
  responses: {
    200: json(
      z
        .object({
          reliability: z.unknown().openapi({ description: 'Per market and class: bins with count, mean predicted and observed frequency' }),
          strategies: z.array(BacktestSchema),
        })
        .openapi('ModelBacktest'),
      'Backtest results',
    ),
    ...problemResponses(401, 403, 404, 429),
  },
});

export const registerGetModelBacktest = (app: App) =>
  app.openapi(route, async (c) => {
    const { modelId } = c.req.valid('param');
    const models = c.get('services').models;
    await models.get(modelId);
    const [evaluations, backtests] = await Promise.all([models.evaluations(modelId), models.backtests(modelId)]);
    const latest = evaluations[evaluations.length - 1];
    return c.json(
      {
        reliability: (latest?.metrics as { reliability?: unknown } | undefined)?.reliability ?? null,
        strategies: backtests.map((b) => ({ id: b.id, strategy: b.strategy, params: b.params, metrics: b.metrics, createdAt: b.createdAt.toISOString() })),
      },
      200,
    );
  });
