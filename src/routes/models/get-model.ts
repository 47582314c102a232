import { createRoute } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { ModelIdParams, ModelSchema, toModelSummaryJson, withReasonFor } from '../../schemas/models';
import type { App } from '../../types';
import { PUBLIC } from '../../schemas/auth';

const route = createRoute({
  method: 'get',
  path: '/models/{modelId}',
  tags: ['models'],
  operationId: 'getModel',
  security: PUBLIC,
  summary: 'One model run with its bundle metadata',
  request: { params: ModelIdParams },
  responses: { 200: json(ModelSchema, 'The model run'), ...problemResponses(404, 429) },
});

export const registerGetModel = (app: App) =>
  app.openapi(route, async (c) => {
    const { modelId } = c.req.valid('param');
    const run = await c.get('services').models.get(modelId);
    return c.json({ ...withReasonFor(toModelSummaryJson(run), c.get('principal')?.role), metadata: run.metadata }, 200);
  });
