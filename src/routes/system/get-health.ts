import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import type { App } from '../../types';
import { PUBLIC } from '../../schemas/auth';

const HealthSchema = z
  .object({ status: z.literal('ok'), environment: z.string(), time: z.string().datetime() })
  .openapi('Health');

const route = createRoute({
  method: 'get',
  path: '/health',
  tags: ['system'],
  operationId: 'getHealth',
  security: PUBLIC,
  summary: 'Liveness: the Worker is up (does not touch the database)',
  responses: { 200: json(HealthSchema, 'The Worker is alive'), ...problemResponses() },
});

export const registerGetHealth = (app: App) =>
  app.openapi(route, (c) => c.json({ status: 'ok' as const, environment: c.get('config').ENVIRONMENT, time: new Date().toISOString() }, 200));
