// Node's adapter for the ingestion writes (src/services/ingestion/sql.ts): a pg Pool, one client per transaction.
import type pg from 'pg';
import type { SqlQuery, SqlTransactor } from '../../../src/services/ingestion/sql';

export function pgQuery(client: pg.Pool | pg.PoolClient | pg.Client): SqlQuery {
  return async (text, params) => {
    const result = await client.query(text, params);
    return { rows: result.rows, rowCount: result.rowCount };
  };
}

export function pgTransactor(pool: pg.Pool): SqlTransactor {
  return {
    async transaction(work) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('begin');
        const result = await work(pgQuery(client));
        await client.query('commit');
        return result;
      } catch (error) {
        // A client whose rollback failed is in an unknown state: destroy it instead of pooling it.
        await client.query('rollback').catch((rollbackError: Error) => (broken = rollbackError));
        throw error;
      } finally {
        client.release(broken);
      }
    },
  };
}
