// The Node CLIs' drizzle database over their pg Pool (or one client of it): the same `PgDb` the Worker's code
// takes over the Neon Pool (src/db/pg.ts), so the ingestion and feature-store code is one implementation.
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { PgDb } from '../../src/db/pg';

export function nodeDatabase(client: pg.Pool | pg.PoolClient | pg.Client): PgDb {
  return drizzle({ client });
}
