// Every writer of odds_snapshots keeps matches.odds_captured_from/to (migration 0005) covering what it stored:
// odds reads bound their partition scan by this range, so a row outside it would be invisible to them.
import type { SqlQuery } from './sql';

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
export async function widenOddsRanges(query: SqlQuery, ranges: CaptureRanges): Promise<void> {
  if (ranges.size === 0) return;
  const ids = [...ranges.keys()];
  await query(
    `update matches m
     set odds_captured_from = least(m.odds_captured_from, r.first_capture),
         odds_captured_to = greatest(m.odds_captured_to, r.last_capture)
     from unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[]) as r(id, first_capture, last_capture)
     where m.id = r.id
       and (m.odds_captured_from is null or m.odds_captured_to is null
            or r.first_capture < m.odds_captured_from or r.last_capture > m.odds_captured_to)`,
    [ids, ids.map((id) => new Date(ranges.get(id)!.from).toISOString()), ids.map((id) => new Date(ranges.get(id)!.to).toISOString())],
  );
}
