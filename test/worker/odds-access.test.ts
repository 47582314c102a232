// Tier rules on odds history: OddsService enforces any OddsAccess window it is given, and the route picks the
// window from the caller's tier (shapeForTier). Checked on real data: the imported seasons are years old, so
// a free or anonymous caller sees exactly the latest price of each line; and on a match of this file's own with
// prices captured 8 and 6 days ago, so the window is seen to be 7 days, not 1 or 30.
import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { createApiKey, promote, registerUser } from './support/auth';
import { api } from './support/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/client';
import { configFrom } from '../../src/env';
import { NotFoundError } from '../../src/lib/errors';
import { createLogger } from '../../src/lib/logging';
import type { OddsSnapshot } from '../../src/schemas/odds';
import { writeOdds } from '../../src/services/ingestion/odds-writer';
import { FULL_ODDS_HISTORY, OddsService } from '../../src/services/odds';

const lineKey = (o: OddsSnapshot) => `${o.bookmaker}|${o.market}|${o.outcome}|${o.point}`;

let handle: DatabaseHandle;
let service: OddsService;
let match: { id: number; startAt: string };
let history: OddsSnapshot[];

beforeAll(async () => {
  const config = configFrom(env);
  handle = createDatabase(config.DATABASE_URL, config.WS_PROXY, createLogger({}, () => undefined));
  service = new OddsService(() => handle.db);
  // E0 2023-08-11 Burnley v Man City: its file has pre-match and closing prices, but no closing Asian
  // handicap maximum, so two of its lines end on a pre-match price.
  const res = await api('/matches?from=2023-08-11&to=2023-08-12');
  const { data } = await res.json<{ data: Array<{ id: number; startAt: string; homeTeam: { name: string } }> }>();
  match = data.find((m) => m.homeTeam.name === 'Burnley')!;
  history = (await service.forMatch(match.id, { latest: false, limit: 1000 }, FULL_ODDS_HISTORY))!.data;
});

afterAll(async () => {
  await handle.end();
});

