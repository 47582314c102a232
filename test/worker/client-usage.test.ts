// The generated client (client/: openapi-typescript types + openapi-fetch) against the running Worker, the way
// the frontend uses it: sign up and in, list matches, read a prediction, run the value finder, and read a
// problem from `error`. The Worker's own fetch (SELF) stands in for the network; everything else is real.
import { env, SELF } from 'cloudflare:test';
import { eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createSenzuClient, type Problem, type SenzuClient } from '../../client';
import { matchOddsName, type OddsRowInput } from '../../durable-objects/match-odds';
import { users } from '../../src/db/schema';
import { uniqueEmail, PASSWORD } from './support/auth';
import { randomIp } from './support/http';
import { withDb } from './support/models';

const BASE_URL = 'http://api.test';
const HOUR = 3_600_000;
const bundle = inject('defaultBundle');
// One client address per test file: anonymous calls are rate-limited per IP.
const viaWorker = (request: Request) => {
  const headers = new Headers(request.headers);
  headers.set('cf-connecting-ip', ip);
  return SELF.fetch(new Request(request, { headers }));
};
const ip = randomIp();

let matchId: number;
let startAt: Date;

beforeAll(async () => {
  for (const name of Object.keys(bundle.files)) {
    if (name !== 'parity.json') await env.MODELS.put(`models/${bundle.id}/${name}`, Uint8Array.from(atob(bundle.files[name]!), (c) => c.charCodeAt(0)));
  }
  const now = Date.now();
  startAt = new Date(Math.ceil((now + 30 * HOUR) / 60_000) * 60_000);
  const capturedAt = new Date(Math.floor((now - HOUR) / 1000) * 1000).toISOString();
  matchId = await withDb(async (db) => {
    const rows = await db.execute<{ id: string }>(sql`
      with pair as (select sport_id, competition_id, home_team_id, away_team_id from matches where season = '2023-24' order by start_at, id limit 1)
      insert into matches (sport_id, competition_id, season, home_team_id, away_team_id, start_at, start_time_known, status, provider, external_match_id)
      select sport_id, competition_id, null, home_team_id, away_team_id, ${startAt.toISOString()}::timestamptz, true, 'scheduled', 'client-test', ${`client-${now}`}
      from pair returning id`);
    return Number(rows.rows[0]!.id);
  });
  const price = (bookmaker: string, market: 'h2h' | 'totals', outcome: string, value: number): OddsRowInput => ({
    bookmaker, market, outcome, point: market === 'totals' ? 2.5 : null, price: value, capturedAt,
  });
  // A generous bookmaker on the away side, so at least one outcome has a positive EV for the value finder.
  const rows = [
    ...['pinnacle', 'market_avg', 'market_max'].flatMap((b) => [
      price(b, 'h2h', 'home', 2.0), price(b, 'h2h', 'draw', 3.6), price(b, 'h2h', 'away', 4.0),
      price(b, 'totals', 'over', 1.9), price(b, 'totals', 'under', 1.95),
    ]),
    price('bet365', 'h2h', 'home', 2.05), price('bet365', 'h2h', 'draw', 3.7), price('bet365', 'h2h', 'away', 12),
    price('bet365', 'totals', 'over', 1.95), price('bet365', 'totals', 'under', 4),
  ];
  await env.MATCH_ODDS.get(env.MATCH_ODDS.idFromName(matchOddsName(matchId))).applyOdds(rows, { matchId, startAt: startAt.toISOString() });
}, 60_000);

