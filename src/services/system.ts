import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';

export interface DatabaseStatus {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export class SystemService {
  constructor(private readonly db: () => Database) {}

  /** A round trip that proves the database accepts queries; never throws, so /ready can report why. */
  async databaseStatus(): Promise<DatabaseStatus> {
    const started = performance.now();
    try {
      // Not the server version: a public endpoint has no business telling an attacker which Postgres to target.
      // A `sql` template because the builder cannot say a select without a table; no row is read.
      await this.db().execute(sql`select 1`);
      return { ok: true, latencyMs: performance.now() - started };
    } catch (error) {
      return { ok: false, latencyMs: performance.now() - started, error: (error as Error).message };
    }
  }
}
