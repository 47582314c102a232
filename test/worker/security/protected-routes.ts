// Every protected route of the API, in one list. The shared security suite (security.security.test.ts)
// runs every case against every entry, and a test fails if the OpenAPI document has a protected operation
// that is missing here: a route added later joins the suite by adding one line.
import { sql } from 'drizzle-orm';
import { expect, inject } from 'vitest';
import { api, type TestUser } from '../support/auth';
import { withDb } from '../support/models';

export interface SuiteContext {
  caller: TestUser;
  /** Another user whose resources the caller must not reach, and their API key. */
  victim: TestUser;
  victimKeyId: string;
  victimKey: string;
  modelId: string;
}

export interface ProtectedRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The OpenAPI path, e.g. /me/api-keys/{keyId}. */
  path: string;
  /** The concrete URL for a caller. */
  url: (ctx: SuiteContext) => string;
  body?: unknown;
  /** The role the route needs beyond being signed in. */
  role?: 'admin';
  /** The API key scope the route needs beyond `read` (issue 20, gap 7): a key without it must get 403. */
  scope?: 'account' | 'predictions';
  /** The tier the route needs: a free caller must get 403. */
  tier?: 'premium' | 'pro';
  /** The route addresses a resource owned by a user: another user's id must answer 404. */
  ownedResource?: boolean;
  /**
   * Reads back what the call would change had it been allowed. A refusal (403, or the owned resource's 404)
   * must leave it exactly as it was: a handler that does the work and then answers with the problem fails.
   */
  state?: (ctx: SuiteContext) => Promise<unknown>;
}

/** The victim's API key still signs the victim in (read before and after: it must do so both times). */
async function victimKeyWorks({ victim, victimKey }: SuiteContext) {
  const res = await api('/me/session', { headers: { 'x-api-key': victimKey } });
  expect(res.status, "the victim's API key signs in").toBe(200);
  const { userId } = await res.json<{ userId: string }>();
  expect(userId).toBe(victim.id);
  return { userId };
}

/** The victim's tier and role as stored (GET /me reads the account, not the token's claims). */
async function victimAccount({ victim }: SuiteContext) {
  const res = await api('/me', { token: victim.accessToken });
  expect(res.status).toBe(200);
  const body = await res.json<{ tier: string; role: string }>();
  return { tier: body.tier, role: body.role };
}

/** Runs started by hand of the kind the suite asks for ('results': no other test starts one by hand). */
const manualResultsRuns = () =>
  withDb(async (db) => (await db.execute<{ n: number }>(sql`select count(*)::int as n from ingestion_jobs where kind = 'results' and trigger = 'manual'`)).rows[0]!.n);

export const PROTECTED_ROUTES: ProtectedRoute[] = [
  { method: 'GET', path: '/me/session', url: () => '/me/session' },
  { method: 'GET', path: '/me', url: () => '/me' },
  { method: 'DELETE', path: '/me', url: () => '/me', scope: 'account' },
  { method: 'GET', path: '/me/api-keys', url: () => '/me/api-keys', scope: 'account' },
  { method: 'POST', path: '/me/api-keys', url: () => '/me/api-keys', body: { name: 'suite' }, scope: 'account' },
  { method: 'DELETE', path: '/me/api-keys/{keyId}', url: ({ victimKeyId }) => `/me/api-keys/${victimKeyId}`, ownedResource: true, state: victimKeyWorks, scope: 'account' },
  { method: 'PATCH', path: '/admin/users/{userId}', url: ({ victim }) => `/admin/users/${victim.id}`, body: { tier: 'pro' }, role: 'admin', state: victimAccount },
  { method: 'GET', path: '/models/{modelId}/evaluations', url: ({ modelId }) => `/models/${modelId}/evaluations`, tier: 'pro' },
  { method: 'GET', path: '/models/{modelId}/backtest', url: ({ modelId }) => `/models/${modelId}/backtest`, tier: 'pro' },
  { method: 'GET', path: '/matches/{matchId}/predictions', url: () => '/matches/1/predictions', scope: 'predictions' },
  { method: 'POST', path: '/matches/{matchId}/odds/live/ticket', url: () => '/matches/1/odds/live/ticket', tier: 'premium' },
  { method: 'GET', path: '/predictions', url: () => '/predictions', tier: 'premium', scope: 'predictions' },
  { method: 'GET', path: '/models/{modelId}/live-performance', url: ({ modelId }) => `/models/${modelId}/live-performance`, tier: 'premium' },
  { method: 'GET', path: '/sports/{sportId}/live-performance', url: () => '/sports/1/live-performance', tier: 'premium' },
  { method: 'GET', path: '/admin/ingestion/jobs', url: () => '/admin/ingestion/jobs', role: 'admin' },
  { method: 'POST', path: '/admin/ingestion/run', url: () => '/admin/ingestion/run', body: { kind: 'results' }, role: 'admin', state: manualResultsRuns },
  // The run that is already active: an admin's call succeeds without moving the model the prediction tests use.
  { method: 'POST', path: '/models/{modelId}/activate', url: () => `/models/${inject('defaultBundle').runId}/activate`, body: { force: true, reason: 'suite' }, role: 'admin' },
];
