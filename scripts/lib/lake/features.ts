// The feature store's lake side: feature rows as Parquet in S3, partitioned Hive-style by feature version
// and kick-off month (features/feature_version=v1/month=2023-08/part-00000.parquet), so every history is
// there for training while Postgres' feature_vectors only needs what serving reads. One object per month:
// a re-export replaces the month whole, and an unchanged month (same sha256) is not uploaded again.
import { sha256Hex, type ObjectStore } from '../../../src/services/artifacts';
import { FEATURE_NAMES } from '../../../src/services/features';
import type { FeatureRow } from '../features/matrix';
import { encodeParquet, type LakeColumn, type LakeValue } from './parquet';

export const FEATURE_LAKE_COLUMNS: readonly LakeColumn[] = [
  { name: 'match_id', type: 'INT64', nullable: false },
  { name: 'start_at', type: 'TIMESTAMP_MICROS', nullable: false },
  { name: 'as_of', type: 'TIMESTAMP_MICROS', nullable: false },
  { name: 'season', type: 'STRING', nullable: true },
  { name: 'competition', type: 'STRING', nullable: false },
  { name: 'home_team', type: 'STRING', nullable: false },
  { name: 'away_team', type: 'STRING', nullable: false },
  { name: 'label_1x2', type: 'INT32', nullable: true },
  { name: 'label_ou25', type: 'INT32', nullable: true },
  // NaN (a missing feature) is stored as NaN, as in the CSV: the models treat both the same.
  ...FEATURE_NAMES.map((name): LakeColumn => ({ name, type: 'DOUBLE', nullable: false })),
];

export const featureMonth = (r: FeatureRow) => r.startAt.toISOString().slice(0, 7);

export const featureLakeKey = (featureVersion: string, month: string) => `features/feature_version=${featureVersion}/month=${month}/part-00000.parquet`;

export function featureLakeRow(r: FeatureRow): LakeValue[] {
  return [
    BigInt(r.matchId),
    BigInt(r.startAt.getTime()) * 1000n,
    BigInt(r.asOf.getTime()) * 1000n,
    r.season,
    r.competition,
    r.homeTeam,
    r.awayTeam,
    r.label1x2,
    r.labelOu25,
    ...Array.from(r.values),
  ];
}

export interface FeatureLakeMonth {
  key: string;
  rows: number;
  sha256: string;
  uploaded: boolean;
}

/** Writes the rows (already sorted by kick-off) month by month; each upload is read back and checked. */
export async function writeFeatureLake(store: ObjectStore, rows: readonly FeatureRow[]): Promise<FeatureLakeMonth[]> {
  const byMonth = new Map<string, FeatureRow[]>();
  for (const r of rows) {
    const key = featureLakeKey(r.featureVersion, featureMonth(r));
    let list = byMonth.get(key);
    if (!list) byMonth.set(key, (list = []));
    list.push(r);
  }
  const written: FeatureLakeMonth[] = [];
  for (const [key, monthRows] of [...byMonth].sort(([a], [b]) => a.localeCompare(b))) {
    const bytes = encodeParquet(FEATURE_LAKE_COLUMNS, monthRows.map(featureLakeRow), { feature_version: monthRows[0]!.featureVersion });
    const sha256 = await sha256Hex(bytes);
    const existing = await store.head(key);
    if (existing?.sha256 === sha256 && existing.size === bytes.byteLength) {
      written.push({ key, rows: monthRows.length, sha256, uploaded: false });
      continue;
    }
    await store.putVerified(key, bytes, { contentType: 'application/vnd.apache.parquet' });
    written.push({ key, rows: monthRows.length, sha256, uploaded: true });
  }
  return written;
}
