// A table's columns as the lake stores them, read from the catalog, so a column added by a later migration
// is archived too instead of silently dropped. A type without a lossless mapping fails the archive (and so
// leaves the partition in place) rather than guessing.
import type pg from 'pg';
import type { LakeColumn, LakeColumnType, LakeValue } from './parquet';

export interface PgLakeColumn extends LakeColumn {
  /** format_type(): what the column is in Postgres, for the restore cast. */
  pgType: string;
  /** The select expression producing the canonical value (see parquet.ts). */
  selectExpression: string;
  /** Parses what node-postgres returns for selectExpression into the canonical value. */
  fromPg: (value: unknown) => LakeValue;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

const asBigInt = (v: unknown): LakeValue => (v === null ? null : BigInt(v as string));
const asNumber = (v: unknown): LakeValue => (v === null ? null : Number(v));
const asIs = (v: unknown): LakeValue => (v === null ? null : (v as LakeValue));

/** numeric(p, s) with p ≤ 15 round-trips exactly through float64 (shortest repr, then the column's scale). */
function numericPrecision(typmod: number): number | null {
  return typmod < 0 ? null : ((typmod - 4) >> 16) & 0xffff;
}

export async function tableColumns(db: Pick<pg.ClientBase, 'query'>, table: string): Promise<PgLakeColumn[]> {
  const { rows } = await db.query<{ name: string; typname: string; type: string; typmod: number; notnull: boolean }>(
    `select a.attname as name, t.typname, format_type(a.atttypid, a.atttypmod) as type, a.atttypmod as typmod, a.attnotnull as notnull
     from pg_attribute a join pg_type t on t.oid = a.atttypid
     where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped
     order by a.attnum`,
    [table],
  );
  return rows.map((r) => {
    const col = quoteIdent(r.name);
    const base = { name: r.name, nullable: !r.notnull, pgType: r.type };
    const column = (type: LakeColumnType, selectExpression: string, fromPg: PgLakeColumn['fromPg']): PgLakeColumn => ({ ...base, type, selectExpression, fromPg });
    switch (r.typname) {
      case 'int8':
        return column('INT64', `${col}::text`, asBigInt);
      case 'int4':
      case 'int2':
        return column('INT32', col, asNumber);
      case 'float8':
      case 'float4':
        return column('DOUBLE', `${col}::float8`, asNumber);
      case 'numeric': {
        const precision = numericPrecision(r.typmod);
        return precision !== null && precision <= 15 ? column('DOUBLE', `${col}::float8`, asNumber) : column('STRING', `${col}::text`, asIs);
      }
      case 'bool':
        return column('BOOLEAN', col, asIs);
      case 'text':
      case 'varchar':
      case 'bpchar':
      case 'uuid':
        return column('STRING', `${col}::text`, asIs);
      case 'json':
      case 'jsonb':
        return column('JSON', `${col}::text`, asIs);
      // A text array is kept as the text of its JSON array (any reader can parse it); toPgText turns it back.
      case '_text':
        return column('STRING', `array_to_json(${col})::text`, asIs);
      // real[] (the served feature vectors; NaN is a missing feature): a Parquet LIST of FLOAT. Read through
      // float8[], whose cast is exact and whose text is the shortest that parses back to the same double, so
      // every element arrives as the float32 it is (NaN, ±Infinity and -0 included). One dimension only.
      case '_float4':
        return column('FLOAT_LIST', `${col}::float8[]::text`, (v) => (v === null ? null : parseFloatArray(v as string, `${table}.${r.name}`)));
      case 'timestamptz':
      case 'timestamp':
        return column('TIMESTAMP_MICROS', `(extract(epoch from ${col}) * 1000000)::int8::text`, asBigInt);
      case 'date':
        return column('DATE', `(${col} - date '1970-01-01')`, asNumber);
      default:
        throw new Error(`${table}.${r.name}: type ${r.type} has no lake mapping; add one in scripts/lib/lake/pg-columns.ts`);
    }
  });
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The canonical value as Postgres input text (for the restore's `::<type>` casts). */
export function toPgText(column: PgLakeColumn, value: LakeValue): string | null {
  if (value === null) return null;
  switch (column.type) {
    case 'TIMESTAMP_MICROS': {
      const micros = value as bigint;
      const ms = Number(micros / 1000n - (micros % 1000n < 0n ? 1n : 0n));
      const rest = Number(((micros % 1000n) + 1000n) % 1000n);
      const d = new Date(ms);
      return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}${pad(rest, 3)}+00`;
    }
    case 'DATE':
      return new Date((value as number) * 86_400_000).toISOString().slice(0, 10);
    case 'FLOAT_LIST':
      // String() of a float32 value is a decimal that real's input rounds back to exactly that float32.
      return `{${(value as Array<number | null>).map((x) => (x === null ? 'NULL' : Object.is(x, -0) ? '-0' : String(x))).join(',')}}`;
    default:
      return column.pgType === 'text[]' ? textArrayLiteral(JSON.parse(value as string) as Array<string | null>) : String(value);
  }
}

/** Postgres' text of a one-dimensional float array ({1.5,NaN,-0,Infinity,NULL}) as float32 values. */
export function parseFloatArray(text: string, what = 'array'): Array<number | null> {
  if (!text.startsWith('{') || !text.endsWith('}')) throw new Error(`${what}: not an array literal: ${text.slice(0, 40)}`);
  const body = text.slice(1, -1);
  if (body === '') return [];
  if (body.includes('{')) throw new Error(`${what}: multidimensional arrays have no lake mapping`);
  return body.split(',').map((item) => {
    if (item === 'NULL') return null;
    const value = Number(item);
    if (Number.isNaN(value) && item !== 'NaN') throw new Error(`${what}: ${item} is not a float`);
    if (!Object.is(Math.fround(value), value)) throw new Error(`${what}: ${item} is not a float32 value`);
    return value;
  });
}

/** A Postgres array literal of text elements: each quoted, with `"` and `\` escaped; null stays NULL. */
function textArrayLiteral(items: Array<string | null>): string {
  return `{${items.map((x) => (x === null ? 'NULL' : `"${x.replace(/[\\"]/g, (c) => `\\${c}`)}"`)).join(',')}}`;
}

export { quoteIdent };
