import { createRoute } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { requireTier } from '../../middleware/auth';
import { SECURITY } from '../../schemas/auth';
import { LivePerformanceQuerySchema, MarketOnlyLivePerformanceSchema } from '../../schemas/prediction-list';
import { SportIdParams } from '../../schemas/sports';
import type { App } from '../../types';

const route = createRoute({
  method: 'get',
  path: '/sports/{sportId}/live-performance',
  tags: ['sports'],
  operationId: 'getSportLivePerformance',
  summary: "ROI and CLV of a sport's market-only predictions on settled matches (premium)",
  description:
    'The report of GET /models/{modelId}/live-performance for the predictions no model made: the market-only ones ' +
    '(`modelRunId: null` in GET /predictions) a sport without a served model gets. Per market (h2h, spreads, totals), ' +
    "each match counted once through its last market-only prediction before kick-off. Bets are the outcomes the value " +
    'finder recommended, EV > 0 at the best price against the margin-free consensus, 1 unit each and Kelly-staked; a ' +
    'push is void. Their probability is the market\'s own, so `logLoss.model` and `logLoss.difference` are null (the ' +
    "market's log loss is still given) and `behindMarket` is false. A sport whose predictions a model made has no entries.",
  security: SECURITY,
  middleware: [requireTier('premium')] as const,
  request: { params: SportIdParams, query: LivePerformanceQuerySchema },
  responses: {
    200: json(MarketOnlyLivePerformanceSchema, "Live performance of the sport's market-only predictions, per market"),
    ...problemResponses(401, 403, 404, 429),
  },
});

export const registerGetSportLivePerformance = (app: App) =>
  app.openapi(route, async (c) => {
    const services = c.get('services');
    const sport = await services.sports.get(c.req.valid('param').sportId);
    const report = await services.predictionStore.marketOnlyLivePerformance(sport, c.req.valid('query').window);
    return c.json(report, 200);
  });
