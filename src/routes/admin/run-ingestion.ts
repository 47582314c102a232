import { createRoute, z } from '@hono/zod-openapi';
import { INGESTION_KINDS } from '../../jobs/ingestion';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { principalOf, requireRole } from '../../middleware/auth';
import { SECURITY } from '../../schemas/auth';
import { IngestionJobSchema, toIngestionJobJson } from '../../schemas/ingestion';
import type { App } from '../../types';

const route = createRoute({
  method: 'post',
  path: '/admin/ingestion/run',
  tags: ['admin'],
  operationId: 'runIngestion',
  summary: 'Run one ingestion job now (admins only)',
  description:
    'Runs the same job its Cron Trigger runs, with the same credit budget check, and waits for it. The answer is the ' +
    'recorded run: `succeeded`, `skipped` (with `stats.reason`, e.g. over budget or nothing to poll) or `failed` ' +
    '(with `error`). A failed run is not an HTTP error: the request itself succeeded.',
  security: SECURITY,
  middleware: [requireRole('admin')] as const,
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.object({ kind: z.enum(INGESTION_KINDS).openapi({ example: 'odds' }) }).strict().openapi('IngestionRunRequest'),
        },
      },
    },
  },
  responses: { 201: json(IngestionJobSchema, 'The recorded run'), ...problemResponses(401, 403, 429) },
});

export const registerRunIngestion = (app: App) =>
  app.openapi(route, async (c) => {
    const { ingestion, accounts } = c.get('services');
    const { kind } = c.req.valid('json');
    const result = await ingestion.run(kind);
    // After the run, which commits in its own transaction: the record names the job it started.
    await accounts.recordAdminAction(principalOf(c).userId, 'ingestion.run', `ingestion_job:${result.id}`, { kind });
    const row = await ingestion.byId(result.id);
    if (!row) throw new Error(`ingestion job ${result.id} was recorded but cannot be read back`);
    return c.json(toIngestionJobJson(row), 201);
  });
