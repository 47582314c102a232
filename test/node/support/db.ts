import pg from 'pg';
import { afterAll, inject } from 'vitest';

/** A pg pool on the run's fresh database, closed after the file's tests. */
export function testPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
  afterAll(() => pool.end());
  return pool;
}
