// Abuse resistance (issue 20), the limits of gap 3: failed credentials, each reproduced by the attack that used
// it, with bursts of 200 concurrent requests counting exact admissions.
// One gap per file, each in a runtime of its own: run as one file, these bursts and sockets have crashed
// workerd's test runtime (a segmentation fault, in CI beside another file).
import { describe, expect, it } from 'vitest';
import { api, promote, registerUser } from './support/auth';
import { anonymousLimit, burst, PROBLEM } from './support/http';

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
