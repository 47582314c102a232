import { beforeAll, describe, expect, it } from 'vitest';
import { api, decodeCursor, encodeCursor, expectProblem, expectInvalid as expectValidationProblem, type Problem } from './support/http';

/** A 400 validation problem naming exactly these fields, the first of them in its detail too. */
async function expectInvalid(path: string, expected: Record<string, 'query' | 'path'>): Promise<Problem> {
  const body = await expectValidationProblem(path, expected);
  expect(body.detail).toContain(Object.keys(expected)[0]);
  return body;
}

async function firstPage(query: string): Promise<{ nextCursor: string }> {
  const res = await api(`/matches?${query}`);
  expect(res.status).toBe(200);
  const page = await res.json<{ nextCursor: string | null }>();
  expect(page.nextCursor).toEqual(expect.any(String));
  return page as { nextCursor: string };
}

let eplId: number;

beforeAll(async () => {
  // Other suites add matches of their own to the same database; the first day of E0 2023/24 is the file's.
  const res = await api('/matches?from=2023-08-11&to=2023-08-12');
  const { data } = await res.json<{ data: Array<{ competition: { id: number; key: string } }> }>();
  eplId = data.find((m) => m.competition.key === 'soccer_epl')!.competition.id;
});

describe('GET /matches/{matchId} errors', () => {
  it('an unknown match is a 404 problem', async () => {
    const body = await expectProblem('/matches/2000000000', 404);
    expect(body).toMatchObject({ type: 'https://docs.senzu.ai/problems/not-found', title: 'Not found', detail: 'No match with id 2000000000' });
    await expectProblem('/matches/9007199254740991', 404);
  });

  it.each(['abc', '0', '-5', '1.0', '007', '1e3', '9007199254740992', '12abc'])('matchId %s is a 400 naming matchId in the path', async (id) => {
    await expectInvalid(`/matches/${id}`, { matchId: 'path' });
  });
});

describe('GET /matches bad query values', () => {
  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=-1', 'limit'],
    ['limit=2.5', 'limit'],
    ['limit=many', 'limit'],
    ['status=done', 'status'],
    ['status=FINISHED', 'status'],
    ['order=newest', 'order'],
    ['sportId=soccer', 'sportId'],
    ['competitionId=0', 'competitionId'],
    ['teamId=-3', 'teamId'],
    ['teamId=99999999999999999999', 'teamId'],
    ['from=yesterday', 'from'],
    ['from=2023-02-30', 'from'],
    ['from=2023-13-01', 'from'],
    ['from=0000-01-01', 'from'],
    ['to=2023-08-11T19:00:00', 'to'],
    ['to=2023-08-11T25:00:00Z', 'to'],
    ['to=11/08/2023', 'to'],
  ])('%s is a 400 naming %s', async (query, field) => {
    await expectInvalid(`/matches?${query}`, { [field]: 'query' });
  });

  it('a repeated single-valued parameter is a 400 naming it', async () => {
    await expectInvalid('/matches?status=finished&status=live', { status: 'query' });
  });

  it('from at or after to is a 400 naming both', async () => {
    const body = await expectInvalid('/matches?from=2024-01-01&to=2023-01-01', { from: 'query', to: 'query' });
    expect(body.invalidParams!.find((p) => p.name === 'from')!.reason).toContain('before to');
    await expectInvalid('/matches?from=2023-08-11&to=2023-08-11T00:00:00Z', { from: 'query', to: 'query' });
  });

  it('names every bad field at once', async () => {
    await expectInvalid('/matches?limit=0&status=nope&teamId=x&cursor=zzz', { limit: 'query', status: 'query', teamId: 'query', cursor: 'query' });
  });
});

describe('GET /matches cursors', () => {
  it.each(['abc', '!!!', encodeCursor('just a string'), encodeCursor({ k: 'matches', p: ['desc'], c: '00000000' }), 'x'.repeat(2000)])(
    'a malformed cursor (%#) is a 400 naming cursor',
    async (cursor) => {
      await expectInvalid(`/matches?cursor=${encodeURIComponent(cursor)}`, { cursor: 'query' });
    },
  );

  it('an edited cursor is a 400 naming cursor', async () => {
    const { nextCursor } = await firstPage(`competitionId=${eplId}&limit=3`);
    const decoded = decodeCursor(nextCursor);
    expect(decoded.k).toBe('matches');
    // The same payload re-encoded is accepted, so each 400 below comes from its edit alone.
    const reencoded = await api(`/matches?competitionId=${eplId}&limit=3&cursor=${encodeCursor(decoded)}`);
    expect(reencoded.status).toBe(200);
    const [order, startAt, id] = decoded.p as [string, string, number];
    for (const p of [
      [order, startAt, id + 1],
      [order, '2000-01-01T00:00:00.000000Z', id],
      [order === 'desc' ? 'asc' : 'desc', startAt, id],
      [order, '2023-02-30T00:00:00.000000Z', id],
      [order, startAt, -1],
    ]) {
      await expectInvalid(`/matches?competitionId=${eplId}&limit=3&cursor=${encodeCursor({ ...decoded, p })}`, { cursor: 'query' });
    }
    await expectInvalid(`/matches?competitionId=${eplId}&limit=3&cursor=${nextCursor.slice(0, -4)}`, { cursor: 'query' });
  });

  it('a cursor replayed with other filters is a 400 naming cursor', async () => {
    const { nextCursor } = await firstPage(`competitionId=${eplId}&from=2023-07-01&limit=3`);
    await expectInvalid(`/matches?competitionId=${eplId}&limit=3&cursor=${nextCursor}`, { cursor: 'query' });
    await expectInvalid(`/matches?competitionId=${eplId}&from=2023-07-01&status=finished&cursor=${nextCursor}`, { cursor: 'query' });
    // The same instant written differently is the same filter.
    const same = await api(`/matches?competitionId=${eplId}&from=2023-07-01T02:00:00%2B02:00&cursor=${nextCursor}`);
    expect(same.status).toBe(200);
  });

  it('a cursor with a contradicting order is a 400 naming cursor', async () => {
    const { nextCursor } = await firstPage(`competitionId=${eplId}&order=asc&limit=3`);
    const body = await expectInvalid(`/matches?competitionId=${eplId}&order=desc&cursor=${nextCursor}`, { cursor: 'query' });
    expect(body.invalidParams![0]!.reason).toContain('order=asc');
  });

  it('a cursor of another list is a 400 naming cursor', async () => {
    const sports = await (await api('/sports')).json<{ data: Array<{ id: number }> }>();
    const teams = await (await api(`/sports/${sports.data[0]!.id}/teams?limit=1`)).json<{ nextCursor: string }>();
    await expectInvalid(`/matches?cursor=${teams.nextCursor}`, { cursor: 'query' });
  });
});
