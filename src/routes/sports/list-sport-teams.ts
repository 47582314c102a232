import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { cursorBelongsToQuery, cursorParamDoc, limitParam, pageOf } from '../../schemas/common';
import { SportIdParams, TeamSchema } from '../../schemas/sports';
import { teamCursor, teamFilters } from '../../services/sports';
import type { App } from '../../types';
import { PUBLIC } from '../../schemas/auth';

const TeamListQuery = z
  .object({
    limit: limitParam(500, 100),
    cursor: teamCursor.field().optional().openapi(cursorParamDoc),
  })
  .superRefine(cursorBelongsToQuery(teamCursor, teamFilters));

const route = createRoute({
  method: 'get',
  path: '/sports/{sportId}/teams',
  tags: ['sports'],
  operationId: 'listSportTeams',
  security: PUBLIC,
  summary: 'The teams of a sport, by name',
  description: 'Cursor-paginated. Names sort in byte order, so `Man City` comes before `Man United` on every server.',
  request: { params: SportIdParams, query: TeamListQuery },
  responses: { 200: json(pageOf(TeamSchema, 'TeamPage'), 'One page of teams'), ...problemResponses(404) },
});

export const registerListSportTeams = (app: App) =>
  app.openapi(route, async (c) => {
    const { sportId } = c.req.valid('param');
    const page = await c.get('services').sports.teams(sportId, c.req.valid('query'));
    return c.json(page, 200);
  });