describe('the typed client (client/) against the Worker', () => {
  let anonymous: SenzuClient;
  let accessToken: string | undefined;
  let signedIn: SenzuClient;

  beforeAll(() => {
    anonymous = createSenzuClient(BASE_URL, { fetch: viaWorker });
    // A function, as a frontend holding a refreshable token would pass it.
    signedIn = createSenzuClient(BASE_URL, { fetch: viaWorker, accessToken: () => accessToken });
  });

  it('registers and logs in', async () => {
    const email = uniqueEmail('client');
    const registered = await anonymous.POST('/auth/register', { body: { email, password: PASSWORD } });
    expect(registered.response.status).toBe(202);
    // The same answer whether or not the email had an account; the tokens come from the login.
    expect(registered.data).toEqual({ status: 'verification_sent', email });

    // The value finder is premium; an operator upgrades the account, and the next login carries the tier.
    await withDb((db) => db.update(users).set({ tier: 'premium' }).where(eq(users.email, email)));
    const login = await anonymous.POST('/auth/login', { body: { email, password: PASSWORD } });
    expect(login.error).toBeUndefined();
    expect(login.data?.tokenType).toBe('Bearer');
    accessToken = login.data!.accessToken;

    const me = await signedIn.GET('/me');
    expect(me.data).toMatchObject({ email, tier: 'premium' });

    const wrong = await anonymous.POST('/auth/login', { body: { email, password: 'not the password at all' } });
    expect(wrong.data).toBeUndefined();
    const problem: Problem | undefined = wrong.error;
    expect(problem).toMatchObject({ status: 401, type: 'https://docs.senzu.ai/problems/unauthorized' });
  });

  it('lists matches and reads one, with typed query and path parameters', async () => {
    const page = await anonymous.GET('/matches', { params: { query: { from: startAt.toISOString().slice(0, 10), limit: 100, order: 'asc' } } });
    expect(page.error).toBeUndefined();
    expect(page.data!.data.map((m) => m.id)).toContain(matchId);

    const match = await anonymous.GET('/matches/{matchId}', { params: { path: { matchId } } });
    expect(match.data?.id).toBe(matchId);
    expect(match.data?.startAt).toBe(startAt.toISOString());

    const missing = await anonymous.GET('/matches/{matchId}', { params: { path: { matchId: 999_999_999 } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error?.type).toBe('https://docs.senzu.ai/problems/not-found');
  });

  it('reads a prediction and finds it in the value finder', async () => {
    const prediction = await signedIn.GET('/matches/{matchId}/predictions', { params: { path: { matchId } } });
    expect(prediction.error, JSON.stringify(prediction.error)).toBeUndefined();
    expect(prediction.response.headers.get('x-model-run')).toBe(bundle.runId);
    expect(prediction.data).toMatchObject({ matchId, modelRunId: bundle.runId, view: 'full', source: 'live' });
    const away = prediction.data!.markets.find((m) => m.market === 'h2h')!.outcomes.find((o) => o.outcome === 'away')!;
    expect(away.bestPrice).toBe(12);
    // The type says a probability can be missing (a market without any price); this one has its anchor.
    expect(away.probability).not.toBeNull();
    expect(away.expectedValue).toBeCloseTo(away.probability! * 12 - 1, 10);

    // The prediction is persisted after the response; the value finder lists it once stored.
    const from = startAt.toISOString();
    const to = new Date(startAt.getTime() + 60_000).toISOString();
    await expect
      .poll(async () => (await signedIn.GET('/predictions', { params: { query: { from, to, minEv: 0, limit: 100 } } })).data?.data.length ?? 0, { timeout: 10_000 })
      .toBeGreaterThan(0);
    const found = await signedIn.GET('/predictions', { params: { query: { from, to, minEv: 0, limit: 100 } } });
    expect(found.error).toBeUndefined();
    const items = found.data!.data;
    expect(items.every((item) => item.matchId === matchId && item.expectedValue !== null && item.expectedValue >= 0)).toBe(true);
    expect(items.map((item) => `${item.market}:${item.outcome}`)).toContain('h2h:away');
    const evs = items.map((item) => item.expectedValue!);
    expect(evs).toEqual([...evs].sort((a, b) => b - a));

    const badQuery = await signedIn.GET('/predictions', { params: { query: { minEv: -5 } } });
    expect(badQuery.response.status).toBe(400);
    expect(badQuery.error?.invalidParams?.map((p) => p.name)).toEqual(['minEv']);
  });

  it('is refused the value finder on the free tier, as a typed problem', async () => {
    const email = uniqueEmail('client-free');
    expect((await anonymous.POST('/auth/register', { body: { email, password: PASSWORD } })).response.status).toBe(202);
    const signedInFree = await anonymous.POST('/auth/login', { body: { email, password: PASSWORD } });
    const free = createSenzuClient(BASE_URL, { fetch: viaWorker, accessToken: signedInFree.data!.accessToken });
    const refused = await free.GET('/predictions', {});
    expect(refused.response.status).toBe(403);
    expect(refused.error?.type).toBe('https://docs.senzu.ai/problems/forbidden');
  });
});
