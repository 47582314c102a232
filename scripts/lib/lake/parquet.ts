// Parquet for the data lake: hyparquet-writer writes, hyparquet reads back. Rows travel as arrays in column
// order, each value in one canonical JS form per column type, so the same row digest can be computed from
// the source rows and from the Parquet read back from S3:
//   INT64 → bigint, INT32 → number, DOUBLE → number, BOOLEAN → boolean, STRING/JSON → string,
//   TIMESTAMP_MICROS → bigint (µs since the epoch, UTC: Postgres' own precision), DATE → number (days),
//   FLOAT_LIST → (number | null)[] of float32 values (a Parquet LIST of FLOAT: Postgres real[]; NaN, ±Infinity
//   and -0 are values like any other, null an element that is NULL).
import { createHash, type Hash } from 'node:crypto';
import { parquetMetadata, parquetRead } from 'hyparquet';
import { ByteWriter, ParquetWriter, type SchemaElement } from 'hyparquet-writer';

export type LakeColumnType = 'INT32' | 'INT64' | 'DOUBLE' | 'BOOLEAN' | 'STRING' | 'JSON' | 'TIMESTAMP_MICROS' | 'DATE' | 'FLOAT_LIST';

export interface LakeColumn {
  name: string;
  type: LakeColumnType;
  nullable: boolean;
}

export type LakeValue = bigint | number | boolean | string | null | Array<number | null>;

/** A column's schema elements: one for a flat column, the standard three-level LIST group for a list. */
function schemaElements(c: LakeColumn): SchemaElement[] {
  const repetition_type = c.nullable ? 'OPTIONAL' : 'REQUIRED';
  switch (c.type) {
    case 'INT32':
    case 'INT64':
    case 'DOUBLE':
    case 'BOOLEAN':
      return [{ name: c.name, type: c.type, repetition_type }];
    case 'STRING':
      return [{ name: c.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type }];
    case 'JSON':
      return [{ name: c.name, type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type }];
    case 'TIMESTAMP_MICROS':
      return [{ name: c.name, type: 'INT64', repetition_type, logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } }];
    case 'DATE':
      return [{ name: c.name, type: 'INT32', converted_type: 'DATE', repetition_type }];
    case 'FLOAT_LIST':
      return [
        { name: c.name, repetition_type, converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: 'FLOAT', repetition_type: 'OPTIONAL' },
      ];
  }
}

export const parquetSchema = (columns: readonly LakeColumn[]): SchemaElement[] => [
  { name: 'root', num_children: columns.length },
  ...columns.flatMap(schemaElements),
];

/**
 * A Parquet file built one chunk at a time: each `append` becomes row groups right away, so only the encoded
 * bytes are held, not the source rows. `finish` returns the file.
 */
export class ParquetFileBuilder {
  private readonly bytes = new ByteWriter();
  private readonly writer: ParquetWriter;
  rows = 0;

  constructor(
    private readonly columns: readonly LakeColumn[],
    kvMetadata: Record<string, string> = {},
  ) {
    this.writer = new ParquetWriter({
      writer: this.bytes,
      schema: parquetSchema(columns),
      kvMetadata: Object.entries(kvMetadata).map(([key, value]) => ({ key, value })),
      createdBy: 'senzu-ai lake (hyparquet-writer)',
    });
  }

  append(rows: readonly LakeValue[][]): void {
    if (rows.length === 0) return;
    const columnData = this.columns.map((c, i) => ({ name: c.name, data: rows.map((r) => r[i] ?? null) as never[] }));
    void this.writer.write({ columnData, rowGroupSize: rows.length });
    this.rows += rows.length;
  }

  finish(): Uint8Array {
    void this.writer.finish();
    return new Uint8Array(this.bytes.getBuffer());
  }
}

export function encodeParquet(columns: readonly LakeColumn[], rows: readonly LakeValue[][], kvMetadata: Record<string, string> = {}): Uint8Array {
  const file = new ParquetFileBuilder(columns, kvMetadata);
  file.append(rows);
  return file.finish();
}

const toArrayBuffer = (bytes: Uint8Array): ArrayBuffer => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

/** The row count a Parquet file's footer declares, and its key-value metadata. */
export function parquetFooter(bytes: Uint8Array): { rows: number; columns: string[]; kv: Record<string, string> } {
  const metadata = parquetMetadata(toArrayBuffer(bytes));
  return {
    rows: Number(metadata.num_rows),
    columns: topLevelNames(metadata.schema),
    kv: Object.fromEntries((metadata.key_value_metadata ?? []).map((kv) => [kv.key, kv.value ?? ''])),
  };
}

/** The names of the root's children, skipping the elements nested inside groups (a LIST's list/element). */
function topLevelNames(schema: ReadonlyArray<{ name: string; num_children?: number }>): string[] {
  const names: string[] = [];
  let i = 1;
  const skip = (): void => {
    const children = schema[i++]!.num_children ?? 0;
    for (let c = 0; c < children; c++) skip();
  };
  while (i < schema.length) {
    names.push(schema[i]!.name);
    skip();
  }
  return names;
}

/** Every row of a Parquet file as arrays of canonical values, in the order of `columns`. */
export async function readParquetRows(bytes: Uint8Array, columns: readonly LakeColumn[]): Promise<LakeValue[][]> {
  const decoder = new TextDecoder();
  let rows: LakeValue[][] = [];
  await parquetRead({
    file: toArrayBuffer(bytes),
    columns: columns.map((c) => c.name),
    parsers: {
      timestampFromMicroseconds: (micros: bigint) => micros,
      dateFromDays: (days: number) => days,
      jsonFromBytes: (b: Uint8Array) => decoder.decode(b),
    },
    onComplete: (data: LakeValue[][]) => {
      rows = data;
    },
  });
  return rows.map((r) =>
    r.map((v, i) => {
      if (v === undefined || v === null) return null;
      if (columns[i]!.type === 'FLOAT_LIST') return Array.from(v as ArrayLike<number | null | undefined>, (x) => (x === undefined ? null : x));
      return v;
    }),
  );
}

/**
 * sha256 over rows in order, each value tagged by its kind, so 1 and 1n and '1' differ and NULL is not ''.
 * Computed from the source rows while they stream out and again from the Parquet read back from S3.
 */
export class RowDigest {
  private readonly hash: Hash = createHash('sha256');
  rows = 0;

  update(row: readonly LakeValue[]): void {
    this.hash.update(row.map(digestValue).join('\x1f') + '\x1e');
    this.rows += 1;
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

function digestValue(v: LakeValue): string {
  if (v === null) return 'n';
  if (typeof v === 'bigint') return `i${v}`;
  if (typeof v === 'number') return `f${Object.is(v, -0) ? '-0' : String(v)}`;
  if (typeof v === 'boolean') return v ? 'b1' : 'b0';
  if (Array.isArray(v)) return `a${v.length}[${v.map(digestValue).join(',')}]`;
  return `s${v.length}:${v}`;
}

export function digestRows(rows: readonly LakeValue[][]): string {
  const digest = new RowDigest();
  for (const r of rows) digest.update(r);
  return digest.digest();
}
