// The one database style for code that runs in the Worker and in the Node CLIs alike (ingestion, the feature
// store): it takes a `PgDb`, any drizzle Postgres database or transaction over this schema. The Worker passes
// its drizzle database over the Neon Pool (client.ts); the CLIs pass `drizzle-orm/node-postgres` over their pg
// Pool (scripts/lib/db.ts). Queries are drizzle's builder; the `sql` template only where the builder cannot say
// it, with the columns as typed references, never `$n` text (test/node/db-style.test.ts).
import { Placeholder, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';

/** What both drivers answer a statement with: pg's QueryResult, which the Neon driver mirrors. */
export interface PgResult<TRow> {
  rows: TRow[];
  rowCount: number | null;
}
export interface PgResultHKT extends PgQueryResultHKT {
  type: PgResult<this['row']>;
}

/**
 * A drizzle database or transaction (a transaction is a database), on either driver. Without drizzle's relational
 * schema: queries name the tables of ./schema themselves, and building the relational config cost every drizzle()
 * call a walk over all tables (src/db/client.ts).
 */
export type PgDb = PgDatabase<PgResultHKT>;

/**
 * `column = any(array)`: the list is one parameter however long it is. inArray binds one parameter per value,
 * and a statement takes at most 65,535, which a rebuild's or an import's id lists can approach. A placeholder
 * (sql.placeholder) binds the array when a prepared statement is executed.
 */
export const anyOf = (column: PgColumn, values: readonly unknown[] | Placeholder): SQL =>
  sql`${column} = any(${values instanceof Placeholder ? values : sql.param(values)}::${sql.raw(column.getSQLType())}[])`;

/** An array bound as one parameter of type `type[]`, for `unnest`. */
export const pgArray = (values: readonly unknown[], type: string): SQL => sql`${sql.param(values)}::${sql.raw(type)}[]`;

/** A column's bare name: an INSERT's column list and an ON CONFLICT target take no table-qualified names. */
export const bare = (column: PgColumn): SQL => sql`${sql.identifier(column.name)}`;

/**
 * drizzle wraps a driver error as "Failed query: <statement> params: <every parameter>", which for a season's
 * odds is megabytes; the job records the database's own reason and the statement's first line instead.
 */
export function databaseFailure(error: unknown): unknown {
  const cause = (error as { cause?: unknown }).cause;
  const message = (error as Error).message ?? '';
  if (!(cause instanceof Error) || !message.startsWith('Failed query:')) return error;
  const statement = message.slice('Failed query:'.length).trim().split('\n')[0]!.slice(0, 120);
  return new Error(`${cause.message} (in: ${statement})`, { cause });
}
