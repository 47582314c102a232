import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { ModelSummarySchema, toModelSummaryJson, withReasonFor } from '../../schemas/models';
import type { App } from '../../types';
import { PUBLIC } from '../../schemas/auth';

const route = createRoute({
  method: 'get',
  path: '/models',
  tags: ['models'],
  operationId: 'listModels',
  security: PUBLIC,
  summary: 'Every registered model run, newest first, with its status',
  responses: { 200: json(z.object({ data: z.array(ModelSummarySchema) }).openapi('ModelList'), 'Model runs'), ...problemResponses(429) },
});

export const registerListModels = (app: App) =>
  app.openapi(route, async (c) => c.json({ data: (await c.get('services').models.list()).map((run) => withReasonFor(toModelSummaryJson(run), c.get('principal')?.role)) }, 200));
