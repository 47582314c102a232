import { z } from '@hono/zod-openapi';
import { JOB_STATUSES, JOB_TRIGGERS } from '../db/schema';
import type { IngestionJobRow } from '../services/ingestion/admin';
import { IsoInstant } from './common';

export const IngestionJobSchema = z
  .object({
    id: z.uuid(),
    kind: z.string().openapi({ example: 'odds' }),
    provider: z.string().openapi({ example: 'the-odds-api' }),
    status: z.enum(JOB_STATUSES),
    trigger: z.enum(JOB_TRIGGERS),
    startedAt: IsoInstant,
    finishedAt: IsoInstant.nullable(),
    durationMs: z.number().int().nullable(),
    creditsUsed: z.number().int().openapi({ description: "Provider credits this run cost (sum of the provider's x-requests-last)." }),
    creditsRemaining: z.number().int().nullable().openapi({ description: 'The quota left after the run, as the provider reported it.' }),
    stats: z.record(z.string(), z.unknown()).openapi({ description: 'Counts of the run (events, rows, inserted, duplicates, …); `reason` when skipped.' }),
    error: z.string().nullable().openapi({ description: 'Why the run failed; null otherwise.' }),
  })
  .openapi('IngestionJob');

export const toIngestionJobJson = (row: IngestionJobRow): z.infer<typeof IngestionJobSchema> => ({
  id: row.id,
  kind: row.kind,
  provider: row.provider,
  status: row.status,
  trigger: row.trigger,
  startedAt: row.startedAt.toISOString(),
  finishedAt: row.finishedAt?.toISOString() ?? null,
  durationMs: row.durationMs,
  creditsUsed: row.creditsUsed,
  creditsRemaining: row.creditsRemaining,
  stats: row.stats,
  error: row.error,
});
