// The smallest database surface the ingestion writes need, so one implementation serves the Worker (drizzle
// over the Neon Pool) and Node (pg) alike: a parameterised query, and a transaction that hands one out.
// Adapters: drizzle-sql.ts here (Worker), scripts/lib/ingestion/pg-sql.ts (Node).

export interface SqlResult {
  rows: Array<Record<string, unknown>>;
  /** Rows inserted/updated/deleted (or returned); null when the driver does not say. */
  rowCount: number | null;
}

/** `text` uses `$1`… placeholders; JS arrays are sent as Postgres arrays. */
export type SqlQuery = (text: string, params: unknown[]) => Promise<SqlResult>;

export interface SqlTransactor {
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (query: SqlQuery) => Promise<T>): Promise<T>;
}
