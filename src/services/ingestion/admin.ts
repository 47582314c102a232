// What an admin sees of ingestion: the recorded runs, and a run started by hand. A manual run is the same
// job the Cron Trigger runs (same budget check, same single transaction, same fan-out), recorded with
// trigger 'manual'.
import { and, desc, eq, getTableColumns, lt, or, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Config } from '../../env';
import type { Database } from '../../db/client';
import { ingestionJobs } from '../../db/schema';
import type { Logger } from '../../lib/logging';
import { runIngestion, type IngestionEnv, type IngestionKind } from '../../jobs/ingestion';
import { JobRunner, type JobResult } from '../jobs';
import { cursorCodec, MICROSECOND_INSTANT_FORMAT, MicrosecondInstant, type DecodedCursor, type Page } from '../pagination';

/** Position = the (started_at, id) of the last row served, newest first. */
export const ingestionJobCursor = cursorCodec<[string, string]>('ingestion-jobs', z.tuple([MicrosecondInstant, z.uuid()]));

export type IngestionJobRow = typeof ingestionJobs.$inferSelect;

export interface IngestionJobFilters {
  kind?: string;
  provider?: string;
  status?: IngestionJobRow['status'];
}

export interface IngestionJobQuery extends IngestionJobFilters {
  limit: number;
  cursor?: DecodedCursor<[string, string]>;
}

export const ingestionJobFiltersOf = (q: IngestionJobFilters) => ({ kind: q.kind, provider: q.provider, status: q.status });

export class IngestionAdminService {
  constructor(
    private readonly db: () => Database,
    private readonly config: Config,
    private readonly env: IngestionEnv,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Newest first, keyset-paginated on (started_at, id). */
  async list(query: IngestionJobQuery): Promise<Page<IngestionJobRow>> {
    const conditions: SQL[] = [];
    if (query.kind) conditions.push(eq(ingestionJobs.kind, query.kind));
    if (query.provider) conditions.push(eq(ingestionJobs.provider, query.provider));
    if (query.status) conditions.push(eq(ingestionJobs.status, query.status));
    if (query.cursor) {
      const [startedAt, id] = query.cursor.position;
      const at = sql`${startedAt}::timestamptz`;
      conditions.push(or(lt(ingestionJobs.startedAt, at), and(eq(ingestionJobs.startedAt, at), lt(ingestionJobs.id, id)))!);
    }
    const rows = await this.db()
      .select({ ...getTableColumns(ingestionJobs), sortKey: sql<string>`to_char(${ingestionJobs.startedAt} at time zone 'UTC', ${MICROSECOND_INSTANT_FORMAT})` })
      .from(ingestionJobs)
      .where(conditions.length ? and(...conditions) : undefined)
      .orderBy(desc(ingestionJobs.startedAt), desc(ingestionJobs.id))
      .limit(query.limit + 1);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > query.limit && last ? ingestionJobCursor.encode([last.sortKey, last.id], ingestionJobFiltersOf(query)) : null;
    return { data: page.map(({ sortKey: _sortKey, ...row }) => row), nextCursor };
  }

  async byId(id: string): Promise<IngestionJobRow | undefined> {
    const [row] = await this.db().select().from(ingestionJobs).where(eq(ingestionJobs.id, id));
    return row;
  }

  run(kind: IngestionKind): Promise<JobResult> {
    const logger = this.logger.child({ trigger: 'manual' });
    const runner = new JobRunner(this.db, logger, { trigger: 'manual' });
    return runIngestion(kind, { runner, now: this.now(), config: this.config, env: this.env, db: this.db, logger });
  }
}
