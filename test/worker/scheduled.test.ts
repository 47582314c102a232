import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { runScheduled } from '../../src/jobs/scheduled';
import { SCHEDULES } from '../../src/jobs/schedules';
import { createDatabase } from '../../src/db/client';
import { configFrom } from '../../src/env';
import { createLogger } from '../../src/lib/logging';
import worker from '../../src/index';

const silent = createLogger({}, () => undefined);

async function query<T>(text: ReturnType<typeof sql>): Promise<T[]> {
  const config = configFrom(env);
  const handle = createDatabase(config.DATABASE_URL, config.WS_PROXY, silent);
  try {
    return (await handle.db.execute(text)).rows as T[];
  } finally {
    await handle.end();
  }
}

describe('the daily cron', () => {
  it('deletes no served feature vector, however old (the archive owns their deletion), and reports the oldest', async () => {
    const vector = `{${Array.from({ length: 72 }, (_, i) => i).join(',')}}`;
    const [match] = await query<{ id: string; run: string }>(sql`select m.id, (select id from model_runs order by id limit 1) as run from matches m order by m.id limit 1`);
    const insert = async (age: string) =>
      (
        await query<{ at: string }>(sql`insert into served_feature_vectors (match_id, model_run_id, predicted_at, feature_version, values)
                values (${match!.id}, ${match!.run}::uuid, now() - ${age}::interval, 'v1', ${vector}::real[])
                returning to_char(predicted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as at`)
      )[0]!.at;
    const oldest = await insert('30 months');
    await insert('7 months');
    await insert('5 months');
    // Years ahead of the database's clock: a deletion by retention, by either clock, would take all three.
    const results = await runScheduled(createScheduledController({ scheduledTime: Date.UTC(2031, 10, 15, 3, 30), cron: SCHEDULES.daily }), env, silent);
    const upkeep = results.find((r) => r.kind === 'partition-upkeep')!;
    expect(upkeep.status).toBe('succeeded');
    const left = await query<{ months: number }>(
      sql`select round(extract(epoch from now() - predicted_at) / (30 * 86400))::int as months from served_feature_vectors
          where match_id = ${match!.id} and feature_version = 'v1' and model_run_id = ${match!.run}::uuid order by predicted_at`,
    );
    expect(left.map((r) => r.months)).toEqual([30, 7, 5]);
    const [job] = await query<{ stats: { oldestServedVector: string | null; servedVectorsDeleted?: number } }>(sql`select stats from ingestion_jobs where id = ${upkeep.id}`);
    expect(job!.stats.servedVectorsDeleted).toBeUndefined();
    // No test writes a vector older than this one, so it is the oldest.
    expect(job!.stats.oldestServedVector).toBe(oldest);
  }, 120_000);

  it('creates the partitions ahead and records the job', async () => {
    // A scheduled time years ahead, so the months it must create do not exist yet.
    const scheduledTime = Date.UTC(2031, 10, 15, 3, 30);
    const results = await runScheduled(createScheduledController({ scheduledTime, cron: SCHEDULES.daily }), env, silent);
    // The daily trigger's jobs, in order: results before settlement, the mirror last; one row each.
    expect(results.map((r) => r.kind)).toEqual(['results', 'football-data-sync', 'settlement', 'partition-upkeep', 'artifact-sync']);
    const upkeep = results.find((r) => r.kind === 'partition-upkeep')!;
    expect(upkeep).toMatchObject({ status: 'succeeded' });
    const names = await query<{ relname: string }>(
      sql`select relname from pg_class where relname in ('odds_snapshots_y2031m11', 'odds_snapshots_y2032m02', 'predictions_y2032m02')`,
    );
    expect(names.map((n) => n.relname).sort()).toEqual(['odds_snapshots_y2031m11', 'odds_snapshots_y2032m02', 'predictions_y2032m02']);
    const [job] = await query<{ status: string; kind: string; stats: { partitions: string[] } }>(
      sql`select status, kind, stats from ingestion_jobs where id = ${upkeep.id}`,
    );
    expect(job).toMatchObject({ status: 'succeeded', kind: 'partition-upkeep' });
    expect(job!.stats.partitions).toContain('predictions_y2031m12');
  });

  it('runs through the Worker scheduled() entry point', async () => {
    // A month no other test schedules at: only this run's upkeep names its partitions, so the count cannot
    // include runs of other tests (this file's first test, or the daily cron of tracing and ingestion).
    const scheduledTime = Date.UTC(2037, 6, 15, 3, 30);
    const began = (await query<{ began: string }>(sql`select now()::text as began`))[0]!.began;
    const upkeepRuns = async () =>
      (
        await query<{ n: number }>(
          sql`select count(*)::int as n from ingestion_jobs
              where kind = 'partition-upkeep' and status = 'succeeded' and started_at >= ${began}::timestamptz
                and stats->'partitions' ? 'odds_snapshots_y2037m07'`,
        )
      )[0]!.n;
    expect(await upkeepRuns()).toBe(0);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime, cron: SCHEDULES.daily }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await upkeepRuns()).toBe(1);
  });
});
