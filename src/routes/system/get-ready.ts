import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problem, problemResponses } from '../../lib/problem';
import type { App } from '../../types';
import { PUBLIC } from '../../schemas/auth';

const ReadySchema = z
  .object({
    status: z.literal('ready'),
    database: z.object({ latencyMs: z.number() }),
  })
  .openapi('Ready');

const route = createRoute({
  method: 'get',
  path: '/ready',
  tags: ['system'],
  operationId: 'getReady',
  security: PUBLIC,
  summary: 'Readiness: the Worker can reach Postgres',
  description: 'Rate-limited per address like any anonymous request; one check counts as 5 requests (it opens a database connection).',
  responses: { 200: json(ReadySchema, 'Ready to serve'), ...problemResponses(429, 503) },
});

export const registerGetReady = (app: App) =>
  app.openapi(route, async (c) => {
    const database = await c.get('services').system.databaseStatus();
    if (!database.ok) {
      c.get('logger').error('readiness check failed', { error: database.error });
      throw problem.unavailable('The database is not reachable');
    }
    return c.json({ status: 'ready' as const, database: { latencyMs: Math.round(database.latencyMs * 100) / 100 } }, 200);
  });
