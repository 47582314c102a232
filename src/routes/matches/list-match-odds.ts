import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { booleanParam, cursorBelongsToQuery, cursorParamDoc, instantParam, limitParam, pageOf, rangeIsOrdered } from '../../schemas/common';
import { MatchIdParams } from '../../schemas/matches';
import { MarketSchema, OddsPhaseSchema, OddsSnapshotSchema } from '../../schemas/odds';
import { oddsCursor, oddsFiltersOf } from '../../services/odds';
import type { App } from '../../types';
import { oddsAccessFor } from './odds-access';
import { PUBLIC } from '../../schemas/auth';

/** Page size cap: a historical match has under 100 rows, a live one can have thousands over its life. */
const MAX_ODDS_PAGE = 1000;

const OddsQuery = z
  .object({
    market: MarketSchema.optional(),
    bookmaker: z
      .string()
      .regex(/^[a-z0-9_]{1,64}$/, 'must be a bookmaker key: lowercase letters, digits and _')
      .optional()
      .openapi({ example: 'pinnacle', description: 'Only this bookmaker (`market_max`, `market_avg` for the aggregates)' }),
    phase: OddsPhaseSchema.optional(),
    from: instantParam('Prices captured at or after this instant (a date means 00:00 UTC)'),
    to: instantParam('Prices captured before this instant (exclusive)'),
    latest: booleanParam('Only the latest price per bookmaker, market, outcome and line (among the other filters)'),
    limit: limitParam(MAX_ODDS_PAGE, MAX_ODDS_PAGE),
    cursor: oddsCursor.field().optional().openapi(cursorParamDoc),
  })
  .superRefine(rangeIsOrdered('from', 'to'))
  .superRefine(cursorBelongsToQuery(oddsCursor, oddsFiltersOf));

const route = createRoute({
  method: 'get',
  path: '/matches/{matchId}/odds',
  tags: ['matches'],
  operationId: 'listMatchOdds',
  security: PUBLIC,
  summary: "A match's odds: price history, or the latest price per line",
  description:
    'Rows are ordered by market, bookmaker, outcome, point, capturedAt and provider, so each line reads as a ' +
    `time series. At most ${MAX_ODDS_PAGE} rows per page; follow \`nextCursor\` with the same filters until it is null.`,
  request: { params: MatchIdParams, query: OddsQuery },
  responses: { 200: json(pageOf(OddsSnapshotSchema, 'OddsPage'), 'One page of prices'), ...problemResponses(404) },
});

export const registerListMatchOdds = (app: App) =>
  app.openapi(route, async (c) => {
    const { matchId } = c.req.valid('param');
    const page = await c.get('services').odds.forMatch(matchId, c.req.valid('query'), oddsAccessFor(c));
    return c.json(page, 200);
  });
