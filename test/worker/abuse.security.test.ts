// Abuse resistance (issue 20): each numbered gap of the review, reproduced by the attack that used it (the
// limits of gaps 3, 4 and 6 are in abuse-limits, abuse-login and abuse-sockets.security.test.ts). The
// per-route checks live in the shared security suite (security/); these are the scenarios.
import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { configFrom } from '../../src/env';
import { createLogger, errorFields } from '../../src/lib/logging';
import { createServices } from '../../src/services';
import { REGISTRATION_NOTICE_INTERVAL_MS, REGISTRATION_NOTICE_SUBJECT } from '../../src/services/auth/accounts';
import { describe, expect, it } from 'vitest';
import { api, createApiKey, login, outboxOf, PASSWORD, promote, registerUser, uniqueEmail, verificationToken } from './support/auth';
import { anonymousLimit, burst, PROBLEM } from './support/http';
import { insertModelRun, withDb } from './support/models';

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

describe('gap 2: demoting an admin or lowering a tier revokes the access tokens already issued', () => {
  it('a demoted admin cannot PATCH itself back to admin with the token it held', async () => {
    const [demoted, other] = await Promise.all([registerUser('demoted-admin'), registerUser('other-admin')]);
    const demotedAdmin = await promote(demoted, { role: 'admin' });
    const otherAdmin = await promote(other, { role: 'admin' });
    const demote = await api(`/admin/users/${demoted.id}`, { method: 'PATCH', token: otherAdmin.accessToken, json: { role: 'user' } });
    expect(demote.status).toBe(200);
    const comeback = await api(`/admin/users/${demoted.id}`, { method: 'PATCH', token: demotedAdmin.accessToken, json: { role: 'admin' } });
    expect(comeback.status).toBe(401);
    expect(comeback.headers.get('content-type')).toBe(PROBLEM);
    const stored = await withDb(async (db) => (await db.execute<{ role: string }>(sql`select role from users where id = ${demoted.id}`)).rows[0]!.role);
    expect(stored).toBe('user');
    // Signing in again (even within the same second) gives a token that carries the new role and works.
    const fresh = await login(demoted);
    const me = await api('/me/session', { token: fresh.accessToken });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ role: 'user' });
  });

  it('a downgraded premium user loses the premium routes at once, and refreshing gives the new tier', async () => {
    const [user, admin] = await Promise.all([registerUser('downgraded'), registerUser('downgrading-admin')]);
    const premium = await promote(user, { tier: 'premium' });
    const byAdmin = await promote(admin, { role: 'admin' });
    expect((await api('/predictions', { token: premium.accessToken })).status).toBe(200);
    expect((await api(`/admin/users/${user.id}`, { method: 'PATCH', token: byAdmin.accessToken, json: { tier: 'free' } })).status).toBe(200);
    const after = await api('/predictions', { token: premium.accessToken });
    expect(after.status).toBe(401);
    expect((await after.json<{ detail: string }>()).detail).toMatch(/sign in again|refresh/i);
    const refreshed = await api('/auth/refresh', { method: 'POST', json: { refreshToken: premium.refreshToken } });
    expect(refreshed.status).toBe(200);
    const { accessToken } = await refreshed.json<{ accessToken: string }>();
    expect(await (await api('/me/session', { token: accessToken })).json()).toMatchObject({ tier: 'free' });
    expect((await api('/predictions', { token: accessToken })).status).toBe(403);
  });
});

