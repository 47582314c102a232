import { createExecutionContext, env, SELF, waitOnExecutionContext } from 'cloudflare:test';
import { decodeJwt, decodeProtectedHeader, importPKCS8, SignJWT } from 'jose';
import { describe, expect, inject, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { configFrom } from '../../src/env';
import { createLogger } from '../../src/lib/logging';
import { createServices } from '../../src/services';
import { REFRESH_REUSE_GRACE_MS } from '../../src/services/auth/accounts';
import worker from '../../src/index';
import { api, createApiKey, login, PASSWORD, promote, registerUser, uniqueEmail } from './support/auth';
import { randomIp } from './support/http';
import { withDb } from './support/models';

const PROBLEM = 'application/problem+json';

describe('POST /auth/register', () => {
  it('creates a free account without signing it in; POST /auth/login then issues an RS256 at+jwt access token', async () => {
    const email = uniqueEmail('reg');
    const res = await api('/auth/register', { method: 'POST', json: { email, password: PASSWORD } });
    expect(res.status).toBe(202);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ status: 'verification_sent', email });
    const tokens = await login({ email, password: PASSWORD });
    expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect(tokens.refreshToken).toMatch(/^rt_/);
    const header = decodeProtectedHeader(tokens.accessToken);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt', kid: 'test-2' });
    const claims = decodeJwt(tokens.accessToken);
    expect(claims).toMatchObject({ iss: env.JWT_ISSUER, aud: env.JWT_AUDIENCE, tier: 'free', role: 'user' });
    expect(claims.exp! - claims.iat!).toBe(900);
    const me = await api('/me', { token: tokens.accessToken });
    expect(await me.json()).toMatchObject({ id: claims.sub, email, tier: 'free', role: 'user' });
  });

  it('enforces the password policy with a problem that names the field and every reason', async () => {
    const res = await api('/auth/register', { method: 'POST', json: { email: 'shorty@example.com', password: 'shorty1' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    const body = await res.json<{ invalidParams: Array<{ name: string; in: string; reason: string }> }>();
    expect(body.invalidParams).toEqual([
      { name: 'password', in: 'body', reason: 'Password must be at least 12 characters' },
      { name: 'password', in: 'body', reason: 'Password must not contain your email address' },
    ]);
    const common = await api('/auth/register', { method: 'POST', json: { email: uniqueEmail(), password: 'password1234' } });
    expect((await common.json<{ invalidParams: Array<{ reason: string }> }>()).invalidParams.map((p) => p.reason)).toContain('Password is too common');
  });

  it('refuses a bad email and a missing body with 400 problems', async () => {
    const bad = await api('/auth/register', { method: 'POST', json: { email: 'not-an-email', password: PASSWORD } });
    expect(bad.status).toBe(400);
    expect((await bad.json<{ invalidParams: Array<{ name: string }> }>()).invalidParams.map((p) => p.name)).toEqual(['email']);
    const malformed = await api('/auth/register', { method: 'POST', body: '{"email":', headers: { 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toBe(PROBLEM);
  });

  it('makes no second account for the same email, whatever its case, and answers as for a new one', async () => {
    const user = await registerUser('dup');
    const res = await api('/auth/register', { method: 'POST', json: { email: user.email.toUpperCase(), password: 'another long passphrase 7' } });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'verification_sent', email: user.email.toUpperCase() });
    const accounts = await withDb(async (db) => (await db.execute<{ n: number }>(sql`select count(*)::int as n from users where lower(email) = ${user.email}`)).rows[0]!.n);
    expect(accounts).toBe(1);
    expect((await api('/auth/login', { method: 'POST', json: { email: user.email, password: 'another long passphrase 7' } })).status).toBe(401);
  });
});

describe('POST /auth/login', () => {
  it('signs in with the right password, case-insensitively on the email', async () => {
    const user = await registerUser('login');
    const tokens = await login({ email: user.email.toUpperCase(), password: PASSWORD });
    expect(decodeJwt(tokens.accessToken).sub).toBe(user.id);
  });
  // A wrong password and an unknown email answering in comparable time: auth-timing.test.ts, run alone.
});

describe('refresh-token rotation', () => {
  it('rotates on every use and refuses the old token', async () => {
    const user = await registerUser('rotate');
    const first = await api('/auth/refresh', { method: 'POST', json: { refreshToken: user.refreshToken } });
    expect(first.status).toBe(200);
    const next = await first.json<{ accessToken: string; refreshToken: string }>();
    expect(next.refreshToken).not.toBe(user.refreshToken);
    expect(decodeJwt(next.accessToken).sub).toBe(user.id);
    const again = await api('/auth/refresh', { method: 'POST', json: { refreshToken: next.refreshToken } });
    expect(again.status).toBe(200);
  });

  it('a replayed token fails past the grace, and so does every token of its family', async () => {
    const user = await registerUser('replay');
    // The Worker's own services on the run's database, with a clock the test moves instead of waiting 5 s.
    const start = Date.now();
    let clock = new Date(start);
    const services = createServices(configFrom(env), env, createLogger({}, () => undefined), { now: () => clock });
    let newest: string;
    try {
      const rotated = await services.accounts.refresh(user.refreshToken);
      newest = (await services.accounts.refresh(rotated.refreshToken)).refreshToken;
      // At the very end of the grace a second use of the first token is still a concurrent refresh...
      clock = new Date(start + REFRESH_REUSE_GRACE_MS);
      expect((await services.accounts.refresh(user.refreshToken)).refreshToken).toMatch(/^rt_/);
      // ...a millisecond later it is a replay of a stolen token.
      clock = new Date(start + REFRESH_REUSE_GRACE_MS + 1);
      await expect(services.accounts.refresh(user.refreshToken)).rejects.toMatchObject({
        code: 'unauthorized',
        detail: 'The refresh token was already used; every session of its family has been revoked',
      });
    } finally {
      await services.close();
    }
    // Over HTTP: the family's newest token is refused; a parallel login is another family and survives.
    const otherSession = await login(user);
    const victim = await api('/auth/refresh', { method: 'POST', json: { refreshToken: newest } });
    expect(victim.status).toBe(401);
    expect((await victim.json<{ detail: string }>()).detail).toBe('The refresh token has been revoked');
    expect((await api('/auth/refresh', { method: 'POST', json: { refreshToken: otherSession.refreshToken } })).status).toBe(200);
  });

  it('within the grace period, concurrent refreshes with one token all succeed in the same family', async () => {
    const user = await registerUser('race');
    const results = await Promise.all(
      [1, 2, 3].map(() => api('/auth/refresh', { method: 'POST', json: { refreshToken: user.refreshToken } })),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    const tokens = await Promise.all(results.map((r) => r.json<{ refreshToken: string }>()));
    expect(new Set(tokens.map((t) => t.refreshToken)).size).toBe(3);
    // Logging out with one of them ends the whole family, the siblings included.
    expect((await api('/auth/logout', { method: 'POST', json: { refreshToken: tokens[0]!.refreshToken } })).status).toBe(204);
    for (const t of tokens) expect((await api('/auth/refresh', { method: 'POST', json: { refreshToken: t.refreshToken } })).status).toBe(401);
  });

  it('refuses an unknown refresh token and an access token presented as one', async () => {
    const user = await registerUser('unknown-rt');
    expect((await api('/auth/refresh', { method: 'POST', json: { refreshToken: 'rt_nope' } })).status).toBe(401);
    expect((await api('/auth/refresh', { method: 'POST', json: { refreshToken: user.accessToken } })).status).toBe(401);
  });
});

describe('POST /auth/logout', () => {
  it('revokes the refresh-token family', async () => {
    const user = await registerUser('logout');
    const rotated = await (await api('/auth/refresh', { method: 'POST', json: { refreshToken: user.refreshToken } })).json<{ refreshToken: string }>();
    expect((await api('/auth/logout', { method: 'POST', json: { refreshToken: rotated.refreshToken } })).status).toBe(204);
    const res = await api('/auth/refresh', { method: 'POST', json: { refreshToken: rotated.refreshToken } });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
  });
});

describe('GET /me and DELETE /me', () => {
  it('shows profile, tier and usage today', async () => {
    const user = await registerUser('me');
    const res = await api('/me', { token: user.accessToken });
    expect(res.status).toBe(200);
    const body = await res.json<{ id: string; email: string; tier: string; usage: { requestsInWindow: number; requestsPerMinute: number; predictionsToday: number; dailyPredictionQuota: number | null } }>();
    expect(body).toMatchObject({ id: user.id, email: user.email, tier: 'free', role: 'user' });
    expect(body.usage).toEqual({ requestsInWindow: 1, requestsPerMinute: 60, predictionsToday: 0, dailyPredictionQuota: 10 });
    const second = await (await api('/me', { token: user.accessToken })).json<{ usage: { requestsInWindow: number } }>();
    expect(second.usage.requestsInWindow).toBe(2);
  });

  it('reports the limit the RateLimit-Limit header carries, RATE_LIMIT_SCALE included', async () => {
    const user = await registerUser('me-limit');
    const premium = await promote(await registerUser('me-limit-premium'), { tier: 'premium' });
    // A Worker configured as the benchmarks run it (a new env object is validated into a new configuration).
    const me = async (vars: Record<string, string>, token: string) => {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request('http://api.test/me', { headers: { authorization: `Bearer ${token}`, 'cf-connecting-ip': randomIp() } }) as Request<unknown, IncomingRequestCfProperties>,
        { ...env, ...vars },
        ctx,
      );
      await waitOnExecutionContext(ctx);
      expect(res.status).toBe(200);
      const body = await res.json<{ usage: { requestsPerMinute: number } }>();
      return { header: Number(res.headers.get('ratelimit-limit')), body: body.usage.requestsPerMinute };
    };
    expect(await me({ RATE_LIMIT_SCALE: '1000' }, user.accessToken)).toEqual({ header: 60_000, body: 60_000 });
    expect(await me({ RATE_LIMIT_SCALE: '1000' }, premium.accessToken)).toEqual({ header: 600_000, body: 600_000 });
    expect(await me({ RATE_LIMIT_SCALE: '0.5' }, premium.accessToken)).toEqual({ header: 300, body: 300 });
    expect(await me({}, premium.accessToken)).toEqual({ header: 600, body: 600 });
  });

  it('deletes the account and revokes its refresh tokens, API keys and access tokens', async () => {
    const user = await registerUser('delete');
    const key = await createApiKey(user);
    expect((await api('/me', { method: 'DELETE', token: user.accessToken })).status).toBe(204);
    expect((await api('/me', { token: user.accessToken })).status).toBe(401);
    expect((await api('/me', { headers: { 'x-api-key': key.key } })).status).toBe(401);
    expect((await api('/auth/refresh', { method: 'POST', json: { refreshToken: user.refreshToken } })).status).toBe(401);
    expect((await api('/auth/login', { method: 'POST', json: { email: user.email, password: PASSWORD } })).status).toBe(401);
    // The email is free again, and a new account under it is not haunted by the old revocation.
    const again = await api('/auth/register', { method: 'POST', json: { email: user.email, password: PASSWORD } });
    expect(again.status).toBe(202);
    const fresh = await login(user);
    expect(decodeJwt(fresh.accessToken).sub).not.toBe(user.id);
    expect((await api('/me', { token: fresh.accessToken })).status).toBe(200);
  });
});

describe('JWKS and key rotation', () => {
  it('publishes every verification key, and a token signed by the older key still verifies', async () => {
    const jwks = await (await SELF.fetch('http://api.test/.well-known/jwks.json')).json<{ keys: Array<{ kid: string; kty: string; alg: string; d?: string }> }>();
    expect(jwks.keys.map((k) => k.kid)).toEqual(['test-2', 'test-1']);
    for (const k of jwks.keys) {
      expect(k).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
      expect(k.d).toBeUndefined();
    }
    const user = await registerUser('rotation');
    const [, older] = JSON.parse(inject('jwtPrivateKeys')) as Array<{ kid: string; pem: string }>;
    const token = await new SignJWT({ tier: 'free', role: 'user' })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: older!.kid })
      .setIssuer(env.JWT_ISSUER)
      .setAudience(env.JWT_AUDIENCE)
      .setSubject(user.id)
      .setIssuedAt()
      .setExpirationTime('15m')
      .setJti(crypto.randomUUID())
      .sign(await importPKCS8(older!.pem, 'RS256'));
    const res = await api('/me/session', { token });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ userId: user.id, via: 'access-token' });
  });
});

