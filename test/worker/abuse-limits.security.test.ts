// Abuse resistance (issue 20), the limits: gaps 3, 4 and 6, each reproduced by the attack that used it, with
// bursts of 200 concurrent requests counting exact admissions. Apart from abuse.security.test.ts so neither file
// runs long in one workerd (a long run of both together has crashed the test runtime).
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { LIVE_SOCKETS_PER_USER, LIVE_STATE_REQUESTS_PER_WINDOW } from '../../durable-objects/match-odds';
import { api, promote, registerUser } from './support/auth';
import { anonymousLimit, BASE_URL, burst, getJson, PROBLEM, randomIp, type Page } from './support/http';
import { connectLive, livePath, ticketFor } from './support/live';

/**
 * A burst of 200 requests opens as many database connections through the loopback proxy; on a loaded 2-core
 * machine running another test file beside this one that has taken over a minute. The limits are counted, not
 * timed, so the room changes nothing these tests assert.
 */
const BURST_TIMEOUT_MS = 180_000;

describe('gap 3: failed credentials are rate-limited per address before any database work', () => {
  it('200 concurrent well-formed fake API keys from one address: exactly the limit are checked, the rest get 429', async () => {
    const limit = await anonymousLimit();
    const ip = '198.51.100.31';
    const fake = (i: number) => `sk_${i.toString(16).padStart(8, '0')}_${'A'.repeat(43)}`;
    const counts = await burst(200, (i) => api('/sports', { ip, headers: { 'x-api-key': fake(i) } }));
    expect(counts).toEqual({ 401: limit, 429: 200 - limit });
    const refused = await api('/sports', { ip, headers: { 'x-api-key': fake(999) } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toBe(PROBLEM);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  }, BURST_TIMEOUT_MS);

  it('200 concurrent forged access tokens from one address: exactly the limit get 401, the rest 429', async () => {
    const limit = await anonymousLimit();
    const counts = await burst(200, () => api('/sports', { ip: '198.51.100.32', token: 'not.a.jwt' }));
    expect(counts).toEqual({ 401: limit, 429: 200 - limit });
  }, BURST_TIMEOUT_MS);

  it('a valid API key is not charged as a failure: more requests than the failure limit all pass', async () => {
    const limit = await anonymousLimit();
    const user = await promote(await registerUser('valid-key-ip'), { tier: 'pro' });
    const key = (await (await api('/me/api-keys', { method: 'POST', token: user.accessToken, json: { name: 'busy' } })).json<{ key: string }>()).key;
    for (let i = 0; i < limit + 5; i++) {
      const res = await api('/me/session', { ip: '198.51.100.33', headers: { 'x-api-key': key } });
      expect(res.status, `request ${i + 1}`).toBe(200);
    }
  }, BURST_TIMEOUT_MS);

  it('/ready is rate-limited per address and no longer shows the Postgres version', async () => {
    const first = await api('/ready', { ip: '198.51.100.34' });
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-limit')).toBeTruthy();
    const body = await first.json<{ database: Record<string, unknown> }>();
    expect(body.database).not.toHaveProperty('serverVersion');
    const limit = Number(first.headers.get('ratelimit-limit'));
    const cost = limit - Number(first.headers.get('ratelimit-remaining'));
    const counts = await burst(200, () => api('/ready', { ip: '198.51.100.34' }));
    expect(counts[200] ?? 0, 'readiness checks admitted').toBe(Math.floor(limit / cost) - 1);
    expect(counts[429]).toBe(200 - (counts[200] ?? 0));
  }, BURST_TIMEOUT_MS);
});

describe('gap 4: login brute force is limited per account, and IPv6 addresses per /64', () => {
  it('200 concurrent wrong passwords for one account from 4 addresses (each under its own limit): at most the account budget are checked', async () => {
    const user = await registerUser('brute-forced');
    // 50 per address stays under the per-address limit, so only the per-account backoff can stop them. (Four
    // addresses, not 200: 200 RateLimiter objects created at once have crashed workerd's test runtime.)
    const counts = await burst(200, (i) =>
      api('/auth/login', { method: 'POST', ip: `10.77.0.${i % 4}`, json: { email: user.email, password: `guess number ${i}` } }),
    );
    expect(counts[401], 'passwords checked').toBe(10);
    expect(counts[429]).toBe(190);
    // The backoff holds for the right password too (the attacker cannot tell a hit from the refusal)...
    const locked = await api('/auth/login', { method: 'POST', json: { email: user.email, password: user.password } });
    expect(locked.status).toBe(429);
    expect(locked.headers.get('content-type')).toBe(PROBLEM);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    // ...and is per account: another account is untouched.
    const other = await registerUser('not-brute-forced');
    expect((await api('/auth/login', { method: 'POST', json: { email: other.email, password: other.password } })).status).toBe(200);
  }, BURST_TIMEOUT_MS);

  it('successful logins do not count against the account', async () => {
    const user = await registerUser('often-signs-in');
    for (let i = 0; i < 12; i++) {
      expect((await api('/auth/login', { method: 'POST', json: { email: user.email, password: user.password } })).status, `login ${i + 1}`).toBe(200);
    }
  }, BURST_TIMEOUT_MS);

  it('addresses in one IPv6 /64 share a bucket; another /64 has its own', { timeout: 30_000 }, async () => {
    const remaining = async (ip: string) => Number((await api('/sports', { ip })).headers.get('ratelimit-remaining'));
    const first = await remaining('2001:db8:20:4::1');
    expect(await remaining('2001:db8:20:4:ffff:ffff:ffff:fffe')).toBe(first - 1);
    expect(await remaining('2001:0db8:0020:0004:0:0:0:abcd')).toBe(first - 2);
    expect(await remaining('2001:db8:20:5::1')).toBe(first);
  });
});

describe('gap 6: live odds sockets have limits', () => {
  let matchIds: number[] = [];
  let next = 0;
  const freshMatch = async () => {
    if (matchIds.length === 0) matchIds = (await getJson<Page<{ id: number }>>('/matches?from=2019-01-01&to=2019-02-28&limit=10')).data.map((m) => m.id);
    return matchIds[next++]!;
  };
  const premiumUser = async (tag: string) => promote(await registerUser(tag), { tier: 'premium' });

  it('caps the sockets one user holds on a match: of 10 concurrent upgrades, exactly the cap get in', async () => {
    const user = await premiumUser('socket-hoarder');
    const matchId = await freshMatch();
    const tickets = await Promise.all(Array.from({ length: 10 }, () => ticketFor(user, matchId)));
    const results = await Promise.all(
      tickets.map((t) => SELF.fetch(`${BASE_URL}${livePath(matchId, t)}`, { headers: { upgrade: 'websocket', 'cf-connecting-ip': randomIp() } })),
    );
    const opened = results.filter((r) => r.status === 101);
    expect(opened.length).toBe(LIVE_SOCKETS_PER_USER);
    for (const refused of results.filter((r) => r.status !== 101)) {
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toBe(PROBLEM);
    }
    for (const r of opened) r.webSocket!.accept(), r.webSocket!.close(1000);
  }, 30_000);

  it('throttles {"type":"state"}: a flood gets at most the budget recomputed, then the socket is closed (1008)', async () => {
    const user = await premiumUser('state-flooder');
    const matchId = await freshMatch();
    const client = await connectLive(matchId, await ticketFor(user, matchId));
    expect((await client.next()).type).toBe('state');
    for (let i = 0; i < 50; i++) {
      try {
        client.ws.send(JSON.stringify({ type: 'state' }));
      } catch {
        break;
      }
    }
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    const states: string[] = [];
    for (;;) {
      const m = await client.next(200).catch(() => null);
      if (!m) break;
      states.push(m.type);
    }
    expect(states.filter((t) => t === 'state').length).toBeLessThanOrEqual(LIVE_STATE_REQUESTS_PER_WINDOW);
  }, 30_000);

  it('closes the sockets of a user downgraded below premium, and of a deleted account', async () => {
    const [downgraded, deleted, admin] = await Promise.all([premiumUser('socket-downgraded'), premiumUser('socket-deleted'), registerUser('socket-admin')]);
    const byAdmin = await promote(admin, { role: 'admin' });
    const matchId = await freshMatch();
    const a = await connectLive(matchId, await ticketFor(downgraded, matchId));
    const b = await connectLive(matchId, await ticketFor(deleted, matchId));
    const bystander = await connectLive(matchId, await ticketFor(await premiumUser('socket-bystander'), matchId));
    expect((await api(`/admin/users/${downgraded.id}`, { method: 'PATCH', token: byAdmin.accessToken, json: { tier: 'free' } })).status).toBe(200);
    const timeout = (ms: number) => new Promise<'open'>((r) => setTimeout(() => r('open'), ms));
    expect(await Promise.race([a.closed.then((e) => e.code), timeout(3000)])).toBe(1008);
    expect((await api('/me', { method: 'DELETE', token: deleted.accessToken })).status).toBe(204);
    expect(await Promise.race([b.closed.then((e) => e.code), timeout(3000)])).toBe(1008);
    expect(await Promise.race([bystander.closed.then(() => 'closed'), timeout(300)])).toBe('open');
    bystander.ws.close(1000);
    await bystander.closed;
  }, 30_000);
});