describe('gap 7: API keys have scopes and an optional expiry, and never reach admin routes', () => {
  const create = (token: string, body: Record<string, unknown>) => api('/me/api-keys', { method: 'POST', token, json: body });

  it('a leaked key with the default scopes can neither mint keys nor delete the account', async () => {
    const user = await registerUser('leaked-key');
    const res = await create(user.accessToken, { name: 'bot' });
    expect(res.status).toBe(201);
    const created = await res.json<{ key: string; scopes: string[]; expiresAt: string | null }>();
    expect(created.scopes).toEqual(['read', 'predictions']);
    expect(created.expiresAt).toBeNull();
    const headers = { 'x-api-key': created.key };
    expect((await api('/matches/1', { headers })).status).not.toBe(403);
    const mint = await api('/me/api-keys', { method: 'POST', headers, json: { name: 'attacker' } });
    expect(mint.status).toBe(403);
    expect((await mint.json<{ detail: string }>()).detail).toMatch(/account/);
    expect((await api('/me', { method: 'DELETE', headers })).status).toBe(403);
    expect((await api('/me', { token: user.accessToken })).status).toBe(200);
    const keys = await (await api('/me/api-keys', { token: user.accessToken })).json<{ data: unknown[] }>();
    expect(keys.data).toHaveLength(1);
  });

  it("an admin's key, even with every scope, is refused on admin routes", async () => {
    const admin = await promote(await registerUser('admin-key'), { role: 'admin' });
    const key = (await (await create(admin.accessToken, { name: 'all', scopes: ['read', 'predictions', 'account'] })).json<{ key: string }>()).key;
    const res = await api(`/admin/users/${admin.id}`, { method: 'PATCH', headers: { 'x-api-key': key }, json: { tier: 'pro' } });
    expect(res.status).toBe(403);
    expect((await res.json<{ detail: string }>()).detail).toMatch(/API key/);
    expect((await api('/admin/ingestion/jobs', { headers: { 'x-api-key': key } })).status).toBe(403);
    // The same admin with an access token still reaches them.
    expect((await api('/admin/ingestion/jobs', { token: admin.accessToken })).status).toBe(200);
  });

  it('a read-only key cannot read predictions; a key with the account scope manages keys', async () => {
    const user = await registerUser('scoped-key');
    const readOnly = (await (await create(user.accessToken, { name: 'read', scopes: ['read'] })).json<{ key: string }>()).key;
    expect((await api('/matches/1/predictions', { headers: { 'x-api-key': readOnly } })).status).toBe(403);
    expect((await api('/me', { headers: { 'x-api-key': readOnly } })).status).toBe(200);
    const manager = (await (await create(user.accessToken, { name: 'manager', scopes: ['account'] })).json<{ key: string }>()).key;
    expect((await api('/me/api-keys', { method: 'POST', headers: { 'x-api-key': manager }, json: { name: 'child' } })).status).toBe(201);
  });

  it('an expired key stops working; an expiry in the past or an unknown scope is a 400', async () => {
    const user = await registerUser('expiring-key');
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const res = await create(user.accessToken, { name: 'temp', expiresAt });
    expect(res.status).toBe(201);
    const created = await res.json<{ id: string; key: string; expiresAt: string }>();
    expect(created.expiresAt).toBe(expiresAt);
    expect((await api('/me/session', { headers: { 'x-api-key': created.key } })).status).toBe(200);
    await withDb((db) => db.execute(sql`update api_keys set expires_at = now() - interval '1 second' where id = ${created.id}`));
    const expired = await api('/me/session', { headers: { 'x-api-key': created.key } });
    expect(expired.status).toBe(401);
    expect(expired.headers.get('content-type')).toBe(PROBLEM);
    for (const body of [{ name: 'x', expiresAt: new Date(Date.now() - 1000).toISOString() }, { name: 'x', scopes: ['admin'] }, { name: 'x', scopes: [] }]) {
      const bad = await create(user.accessToken, body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.headers.get('content-type')).toBe(PROBLEM);
    }
  });
});

