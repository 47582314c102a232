import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';

export interface DatabaseStatus {
  ok: boolean;
  latencyMs: number;
  serverVersion?: string;
  error?: string;
}

export class SystemService {
  constructor(private readonly db: () => Database) {}

  /** A round trip that proves the database accepts queries; never throws, so /ready can report why. */
  async databaseStatus(): Promise<DatabaseStatus> {
    const started = performance.now();
    try {
      const result = await this.db().execute<{ version: string }>(sql`select current_setting('server_version') as version`);
      return { ok: true, latencyMs: performance.now() - started, serverVersion: result.rows[0]?.version };
    } catch (error) {
      return { ok: false, latencyMs: performance.now() - started, error: (error as Error).message };
    }
  }
}
