// The live odds stream end to end: a ticket from POST /matches/{id}/odds/live/ticket, the WebSocket upgrade
// through the Worker to the match's MatchOdds object, the initial state, updates after applyOdds, several
// clients, eviction, and every way a ticket is refused.
import { env, runDurableObjectAlarm, SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { matchOddsName, type MatchOdds, type OddsRowInput } from '../../durable-objects/match-odds';
import { issueLiveTicket } from '../../src/services/live-tickets';
import { promote, registerUser, type TestUser } from './support/auth';
import { connectLive as connect, livePath, ticketFor } from './support/live';
import { BASE_URL, expectProblem, getJson, randomIp, type Page } from './support/http';

const START_AT = '2031-05-01T15:00:00.000Z';
const T1 = '2031-05-01T10:00:00.000Z';
const T2 = '2031-05-01T11:00:00.000Z';

let premium: TestUser;
let pro: TestUser;
let free: TestUser;
/** Real matches, one per test that touches a match's object, so no test sees another's state or sockets. */
let matchIds: number[];
let nextMatch = 0;
const freshMatch = () => matchIds[nextMatch++]!;

beforeAll(async () => {
  [premium, pro, free] = await Promise.all([
    registerUser('live-premium').then((u) => promote(u, { tier: 'premium' })),
    registerUser('live-pro').then((u) => promote(u, { tier: 'pro' })),
    registerUser('live-free'),
  ]);
  // 2018/19 matches: the newest ones belong to other suites, which feed their MatchOdds objects themselves.
  const { data } = await getJson<Page<{ id: number }>>('/matches?from=2018-08-01&to=2019-07-01&limit=20');
  matchIds = data.map((m) => m.id);
  expect(matchIds.length).toBe(20);
});

const stubFor = (matchId: number): DurableObjectStub<MatchOdds> => env.MATCH_ODDS.get(env.MATCH_ODDS.idFromName(matchOddsName(matchId)));

const upgrade = { headers: { upgrade: 'websocket' } };

const ROWS: OddsRowInput[] = [
  { bookmaker: 'alpha', market: 'h2h', outcome: 'home', point: null, price: 2.0, capturedAt: T1 },
  { bookmaker: 'alpha', market: 'h2h', outcome: 'draw', point: null, price: 3.5, capturedAt: T1 },
  { bookmaker: 'alpha', market: 'h2h', outcome: 'away', point: null, price: 4.0, capturedAt: T1 },
];

describe('the live odds stream', () => {
  it('sends the state at once, then an update after every change', async () => {
    const matchId = freshMatch();
    await stubFor(matchId).applyOdds(ROWS, { matchId, startAt: START_AT });
    const client = await connect(matchId, await ticketFor(premium, matchId));

    const state = await client.next();
    expect(state.type).toBe('state');
    if (state.type !== 'state') return;
    expect(state.matchId).toBe(matchId);
    expect(state.startAt).toBe(START_AT);
    expect(state.lines.map((l) => [l.outcome, l.price])).toEqual([
      ['away', 4.0],
      ['draw', 3.5],
      ['home', 2.0],
    ]);
    // 1/2 + 2/7 + 1/4 = 29/28, so p_home = 14/29.
    expect(state.consensus[0]!.outcomes.find((o) => o.outcome === 'home')!.probability).toBeCloseTo(14 / 29, 12);

    const result = await stubFor(matchId).applyOdds([{ ...ROWS[0]!, price: 2.2, capturedAt: T2 }]);
    expect(result.changed).toHaveLength(1);
    const update = await client.next();
    expect(update.type).toBe('update');
    if (update.type !== 'update') return;
    expect(update.changed).toEqual([
      { bookmaker: 'alpha', market: 'h2h', outcome: 'home', point: null, price: 2.2, capturedAt: T2, openingPrice: 2.0, openingAt: T1 },
    ]);
    expect(update.updatedAt).toBe(T2);
    expect(update.best.find((b) => b.outcome === 'home')).toEqual({ market: 'h2h', point: null, outcome: 'home', price: 2.2, bookmaker: 'alpha' });
    expect(update.movement.find((m) => m.outcome === 'home')!.change.consensusPrice).toBeCloseTo(0.2, 12);

    // Applying the same rows again is no change, so nothing is sent; asking for the state is answered.
    expect((await stubFor(matchId).applyOdds([{ ...ROWS[0]!, price: 2.2, capturedAt: T2 }])).changed).toEqual([]);
    client.ws.send(JSON.stringify({ type: 'state' }));
    const again = await client.next();
    expect(again.type).toBe('state');
    if (again.type === 'state') expect(again.lines.find((l) => l.outcome === 'home')!.price).toBe(2.2);
    client.ws.close(1000, 'done');
  });

  it('fans every update out to all clients of the match, and only that match', async () => {
    const matchId = freshMatch();
    const otherMatch = freshMatch();
    const first = await connect(matchId, await ticketFor(premium, matchId));
    const second = await connect(matchId, await ticketFor(pro, matchId));
    const elsewhere = await connect(otherMatch, await ticketFor(pro, otherMatch));
    for (const client of [first, second, elsewhere]) {
      const state = await client.next();
      expect(state.type).toBe('state');
      if (state.type === 'state') expect(state.lines).toEqual([]);
    }

    await stubFor(matchId).applyOdds(ROWS, { matchId, startAt: START_AT });
    for (const client of [first, second]) {
      const update = await client.next();
      expect(update.type).toBe('update');
      if (update.type === 'update') expect(update.changed.map((l) => l.price).sort()).toEqual([2.0, 3.5, 4.0]);
    }
    // The other match's client got nothing: its next message is the answer to its own request.
    elsewhere.ws.send(JSON.stringify({ type: 'state' }));
    const own = await elsewhere.next();
    expect(own.type).toBe('state');
    if (own.type === 'state') expect(own.lines).toEqual([]);

    // A client that leaves does not stop the others.
    first.ws.close(1000, 'bye');
    await stubFor(matchId).applyOdds([{ ...ROWS[2]!, price: 4.4, capturedAt: T2 }]);
    const update = await second.next();
    expect(update.type === 'update' && update.changed.map((l) => l.price)).toEqual([4.4]);
    second.ws.close(1000, 'done');
    elsewhere.ws.close(1000, 'done');
  });

  it('ends the stream and closes the sockets when the eviction alarm runs', async () => {
    const matchId = freshMatch();
    await stubFor(matchId).applyOdds(ROWS, { matchId, startAt: START_AT });
    const client = await connect(matchId, await ticketFor(premium, matchId));
    expect((await client.next()).type).toBe('state');

    expect(await runDurableObjectAlarm(stubFor(matchId))).toBe(true);
    const end = await client.next();
    expect(end.type).toBe('end');
    const closed = await client.closed;
    expect(closed.code).toBe(1000);
    expect((await stubFor(matchId).state()).lines).toEqual([]);
  });
});

describe('live tickets', () => {
  it('are issued to premium and pro callers, refused to free ones (403) and anonymous ones (401)', async () => {
    const matchId = freshMatch();
    expect(await ticketFor(premium, matchId)).toMatch(/^lt1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(await ticketFor(pro, matchId)).toMatch(/^lt1\./);
    const forbidden = await expectProblem(`/matches/${matchId}/odds/live/ticket`, 403, { method: 'POST', token: free.accessToken });
    expect(forbidden.type).toMatch(/forbidden$/);
    await expectProblem(`/matches/${matchId}/odds/live/ticket`, 401, { method: 'POST' });
  });

  it('answer 404 for an unknown match, on both routes', async () => {
    await expectProblem('/matches/999999999/odds/live/ticket', 404, { method: 'POST', token: premium.accessToken });
    const ticket = (await issueLiveTicket(env.PASSWORD_PEPPER!, { userId: premium.id, matchId: 999999999 })).ticket;
    await expectProblem(livePath(999999999, ticket), 404, upgrade);
  });

  it('are refused when missing (400), forged, expired, for another match or reused (401)', async () => {
    const matchId = freshMatch();
    const other = freshMatch();

    const missing = await expectProblem(`/matches/${matchId}/odds/live`, 400, upgrade);
    expect(missing.invalidParams?.map((p) => p.name)).toEqual(['ticket']);

    const good = await ticketFor(premium, matchId);
    const [prefix, payload, mac] = good.split('.') as [string, string, string];
    const flipped = `${prefix}.${payload}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`;
    const cases: Array<[string, string, RegExp]> = [
      ['garbage', 'not-a-ticket', /not a live ticket/],
      ['a tampered signature', flipped, /signature/],
      ['a payload edited to another match', `${prefix}.${btoa(JSON.stringify({ ...JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))), mid: other })).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')}.${mac}`, /signature/],
      ['a ticket signed with another key', (await issueLiveTicket('another pepper of enough length', { userId: premium.id, matchId })).ticket, /signature/],
      ['an expired ticket', (await issueLiveTicket(env.PASSWORD_PEPPER!, { userId: premium.id, matchId }, Date.now() - 31_000)).ticket, /expired/],
      ["another match's ticket", await ticketFor(premium, other), /another match/],
    ];
    for (const [name, ticket, detail] of cases) {
      const body = await expectProblem(livePath(matchId, ticket), 401, upgrade);
      expect(body.type, name).toMatch(/unauthorized$/);
      expect(body.detail, name).toMatch(detail);
    }

    // A plain GET is refused before the ticket is looked at, so it does not burn it.
    const plain = await expectProblem(livePath(matchId, good), 400);
    expect(plain.detail).toMatch(/WebSocket/);

    const client = await connect(matchId, good);
    expect((await client.next()).type).toBe('state');
    const reused = await expectProblem(livePath(matchId, good), 401, upgrade);
    expect(reused.detail).toMatch(/already been used/);
    client.ws.close(1000, 'done');
  });

  it('cannot both open a connection when two race with one ticket', async () => {
    const matchId = freshMatch();
    const ticket = await ticketFor(premium, matchId);
    const responses = await Promise.all(
      [0, 1, 2].map(() => SELF.fetch(`${BASE_URL}${livePath(matchId, ticket)}`, { headers: { upgrade: 'websocket', 'cf-connecting-ip': randomIp() } })),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([101, 401, 401]);
    for (const res of responses) {
      if (res.webSocket) {
        res.webSocket.accept();
        res.webSocket.close(1000, 'done');
      } else await res.text();
    }
  });
});

describe('the live routes in the OpenAPI document', () => {
  it('documents the upgrade (101) with its problems, and the ticket route as secured', async () => {
    const doc = await (await SELF.fetch(`${BASE_URL}/openapi.json`)).json<{
      paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[]; parameters?: Array<{ name: string; in: string; required?: boolean }> }>>;
    }>();
    const live = doc.paths['/matches/{matchId}/odds/live']!.get!;
    expect(Object.keys(live.responses).sort()).toEqual(['101', '400', '401', '404', '405', '429', '500']);
    expect(live.parameters?.find((p) => p.name === 'ticket')).toMatchObject({ in: 'query', required: true });
    const ticket = doc.paths['/matches/{matchId}/odds/live/ticket']!.post!;
    expect(ticket.security?.length).toBeGreaterThan(0);
    expect(Object.keys(ticket.responses)).toEqual(expect.arrayContaining(['200', '401', '403', '404']));
  });
});
