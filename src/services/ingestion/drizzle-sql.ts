// The Worker's adapter: SqlTransactor over a drizzle database (the Neon Pool in production). Any drizzle
// Postgres database fits the structural type, so Node tests can drive it through node-postgres too.
import { sql, type SQL } from 'drizzle-orm';
import type { SqlQuery, SqlResult, SqlTransactor } from './sql';

interface DrizzleExecutor {
  execute(query: SQL): Promise<{ rows: unknown[]; rowCount?: number | null }>;
}

export interface DrizzleTransactional {
  transaction<T>(work: (tx: DrizzleExecutor) => Promise<T>): Promise<T>;
}

/** `$n` placeholders → drizzle params, so the text reaches the driver as one parameterised statement. */
export function toDrizzleSql(text: string, params: unknown[]): SQL {
  const parts = text.split(/\$(\d+)/);
  const chunks: SQL[] = parts.map((part, i) => {
    if (i % 2 === 0) return sql.raw(part);
    const index = Number(part) - 1;
    if (index < 0 || index >= params.length) throw new Error(`placeholder $${part} has no parameter (${params.length} given)`);
    return sql`${sql.param(params[index])}`;
  });
  return sql.join(chunks);
}

export function drizzleQuery(executor: DrizzleExecutor): SqlQuery {
  return async (text, params) => {
    const result = await executor.execute(toDrizzleSql(text, params));
    return { rows: result.rows as SqlResult['rows'], rowCount: result.rowCount ?? null };
  };
}

export function drizzleTransactor(db: DrizzleTransactional): SqlTransactor {
  return { transaction: (work) => db.transaction((tx) => work(drizzleQuery(tx))) };
}
