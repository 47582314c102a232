import { beforeAll, describe, expect, it } from 'vitest';
import { api, decodeCursor, encodeCursor, expectInvalid, expectProblem } from './support/http';

let soccerId: number;

beforeAll(async () => {
  const res = await api('/sports');
  const { data } = await res.json<{ data: Array<{ id: number; key: string }> }>();
  soccerId = data.find((s) => s.key === 'soccer')!.id;
});

describe('GET /sports/{sportId}/teams errors', () => {
  it('an unknown sport is a 404 problem', async () => {
    const body = await expectProblem('/sports/32000/teams', 404);
    expect(body).toMatchObject({ type: 'https://docs.senzu.ai/problems/not-found', title: 'Not found', detail: 'No sport with id 32000' });
  });

  it('an id beyond the smallint column is unknown, not a database error', async () => {
    await expectProblem('/sports/9007199254740991/teams', 404);
  });

  it.each(['abc', '0', '-1', '1.5', '01', '9007199254740992'])('sportId %s is a 400 naming sportId in the path', async (id) => {
    await expectInvalid(`/sports/${id}/teams`, { sportId: 'path' });
  });

  it.each(['0', '501', 'ten', '2e1', ''])('limit=%s is a 400 naming limit', async (limit) => {
    await expectInvalid(`/sports/${soccerId}/teams?limit=${limit}`, { limit: 'query' });
  });

  it('a malformed or edited cursor is a 400 naming cursor', async () => {
    await expectInvalid(`/sports/${soccerId}/teams?cursor=not-a-cursor`, { cursor: 'query' });
    await expectInvalid(`/sports/${soccerId}/teams?cursor=%25%25%25`, { cursor: 'query' });

    const page = await (await api(`/sports/${soccerId}/teams?limit=2`)).json<{ nextCursor: string }>();
    const decoded = decodeCursor(page.nextCursor) as { k: string; p: [string, number]; c: string };
    expect(decoded.k).toBe('teams');
    // Re-encoding the untouched payload is accepted, so the 400 below comes from the edit alone.
    expect((await api(`/sports/${soccerId}/teams?limit=2&cursor=${encodeCursor(decoded)}`)).status).toBe(200);
    const edited = encodeCursor({ ...decoded, p: [`${decoded.p[0]}x`, decoded.p[1]] });
    await expectInvalid(`/sports/${soccerId}/teams?cursor=${edited}`, { cursor: 'query' });
  });

  it('a cursor of another list is a 400 naming cursor', async () => {
    const matches = await (await api('/matches?limit=1')).json<{ nextCursor: string }>();
    expect(matches.nextCursor).toEqual(expect.any(String));
    await expectInvalid(`/sports/${soccerId}/teams?cursor=${matches.nextCursor}`, { cursor: 'query' });
  });
});

describe('wrong methods', () => {
  it.each(['/sports', '/sports/1/teams'])('POST %s is a 405 problem', async (path) => {
    const body = await expectProblem(path, 405, { method: 'POST' });
    expect(body.type).toMatch(/method-not-allowed$/);
  });
});
