import { createRoute } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { MatchIdParams, MatchSchema } from '../../schemas/matches';
import type { App } from '../../types';
import { PUBLIC } from '../../schemas/auth';

const route = createRoute({
  method: 'get',
  path: '/matches/{matchId}',
  tags: ['matches'],
  operationId: 'getMatch',
  security: PUBLIC,
  summary: 'One match: teams, kick-off, result and statistics',
  request: { params: MatchIdParams },
  responses: { 200: json(MatchSchema, 'The match'), ...problemResponses(404) },
});

export const registerGetMatch = (app: App) =>
  app.openapi(route, async (c) => {
    const { matchId } = c.req.valid('param');
    const match = await c.get('services').matches.byId(matchId);
    return c.json(match, 200);
  });
