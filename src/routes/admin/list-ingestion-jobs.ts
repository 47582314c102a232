import { createRoute, z } from '@hono/zod-openapi';
import { JOB_STATUSES } from '../../db/schema';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { requireRole } from '../../middleware/auth';
import { SECURITY } from '../../schemas/auth';
import { cursorBelongsToQuery, cursorParamDoc, limitParam, pageOf } from '../../schemas/common';
import { IngestionJobSchema, toIngestionJobJson } from '../../schemas/ingestion';
import { ingestionJobCursor, ingestionJobFiltersOf } from '../../services/ingestion/admin';
import type { App } from '../../types';

const Query = z
  .object({
    kind: z.string().min(1).max(64).optional().openapi({ description: 'Only runs of this kind (odds, fixtures, results, settlement, …)', example: 'odds' }),
    provider: z.string().min(1).max(64).optional().openapi({ example: 'the-odds-api' }),
    status: z.enum(JOB_STATUSES).optional(),
    limit: limitParam(100, 25),
    cursor: ingestionJobCursor.field().optional().openapi(cursorParamDoc),
  })
  .strict()
  .superRefine(cursorBelongsToQuery(ingestionJobCursor, ingestionJobFiltersOf));

const route = createRoute({
  method: 'get',
  path: '/admin/ingestion/jobs',
  tags: ['admin'],
  operationId: 'listIngestionJobs',
  summary: 'Recorded ingestion and maintenance runs, newest first (admins only)',
  description: 'Every Cron Trigger run and every manual run leaves one row: its status, counts, provider credits, duration and error.',
  security: SECURITY,
  middleware: [requireRole('admin')] as const,
  request: { query: Query },
  responses: { 200: json(pageOf(IngestionJobSchema, 'IngestionJobPage'), 'One page of runs'), ...problemResponses(401, 403, 429) },
});

export const registerListIngestionJobs = (app: App) =>
  app.openapi(route, async (c) => {
    const page = await c.get('services').ingestion.list(c.req.valid('query'));
    return c.json({ data: page.data.map(toIngestionJobJson), nextCursor: page.nextCursor }, 200);
  });
