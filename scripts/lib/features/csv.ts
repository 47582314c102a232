// The training CSV. The column order and encodings are a contract with models/ (Python, csv module / numpy)
// and the evaluation library: match_id, start_at (ISO UTC), season, competition, home_team, away_team,
// label_1x2 (0 home / 1 draw / 2 away, empty if unfinished), label_ou25 (1 over 2.5 goals, else 0; empty if
// unfinished), then the 72 FEATURE_NAMES, then the market anchors (ANCHOR_COLUMNS); NaN is `nan`, numbers are
// full float64 precision.
//
// The anchors are written under every margin method, so that train.py chooses the method on its validation
// season from the one TypeScript implementation of margin removal that the Worker runs (no second Shin in
// Python to drift from it).
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ANCHOR_OUTCOMES, MARGIN_METHODS, marketAnchor, type AnchorMarket } from '../../../src/domain/odds';
import { FEATURE_NAMES } from '../../../src/services/features';
import type { FeatureRow } from './matrix';

export const CSV_LEADING_COLUMNS = ['match_id', 'start_at', 'season', 'competition', 'home_team', 'away_team', 'label_1x2', 'label_ou25'] as const;
/** The anchor's name in the CSV per market: the bundle's and train.py's market names. */
const CSV_MARKET: Record<AnchorMarket, string> = { h2h: '1x2', ou25: 'ou25' };
/** Which outcomes' anchor probabilities are written: all three for 1X2; over for O/U (under is 1 − over). */
const CSV_ANCHOR_OUTCOMES: Record<AnchorMarket, readonly string[]> = { h2h: ANCHOR_OUTCOMES.h2h, ou25: ['over'] };

/**
 * Per market: `anchor_<market>_source` (pinnacle, consensus or empty for none), then the margin-free anchor
 * probability of each written outcome under each method, `anchor_<market>_<method>_<outcome>`.
 */
export const ANCHOR_COLUMNS: readonly string[] = (Object.keys(CSV_MARKET) as AnchorMarket[]).flatMap((market) => [
  `anchor_${CSV_MARKET[market]}_source`,
  ...MARGIN_METHODS.flatMap((method) => CSV_ANCHOR_OUTCOMES[market].map((o) => `anchor_${CSV_MARKET[market]}_${method}_${o}`)),
]);

export const CSV_COLUMNS: readonly string[] = [...CSV_LEADING_COLUMNS, ...FEATURE_NAMES, ...ANCHOR_COLUMNS];

function anchorFields(r: FeatureRow): string[] {
  const fields: string[] = [];
  for (const market of Object.keys(CSV_MARKET) as AnchorMarket[]) {
    const byMethod = MARGIN_METHODS.map((method) => marketAnchor(r.odds, market, method));
    const source = byMethod[0]!.source;
    fields.push(source === 'none' ? '' : source);
    for (const anchor of byMethod) {
      for (const outcome of CSV_ANCHOR_OUTCOMES[market]) {
        const i = (ANCHOR_OUTCOMES[market] as readonly string[]).indexOf(outcome);
        fields.push(formatFeatureValue(anchor.probabilities ? anchor.probabilities[i]! : NaN));
      }
    }
  }
  return fields;
}

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
  fields.push(...anchorFields(r));
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
