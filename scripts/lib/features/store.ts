// feature_vectors: one row per (match, feature_version), `as_of` the prediction time, `values` as real[]
// (float4: the stored copy is for serving and inspection; the CSV export keeps full float64 precision).
import { FEATURE_COUNT } from '../../../src/services/features';
import type { FeatureRow, Queryable } from './matrix';

const BATCH_ROWS = 2000;

/** Postgres array literal of a vector; NaN is Postgres' 'NaN'. */
export const realArrayLiteral = (values: Float64Array): string => `{${Array.from(values, (v) => (Number.isNaN(v) ? 'NaN' : String(v))).join(',')}}`;

/**
 * Upserts the rows' vectors in batches (one statement per BATCH_ROWS rows). A stored vector that is already
 * identical is left alone, so a re-export writes nothing. Returns how many rows were inserted or changed.
 */
export async function storeFeatureVectors(db: Queryable, rows: readonly FeatureRow[]): Promise<number> {
  let written = 0;
  for (let start = 0; start < rows.length; start += BATCH_ROWS) {
    const batch = rows.slice(start, start + BATCH_ROWS);
    for (const r of batch) {
      if (r.values.length !== FEATURE_COUNT) throw new Error(`match ${r.matchId}: ${r.values.length} features, expected ${FEATURE_COUNT}`);
    }
    const result = await db.query(
      `insert into feature_vectors (match_id, feature_version, as_of, values)
       select r.match_id, r.feature_version, r.as_of, r.vals::real[]
       from unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[]) as r(match_id, feature_version, as_of, vals)
       on conflict (match_id, feature_version) do update set as_of = excluded.as_of, values = excluded.values, computed_at = now()
       where (feature_vectors.as_of, feature_vectors.values) is distinct from (excluded.as_of, excluded.values)`,
      [batch.map((r) => r.matchId), batch.map((r) => r.featureVersion), batch.map((r) => r.asOf.toISOString()), batch.map((r) => realArrayLiteral(r.values))],
    );
    written += result.rowCount ?? 0;
  }
  return written;
}
