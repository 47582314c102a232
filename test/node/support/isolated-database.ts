// A database of a test file's own, for tests that write data other files must not see (the importer
// tests feed it altered copies of real files): a fresh database on the run's server.
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { createFreshDatabase } from '../../../scripts/lib/fresh-database';
import { migrate } from '../../../scripts/lib/migrate';

export interface IsolatedDatabase {
  url: string;
  pool: pg.Pool;
}

/** `sportsDir`: the data/sports directory its migrate loads (a database as it was before a file existed). */
export function isolatedDatabase(options: { sportsDir?: string } = {}): IsolatedDatabase {
  const handle = {} as IsolatedDatabase;
  let stop: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    const fresh = await createFreshDatabase(inject('databaseUrl'), 'senzu_test_iso');
    handle.url = fresh.url;
    stop = fresh.drop;
    await migrate(handle.url, undefined, { sportsDir: options.sportsDir });
    handle.pool = new pg.Pool({ connectionString: handle.url, max: 4 });
  }, 60_000);
  afterAll(async () => {
    if (handle.pool) await closeEveryClient(handle.pool);
    await stop();
  });
  return handle;
}

/**
 * pg-pool's end() resolves before its sockets have closed, so a DROP DATABASE ... WITH (FORCE) right after it
 * can kill a connection mid-goodbye (an unhandled 57P01 that fails the run). Take every client and close it
 * for real, waiting for each one's end, before the database goes.
 */
async function closeEveryClient(pool: pg.Pool): Promise<void> {
  const clients = await Promise.all(Array.from({ length: pool.totalCount }, () => pool.connect()));
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((closed) => {
          client.once('end', () => closed());
          client.release(true);
        }),
    ),
  );
  await pool.end();
}
