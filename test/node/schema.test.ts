import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import * as schema from '../../src/db/schema';
import { testPool } from './support/db';

const pool = testPool();
const tables = (Object.values(schema) as unknown[]).filter((v): v is PgTable => v instanceof PgTable);

describe('drizzle schema and SQL migrations agree', () => {
  it('declares every table of the design', () => {
    expect(tables.map((t) => getTableConfig(t).name).sort()).toEqual(
      [
        'admin_actions',
        'api_keys',
        'email_outbox',
        'email_verification_tokens',
        'backtest_results',
        'competitions',
        'feature_league_states',
        'feature_pair_states',
        'feature_store_progress',
        'feature_team_states',
        'feature_vectors',
        'ingestion_jobs',
        'matches',
        'model_evaluations',
        'model_runs',
        'odds_snapshots',
        'predictions',
        'refresh_tokens',
        'served_feature_vectors',
        'sports',
        'team_aliases',
        'teams',
        'unresolved_team_names',
        'users',
      ].sort(),
    );
  });

  it.each(tables.map((t) => [getTableConfig(t).name, t] as const))('%s has the same columns, types and nullability', async (name, table) => {
    const { rows } = await pool.query<{ column_name: string; is_nullable: string; udt_name: string }>(
      `select column_name, is_nullable, udt_name from information_schema.columns where table_schema = 'public' and table_name = $1`,
      [name],
    );
    const actual = Object.fromEntries(rows.map((r) => [r.column_name, { nullable: r.is_nullable === 'YES', type: r.udt_name }]));
    const declared = Object.fromEntries(
      getTableConfig(table).columns.map((c) => [c.name, { nullable: !c.notNull, type: udtName(c.getSQLType()) }]),
    );
    expect(actual).toEqual(declared);
  });
});

// information_schema reports the internal type name; map drizzle's SQL type onto it.
function udtName(sqlType: string): string {
  const base = sqlType.replace(/\(.*\)/, '').trim();
  const array = base.endsWith('[]');
  const name = base.replace('[]', '');
  const map: Record<string, string> = {
    text: 'text',
    uuid: 'uuid',
    smallint: 'int2',
    integer: 'int4',
    bigint: 'int8',
    boolean: 'bool',
    numeric: 'numeric',
    real: 'float4',
    'double precision': 'float8',
    jsonb: 'jsonb',
    date: 'date',
    'timestamp with time zone': 'timestamptz',
  };
  const udt = map[name] ?? name;
  return array ? `_${udt}` : udt;
}
