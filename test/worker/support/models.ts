// Registry state for route tests: model runs and their stored evaluations, written the way
// `npm run model:register` writes them.
import { env } from 'cloudflare:test';
import { createDatabase } from '../../../src/db/client';
import { sql } from 'drizzle-orm';
import { modelEvaluations, modelRuns } from '../../../src/db/schema';
import { configFrom } from '../../../src/env';
import { createLogger } from '../../../src/lib/logging';
import type { RollingGate } from '../../../src/services/evaluation/gate';
import { ROLLING_SPLIT } from '../../../src/services/models';

export async function withDb<T>(work: (db: ReturnType<typeof createDatabase>['db']) => Promise<T>): Promise<T> {
  const config = configFrom(env);
  const handle = createDatabase(config.DATABASE_URL, config.WS_PROXY, createLogger({}, () => undefined));
  try {
    return await work(handle.db);
  } finally {
    await handle.end();
  }
}

/** A model run, with a stored rolling-origin evaluation whose `gate` the activation gate reads, if given. */
export async function insertModelRun(opts: { name: string; gate?: RollingGate }): Promise<{ id: string }> {
  return withDb(async (db) => {
    const [run] = await db
      .insert(modelRuns)
      .values({
        name: opts.name,
        sportId: sql`(select id from sports where key = 'soccer')`,
        featureVersion: 'v1',
        artifactKey: `models/${opts.name}/`,
        artifactSha256: '0'.repeat(64),
        metadata: { id: opts.name },
      })
      .returning({ id: modelRuns.id });
    if (opts.gate) {
      await db.insert(modelEvaluations).values({
        modelRunId: run!.id,
        split: ROLLING_SPLIT,
        matchCount: opts.gate.markets['1x2'].pooled.matches,
        metrics: { gate: opts.gate, reliability: { h2h: [] } },
        baselineMetrics: {},
      });
    }
    return run!;
  });
}
