// Applies migrations/*.sql in file-name order, each inside its own transaction, recording a checksum so
// an edited migration that was already applied is refused instead of silently diverging. Then loads the sports
// declared as data (data/sports/*.json, docs/sports.md), idempotently, under the same lock.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { seedSports, type SportSeedCounts } from '../../src/services/sport-definitions';
import { readSportDefinitions, SPORTS_DIR } from './sports';

export const MIGRATIONS_DIR = new URL('../../migrations/', import.meta.url).pathname;

export interface MigrationResult {
  applied: string[];
  skipped: string[];
  /** What loading each data/sports/*.json changed (all zeros once loaded). */
  sports: SportSeedCounts[];
}

// Any constant works; it only has to be the same for every migrator so two never run at once.
const MIGRATION_LOCK_KEY = 727_133_001;

export async function migrate(databaseUrl: string, dir = MIGRATIONS_DIR, options: { sportsDir?: string } = {}): Promise<MigrationResult> {
  // Read and validated before anything is applied, so a broken data file fails the run up front.
  const sportDefinitions = await readSportDefinitions(options.sportsDir ?? SPORTS_DIR);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migrations');
    const done = new Map(rows.map((r) => [r.name, r.checksum]));
    const result: MigrationResult = { applied: [], skipped: [], sports: [] };
    for (const file of files) {
      const sql = await readFile(join(dir, file), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const previous = done.get(file);
      if (previous !== undefined) {
        if (previous !== checksum) {
          throw new Error(`migration ${file} was changed after it was applied; add a new migration instead`);
        }
        result.skipped.push(file);
        continue;
      }
      try {
        await client.query('BEGIN');
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [file, checksum]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(error as Error).message}`, { cause: error });
      }
      result.applied.push(file);
    }
    try {
      result.sports = await seedSports(drizzle({ client }), sportDefinitions);
    } catch (error) {
      throw new Error(`loading data/sports failed: ${(error as Error).message}`, { cause: error });
    }
    return result;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}
