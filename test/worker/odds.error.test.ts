import { beforeAll, describe, expect, it } from 'vitest';
import { api, decodeCursor, encodeCursor, expectInvalid, expectProblem } from './support/http';

let matchId: number;
let odds: string;

beforeAll(async () => {
  // E0 2023-08-11 Burnley v Man City, which has pre-match and closing prices.
  const res = await api('/matches?from=2023-08-11&to=2023-08-12');
  const { data } = await res.json<{ data: Array<{ id: number; homeTeam: { name: string } }> }>();
  matchId = data.find((m) => m.homeTeam.name === 'Burnley')!.id;
  odds = `/matches/${matchId}/odds`;
});

describe('GET /matches/{matchId}/odds errors', () => {
  it('an unknown match is a 404 problem, whatever the filters', async () => {
    for (const path of ['/matches/2000000000/odds', '/matches/2000000000/odds?latest=true&market=h2h', '/matches/9007199254740991/odds']) {
      const body = await expectProblem(path, 404);
      expect(body.type).toBe('https://docs.senzu.ai/problems/not-found');
      expect(body.detail).toMatch(/^No match with id \d+$/);
    }
  });

  it.each(['abc', '0', '-1', '3.0', '9007199254740992'])('matchId %s is a 400 naming matchId in the path', async (id) => {
    await expectInvalid(`/matches/${id}/odds`, { matchId: 'path' });
  });

  it.each([
    ['market=moneyline', 'market'],
    ['market=H2H', 'market'],
    ['phase=opening_line', 'phase'],
    ['bookmaker=Bet%20365', 'bookmaker'],
    ['bookmaker=', 'bookmaker'],
    [`bookmaker=${'a'.repeat(65)}`, 'bookmaker'],
    ['latest=yes', 'latest'],
    ['latest=1', 'latest'],
    ['latest=TRUE', 'latest'],
    ['latest=', 'latest'],
    ['from=last-week', 'from'],
    ['to=2023-08-11T19:00', 'to'],
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=1e3', 'limit'],
  ])('%s is a 400 naming %s', async (query, field) => {
    await expectInvalid(`${odds}?${query}`, { [field]: 'query' });
  });

  it('from at or after to is a 400 naming both', async () => {
    await expectInvalid(`${odds}?from=2023-08-11T19:00:00Z&to=2023-08-11T19:00:00Z`, { from: 'query', to: 'query' });
    await expectInvalid(`${odds}?from=2023-08-12&to=2023-08-11`, { from: 'query', to: 'query' });
  });

  it('names every bad query field at once', async () => {
    await expectInvalid(`${odds}?market=x&latest=x&phase=x&limit=0`, { market: 'query', latest: 'query', phase: 'query', limit: 'query' });
  });

  it('a malformed cursor is a 400 naming cursor', async () => {
    for (const cursor of ['nope', '____', encodeCursor({ k: 'odds', p: [], c: '00000000' }), encodeCursor([1, 2, 3])]) {
      await expectInvalid(`${odds}?cursor=${cursor}`, { cursor: 'query' });
    }
  });

  it('an edited cursor, or one replayed with other filters, is a 400 naming cursor', async () => {
    const page = await (await api(`${odds}?limit=2`)).json<{ nextCursor: string }>();
    expect(page.nextCursor).toEqual(expect.any(String));
    const decoded = decodeCursor(page.nextCursor);
    expect(decoded.k).toBe('odds');
    // The same payload re-encoded is accepted, so each 400 below comes from its edit alone.
    expect((await api(`${odds}?limit=2&cursor=${encodeCursor(decoded)}`)).status).toBe(200);
    const [market, bookmaker, outcome, point, capturedAt, provider] = decoded.p;
    for (const p of [
      [market, 'pinnacle', outcome, point, capturedAt, provider],
      [market, bookmaker, outcome, 2.5, capturedAt, provider],
      [market, bookmaker, outcome, point, '2020-01-01T00:00:00.000000Z', provider],
      ['moneyline', bookmaker, outcome, point, capturedAt, provider],
      [market, bookmaker, outcome, 'x', capturedAt, provider],
      [market, bookmaker, outcome, point, '2023-13-01T00:00:00.000000Z', provider],
    ]) {
      await expectInvalid(`${odds}?limit=2&cursor=${encodeCursor({ ...decoded, p })}`, { cursor: 'query' });
    }
    for (const other of ['latest=true', 'market=h2h', 'phase=closing', 'bookmaker=bet365', 'from=2020-01-01']) {
      await expectInvalid(`${odds}?limit=2&${other}&cursor=${page.nextCursor}`, { cursor: 'query' });
    }
    // `latest=false` is the default, so it is the same query.
    expect((await api(`${odds}?latest=false&cursor=${page.nextCursor}`)).status).toBe(200);
  });

  it('a cursor of another list is a 400 naming cursor', async () => {
    const matches = await (await api('/matches?limit=1')).json<{ nextCursor: string }>();
    await expectInvalid(`${odds}?cursor=${matches.nextCursor}`, { cursor: 'query' });
  });

  it('a wrong method is a 405 problem', async () => {
    await expectProblem(odds, 405, { method: 'PUT' });
    await expectProblem(`/matches/${matchId}`, 405, { method: 'DELETE' });
  });
});
