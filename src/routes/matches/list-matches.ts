import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import {
  cursorBelongsToQuery,
  cursorParamDoc,
  idParam,
  instantParam,
  isDecodedCursor,
  limitParam,
  pageOf,
  rangeIsOrdered,
} from '../../schemas/common';
import { MatchSchema, MatchStatusSchema } from '../../schemas/matches';
import { matchCursor, matchFiltersOf } from '../../services/matches';
import type { App } from '../../types';
import { PUBLIC } from '../../schemas/auth';

const MatchListQuery = z
  .object({
    from: instantParam('Matches starting at or after this instant (a date means 00:00 UTC)'),
    to: instantParam('Matches starting before this instant (exclusive)'),
    sportId: idParam('Only this sport').optional(),
    competitionId: idParam('Only this competition').optional(),
    teamId: idParam('Only matches of this team, home or away').optional(),
    status: MatchStatusSchema.optional(),
    order: z
      .enum(['asc', 'desc'])
      .optional()
      .openapi({ description: 'By kick-off: `desc` (newest first, the default) or `asc`. A cursor keeps its order.' }),
    limit: limitParam(100, 25),
    cursor: matchCursor.field().optional().openapi(cursorParamDoc),
  })
  .superRefine(rangeIsOrdered('from', 'to'))
  .superRefine(cursorBelongsToQuery(matchCursor, matchFiltersOf))
  .superRefine((query, ctx) => {
    const cursorOrder = isDecodedCursor(query.cursor) ? query.cursor.position[0] : undefined;
    if (cursorOrder && query.order && query.order !== cursorOrder) {
      ctx.addIssue({ code: 'custom', path: ['cursor'], message: `was issued for order=${cursorOrder}; omit order or repeat it` });
    }
  });

const route = createRoute({
  method: 'get',
  path: '/matches',
  tags: ['matches'],
  operationId: 'listMatches',
  security: PUBLIC,
  summary: 'Matches by kick-off, filtered and cursor-paginated',
  description:
    'Keyset pagination on (startAt, id): pages stay consistent while matches are added. Follow `nextCursor` ' +
    'with the same filters until it is null.',
  request: { query: MatchListQuery },
  responses: { 200: json(pageOf(MatchSchema, 'MatchPage'), 'One page of matches'), ...problemResponses() },
});

export const registerListMatches = (app: App) =>
  app.openapi(route, async (c) => c.json(await c.get('services').matches.list(c.req.valid('query')), 200));
