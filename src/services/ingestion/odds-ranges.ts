// Every writer of odds_snapshots keeps matches.odds_captured_from/to (migration 0005) covering what it stored:
// odds reads bound their partition scan by this range, so a row outside it would be invisible to them.
import { sql } from 'drizzle-orm';
import { bare, pgArray, type PgDb } from '../../db/pg';
import { matches } from '../../db/schema';

export type CaptureRanges = Map<string, { from: number; to: number }>;

/** Adds one capture (epoch ms) of `matchId` to `ranges`. */
export function addCapture(ranges: CaptureRanges, matchId: string, capturedAtMs: number): void {
  const r = ranges.get(matchId);
  if (!r) ranges.set(matchId, { from: capturedAtMs, to: capturedAtMs });
  else {
    if (capturedAtMs < r.from) r.from = capturedAtMs;
    if (capturedAtMs > r.to) r.to = capturedAtMs;
  }
}

/** Widens (never narrows) each match's capture range to include `ranges`; untouched rows are not rewritten. */
export async function widenOddsRanges(db: PgDb, ranges: CaptureRanges): Promise<void> {
  if (ranges.size === 0) return;
  const ids = [...ranges.keys()];
  const from = ids.map((id) => new Date(ranges.get(id)!.from).toISOString());
  const to = ids.map((id) => new Date(ranges.get(id)!.to).toISOString());
  // Each match widens to its own range: an UPDATE ... FROM unnest of the ranges, which the builder's update
  // (one value for every row it touches) cannot say.
  await db.execute(sql`
    update ${matches}
    set ${bare(matches.oddsCapturedFrom)} = least(${matches.oddsCapturedFrom}, r.first_capture),
        ${bare(matches.oddsCapturedTo)} = greatest(${matches.oddsCapturedTo}, r.last_capture)
    from unnest(${pgArray(ids, 'bigint')}, ${pgArray(from, 'timestamptz')}, ${pgArray(to, 'timestamptz')}) as r(id, first_capture, last_capture)
    where ${matches.id} = r.id
      and (${matches.oddsCapturedFrom} is null or ${matches.oddsCapturedTo} is null
           or r.first_capture < ${matches.oddsCapturedFrom} or r.last_capture > ${matches.oddsCapturedTo})`);
}