describe('OddsService access window', () => {
  it('premium and pro callers get the whole history over HTTP', async () => {
    for (const tier of ['premium', 'pro'] as const) {
      const key = (await createApiKey(await promote(await registerUser(`odds-${tier}`), { tier }))).key;
      const res = await api(`/matches/${match.id}/odds`, { headers: { 'x-api-key': key } });
      expect((await res.json<{ data: OddsSnapshot[] }>()).data).toEqual(history);
    }
  });

  it('free and anonymous callers get the latest price of each line and nothing older than 7 days', async () => {
    const latest = (await service.forMatch(match.id, { latest: true, limit: 1000 }, FULL_ODDS_HISTORY))!.data;
    expect(latest.length).toBeLessThan(history.length);
    const free = await registerUser('odds-free');
    for (const headers of [{}, { authorization: `Bearer ${free.accessToken}` }] as Array<Record<string, string>>) {
      const res = await api(`/matches/${match.id}/odds`, { headers });
      expect(res.status).toBe(200);
      expect((await res.json<{ data: OddsSnapshot[] }>()).data).toEqual(latest);
    }
  });

  it('hides history before the window but keeps the latest price of every line', async () => {
    const since = new Date(match.startAt);
    const page = await service.forMatch(match.id, { latest: false, limit: 1000 }, { historySince: since });
    const latestCapture = new Map<string, number>();
    for (const o of history) latestCapture.set(lineKey(o), Math.max(latestCapture.get(lineKey(o)) ?? 0, Date.parse(o.capturedAt)));
    const expected = history.filter((o) => Date.parse(o.capturedAt) >= since.getTime() || Date.parse(o.capturedAt) === latestCapture.get(lineKey(o)));
    expect(page!.data).toEqual(expected);
    // The window removed something, and kept the two pre-match lines that never got a closing price.
    expect(page!.data.length).toBeLessThan(history.length);
    expect(page!.data.filter((o) => o.phase === 'pre_match').map((o) => [o.bookmaker, o.market, o.outcome])).toEqual([
      ['market_max', 'spreads', 'away'],
      ['market_max', 'spreads', 'home'],
    ]);
  });

  it('does not leak hidden history through the filters', async () => {
    // "Latest before kick-off" would be every pre-match price; only those that are still the latest are visible.
    const page = await service.forMatch(match.id, { latest: true, to: new Date(match.startAt), limit: 1000 }, { historySince: new Date(match.startAt) });
    expect(page!.data.map((o) => [o.bookmaker, o.market, o.outcome, o.price])).toEqual([
      ['market_max', 'spreads', 'away', 2.09],
      ['market_max', 'spreads', 'home', 1.93],
    ]);
  });

  it('a window older than every row changes nothing', async () => {
    const page = await service.forMatch(match.id, { latest: false, limit: 1000 }, { historySince: new Date('2000-01-01T00:00:00Z') });
    expect(page!.data).toEqual(history);
  });

  it('the free window is the last 7 days: a price from 6 days ago is visible, one from 8 days ago is not', async () => {
    const DAY = 86_400_000;
    const now = Date.now();
    // Whole seconds, as providers report them; one line, so only the newest price is "the latest".
    const at = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString();
    const captures = { eightDaysAgo: at(now - 8 * DAY), sixDaysAgo: at(now - 6 * DAY), anHourAgo: at(now - 3_600_000) };
    const prices = { eightDaysAgo: 2.4, sixDaysAgo: 2.3, anHourAgo: 2.2 };
    const [match] = (
      await handle.db.execute<{ id: number }>(sql`
        with pair as (select sport_id, competition_id, home_team_id, away_team_id from matches order by id limit 1)
        insert into matches (sport_id, competition_id, home_team_id, away_team_id, start_at, start_time_known, status, provider, external_match_id)
        select sport_id, competition_id, home_team_id, away_team_id, ${at(now + 2 * DAY)}::timestamptz, true, 'scheduled', 'odds-access-test', ${crypto.randomUUID()}
        from pair returning id::int as id`)
    ).rows;
    const recent = match!.id;
    // Through the ingestion write path, which also creates the months' partitions and widens the match's range.
    const written = await writeOdds(
      handle.db,
      'the-odds-api',
      (Object.keys(captures) as Array<keyof typeof captures>).map((when) => ({
        matchId: recent, bookmaker: 'pinnacle', market: 'h2h', outcome: 'home', point: null, price: prices[when], capturedAt: new Date(captures[when]), phase: 'pre_match',
      })),
    );
    expect(written.inserted).toBe(3);
    const seen = async (headers: Record<string, string>) => {
      const res = await api(`/matches/${recent}/odds`, { headers });
      expect(res.status).toBe(200);
      return (await res.json<{ data: OddsSnapshot[] }>()).data.map((o) => [o.capturedAt, o.price]);
    };
    const free = await registerUser('odds-window-free');
    for (const headers of [{}, { authorization: `Bearer ${free.accessToken}` }] as Array<Record<string, string>>) {
      expect(await seen(headers)).toEqual([
        [captures.sixDaysAgo, prices.sixDaysAgo],
        [captures.anHourAgo, prices.anHourAgo],
      ]);
    }
    const premium = await promote(await registerUser('odds-window-premium'), { tier: 'premium' });
    expect(await seen({ authorization: `Bearer ${premium.accessToken}` })).toEqual([
      [captures.eightDaysAgo, prices.eightDaysAgo],
      [captures.sixDaysAgo, prices.sixDaysAgo],
      [captures.anHourAgo, prices.anHourAgo],
    ]);
  });

  it('an unknown match is still not found', async () => {
    await expect(service.forMatch(2_000_000_000, { latest: false, limit: 10 }, { historySince: new Date() })).rejects.toBeInstanceOf(NotFoundError);
  });
});
