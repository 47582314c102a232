import { createRoute } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { requireTier } from '../../middleware/auth';
import { SECURITY } from '../../schemas/auth';
import { ModelIdParams } from '../../schemas/models';
import { LivePerformanceQuerySchema, LivePerformanceSchema } from '../../schemas/prediction-list';
import type { App } from '../../types';

const route = createRoute({
  method: 'get',
  path: '/models/{modelId}/live-performance',
  tags: ['models'],
  operationId: 'getModelLivePerformance',
  summary: 'Rolling log loss against the market, ROI and CLV of a model on settled matches (premium)',
  description:
    "Per sport and market (h2h, spreads, totals). Counts each match once per sport and market, through the model's last " +
    'prediction before kick-off; each line it priced is one event. Log loss is compared with the stored margin-free market ' +
    'probability on the same events; bets are the outcomes with EV > 0, 1 unit each and Kelly-staked. A push (a line landed ' +
    'on exactly) is void: neither won nor lost, left out of the hit rate, log loss and ROI, profit 0. The market-only predictions ' +
    'of a sport without a model are reported by GET /sports/{sportId}/live-performance.',
  security: SECURITY,
  middleware: [requireTier('premium')] as const,
  request: { params: ModelIdParams, query: LivePerformanceQuerySchema },
  responses: { 200: json(LivePerformanceSchema, 'Live performance per market'), ...problemResponses(401, 403, 404, 429) },
});

export const registerGetLivePerformance = (app: App) =>
  app.openapi(route, async (c) => {
    const { modelId } = c.req.valid('param');
    const services = c.get('services');
    await services.models.get(modelId);
    const report = await services.predictionStore.livePerformance(modelId, c.req.valid('query').window);
    return c.json(report, 200);
  });
