// Abuse resistance (issue 20): each numbered gap of the review, reproduced by the attack that used it.
// The per-route checks live in the shared security suite (security/); these are the scenarios.
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { api, login, registerUser } from './support/auth';
import { withDb } from './support/models';

/** Backends of this database waiting for a lock (the test's own holder excluded: it is not waiting). */
const waitingForLocks = () =>
  withDb(async (db) =>
    (await db.execute<{ n: number }>(sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)).rows[0]!.n,
  );

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('gap 1: a family revocation cannot miss a token minted at the same moment', () => {
  it('logout while a refresh of the family is in flight revokes the child that refresh mints', async () => {
    const user = await registerUser('family-race');
    const session = await login(user);
    const tokenHash = [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(session.refreshToken)))]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('');
    // Hold the token's row lock, as a slow refresh of the same token would, so the real refresh and the real
    // logout below queue behind it in that order: the refresh mints its child while the logout revokes.
    let refresh!: Promise<Response>;
    let logout!: Promise<Response>;
    await withDb((db) =>
      db.transaction(async (tx) => {
        await tx.execute(sql`select id from refresh_tokens where token_hash = ${tokenHash} for update`);
        refresh = api('/auth/refresh', { method: 'POST', json: { refreshToken: session.refreshToken } });
        await until(async () => (await waitingForLocks()) >= 1, 'the refresh to queue');
        logout = api('/auth/logout', { method: 'POST', json: { refreshToken: session.refreshToken } });
        await until(async () => (await waitingForLocks()) >= 2, 'the logout to queue');
      }),
    );
    const [refreshed, loggedOut] = await Promise.all([refresh, logout]);
    expect(loggedOut.status).toBe(204);
    if (refreshed.status === 200) {
      const child = await refreshed.json<{ refreshToken: string }>();
      const res = await api('/auth/refresh', { method: 'POST', json: { refreshToken: child.refreshToken } });
      expect(res.status, 'the child minted during the logout outlived it').toBe(401);
    } else {
      expect(refreshed.status).toBe(401);
    }
    const alive = await withDb(async (db) =>
      (await db.execute<{ n: number }>(sql`select count(*)::int as n from refresh_tokens where user_id = ${user.id} and family_id = (select family_id from refresh_tokens where token_hash = ${tokenHash}) and revoked_at is null`)).rows[0]!.n,
    );
    expect(alive, 'unrevoked tokens left in the logged-out family').toBe(0);
  });
});
