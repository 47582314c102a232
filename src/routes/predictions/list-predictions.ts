import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { requireTier } from '../../middleware/auth';
import { SECURITY } from '../../schemas/auth';
import { booleanParam, cursorBelongsToQuery, cursorParamDoc, idParam, instantParam, isDecodedCursor, limitParam, rangeIsOrdered } from '../../schemas/common';
import { PredictedMarketSchema, PredictionPageSchema } from '../../schemas/prediction-list';
import { PREDICTION_SORTS, predictionCursor, predictionFiltersOf } from '../../services/predictions/store';
import type { App } from '../../types';

const DECIMAL = /^-?(0|[1-9][0-9]{0,5})(\.[0-9]{1,6})?$/;

const minEvParam = z
  .string()
  .regex(DECIMAL, 'must be a decimal number such as 0.05')
  .transform(Number)
  .pipe(z.number().min(-1, 'must be at least -1 (EV cannot be lower)').max(1000, 'must be at most 1000'))
  .optional()
  .openapi({ type: 'number', example: 0.05, description: 'Only outcomes with expected value ≥ this (0.05 = +5% per unit staked)' });

const PredictionListQuery = z
  .object({
    settled: booleanParam('false: the value finder over predictions not settled yet; true: settled predictions with outcome, profit and CLV'),
    minEv: minEvParam,
    market: PredictedMarketSchema.optional().openapi({ description: '`h2h`, `spreads` or `totals` (every line of the market)' }),
    from: instantParam('Matches kicking off at or after this instant (a date means 00:00 UTC)'),
    to: instantParam('Matches kicking off before this instant (exclusive)'),
    competitionId: idParam('Only this competition (an unknown id lists nothing)').optional(),
    sportId: idParam('Only this sport, from GET /sports (an unknown id lists nothing)').optional(),
    modelId: z
      .uuid('must be a UUID')
      .optional()
      .openapi({
        description:
          'A model run. Absent: what GET /matches/{matchId}/predictions serves, i.e. the active model\'s predictions and the market-only ones (`modelRunId` null: margin-free market probability, best price and EV) of sports no model covers',
      }),
    sort: z
      .enum(PREDICTION_SORTS)
      .optional()
      .openapi({ description: '`ev` (highest first, the default; outcomes without a price are left out), `kickoff` or `-kickoff`. A cursor keeps its sort.' }),
    limit: limitParam(100, 25),
    cursor: predictionCursor.field().optional().openapi(cursorParamDoc),
  })
  .superRefine(rangeIsOrdered('from', 'to'))
  .superRefine(cursorBelongsToQuery(predictionCursor, predictionFiltersOf))
  .superRefine((query, ctx) => {
    const cursorSort = isDecodedCursor(query.cursor) ? query.cursor.position[0] : undefined;
    if (cursorSort && query.sort && query.sort !== cursorSort) {
      ctx.addIssue({ code: 'custom', path: ['cursor'], message: `was issued for sort=${cursorSort}; omit sort or repeat it` });
    }
  });

const route = createRoute({
  method: 'get',
  path: '/predictions',
  tags: ['predictions'],
  operationId: 'listPredictions',
  summary: 'The value finder: stored predictions by EV or kick-off, and settled ones with CLV (premium)',
  description:
    'One item per outcome and line of each match\'s prediction of record: the model\'s last prediction before kick-off (for an ' +
    'upcoming match, its latest so far); a spread or a total may be listed at several lines, each item with its `point`. `settled=true` lists settled ones with outcome, profit at the recommended ' +
    'price (a push, a line landed on exactly, is void: won null, profit 0) and closing line value. Keyset pagination: follow `nextCursor` with the same parameters.',
  security: SECURITY,
  middleware: [requireTier('premium')] as const,
  request: { query: PredictionListQuery },
  responses: { 200: json(PredictionPageSchema, 'One page of predicted outcomes'), ...problemResponses(401, 403, 429) },
});

export const registerListPredictions = (app: App) =>
  app.openapi(route, async (c) => c.json(await c.get('services').predictionStore.list(c.req.valid('query')), 200));
