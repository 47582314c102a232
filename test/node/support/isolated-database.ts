// A database of a test file's own, for tests that write data other files must not see (the importer
// tests feed it altered copies of real files). Real PostgreSQL gets a fresh database on the run's server;
// under PGlite, which has one database per instance, it gets an in-memory instance of its own.
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { startEmbeddedPostgres } from '../../../scripts/lib/embedded-postgres';
import { createFreshDatabase } from '../../../scripts/lib/fresh-database';
import { migrate } from '../../../scripts/lib/migrate';

export interface IsolatedDatabase {
  url: string;
  pool: pg.Pool;
}

export function isolatedDatabase(): IsolatedDatabase {
  const handle = {} as IsolatedDatabase;
  let stop: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    if (inject('databaseKind') === 'postgres') {
      const fresh = await createFreshDatabase(inject('databaseUrl'), 'senzu_test_iso');
      handle.url = fresh.url;
      stop = fresh.drop;
    } else {
      const embedded = await startEmbeddedPostgres({ maxConnections: 8 });
      handle.url = embedded.url;
      stop = embedded.stop;
    }
    await migrate(handle.url);
    handle.pool = new pg.Pool({ connectionString: handle.url, max: 4 });
    // pool.end() resolves before every socket has closed, and the drop below terminates stragglers
    // (57P01); an idle client's error with no listener would crash the run, so teardown errors are expected.
    handle.pool.on('error', () => undefined);
  }, 60_000);
  afterAll(async () => {
    await handle.pool?.end();
    await stop();
  });
  return handle;
}
