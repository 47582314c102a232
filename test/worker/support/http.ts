// HTTP helpers shared by the Worker tests: one way to call the API, read JSON, walk cursors and check
// problem responses. Every call goes through api(), which gives each request its own random
// cf-connecting-ip: anonymous callers are rate-limited per IP, and without that header every test request
// would count against 127.0.0.1, so one busy file could starve every other.
import { SELF } from 'cloudflare:test';
import { expect } from 'vitest';

export const BASE_URL = 'http://api.test';
export const PROBLEM = 'application/problem+json';

export type ApiInit = RequestInit & { token?: string; json?: unknown; ip?: string };

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId: string;
  invalidParams?: Array<{ name: string; in: string; reason: string }>;
}

const octet = () => Math.floor(Math.random() * 250);
/** A private address of its own for one request, so per-IP limits never carry over between requests. */
export const randomIp = () => `10.${octet()}.${octet()}.${octet()}`;

/** Calls the Worker: `token` as a bearer token, `json` as the body, `ip` as the client address (random by default). */
export async function api(path: string, init: ApiInit = {}): Promise<Response> {
  const { token, json, ip, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  if (json !== undefined) headers.set('content-type', 'application/json');
  headers.set('cf-connecting-ip', ip ?? randomIp());
  return SELF.fetch(`${BASE_URL}${path}`, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body });
}

/**
 * JSON readers bound to one way of calling (anonymous by default; pass a function for credentials that only
 * exist once a beforeAll has run).
 */
export function reader(init: ApiInit | (() => ApiInit) = {}) {
  const options = () => (typeof init === 'function' ? init() : init);

  /** GETs `path`, expects a 200 JSON response and returns its body. */
  async function getJson<T>(path: string): Promise<T> {
    const res = await api(path, options());
    const body = await res.text();
    expect(res.status, `${path}: ${body}`).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    return JSON.parse(body) as T;
  }

  /** Follows nextCursor to the end, starting at `from` if given; returns every row and the page sizes. */
  async function walk<T>(path: string, from: string | null = null): Promise<{ rows: T[]; pageSizes: number[] }> {
    const rows: T[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = from;
    do {
      const separator = path.includes('?') ? '&' : '?';
      const page: Page<T> = await getJson<Page<T>>(cursor ? `${path}${separator}cursor=${encodeURIComponent(cursor)}` : path);
      rows.push(...page.data);
      pageSizes.push(page.data.length);
      cursor = page.nextCursor;
      expect(pageSizes.length, 'pagination must end').toBeLessThan(1000);
    } while (cursor);
    return { rows, pageSizes };
  }

  return { getJson, walk };
}

export const { getJson, walk } = reader();

/** Expects an RFC 9457 problem with this status for `path`, its instance and request id filled in. */
export async function expectProblem(path: string, status: number, init?: ApiInit): Promise<Problem> {
  const res = await api(path, init);
  const text = await res.text();
  expect(res.status, `${path}: ${text}`).toBe(status);
  expect(res.headers.get('content-type')).toBe(PROBLEM);
  const body = JSON.parse(text) as Problem;
  expect(body.status).toBe(status);
  expect(body.instance).toBe(new URL(`${BASE_URL}${path}`).pathname);
  expect(body.requestId).toBe(res.headers.get('x-request-id'));
  return body;
}

/** A 400 validation problem naming exactly these fields, each with a reason. */
export async function expectInvalid(path: string, expected: Record<string, 'query' | 'path'>): Promise<Problem> {
  const body = await expectProblem(path, 400);
  expect(body.type).toBe('https://docs.senzu.ai/problems/validation');
  const named = Object.fromEntries((body.invalidParams ?? []).map((p) => [p.name, p.in]));
  expect(named).toEqual(expected);
  for (const p of body.invalidParams!) expect(p.reason.length).toBeGreaterThan(0);
  return body;
}

/** Cursors are base64url JSON; tests decode and re-encode them to prove edits are caught. */
export const decodeCursor = (cursor: string) => JSON.parse(atob(cursor.replace(/-/g, '+').replace(/_/g, '/'))) as { k: string; p: unknown[]; c: string };
export const encodeCursor = (payload: unknown) =>
  btoa(JSON.stringify(payload)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** Byte order, as the API promises (the names compared here are ASCII, so code-unit order is byte order). */
export const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Statuses of `n` requests fired at once, counted by status. */
export async function burst(n: number, request: (i: number) => Promise<Response>): Promise<Record<number, number>> {
  const statuses = await Promise.all(Array.from({ length: n }, async (_, i) => (await request(i)).status));
  const counts: Record<number, number> = {};
  for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
}

/** The per-IP limit as the Worker computes it (anonymous callers and failed credentials). */
export const anonymousLimit = async () => Number((await api('/sports', { ip: '192.0.2.250' })).headers.get('ratelimit-limit'));
