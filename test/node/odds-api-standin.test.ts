import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  liveTimeline,
  NBA_BOOKMAKER_KEYS,
  onTimeline,
  quoteMarket,
  startOddsApiStandin,
  toRealTime,
  type OddsApiStandin,
  type ReplayEvent,
} from '../../scripts/lib/odds-api-standin';
import { americanToDecimal } from '../../src/domain/odds/american';
import { SPORT_DEFINITIONS } from '../../src/domain/sports/catalog';
import { parseNbaArchiveCsv } from '../../src/providers/nba-archive/parse';

const DATA = join(import.meta.dirname ?? __dirname, '../../data/football-data');
let clock = new Date('2023-09-29T12:00:00Z');
let standin: OddsApiStandin;

beforeAll(async () => {
  standin = await startOddsApiStandin({ season: '2324', now: () => clock, apiKey: 'test-key' });
});
afterAll(() => standin.close());
beforeEach(async () => {
  clock = new Date('2023-09-29T12:00:00Z');
  await control({ reset: true });
});

async function get(path: string, params: Record<string, string> = {}, key: string | null = 'test-key') {
  const url = new URL(standin.url + path);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  if (key !== null) url.searchParams.set('apiKey', key);
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

async function control(body: unknown) {
  const res = await fetch(`${standin.url}/__control`, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const ODDS_PARAMS = { regions: 'eu', markets: 'h2h,spreads,totals', oddsFormat: 'decimal' };

describe('team names', () => {
  it("serves every club of the season under its The Odds API spelling in data/sports/soccer.json", () => {
    const soccer = SPORT_DEFINITIONS.find((d) => d.key === 'soccer')!;
    const spelling = new Map(soccer.teams.map((t) => [t.aliases['football-data']![0]!, t.aliases['the-odds-api']![0]!]));
    const football = standin.events.filter((e) => e.footballData);
    expect(football.length).toBe(3 * 380 + 2 * 306); // Bundesliga and Ligue 1 have 18 clubs
    for (const e of football) {
      expect([e.homeTeam, e.awayTeam]).toEqual([spelling.get(e.footballData!.homeTeam), spelling.get(e.footballData!.awayTeam)]);
    }
  });

  it('serves The Odds API names, not football-data abbreviations', () => {
    const teams = new Set(standin.events.flatMap((e) => [e.homeTeam, e.awayTeam]));
    expect(teams.has('Manchester United')).toBe(true);
    expect(teams.has('Man United')).toBe(false);
    expect(teams.has("Nott'm Forest")).toBe(false);
  });
});

describe('the replayed feed', () => {
  it('lists the sports in the documented shape', async () => {
    const res = await get('/v4/sports');
    expect(res.status).toBe(200);
    const sports = res.json();
    expect(sports.map((s: { key: string }) => s.key).sort()).toEqual([
      'soccer_epl',
      'soccer_france_ligue_one',
      'soccer_germany_bundesliga',
      'soccer_italy_serie_a',
      'soccer_spain_la_liga',
    ]);
    for (const s of sports) expect(Object.keys(s).sort()).toEqual(['active', 'description', 'group', 'has_outrights', 'key', 'title']);
    expect(res.headers.get('x-requests-last')).toBe('0');
  });

  it('lists upcoming events without bookmakers, only before kick-off', async () => {
    const res = await get('/v4/sports/soccer_epl/events');
    expect(res.status).toBe(200);
    const events = res.json();
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) {
      expect(Object.keys(e).sort()).toEqual(['away_team', 'commence_time', 'home_team', 'id', 'sport_key', 'sport_title']);
      expect(e.id).toMatch(/^[0-9a-f]{32}$/);
      expect(e.commence_time).toMatch(ISO_Z);
      expect(Date.parse(e.commence_time)).toBeGreaterThan(clock.getTime());
      expect(e.sport_title).toBe('EPL');
    }
    // The first match of the list kicks off; it is gone from /events afterwards.
    const first = events.sort((a: { commence_time: string }, b: { commence_time: string }) => a.commence_time.localeCompare(b.commence_time))[0];
    clock = new Date(Date.parse(first.commence_time));
    const later = (await get('/v4/sports/soccer_epl/events')).json();
    expect(later.map((e: { id: string }) => e.id)).not.toContain(first.id);
  });

  it('serves odds in the documented shape: pinnacle and bet365, h2h by name, totals 2.5, spreads with opposite points', async () => {
    const res = await get('/v4/sports/soccer_epl/odds', ODDS_PARAMS);
    expect(res.status).toBe(200);
    const events = res.json();
    expect(events.length).toBeGreaterThan(0);
    const keys = new Set<string>();
    for (const e of events) {
      for (const b of e.bookmakers) {
        keys.add(b.key);
        expect(Object.keys(b).sort()).toEqual(['key', 'last_update', 'markets', 'title']);
        expect(b.last_update).toMatch(ISO_Z);
        for (const m of b.markets) {
          expect(Object.keys(m).sort()).toEqual(['key', 'last_update', 'outcomes']);
          for (const o of m.outcomes) expect(o.price).toBeGreaterThan(1);
          const names = m.outcomes.map((o: { name: string }) => o.name).sort();
          if (m.key === 'h2h') expect(names).toEqual([e.home_team, e.away_team, 'Draw'].sort());
          if (m.key === 'totals') {
            expect(names).toEqual(['Over', 'Under']);
            expect(m.outcomes.map((o: { point: number }) => o.point)).toEqual([2.5, 2.5]);
          }
          if (m.key === 'spreads') {
            expect(names).toEqual([e.home_team, e.away_team].sort());
            expect(m.outcomes[0].point + m.outcomes[1].point).toBe(0);
          }
        }
      }
    }
    expect(keys.has('pinnacle')).toBe(true);
    expect(keys.has('bet365')).toBe(true);
    expect(Number(res.headers.get('x-requests-last'))).toBe(3);
    expect(Number(res.headers.get('x-requests-used'))).toBe(3);
    expect(Number(res.headers.get('x-requests-remaining'))).toBe(standin.state().creditLimit - 3);
  });

  it('moves pre-match prices linearly toward the closing price as kick-off nears', async () => {
    const { event, pre, close } = movingPinnacleHome();
    const homePrice = async (at: Date) => {
      clock = at;
      const [e] = (await get('/v4/sports/soccer_epl/odds', { ...ODDS_PARAMS, eventIds: event.id })).json();
      const h2h = e.bookmakers.find((b: { key: string }) => b.key === 'pinnacle').markets.find((m: { key: string }) => m.key === 'h2h');
      return h2h.outcomes.find((o: { name: string }) => o.name === event.homeTeam).price as number;
    };
    const open = event.openAt.getTime();
    const kickoff = event.commenceTime.getTime();
    expect(await homePrice(new Date(open - 3_600_000))).toBe(pre);
    expect(await homePrice(new Date(open))).toBe(pre);
    expect(await homePrice(new Date((open + kickoff) / 2))).toBeCloseTo((pre + close) / 2, 1);
    const samples = [];
    for (const f of [0, 0.25, 0.5, 0.75, 0.999]) samples.push(await homePrice(new Date(open + (kickoff - open) * f)));
    const distance = samples.map((p) => Math.abs(p - close));
    for (let i = 1; i < distance.length; i++) expect(distance[i]).toBeLessThanOrEqual(distance[i - 1]!);
    expect(samples.at(-1)).toBeCloseTo(close, 1);
  });

  it('filters by commenceTimeFrom/To and refuses a malformed bound', async () => {
    const all = (await get('/v4/sports/soccer_epl/odds', ODDS_PARAMS)).json();
    const from = '2023-09-30T13:00:00Z';
    const to = '2023-10-01T00:00:00Z';
    const windowed = (await get('/v4/sports/soccer_epl/odds', { ...ODDS_PARAMS, commenceTimeFrom: from, commenceTimeTo: to })).json();
    expect(windowed.length).toBeGreaterThan(0);
    expect(windowed.length).toBeLessThan(all.length);
    for (const e of windowed) {
      expect(e.commence_time >= from && e.commence_time <= to).toBe(true);
    }
    const expected = all.filter((e: { commence_time: string }) => e.commence_time >= from && e.commence_time <= to).map((e: { id: string }) => e.id);
    expect(windowed.map((e: { id: string }) => e.id)).toEqual(expected);
    const events = (await get('/v4/sports/soccer_epl/events', { commenceTimeFrom: from, commenceTimeTo: to })).json();
    expect(events.map((e: { id: string }) => e.id)).toEqual(expected);

    const bad = await get('/v4/sports/soccer_epl/odds', { ...ODDS_PARAMS, commenceTimeFrom: '2023-09-30' });
    expect(bad.status).toBe(422);
    expect(bad.json().error_code).toBe('INVALID_COMMENCE_TIME_FROM');
  });

  it('checks the apiKey and the regions as the real API does', async () => {
    const missing = await get('/v4/sports/soccer_epl/odds', ODDS_PARAMS, null);
    expect(missing.status).toBe(401);
    expect(missing.json()).toMatchObject({ error_code: 'MISSING_KEY' });
    const wrong = await get('/v4/sports/soccer_epl/odds', ODDS_PARAMS, 'not-the-key');
    expect(wrong.status).toBe(401);
    expect(Object.keys(wrong.json()).sort()).toEqual(['details_url', 'error_code', 'message']);
    expect(wrong.json().error_code).toBe('INVALID_KEY');
    const noRegion = await get('/v4/sports/soccer_epl/odds', { markets: 'h2h' });
    expect(noRegion.status).toBe(422);
    expect(noRegion.json()).toMatchObject({ error_code: 'MISSING_REGION', message: 'Missing regions or bookmakers key' });
    expect((await get('/v4/sports/soccer_nowhere/events')).status).toBe(404);
  });

  it('shows completed matches with their final score about two hours after kick-off', async () => {
    const event = standin.events.find((e) => e.sportKey === 'soccer_epl' && e.commenceTime > clock)!;
    const kickoff = event.commenceTime.getTime();
    const scoreOf = async (at: number) => {
      clock = new Date(at);
      const res = await get('/v4/sports/soccer_epl/scores', { daysFrom: '1' });
      expect(res.status).toBe(200);
      return res.json().find((e: { id: string }) => e.id === event.id);
    };
    const before = await scoreOf(kickoff - 60_000);
    expect(before).toMatchObject({ completed: false, scores: null, last_update: null, home_team: event.homeTeam, away_team: event.awayTeam });
    expect((await scoreOf(kickoff + 119 * 60_000)).completed).toBe(false);
    const after = await scoreOf(kickoff + 120 * 60_000);
    expect(after.completed).toBe(true);
    expect(after.last_update).toMatch(ISO_Z);
    const byName = Object.fromEntries(after.scores.map((s: { name: string; score: string }) => [s.name, s.score]));
    expect(byName).toEqual({ [event.homeTeam]: String(event.homeScore), [event.awayTeam]: String(event.awayScore) });
    // Without daysFrom, completed games are not listed; daysFrom must be 1 to 3.
    expect((await get('/v4/sports/soccer_epl/scores')).json().map((e: { id: string }) => e.id)).not.toContain(event.id);
    expect((await get('/v4/sports/soccer_epl/scores', { daysFrom: '4' })).json().error_code).toBe('INVALID_SCORES_DAYS_FROM');
  });

  it('refuses calls past the credit limit with 401 OUT_OF_USAGE_CREDITS', async () => {
    await control({ creditLimit: 5, creditsUsed: 3 });
    const res = await get('/v4/sports/soccer_epl/odds', ODDS_PARAMS);
    expect(res.status).toBe(401);
    expect(res.json().error_code).toBe('OUT_OF_USAGE_CREDITS');
    expect(res.headers.get('x-requests-remaining')).toBe('2');
    expect((await get('/v4/sports/soccer_epl/events')).status).toBe(200); // free endpoints still answer
    await control({ creditLimit: 20_000 });
  });
});

describe('fault injection through POST /__control', () => {
  it('fails the next N calls with 500, then recovers', async () => {
    expect((await control({ mode: 'server_error', count: 2 })).status).toBe(200);
    expect((await get('/v4/sports/soccer_epl/events')).status).toBe(500);
    const second = await get('/v4/sports/soccer_epl/events');
    expect(second.status).toBe(500);
    expect(second.json().error_code).toBe('INTERNAL_ERROR');
    expect((await get('/v4/sports/soccer_epl/events')).status).toBe(200);
  });

  it('429 with Retry-After', async () => {
    await control({ mode: 'rate_limit', retryAfter: 7 });
    const res = await get('/v4/sports/soccer_epl/odds', ODDS_PARAMS);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.json().error_code).toBe('EXCEEDED_FREQ_LIMIT');
  });

  it('401 OUT_OF_USAGE_CREDITS', async () => {
    await control({ mode: '401' });
    const res = await get('/v4/sports/soccer_epl/odds', ODDS_PARAMS);
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error_code: 'OUT_OF_USAGE_CREDITS', message: expect.stringContaining('quota') });
  });

  it('hangs past the client timeout', async () => {
    await control({ mode: 'timeout' });
    const url = `${standin.url}/v4/sports/soccer_epl/events?apiKey=test-key`;
    await expect(fetch(url, { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({ name: 'TimeoutError' });
    expect((await fetch(url)).status).toBe(200);
  });

  it('malformed JSON and a truncated body', async () => {
    await control({ mode: 'malformed' });
    const malformed = await get('/v4/sports/soccer_epl/odds', ODDS_PARAMS);
    expect(malformed.status).toBe(200);
    expect(() => malformed.json()).toThrow(SyntaxError);

    await control({ mode: 'truncated' });
    const res = await fetch(`${standin.url}/v4/sports/soccer_epl/odds?apiKey=test-key&regions=eu&markets=h2h`);
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it('corrupts odds bodies: missing outcomes, a bad price, an unknown outcome name', async () => {
    for (const [mode, check] of [
      ['missing_outcomes', (m: { outcomes?: unknown }) => expect(m.outcomes).toBeUndefined()],
      ['bad_price', (m: { outcomes: Array<{ price: number }> }) => expect(m.outcomes[0]!.price).toBe(0.42)],
      ['unknown_outcome', (m: { outcomes: Array<{ name: string }> }) => expect(m.outcomes[0]!.name).toBe('Nobody FC')],
    ] as const) {
      await control({ mode, path: '/odds' });
      expect((await get('/v4/sports/soccer_epl/events')).status).toBe(200); // the path filter spares /events
      const events = (await get('/v4/sports/soccer_epl/odds', ODDS_PARAMS)).json();
      check(events[0].bookmakers[0].markets[0]);
    }
  });

  it('refuses an unknown mode', async () => {
    const res = await control({ mode: 'explode' });
    expect(res.status).toBe(400);
    expect(standin.state().faults).toEqual([]);
  });
});

function movingPinnacleHome(): { event: ReplayEvent; pre: number; close: number } {
  for (const event of standin.events) {
    if (event.sportKey !== 'soccer_epl' || event.commenceTime <= clock) continue;
    const line = event.bookmakers.find((b) => b.key === 'pinnacle')?.lines.find((l) => l.market === 'h2h' && l.outcome === 'home');
    if (line?.preMatch && line.closing && Math.abs(line.preMatch.price - line.closing.price) >= 0.2) {
      return { event, pre: line.preMatch.price, close: line.closing.price };
    }
  }
  throw new Error('no EPL match whose Pinnacle home price moved by 0.2');
}

describe('replayed as live (npm start)', () => {
  const replayStart = new Date('2023-08-10T12:00:00Z'); // a day before 2023/24's first match
  const realNow = new Date('2026-11-18T09:30:00Z');

  it('shifts by whole weeks at real speed, so matches keep their weekday and kick-off hour', () => {
    const timeline = liveTimeline(replayStart, realNow);
    const shift = timeline.realStart.getTime() - replayStart.getTime();
    expect(shift % (7 * 86_400_000)).toBe(0);
    expect(Math.abs(timeline.realStart.getTime() - realNow.getTime())).toBeLessThanOrEqual(3.5 * 86_400_000);
    const [first] = onTimeline(standin.events, timeline);
    const original = standin.events.find((e) => e.id === first!.id)!;
    expect(first!.commenceTime.getUTCDay()).toBe(original.commenceTime.getUTCDay());
    expect(first!.commenceTime.getUTCHours()).toBe(original.commenceTime.getUTCHours());
    expect(first!.commenceTime.getTime() - first!.openAt.getTime()).toBe(original.commenceTime.getTime() - original.openAt.getTime());
  });

  it('wobbles moving prices per 5-minute bucket when asked, never at the two ends the site gave', () => {
    const { event } = movingPinnacleHome();
    const pinnacle = event.bookmakers.find((b) => b.key === 'pinnacle')!;
    const at = (f: number) => new Date(event.openAt.getTime() + (event.commenceTime.getTime() - event.openAt.getTime()) * f);
    const home = (t: Date, jitter: number) => quoteMarket(event, pinnacle, 'h2h', t, { jitter })!.find((q) => q.outcome === 'home')!.price;
    expect(home(at(0), 0.015)).toBe(home(at(0), 0));
    expect(home(at(1), 0.015)).toBe(home(at(1), 0));
    // Consecutive polls 5 minutes apart, mid-way: the plain line barely moves, the wobbled one does.
    const polls = Array.from({ length: 12 }, (_, i) => new Date(at(0.5).getTime() + i * 300_000));
    expect(new Set(polls.map((t) => home(t, 0.015))).size).toBeGreaterThan(new Set(polls.map((t) => home(t, 0))).size);
    for (const t of polls) expect(Math.abs(home(t, 0.015) - home(t, 0))).toBeLessThanOrEqual(home(t, 0) * 0.015 + 0.01);
  });

  it('or starts the replay now, to the minute', () => {
    const timeline = liveTimeline(replayStart, new Date('2026-11-18T09:30:20Z'), 1, { keepWeekdays: false });
    expect(timeline.realStart).toEqual(new Date('2026-11-18T09:30:00Z'));
  });

  it('compresses the season at a higher speed, starting the replay now', () => {
    const timeline = liveTimeline(replayStart, realNow, 24);
    expect(timeline.realStart).toEqual(realNow);
    // A day of the season passes in an hour.
    expect(toRealTime(timeline, new Date(replayStart.getTime() + 86_400_000))).toEqual(new Date(realNow.getTime() + 3_600_000));
    expect(() => liveTimeline(replayStart, realNow, 0)).toThrow(RangeError);
  });

  it('serves the shifted season on the real clock: upcoming events, prices that move, scores after the match', async () => {
    let now = realNow;
    const events = onTimeline(standin.events, liveTimeline(replayStart, realNow));
    const live = await startOddsApiStandin({ events, apiKey: 'live-key', now: () => now, shuffle: false });
    try {
      const fetchJson = async (path: string) => (await fetch(`${live.url}${path}${path.includes('?') ? '&' : '?'}apiKey=live-key`)).json();
      const upcoming = (await fetchJson('/v4/sports/soccer_epl/events')) as Array<{ id: string; commence_time: string }>;
      expect(upcoming.length).toBeGreaterThan(0);
      for (const e of upcoming) expect(Date.parse(e.commence_time)).toBeGreaterThan(realNow.getTime());
      const target = events.find((e) => e.id === upcoming[0]!.id)!;
      const price = async () => {
        const body = (await fetchJson(`/v4/sports/soccer_epl/odds?regions=eu&markets=h2h&eventIds=${target.id}`)) as Array<{
          bookmakers: Array<{ key: string; markets: Array<{ outcomes: Array<{ name: string; price: number }> }> }>;
        }>;
        return body[0]!.bookmakers.find((b) => b.key === 'pinnacle')!.markets[0]!.outcomes.find((o) => o.name === target.homeTeam)!.price;
      };
      now = new Date(Math.max(realNow.getTime(), target.openAt.getTime()));
      const early = await price();
      now = new Date(target.commenceTime.getTime() - 60_000);
      const late = await price();
      const line = target.bookmakers.find((b) => b.key === 'pinnacle')!.lines.find((l) => l.market === 'h2h' && l.outcome === 'home')!;
      expect(late).toBeCloseTo(line.closing!.price, 1);
      if (line.preMatch!.price !== line.closing!.price) expect(early).not.toBe(late);

      now = new Date(target.commenceTime.getTime() + 3 * 3_600_000);
      const scores = (await fetchJson(`/v4/sports/soccer_epl/scores?daysFrom=1&eventIds=${target.id}`)) as Array<{ completed: boolean; scores: unknown }>;
      expect(scores[0]).toMatchObject({ completed: true });
      expect(scores[0]!.scores).toHaveLength(2);
    } finally {
      await live.close();
    }
  });
});

describe('the replay clock over POST /__control', () => {
  it('sets the clock, refuses a non-instant, and goes back to the injected clock on null', async () => {
    expect(((await control({ now: '2024-01-01T15:00:00Z' })).body as { now: string }).now).toBe('2024-01-01T15:00:00.000Z');
    const upcoming = (await get('/v4/sports/soccer_epl/events')).json() as Array<{ commence_time: string }>;
    expect(Date.parse(upcoming[0]!.commence_time)).toBeGreaterThan(Date.parse('2024-01-01T15:00:00Z'));
    expect((await control({ now: 'next tuesday' })).status).toBe(400);
    expect(((await control({ now: null })).body as { now: string }).now).toBe(clock.toISOString());
  });
});

describe('basketball_nba: the 2021/22 NBA season with synthetic prices around its real closing lines', () => {
  let nba: OddsApiStandin;
  let now = new Date('2021-11-10T12:00:00Z');
  const nbaGames = parseNbaArchiveCsv(readFileSync(join(DATA, '../nba/nba_2021-22.csv'), 'utf8'), 'nba_2021-22.csv').games;
  const archive = new Map(nbaGames.map((g) => [g.externalId, g]));
  const nbaGet = async (path: string, params: Record<string, string>) => {
    const url = new URL(nba.url + path);
    for (const [k, v] of Object.entries({ ...params, apiKey: nba.apiKey })) url.searchParams.set(k, v);
    const res = await fetch(url);
    return { status: res.status, cost: res.headers.get('x-requests-last'), json: await res.json() };
  };
  type Outcome = { name: string; price: number; point?: number };
  type OddsEvent = { id: string; sport_key: string; home_team: string; away_team: string; bookmakers: Array<{ key: string; markets: Array<{ key: string; outcomes: Outcome[] }> }> };

  beforeAll(async () => {
    nba = await startOddsApiStandin({ season: '2324', divisions: ['E0'], nbaSeason: '2021-22', now: () => now, shuffle: false });
  });
  afterAll(() => nba.close());

  it('replays every game of the season, under The Odds API names of data/sports/basketball.json, on its US evening', () => {
    const events = nba.events.filter((e) => e.sportKey === 'basketball_nba');
    expect(events).toHaveLength(nbaGames.length);
    const names = new Set(SPORT_DEFINITIONS.find((d) => d.key === 'basketball')!.teams.flatMap((t) => t.aliases['the-odds-api']!));
    for (const e of events) {
      expect(names.has(e.homeTeam) && names.has(e.awayTeam)).toBe(true);
      // 7–7:30 pm local: the next UTC day between 00:30 and 03:00, still the archive's date in Los Angeles.
      const pacificDate = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Los_Angeles' }).format(e.commenceTime);
      expect(pacificDate).toBe(e.nba!.date);
    }
    expect(events.find((e) => e.nba!.externalId === '2021-10-19:bkn@mil')).toMatchObject({ homeTeam: 'Milwaukee Bucks', awayTeam: 'Brooklyn Nets' });
  });

  it('lists basketball_nba next to football', async () => {
    const sports = (await nbaGet('/v4/sports', {})).json as Array<{ key: string; group: string; active: boolean }>;
    expect(sports.find((s) => s.key === 'basketball_nba')).toMatchObject({ group: 'Basketball', active: true });
  });

  it('serves h2h (2-way), spreads and totals in the us region, at the closing line ±0.5, priced around −110', async () => {
    const res = await nbaGet('/v4/sports/basketball_nba/odds', { regions: 'us', markets: 'h2h,spreads,totals', oddsFormat: 'decimal' });
    expect(res.status).toBe(200);
    expect(res.cost).toBe('3');
    const events = res.json as OddsEvent[];
    expect(events.length).toBeGreaterThan(20);
    const spreadPoints = new Set<string>();
    for (const e of events) {
      expect(e.sport_key).toBe('basketball_nba');
      expect(e.bookmakers.map((b) => b.key)).toEqual(NBA_BOOKMAKER_KEYS);
      const game = archive.get(nba.events.find((x) => x.id === e.id)!.nba!.externalId)!;
      const line = (market: string, outcome: string) => game.odds.find((o) => o.market === market && o.outcome === outcome)!;
      for (const b of e.bookmakers) {
        const market = (key: string) => b.markets.find((m) => m.key === key)!.outcomes;
        const h2h = market('h2h');
        expect(h2h.map((o) => o.name).sort()).toEqual([e.away_team, e.home_team].sort());
        const spreads = market('spreads');
        const home = spreads.find((o) => o.name === e.home_team)!;
        const away = spreads.find((o) => o.name === e.away_team)!;
        expect(away.point! + home.point!).toBe(0);
        // Within the opening move (±1) and a book's shading (±0.5) of the real closing line.
        expect(Math.abs(home.point! - line('spreads', 'home').point!)).toBeLessThanOrEqual(1.5);
        spreadPoints.add(`${e.id}|${home.point}`);
        const totals = market('totals');
        expect(totals.map((o) => o.name).sort()).toEqual(['Over', 'Under']);
        expect(totals[0]!.point).toBe(totals[1]!.point);
        expect(Math.abs(totals[0]!.point! - line('totals', 'over').point!)).toBeLessThanOrEqual(2);
        for (const o of [...spreads, ...totals]) expect([1.87, 1.91, 1.95]).toContain(o.price);
      }
    }
    // Books shade: one game has its spread at two different points at the same time.
    expect(spreadPoints.size).toBeGreaterThan(events.length);
    // Football's regions do not list the US books.
    const eu = (await nbaGet('/v4/sports/basketball_nba/odds', { regions: 'eu', markets: 'h2h' })).json as OddsEvent[];
    expect(eu.every((e) => e.bookmakers.length === 0)).toBe(true);
  });

  it("closes at the archive's lines: at tip-off the moneyline is within 1.5 % of its American odds, spreads and totals within a book's half point", async () => {
    const event = nba.events.find((e) => e.sportKey === 'basketball_nba' && e.commenceTime > now)!;
    now = new Date(event.commenceTime.getTime() - 60_000);
    const game = archive.get(event.nba!.externalId)!;
    const [e] = (await nbaGet('/v4/sports/basketball_nba/odds', { regions: 'us', markets: 'h2h,spreads,totals', oddsFormat: 'american', eventIds: event.id })).json as OddsEvent[];
    const homeMoneyline = game.odds.find((o) => o.market === 'h2h' && o.outcome === 'home')!.price;
    for (const b of e!.bookmakers) {
      const h2hHome = b.markets.find((m) => m.key === 'h2h')!.outcomes.find((o) => o.name === e!.home_team)!;
      expect(Math.abs(americanToDecimal(h2hHome.price) / homeMoneyline - 1)).toBeLessThan(0.02);
      const spreadHome = b.markets.find((m) => m.key === 'spreads')!.outcomes.find((o) => o.name === e!.home_team)!;
      expect(Math.abs(spreadHome.point! - game.odds.find((o) => o.market === 'spreads' && o.outcome === 'home')!.point!)).toBeLessThanOrEqual(0.5);
      expect([-115, -110, -105]).toContain(spreadHome.price);
    }
    now = new Date('2021-11-10T12:00:00Z');
  });

  it("reports the archive's final score once the game is over", async () => {
    const event = nba.events.find((e) => e.sportKey === 'basketball_nba' && e.commenceTime > now)!;
    now = new Date(event.commenceTime.getTime() + 3 * 3_600_000);
    const scores = (await nbaGet('/v4/sports/basketball_nba/scores', { daysFrom: '1', eventIds: event.id })).json as Array<{ completed: boolean; scores: Array<{ name: string; score: string }> }>;
    expect(scores[0]!.completed).toBe(true);
    expect(Object.fromEntries(scores[0]!.scores.map((s) => [s.name, s.score]))).toEqual({ [event.homeTeam]: String(event.homeScore), [event.awayTeam]: String(event.awayScore) });
    now = new Date('2021-11-10T12:00:00Z');
  });
});