describe('gap 5: the free quota cannot be farmed with throwaway accounts', () => {
  it('a new account signs in at once but gets no free predictions until its email is verified', async () => {
    const email = uniqueEmail('farm');
    const res = await api('/auth/register', { method: 'POST', json: { email, password: PASSWORD } });
    expect(res.status).toBe(202);
    const tokens = await login({ email, password: PASSWORD });
    const userId = decodeJwt(tokens.accessToken).sub!;
    const before = await api('/matches/1/predictions', { token: tokens.accessToken });
    expect(before.status).toBe(429);
    const problem = await before.json<{ type: string; detail: string }>();
    expect(problem.type).toMatch(/quota-exceeded$/);
    expect(problem.detail).toMatch(/Verify your email/);
    const token = await verificationToken(userId);
    expect((await api('/auth/verify-email', { method: 'POST', json: { token } })).status).toBe(204);
    expect((await api('/matches/1/predictions', { token: tokens.accessToken })).status).not.toBe(429);
    // A token works once.
    const again = await api('/auth/verify-email', { method: 'POST', json: { token } });
    expect(again.status).toBe(400);
    expect(again.headers.get('content-type')).toBe(PROBLEM);
  });

  it('200 concurrent registrations from one address: exactly a tenth of its limit get through', async () => {
    const limit = await anonymousLimit();
    const counts = await burst(200, () => api('/auth/register', { method: 'POST', ip: '198.51.100.55', json: { email: uniqueEmail('farm-burst'), password: PASSWORD } }));
    expect(counts).toEqual({ 202: Math.floor(limit / 10), 429: 200 - Math.floor(limit / 10) });
  }, 60_000);
});

describe('gap 8: registration does not tell whether an email has an account', () => {
  /** What a caller can compare between two answers: everything but the request id and the date. */
  const visible = async (res: Response, email: string) => {
    const headers = Object.fromEntries([...res.headers].filter(([name]) => name !== 'x-request-id' && name !== 'date'));
    const body = await res.json<Record<string, unknown>>();
    // The body echoes the caller's own address, so the address is the one thing allowed to differ.
    expect(body.email).toBe(email);
    return { status: res.status, headers, body: { ...body, email: '<the address sent>' } };
  };

  // No latency test here: on a shared 2-core machine one PBKDF2 (about 25 ms) is of the order of the noise in the
  // rest of a registration, so no bound both passed reliably on this code and failed when the taken path skipped
  // the KDF (measured; docs/decisions.md). Equal work is by construction: both paths hash the password and run one
  // transaction (the address's lock and three statements, a fourth for a day's notice), and neither issues tokens.
  it('a taken email and a new email get the same status, headers and body', async () => {
    const owner = await registerUser('enum-owner');
    const fresh = uniqueEmail('enum-new');
    const taken = await visible(await api('/auth/register', { method: 'POST', json: { email: owner.email, password: 'someone else entirely 99' } }), owner.email);
    const created = await visible(await api('/auth/register', { method: 'POST', json: { email: fresh, password: 'someone else entirely 99' } }), fresh);
    expect(taken).toEqual(created);
    expect(created).toMatchObject({ status: 202, headers: { 'cache-control': 'no-store' }, body: { status: 'verification_sent' } });
    expect(created.body).not.toHaveProperty('tokens');
    // The same for a taken address spelled in another case: the echo is the caller's spelling, not the owner's.
    const shouted = owner.email.toUpperCase();
    expect(await visible(await api('/auth/register', { method: 'POST', json: { email: shouted, password: 'someone else entirely 99' } }), shouted)).toEqual(created);
  });

  it('a taken email queues one notice to its owner, and no more for a day however often it is tried', async () => {
    const owner = await registerUser('enum-notice');
    const attempt = () => api('/auth/register', { method: 'POST', json: { email: owner.email, password: 'the intruder passphrase 5' } });
    const notices = async () => (await outboxOf(owner.id)).filter((m) => m.subject === REGISTRATION_NOTICE_SUBJECT);
    expect(await notices()).toEqual([]);
    expect((await attempt()).status).toBe(202);
    const [notice, ...more] = await notices();
    expect(more).toEqual([]);
    expect(notice!.recipient).toBe(owner.email);
    expect(notice!.body).toMatch(/POST \/auth\/login/);
    expect(notice!.body).toMatch(/ignore this mail/);
    expect(notice!.body).not.toContain('the intruder passphrase 5');
    // Concurrent attempts are checked one after the other (the address's lock), so a burst adds none either.
    expect(await burst(8, attempt)).toEqual({ 202: 8 });
    expect(await notices()).toHaveLength(1);
    // A day later the owner may be told again: the service with a clock moved past the interval.
    const services = createServices(configFrom(env), env, createLogger({}, () => undefined), { now: () => new Date(Date.now() + REGISTRATION_NOTICE_INTERVAL_MS + 60_000) });
    try {
      await services.accounts.register(owner.email, 'the intruder passphrase 5');
    } finally {
      await services.close();
    }
    expect(await notices()).toHaveLength(2);
  }, 30_000);

  it("a taken-email attempt leaves the owner's password, sessions and account as they were", async () => {
    const owner = await registerUser('enum-intact');
    const apiKey = await createApiKey(owner);
    const snapshot = () =>
      withDb(async (db) => ({
        user: (await db.execute(sql`select email, password_hash, tier, role, token_epoch, email_verified_at, created_at, updated_at from users where id = ${owner.id}`)).rows,
        sessions: (await db.execute(sql`select token_hash, expires_at, rotated_at, revoked_at from refresh_tokens where user_id = ${owner.id} order by token_hash`)).rows,
        verificationTokens: (await db.execute(sql`select token_hash from email_verification_tokens where user_id = ${owner.id}`)).rows,
        accounts: (await db.execute(sql`select id from users where lower(email) = lower(${owner.email})`)).rows,
      }));
    const before = await snapshot();
    expect(before.accounts).toEqual([{ id: owner.id }]);
    expect((await api('/auth/register', { method: 'POST', json: { email: owner.email.toUpperCase(), password: 'the intruder passphrase 6' } })).status).toBe(202);
    expect(await snapshot()).toEqual(before);
    // And everything the owner holds still works; the intruder's password does not.
    expect((await api('/me', { token: owner.accessToken })).status).toBe(200);
    expect((await api('/me/session', { headers: { 'x-api-key': apiKey.key } })).status).toBe(200);
    expect((await api('/auth/login', { method: 'POST', json: { email: owner.email, password: 'the intruder passphrase 6' } })).status).toBe(401);
    expect(decodeJwt((await login(owner)).accessToken).sub).toBe(owner.id);
    expect((await api('/auth/refresh', { method: 'POST', json: { refreshToken: owner.refreshToken } })).status).toBe(200);
  });
});

