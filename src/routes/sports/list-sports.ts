import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { SportSchema } from '../../schemas/sports';
import type { App } from '../../types';
import { PUBLIC } from '../../schemas/auth';

// A handful of rows, one per sport the API covers, so the list is not paginated.
const SportListSchema = z.object({ data: z.array(SportSchema) }).openapi('SportList');

const route = createRoute({
  method: 'get',
  path: '/sports',
  tags: ['sports'],
  operationId: 'listSports',
  security: PUBLIC,
  summary: 'The sports the API covers',
  responses: { 200: json(SportListSchema, 'Every sport, by id'), ...problemResponses() },
});

export const registerListSports = (app: App) =>
  app.openapi(route, async (c) => c.json({ data: await c.get('services').sports.list() }, 200));
