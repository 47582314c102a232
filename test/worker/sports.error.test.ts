import { SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';

const PROBLEM = 'application/problem+json';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId: string;
  invalidParams?: Array<{ name: string; in: string; reason: string }>;
}

async function expectProblem(path: string, status: number, init?: RequestInit): Promise<Problem> {
  const res = await SELF.fetch(`http://api.test${path}`, init);
  const text = await res.text();
  expect(res.status, `${path}: ${text}`).toBe(status);
  expect(res.headers.get('content-type')).toBe(PROBLEM);
  const body = JSON.parse(text) as Problem;
  expect(body.status).toBe(status);
  expect(body.instance).toBe(new URL(`http://api.test${path}`).pathname);
  expect(body.requestId).toBe(res.headers.get('x-request-id'));
  return body;
}

async function expectInvalid(path: string, expected: Record<string, 'query' | 'path'>): Promise<Problem> {
  const body = await expectProblem(path, 400);
  expect(body.type).toBe('https://docs.senzu.ai/problems/validation');
  const named = Object.fromEntries((body.invalidParams ?? []).map((p) => [p.name, p.in]));
  expect(named).toEqual(expected);
  for (const p of body.invalidParams!) expect(p.reason.length).toBeGreaterThan(0);
  return body;
}

const encodeCursor = (payload: unknown) =>
  btoa(JSON.stringify(payload)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

let soccerId: number;

beforeAll(async () => {
  const res = await SELF.fetch('http://api.test/sports');
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

    const page = await (await SELF.fetch(`http://api.test/sports/${soccerId}/teams?limit=2`)).json<{ nextCursor: string }>();
    const decoded = JSON.parse(atob(page.nextCursor.replace(/-/g, '+').replace(/_/g, '/'))) as { k: string; p: [string, number]; c: string };
    expect(decoded.k).toBe('teams');
    // Re-encoding the untouched payload is accepted, so the 400 below comes from the edit alone.
    expect((await SELF.fetch(`http://api.test/sports/${soccerId}/teams?limit=2&cursor=${encodeCursor(decoded)}`)).status).toBe(200);
    const edited = encodeCursor({ ...decoded, p: [`${decoded.p[0]}x`, decoded.p[1]] });
    await expectInvalid(`/sports/${soccerId}/teams?cursor=${edited}`, { cursor: 'query' });
  });

  it('a cursor of another list is a 400 naming cursor', async () => {
    const matches = await (await SELF.fetch('http://api.test/matches?limit=1')).json<{ nextCursor: string }>();
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