describe('gap 8: the smaller gaps', () => {
  it('anonymous callers get no more than a free account (60 a minute)', async () => {
    const res = await api('/sports', { ip: '198.51.100.81' });
    expect(Number(res.headers.get('ratelimit-limit'))).toBeLessThanOrEqual(60);
  });

  it('auth and account responses carry Cache-Control: no-store, errors included', async () => {
    const user = await registerUser('no-store');
    const responses = [
      await api('/auth/login', { method: 'POST', json: { email: user.email, password: user.password } }),
      await api('/auth/refresh', { method: 'POST', json: { refreshToken: 'rt_nope' } }),
      await api('/me', { token: user.accessToken }),
      await api('/me/api-keys', { method: 'POST', token: user.accessToken, json: { name: 'cached?' } }),
    ];
    for (const res of responses) expect(res.headers.get('cache-control'), res.url).toBe('no-store');
  });

  it('a body over 64 KiB is refused with a 413 problem before it is parsed', async () => {
    const user = await registerUser('big-body');
    const res = await api('/me/api-keys', { method: 'POST', token: user.accessToken, json: { name: 'x'.repeat(70 * 1024) } });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    const huge = await api('/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"email":"a@b.c","password":"${'p'.repeat(1024 * 1024)}"}` });
    expect(huge.status).toBe(413);
  });

  it("GET /models/{id} shows the activation reason to admins only", async () => {
    const { id } = await insertModelRun({ name: `reason-${Date.now()}` });
    await withDb((db) => db.execute(sql`update model_runs set activation_reason = 'internal: vendor outage, ticket OPS-1234' where id = ${id}`));
    const anonymous = await (await api(`/models/${id}`)).json<{ activationReason: string | null }>();
    expect(anonymous.activationReason).toBeNull();
    const user = await registerUser('reason-reader');
    expect((await (await api(`/models/${id}`, { token: user.accessToken })).json<{ activationReason: string | null }>()).activationReason).toBeNull();
    const admin = await promote(await registerUser('reason-admin'), { role: 'admin' });
    expect((await (await api(`/models/${id}`, { token: admin.accessToken })).json<{ activationReason: string | null }>()).activationReason).toBe('internal: vendor outage, ticket OPS-1234');
    const listed = await (await api('/models?limit=100')).json<{ data: Array<{ id: string; activationReason: string | null }> }>();
    for (const m of listed.data) expect(m.activationReason).toBeNull();
  });
});

describe('gap 8: an unhandled database error does not log its parameters', () => {
  it("keeps the query in the log line and drops the bound values (user ids, token hashes)", async () => {
    const secret = 'f3a9c0d1e2b4a5968778695a4b3c2d1e0f9e8d7c6b5a49382716051423324150';
    let failure: unknown;
    try {
      await withDb((db) => db.execute(sql`select * from refresh_tokens where token_hash = ${secret} and no_such_column = 1`));
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message, 'the driver error names the value: the case this guards').toContain(secret);
    const lines: string[] = [];
    createLogger({}, (line) => lines.push(line)).error('unhandled error', errorFields(failure));
    expect(lines[0]).toContain('refresh_tokens');
    expect(lines[0]).not.toContain(secret);
  });
});

describe('gap 8: refresh sessions end 90 days after their login, and expired rows are deleted', () => {
  it('rotating every 29 days keeps a session alive only until day 90', async () => {
    const user = await registerUser('endless-session');
    const start = Date.now();
    let clock = new Date(start);
    const services = createServices(configFrom(env), env, createLogger({}, () => undefined), { now: () => clock });
    const day = 86_400_000;
    try {
      let tokens = await services.accounts.login(user.email, user.password);
      for (const at of [29, 58, 87]) {
        clock = new Date(start + at * day);
        tokens = await services.accounts.refresh(tokens.refreshToken);
      }
      // Rotated on day 87, the token lives 3 more days, not 30.
      expect(tokens.refreshExpiresIn).toBe(3 * 86_400);
      clock = new Date(start + 90 * day + 1);
      await expect(services.accounts.refresh(tokens.refreshToken)).rejects.toMatchObject({ code: 'unauthorized', detail: 'The refresh token has expired' });
      // A login long after sweeps the user's tokens that expired more than a day before.
      clock = new Date(start + 200 * day);
      await services.accounts.login(user.email, user.password);
    } finally {
      await services.close();
    }
    const expired = await withDb(async (db) =>
      (await db.execute<{ n: number }>(sql`select count(*)::int as n from refresh_tokens where user_id = ${user.id} and expires_at < ${new Date(start + 199 * day).toISOString()}`)).rows[0]!.n,
    );
    expect(expired).toBe(0);
  });
});

describe('gap 8: admin actions record who did them', () => {
  it('a tier change and a manual ingestion run each leave a record naming the admin', async () => {
    const [target, admin] = await Promise.all([registerUser('audited'), registerUser('auditing-admin')]);
    const byAdmin = await promote(admin, { role: 'admin' });
    expect((await api(`/admin/users/${target.id}`, { method: 'PATCH', token: byAdmin.accessToken, json: { tier: 'pro' } })).status).toBe(200);
    const run = await api('/admin/ingestion/run', { method: 'POST', token: byAdmin.accessToken, json: { kind: 'results' } });
    expect(run.status).toBe(201);
    const job = await run.json<{ id: string }>();
    const actions = await withDb(async (db) =>
      (await db.execute<{ actor_id: string; action: string; target: string; details: unknown }>(
        sql`select actor_id, action, target, details from admin_actions where target in (${`user:${target.id}`}, ${`ingestion_job:${job.id}`}) order by created_at`,
      )).rows,
    );
    expect(actions).toEqual([
      { actor_id: admin.id, action: 'user.update', target: `user:${target.id}`, details: { tier: 'pro' } },
      { actor_id: admin.id, action: 'ingestion.run', target: `ingestion_job:${job.id}`, details: { kind: 'results' } },
    ]);
  }, 60_000);
});
