// The NBA replay as the Worker ingests it: The Odds API stand-in replaying NBA 2021/22 on the real clock
// (test/global-setup.ts), run through the fixtures and odds Cron Triggers on this file's database.
import { createScheduledController, env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { expect, inject } from 'vitest';
import { matchOddsName, type LiveState } from '../../../durable-objects/match-odds';
import type { Env } from '../../../src/env';
import { workerFanOut } from '../../../src/jobs/ingestion';
import { runScheduled } from '../../../src/jobs/scheduled';
import { SCHEDULES, type ScheduleName } from '../../../src/jobs/schedules';
import { createLogger } from '../../../src/lib/logging';
import { withDb } from './models';

const silent = createLogger({}, () => undefined);
const overrides = { ODDS_API_BASE_URL: inject('nbaStandinUrl'), ODDS_API_KEY: inject('nbaStandinKey'), ODDS_API_SPORTS: 'basketball_nba' };
const TWO_HOURS = 2 * 3_600_000;

/** A Cron Trigger's run at `at`, against the NBA stand-in. */
export function nbaCron(schedule: ScheduleName, at = Date.now()) {
  return runScheduled(createScheduledController({ scheduledTime: at, cron: SCHEDULES[schedule] }), { ...env, ...overrides } as Env, silent);
}

/**
 * The hourly fixtures job, then the odds job, as `npm start` runs them against the same stand-in; answers the
 * first upcoming NBA game with h2h, spreads and totals stored. The odds job polls games 12–48 h away on the runs
 * whose minute is a multiple of 120 (src/services/ingestion/budget.ts), and the replay's next tip-off is hours
 * away, so the odds run is the last such run before now.
 */
export async function ingestNbaReplay(): Promise<number> {
  const fixtures = await nbaCron('fixtures');
  expect(fixtures.map((r) => r.status), JSON.stringify(fixtures)).toEqual(['succeeded', 'succeeded']);
  const [odds] = await nbaCron('odds', Math.floor(Date.now() / TWO_HOURS) * TWO_HOURS);
  expect(odds!.status, JSON.stringify(odds)).toBe('succeeded');
  const [row] = await withDb(async (db) =>
    (
      await db.execute<{ id: string }>(sql`
        select m.id from matches m join sports s on s.id = m.sport_id
        where s.key = 'basketball' and m.status = 'scheduled' and m.start_at > now() + interval '1 hour'
          and exists (select 1 from odds_snapshots o where o.match_id = m.id and o.market = 'spreads')
          and exists (select 1 from odds_snapshots o where o.match_id = m.id and o.market = 'totals')
          and exists (select 1 from odds_snapshots o where o.match_id = m.id and o.market = 'h2h')
        order by m.start_at, m.id limit 1`)
    ).rows,
  );
  expect(row, 'the odds job stored an upcoming NBA game with h2h, spreads and totals').toBeDefined();
  return Number(row!.id);
}

/** What the odds job does after writing new odds for a match: its fan-out's invalidation, on this file's database. */
export const newOddsFor = (matchId: number) => withDb((db) => workerFanOut(env as unknown as Env, () => db).invalidatePredictions([matchId]));

/** The match's MatchOdds state. */
export const liveState = (matchId: number): Promise<LiveState> => env.MATCH_ODDS.get(env.MATCH_ODDS.idFromName(matchOddsName(matchId))).state();
