// The Odds API client over real HTTP against the loopback stand-in. The client is pure TS (Worker-safe), so
// Node's fetch exercises the same code path workerd's would.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { quoteMarket, startOddsApiStandin, type OddsApiStandin } from '../../scripts/lib/odds-api-standin';
import { parseRetryAfter, TheOddsApiClient, type TheOddsApiOptions } from '../../src/providers/the-odds-api';
import { ProviderError, type OddsOutcome } from '../../src/providers/types';

let clock = new Date('2023-09-29T12:00:00Z');
let standin: OddsApiStandin;
let sleeps: number[] = [];

beforeAll(async () => {
  standin = await startOddsApiStandin({ season: '2324', divisions: ['E0', 'SP1'], now: () => clock, apiKey: 'client-key' });
});
afterAll(() => standin.close());
beforeEach(async () => {
  clock = new Date('2023-09-29T12:00:00Z');
  sleeps = [];
  await fetch(`${standin.url}/__control`, { method: 'POST', body: JSON.stringify({ reset: true }) });
});

function client(options: Partial<TheOddsApiOptions> = {}) {
  return new TheOddsApiClient({
    apiKey: 'client-key',
    baseUrl: standin.url,
    timeoutMs: 2_000,
    maxAttempts: 4,
    baseDelayMs: 500,
    random: () => 0.5,
    now: () => clock,
    sleep: async (ms) => void sleeps.push(ms),
    ...options,
  });
}

async function caught(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    return error as ProviderError;
  }
  throw new Error('expected the call to fail');
}

const EPL = { competitionKey: 'soccer_epl' };

