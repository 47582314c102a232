// Every protected route of the API, in one list. The shared security suite (security.security.test.ts)
// runs every case against every entry, and a test fails if the OpenAPI document has a protected operation
// that is missing here: a route added later joins the suite by adding one line.
import { inject } from 'vitest';
import type { TestUser } from '../support/auth';

export interface ProtectedRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The OpenAPI path, e.g. /me/api-keys/{keyId}. */
  path: string;
  /** The concrete URL for a caller; `victim` is another user whose resources the caller must not reach. */
  url: (ctx: { caller: TestUser; victim: TestUser; victimKeyId: string; modelId: string }) => string;
  body?: unknown;
  /** The role the route needs beyond being signed in. */
  role?: 'admin';
  /** The tier the route needs: a free caller must get 403. */
  tier?: 'premium' | 'pro';
  /** The route addresses a resource owned by a user: another user's id must answer 404. */
  ownedResource?: boolean;
}

export const PROTECTED_ROUTES: ProtectedRoute[] = [
  { method: 'GET', path: '/me/session', url: () => '/me/session' },
  { method: 'GET', path: '/me', url: () => '/me' },
  { method: 'DELETE', path: '/me', url: () => '/me' },
  { method: 'GET', path: '/me/api-keys', url: () => '/me/api-keys' },
  { method: 'POST', path: '/me/api-keys', url: () => '/me/api-keys', body: { name: 'suite' } },
  { method: 'DELETE', path: '/me/api-keys/{keyId}', url: ({ victimKeyId }) => `/me/api-keys/${victimKeyId}`, ownedResource: true },
  { method: 'PATCH', path: '/admin/users/{userId}', url: ({ victim }) => `/admin/users/${victim.id}`, body: { tier: 'pro' }, role: 'admin' },
  { method: 'GET', path: '/models/{modelId}/evaluations', url: ({ modelId }) => `/models/${modelId}/evaluations`, tier: 'pro' },
  { method: 'GET', path: '/models/{modelId}/backtest', url: ({ modelId }) => `/models/${modelId}/backtest`, tier: 'pro' },
  { method: 'GET', path: '/matches/{matchId}/predictions', url: () => '/matches/1/predictions' },
  { method: 'POST', path: '/matches/{matchId}/odds/live/ticket', url: () => '/matches/1/odds/live/ticket', tier: 'premium' },
  { method: 'GET', path: '/predictions', url: () => '/predictions', tier: 'premium' },
  { method: 'GET', path: '/models/{modelId}/live-performance', url: ({ modelId }) => `/models/${modelId}/live-performance`, tier: 'premium' },
  { method: 'GET', path: '/admin/ingestion/jobs', url: () => '/admin/ingestion/jobs', role: 'admin' },
  { method: 'POST', path: '/admin/ingestion/run', url: () => '/admin/ingestion/run', body: { kind: 'fixtures' }, role: 'admin' },
  // The run that is already active: an admin's call succeeds without moving the model the prediction tests use.
  { method: 'POST', path: '/models/{modelId}/activate', url: () => `/models/${inject('defaultBundle').runId}/activate`, body: { force: true, reason: 'suite' }, role: 'admin' },
];
