// The training CSV. The column order and encodings are a contract with models/ (Python, csv module / numpy)
// and the evaluation library: match_id, start_at (ISO UTC), season, competition, home_team, away_team,
// label_1x2 (0 home / 1 draw / 2 away, empty if unfinished), label_ou25 (1 over 2.5 goals, else 0; empty if
// unfinished), then the 72 FEATURE_NAMES; NaN is `nan`, numbers are full float64 precision.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FEATURE_NAMES } from '../../../src/services/features';
import type { FeatureRow } from './matrix';

export const CSV_LEADING_COLUMNS = ['match_id', 'start_at', 'season', 'competition', 'home_team', 'away_team', 'label_1x2', 'label_ou25'] as const;
export const CSV_COLUMNS: readonly string[] = [...CSV_LEADING_COLUMNS, ...FEATURE_NAMES];

/** The shortest decimal that reads back as the same float64 (String), or `nan`. */
export const formatFeatureValue = (x: number): string => (Number.isNaN(x) ? 'nan' : String(x));

/** RFC 4180 quoting, only where needed. */
export const csvField = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function featureCsvLine(r: FeatureRow): string {
  const fields = [
    String(r.matchId),
    r.startAt.toISOString(),
    csvField(r.season ?? ''),
    csvField(r.competition),
    csvField(r.homeTeam),
    csvField(r.awayTeam),
    r.label1x2 === null ? '' : String(r.label1x2),
    r.labelOu25 === null ? '' : String(r.labelOu25),
  ];
  for (const v of r.values) fields.push(formatFeatureValue(v));
  return fields.join(',');
}

export const featureCsvHeader = (): string => CSV_COLUMNS.join(',');

/** The whole CSV as one string (header, then one line per row, each ending in \n). */
export const formatFeatureCsv = (rows: readonly FeatureRow[]): string => [featureCsvHeader(), ...rows.map(featureCsvLine)].join('\n') + '\n';

/** Writes the CSV to `path`, creating its directory. */
export async function writeFeatureCsv(rows: readonly FeatureRow[], path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  function* chunks() {
    yield featureCsvHeader() + '\n';
    for (let i = 0; i < rows.length; i += 1000) yield rows.slice(i, i + 1000).map((r) => featureCsvLine(r) + '\n').join('');
  }
  await pipeline(Readable.from(chunks()), createWriteStream(path));
}