describe('API keys', () => {
  it('shows the key once, stores only its hash, and authenticates as the owner with their tier', async () => {
    const user = await promote(await registerUser('keys'), { tier: 'premium' });
    const created = await createApiKey(user, 'my bot');
    expect(created.key).toMatch(/^sk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
    const list = await (await api('/me/api-keys', { token: user.accessToken })).json<{ data: Array<Record<string, unknown>> }>();
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({ id: created.id, name: 'my bot', prefix: created.key.slice(0, 11), lastUsedAt: null });
    expect(JSON.stringify(list)).not.toContain(created.key.slice(12));

    // The row as stored, every column: its hash is the key's SHA-256 (computed here with WebCrypto, not the
    // service's helper), and neither the key nor its secret part is in any column.
    const [row] = await withDb(async (db) => (await db.execute<{ row: Record<string, unknown> }>(sql`select to_jsonb(k) as row from api_keys k where id = ${created.id}`)).rows);
    expect(row, 'the key is stored').toBeDefined();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(created.key)));
    expect(row!.row.key_hash).toBe([...digest].map((b) => b.toString(16).padStart(2, '0')).join(''));
    expect(row!.row).toMatchObject({ user_id: user.id, name: 'my bot', prefix: created.key.slice(0, 11) });
    for (const [column, value] of Object.entries(row!.row)) expect(String(value), column).not.toContain(created.key.slice(12));

    for (const headers of [{ 'x-api-key': created.key }, { authorization: `Bearer ${created.key}` }] as Array<Record<string, string>>) {
      const res = await api('/me/session', { headers });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ userId: user.id, tier: 'premium', via: 'api-key' });
      expect(res.headers.get('ratelimit-limit')).toBe('600');
    }
    const used = await (await api('/me/api-keys', { token: user.accessToken })).json<{ data: Array<{ lastUsedAt: string | null }> }>();
    expect(used.data[0]!.lastUsedAt).not.toBeNull();
  });

  it('revokes a key; the key stops working and disappears from the list', async () => {
    const user = await registerUser('revoke');
    const created = await createApiKey(user);
    expect((await api(`/me/api-keys/${created.id}`, { method: 'DELETE', token: user.accessToken })).status).toBe(204);
    expect((await api('/me/session', { headers: { 'x-api-key': created.key } })).status).toBe(401);
    expect((await (await api('/me/api-keys', { token: user.accessToken })).json<{ data: unknown[] }>()).data).toEqual([]);
    expect((await api(`/me/api-keys/${created.id}`, { method: 'DELETE', token: user.accessToken })).status).toBe(404);
  });

  it('refuses a key id that is not a UUID with a 400 naming keyId', async () => {
    const user = await registerUser('badkey');
    const res = await api('/me/api-keys/123', { method: 'DELETE', token: user.accessToken });
    expect(res.status).toBe(400);
    expect((await res.json<{ invalidParams: Array<{ name: string }> }>()).invalidParams[0]!.name).toBe('keyId');
  });
});

