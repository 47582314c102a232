// A match the prediction route can answer for: the default bundle's artifacts in this file's R2 (workerd tests
// get them base64 from global-setup), a scheduled match of two 2023/24 teams (so features have a history), and
// its odds in its MatchOdds Durable Object.
import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { inject } from 'vitest';
import { matchOddsName, type OddsRowInput } from '../../../durable-objects/match-odds';
import { withDb } from './models';

const HOUR = 3_600_000;

/**
 * Puts the default bundles' artifacts (football's and the NBA's, both active on the main database) into this test
 * file's R2 (the parity file stays out: no route reads it).
 */
export async function uploadDefaultBundle(): Promise<void> {
  for (const bundle of [inject('defaultBundle'), inject('nbaDefaultBundle')]) {
    for (const name of Object.keys(bundle.files)) {
      if (name !== 'parity.json') await env.MODELS.put(`models/${bundle.id}/${name}`, Uint8Array.from(atob(bundle.files[name]!), (c) => c.charCodeAt(0)));
    }
  }
}

/**
 * Inserts a match `hoursAhead` from now between the teams of the last 2023/24 match, priced an hour ago by four
 * books. (home, away, kick-off) is unique, so files sharing a database pick different hours.
 */
export async function insertPricedMatch(opts: { hoursAhead: number; provider: string }): Promise<number> {
  const now = Date.now();
  const startAt = new Date(Math.ceil((now + opts.hoursAhead * HOUR) / 60_000) * 60_000);
  const capturedAt = new Date(Math.floor((now - HOUR) / 1000) * 1000).toISOString();
  const matchId = await withDb(async (db) => {
    const rows = await db.execute<{ id: string }>(sql`
      with pair as (select sport_id, competition_id, home_team_id, away_team_id from matches where season = '2023-24' order by start_at desc, id limit 1)
      insert into matches (sport_id, competition_id, season, home_team_id, away_team_id, start_at, start_time_known, status, provider, external_match_id)
      select sport_id, competition_id, null, home_team_id, away_team_id, ${startAt.toISOString()}::timestamptz, true, 'scheduled', ${opts.provider}, ${`${opts.provider}-${now}`}
      from pair returning id`);
    return Number(rows.rows[0]!.id);
  });
  const price = (bookmaker: string, market: 'h2h' | 'totals', outcome: string, value: number): OddsRowInput => ({
    bookmaker, market, outcome, point: market === 'totals' ? 2.5 : null, price: value, capturedAt,
  });
  const rows = ['pinnacle', 'market_avg', 'market_max', 'bet365'].flatMap((b, i) => [
    price(b, 'h2h', 'home', 2.1 + i * 0.05), price(b, 'h2h', 'draw', 3.5 + i * 0.05), price(b, 'h2h', 'away', 3.6 + i * 0.05),
    price(b, 'totals', 'over', 1.9 + i * 0.02), price(b, 'totals', 'under', 1.95 + i * 0.02),
  ]);
  await env.MATCH_ODDS.get(env.MATCH_ODDS.idFromName(matchOddsName(matchId))).applyOdds(rows, { matchId, startAt: startAt.toISOString() });
  return matchId;
}