describe('The Odds API client: happy path', () => {
  it('lists sports and fixtures', async () => {
    const c = client();
    const { data: sports } = await c.sports();
    expect(sports.map((s) => s.key).sort()).toEqual(['soccer_epl', 'soccer_spain_la_liga']);
    const { fixtures, calls } = await c.fetchFixtures(EPL);
    const expected = standin.events.filter((e) => e.sportKey === 'soccer_epl' && e.commenceTime > clock && e.commenceTime.getTime() <= clock.getTime() + 14 * 86_400_000);
    expect(fixtures.map((f) => f.eventId)).toEqual(expected.map((e) => e.id));
    expect(fixtures[0]).toEqual({
      eventId: expected[0]!.id,
      competitionKey: 'soccer_epl',
      commenceTime: expected[0]!.commenceTime,
      homeTeam: expected[0]!.homeTeam,
      awayTeam: expected[0]!.awayTeam,
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ endpoint: '/v4/sports/soccer_epl/events', status: 200, requestsLast: 0 });
  });

  it('resolves every outcome by name although the server shuffles their order', async () => {
    const c = client();
    const { data: raw } = await c.odds(EPL);
    const h2h = raw.flatMap((e) => e.bookmakers.flatMap((b) => b.markets.filter((m) => m.key === 'h2h').map((m) => ({ e, m }))));
    // The order really varies: some h2h markets start with the home team, some do not.
    expect(h2h.some(({ e, m }) => m.outcomes[0]!.name === e.home_team)).toBe(true);
    expect(h2h.some(({ e, m }) => m.outcomes[0]!.name !== e.home_team)).toBe(true);

    const { odds, fixtures } = await c.fetchOdds(EPL);
    expect(fixtures.length).toBeGreaterThan(0);
    expect(odds.length).toBeGreaterThan(fixtures.length * 5);
    const outcomesSeen = new Set<OddsOutcome>();
    for (const row of odds) {
      const event = standin.events.find((e) => e.id === row.eventId)!;
      const bookmaker = event.bookmakers.find((b) => b.key === row.bookmaker)!;
      const truth = quoteMarket(event, bookmaker, row.market, clock)!.find((q) => q.outcome === row.outcome)!;
      expect({ price: row.price, point: row.point }).toEqual({ price: truth.price, point: row.market === 'h2h' ? null : truth.point });
      expect(row.capturedAt).toEqual(clock);
      expect(row.lastUpdate.getTime()).toBeLessThanOrEqual(clock.getTime());
      outcomesSeen.add(row.outcome);
    }
    expect([...outcomesSeen].sort()).toEqual(['away', 'draw', 'home', 'over', 'under']);
    // Per bookmaker and market, each outcome once: the home price is not the away price by accident.
    const keys = odds.map((r) => `${r.eventId}|${r.bookmaker}|${r.market}|${r.outcome}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('sends the window to the API', async () => {
    const from = new Date('2023-09-30T13:00:00.500Z');
    const to = new Date('2023-10-01T00:00:00Z');
    const { fixtures } = await client().fetchOdds({ ...EPL, commenceTimeFrom: from, commenceTimeTo: to });
    expect(fixtures.length).toBeGreaterThan(0);
    for (const f of fixtures) expect(f.commenceTime >= new Date('2023-09-30T13:00:00Z') && f.commenceTime <= to).toBe(true);
    const { fixtures: all } = await client().fetchOdds(EPL);
    expect(fixtures.length).toBeLessThan(all.length);
  });

  it('records the quota headers of every call and exposes the latest', async () => {
    const c = client();
    const first = await c.fetchOdds(EPL);
    expect(first.calls[0]).toMatchObject({ requestsLast: 3, requestsUsed: 3, requestsRemaining: standin.state().creditLimit - 3 });
    const second = await c.fetchResults({ ...EPL, daysFrom: 2 });
    expect(second.calls[0]).toMatchObject({ endpoint: '/v4/sports/soccer_epl/scores', requestsLast: 2, requestsUsed: 5 });
    expect(c.quota).toMatchObject({ requestsUsed: standin.state().creditsUsed, requestsRemaining: standin.state().creditLimit - 5, requestsLast: 2 });
    expect(c.calls.map((call) => call.endpoint)).toEqual(['/v4/sports/soccer_epl/odds', '/v4/sports/soccer_epl/scores']);
  });

  it('maps results to home and away scores by name', async () => {
    const event = standin.events.find((e) => e.sportKey === 'soccer_epl' && e.commenceTime > clock && e.homeScore !== e.awayScore)!;
    clock = new Date(event.commenceTime.getTime() + 3 * 3_600_000);
    const { results } = await client().fetchResults({ ...EPL, daysFrom: 1 });
    const result = results.find((r) => r.eventId === event.id)!;
    expect(result).toMatchObject({ completed: true, homeTeam: event.homeTeam, homeScore: event.homeScore, awayScore: event.awayScore });
    expect(results.some((r) => !r.completed && r.homeScore === null && r.scores === null)).toBe(true);
  });
});

describe('The Odds API client: retries', () => {
  it('retries a 500 with exponential backoff and jitter, then succeeds', async () => {
    standin.fail('server_error', 2);
    const c = client();
    const { fixtures, calls } = await c.fetchFixtures(EPL);
    expect(fixtures.length).toBeGreaterThan(0);
    expect(calls.map((call) => call.status)).toEqual([500, 500, 200]);
    expect(sleeps).toEqual([250, 500]); // full jitter at random() = 0.5 of 500, then 1000
  });

  it('waits Retry-After on a 429, then succeeds', async () => {
    standin.fail('rate_limit', 1, { retryAfter: 3 });
    const { odds, calls } = await client().fetchOdds(EPL);
    expect(odds.length).toBeGreaterThan(0);
    expect(calls.map((call) => call.status)).toEqual([429, 200]);
    expect(sleeps).toEqual([3000]);
  });

  it('times out a hanging call and retries it', async () => {
    standin.fail('timeout', 1);
    const started = Date.now();
    const { fixtures } = await client({ timeoutMs: 300 }).fetchFixtures(EPL);
    expect(fixtures.length).toBeGreaterThan(0);
    expect(sleeps).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives up after maxAttempts with the last reason', async () => {
    standin.fail('server_error', 5);
    const error = await caught(client({ maxAttempts: 3 }).fetchFixtures(EPL));
    expect(error.kind).toBe('server_error');
    expect(error.details.attempts).toBe(3);
    expect(error.details.calls.map((call) => call.status)).toEqual([500, 500, 500]);
    expect(error.message).toMatch(/500 INTERNAL_ERROR.*attempt 3 of 3/);
    expect(standin.state().faults[0]!.remaining).toBe(2);
  });

  it('fails a timeout after every attempt as a timeout', async () => {
    standin.fail('timeout', 2);
    const error = await caught(client({ timeoutMs: 200, maxAttempts: 2 }).fetchFixtures(EPL));
    expect(error.kind).toBe('timeout');
    expect(error.message).toMatch(/no response within 200 ms/);
  });

  it('refuses to wait a Retry-After longer than it allows', async () => {
    standin.fail('rate_limit', 1, { retryAfter: 3600 });
    const error = await caught(client().fetchOdds(EPL));
    expect(error.kind).toBe('rate_limited');
    expect(sleeps).toEqual([]);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = new Date('2024-01-01T00:00:00Z');
    expect(parseRetryAfter('5', now)).toBe(5000);
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});

describe('The Odds API client: failures that are not retried', () => {
  it('401 OUT_OF_USAGE_CREDITS fails at once with a typed error', async () => {
    standin.fail('out_of_credits', 3);
    const error = await caught(client().fetchOdds(EPL));
    expect(error.kind).toBe('out_of_credits');
    expect(error.details).toMatchObject({ status: 401, errorCode: 'OUT_OF_USAGE_CREDITS', attempts: 1 });
    expect(error.message).toMatch(/401 OUT_OF_USAGE_CREDITS: Usage quota has been reached/);
    expect(sleeps).toEqual([]);
    expect(standin.state().faults[0]!.remaining).toBe(2);
  });

  it('a wrong key is unauthorized, not retried', async () => {
    const error = await caught(client({ apiKey: 'wrong' }).fetchFixtures(EPL));
    expect(error.kind).toBe('unauthorized');
    expect(error.details).toMatchObject({ status: 401, errorCode: 'INVALID_KEY', attempts: 1 });
  });

  it('422 fails at once with the reason', async () => {
    const error = await caught(client({ regions: 'mars' }).fetchOdds(EPL));
    expect(error.kind).toBe('invalid_request');
    expect(error.details).toMatchObject({ status: 422, errorCode: 'INVALID_REGION', attempts: 1 });
    expect(sleeps).toEqual([]);
  });

  it.each([
    ['malformed', /malformed JSON/],
    ['truncated', /truncated body/],
    ['missing_outcomes', /invalid payload at \[\d+\]\.bookmakers\[0\]\.markets\[0\]\.outcomes: market has no outcomes/],
    ['bad_price', /invalid payload at \[\d+\]\.bookmakers\[0\]\.markets\[0\]\.outcomes\[0\]\.price: price is not decimal odds above 1/],
    ['unknown_outcome', /outcome "Nobody FC" is neither/],
  ] as const)('rejects a %s payload with a reason, without a retry that would cost credits again', async (mode, reason) => {
    standin.fail(mode, 1, { path: '/odds' });
    const error = await caught(client().fetchOdds(EPL));
    expect(error.kind).toBe('invalid_payload');
    expect(error.message).toMatch(reason);
    expect(error.details.attempts).toBe(1);
    expect(sleeps).toEqual([]);
    // The next call (the next scheduled run) gets a clean payload.
    expect((await client().fetchOdds(EPL)).odds.length).toBeGreaterThan(0);
  });
});