describe('PATCH /admin/users/{userId}', () => {
  it('lets an admin set tier and role; the new tier applies to the next login', async () => {
    const admin = await promote(await registerUser('admin'), { role: 'admin' });
    const user = await registerUser('subject');
    const res = await api(`/admin/users/${user.id}`, { method: 'PATCH', token: admin.accessToken, json: { tier: 'pro' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: user.id, tier: 'pro', role: 'user' });
    const tokens = await login(user);
    expect(decodeJwt(tokens.accessToken).tier).toBe('pro');
    expect((await api('/me', { token: tokens.accessToken })).headers.get('ratelimit-limit')).toBe('1200');
  });

  it('answers 404 for an unknown user and 400 for an empty or unknown change', async () => {
    const admin = await promote(await registerUser('admin2'), { role: 'admin' });
    expect((await api(`/admin/users/${crypto.randomUUID()}`, { method: 'PATCH', token: admin.accessToken, json: { tier: 'pro' } })).status).toBe(404);
    const empty = await api(`/admin/users/${admin.id}`, { method: 'PATCH', token: admin.accessToken, json: {} });
    expect(empty.status).toBe(400);
    const unknown = await api(`/admin/users/${admin.id}`, { method: 'PATCH', token: admin.accessToken, json: { tier: 'gold' } });
    expect(unknown.status).toBe(400);
    expect((await unknown.json<{ invalidParams: Array<{ name: string }> }>()).invalidParams[0]!.name).toBe('tier');
  });
});

describe('rate limits over HTTP', () => {
  it('carries RateLimit headers and refuses the 61st request of a free user in a minute with a 429 problem', async () => {
    const user = await registerUser('limited');
    let last: Response | undefined;
    for (let i = 1; i <= 60; i++) {
      last = await api('/me/session', { token: user.accessToken });
      expect(last.status).toBe(200);
    }
    expect(last!.headers.get('ratelimit-limit')).toBe('60');
    expect(last!.headers.get('ratelimit-remaining')).toBe('0');
    const denied = await api('/me/session', { token: user.accessToken });
    expect(denied.status).toBe(429);
    expect(denied.headers.get('content-type')).toBe(PROBLEM);
    expect(Number(denied.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(denied.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect((await denied.json<{ type: string }>()).type).toMatch(/rate-limited$/);
  }, 30_000);

  it('limits /auth/* per IP, whoever the caller claims to be', async () => {
    const ip = `192.0.2.${Math.floor(Math.random() * 250)}`;
    const statuses: number[] = [];
    const limit = Number((await api('/sports', { ip: '192.0.2.251' })).headers.get('ratelimit-limit'));
    for (let i = 0; i <= limit; i++) {
      statuses.push((await api('/auth/refresh', { method: 'POST', json: { refreshToken: 'rt_nope' }, ip })).status);
    }
    expect(statuses.slice(0, limit).every((s) => s === 401)).toBe(true);
    expect(statuses[limit]).toBe(429);
  }, 30_000);
});
