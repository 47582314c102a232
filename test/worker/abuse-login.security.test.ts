// Abuse resistance (issue 20), the limits of gap 4: password guessing, reproduced by the attack that used it,
// with a burst of 200 concurrent requests counting exact admissions.
// One gap per file, each in a runtime of its own: run as one file, these bursts and sockets have crashed
// workerd's test runtime (a segmentation fault, in CI beside another file).
import { describe, expect, it } from 'vitest';
import { api, registerUser } from './support/auth';
import { burst, PROBLEM } from './support/http';

/**
 * A burst of 200 requests opens as many database connections through the loopback proxy; on a loaded 2-core
 * machine running another test file beside this one that has taken over a minute. The limits are counted, not
 * timed, so the room changes nothing these tests assert.
 */
const BURST_TIMEOUT_MS = 180_000;

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
