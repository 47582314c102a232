// The RateLimiter Durable Object through its real binding, with an injected clock. Every test uses its own
// object, so state never leaks between tests. Injected times are in the future of the wall clock, so an
// alarm armed by a test never fires on its own while the test runs; tests run it with runDurableObjectAlarm.
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { ConsumeRequest, ConsumeResult, RateLimiter } from '../../durable-objects/rate-limiter';
import { createPrng } from '../../src/lib/prng';

const WINDOW = 60_000;
const DAY = 86_400_000;
// 12:00:00 UTC on a Tuesday, well away from midnight.
const T0 = Date.UTC(2031, 0, 14, 12, 0, 0);

function limiterName(label: string): string {
  return `test:${label}:${crypto.randomUUID()}`;
}

function limiter(name: string): DurableObjectStub<RateLimiter> {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(name));
}


interface Hit {
  at: number;
  cost: number;
}

/** Cost admitted within (now - window, now] of a reference log kept by the test. */
function usedAt(log: Hit[], now: number, window = WINDOW): number {
  return log.filter((h) => h.at > now - window && h.at <= now).reduce((sum, h) => sum + h.cost, 0);
}

/** Asserts that no window of length `window` (any start point) holds more than `limit` admitted cost. */
function expectNoWindowOver(log: Hit[], limit: number, window = WINDOW): number {
  const sorted = [...log].sort((a, b) => a.at - b.at);
  let worst = 0;
  // In integer ms, the fullest window (a, a + window] can always be slid to start just before an admitted hit.
  for (const start of sorted) {
    const inWindow = sorted.filter((h) => h.at >= start.at && h.at < start.at + window).reduce((sum, h) => sum + h.cost, 0);
    worst = Math.max(worst, inWindow);
  }
  expect(worst).toBeLessThanOrEqual(limit);
  return worst;
}

async function rows(stub: DurableObjectStub<RateLimiter>) {
  return runInDurableObject(stub, async (_instance, state) => ({
    hits: state.storage.sql.exec<{ at: number; cost: number }>('SELECT at, cost FROM rl_hits ORDER BY at').toArray(),
    quota: state.storage.sql.exec<{ day: number; match_id: string }>('SELECT day, match_id FROM rl_quota ORDER BY day, match_id').toArray(),
    meta: state.storage.sql.exec('SELECT * FROM rl_meta').toArray(),
    alarm: await state.storage.getAlarm(),
  }));
}

/** Simulates wall time passing since the object last saw a request (the alarm extrapolates the injected clock). */
async function letWallTimePass(stub: DurableObjectStub<RateLimiter>, ms: number): Promise<void> {
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec('UPDATE rl_meta SET latest_wall = latest_wall - ?', ms);
  });
}

describe('RateLimiter: concurrency', () => {
  it('admits exactly 60 of 200 concurrent requests from one free subject at the same instant', async () => {
    const name = limiterName('burst');
    // A fresh stub per call, as separate Worker requests would have.
    const results = await Promise.all(Array.from({ length: 200 }, () => limiter(name).consume({ now: T0, limit: 60 })));
    const admitted = results.filter((r) => r.allowed);
    expect(admitted).toHaveLength(60);
    expect(results.filter((r) => r.rate.allowed)).toHaveLength(60);
    // Each admitted request saw a distinct remaining count, 59 down to 0: no two decided on the same state.
    expect(admitted.map((r) => r.rate.remaining).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    for (const denied of results.filter((r) => !r.allowed)) {
      expect(denied.rate).toEqual({ allowed: false, limit: 60, remaining: 0, resetSeconds: 60, retryAfterSeconds: 60 });
    }
    expect(await limiter(name).usage(T0)).toEqual({ requestsInWindow: 60, quotaUsedToday: 0 });
  });

  it('admits exactly 60 of 200 concurrent requests spread over the same window', async () => {
    const name = limiterName('spread');
    const stub = limiter(name);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => stub.consume({ now: T0 + i * 50, limit: 60 })));
    expect(results.filter((r) => r.allowed)).toHaveLength(60);
    expect(await stub.usage(T0 + 199 * 50)).toEqual({ requestsInWindow: 60, quotaUsedToday: 0 });
  });
});

describe('RateLimiter: sliding window accuracy', () => {
  it('never admits more than the limit in any 60 s, and is exactly as permissive as an exact sliding log', async () => {
    const stub = limiter(limiterName('random'));
    const limit = 60;
    const random = createPrng(20311401); // seeded, so a failing sequence can be replayed
    const admitted: Hit[] = [];
    let now = T0;
    let denials = 0;
    let edgeProbes = 0;
    // Ten minutes of bursty traffic: quiet gaps, bursts of up to 40 requests within a few ms, and probes placed
    // 1 ms before, at and 1 ms after the moment the oldest counted hit leaves the window.
    while (now < T0 + 10 * WINDOW) {
      const roll = random();
      const oldest = admitted.find((h) => h.at > now - WINDOW);
      if (roll < 0.15 && oldest) {
        now = Math.max(now, oldest.at + WINDOW + Math.floor(random() * 3) - 1);
        edgeProbes += 1;
      } else if (roll < 0.45) {
        now += Math.floor(random() * 2_000);
      } else if (roll < 0.48) {
        now += 30_000 + Math.floor(random() * 40_000);
      } else {
        now += Math.floor(random() * 3);
      }
      const burst = roll > 0.8 ? 1 + Math.floor(random() * 40) : 1;
      for (let i = 0; i < burst; i++) {
        const cost = random() < 0.2 ? 1 + Math.floor(random() * 4) : 1;
        const usedBefore = usedAt(admitted, now);
        const expected = usedBefore + cost <= limit;
        const result = await stub.consume({ now, limit, cost });
        // Not too strict and not too lax: the decision is exactly the exact log's decision.
        expect(result.allowed, `request at +${now - T0} ms, cost ${cost}, ${usedBefore} used`).toBe(expected);
        if (result.allowed) admitted.push({ at: now, cost });
        const used = usedAt(admitted, now);
        expect(result.rate.remaining).toBe(Math.max(0, limit - used));
        const oldestCounted = admitted.find((h) => h.at > now - WINDOW);
        expect(result.rate.resetSeconds).toBe(oldestCounted ? Math.ceil((oldestCounted.at + WINDOW - now) / 1000) : 0);
        if (!result.allowed) {
          denials += 1;
          // Retry-After is the first whole second at which this cost fits, absent new traffic.
          const retry = result.rate.retryAfterSeconds!;
          expect(retry).toBeGreaterThanOrEqual(1);
          expect(usedAt(admitted, now + retry * 1000) + cost).toBeLessThanOrEqual(limit);
          if (retry > 1) expect(usedAt(admitted, now + (retry - 1) * 1000) + cost).toBeGreaterThan(limit);
        }
      }
    }
    // The run really exercised the limit: several windows' worth admitted, and plenty refused.
    expect(admitted.length).toBeGreaterThan(5 * limit);
    expect(denials).toBeGreaterThan(200);
    expect(edgeProbes).toBeGreaterThan(20);
    // The bursts saturate the limit, so the fullest window is exactly at the limit, never above it.
    expect(expectNoWindowOver(admitted, limit)).toBe(limit);
  }, 30_000); // hundreds of sequential DO calls: seconds on a loaded machine

  it('returns capacity exactly when the oldest hit leaves the window', async () => {
    const stub = limiter(limiterName('edge'));
    for (let i = 0; i < 60; i++) expect((await stub.consume({ now: T0 + i * 100, limit: 60 })).allowed).toBe(true);
    // The first hit (at T0) counts until T0 + 60 000 - 1 and is out at T0 + 60 000.
    expect((await stub.consume({ now: T0 + WINDOW - 1, limit: 60 })).allowed).toBe(false);
    expect((await stub.consume({ now: T0 + WINDOW, limit: 60 })).allowed).toBe(true);
    expect((await stub.consume({ now: T0 + WINDOW, limit: 60 })).allowed).toBe(false);
    expect((await stub.consume({ now: T0 + WINDOW + 99, limit: 60 })).allowed).toBe(false);
    expect((await stub.consume({ now: T0 + WINDOW + 100, limit: 60 })).allowed).toBe(true);
  });

  it('honours a window length other than 60 s', async () => {
    const stub = limiter(limiterName('window'));
    const req = (now: number): ConsumeRequest => ({ now, limit: 2, windowMs: 10_000 });
    expect((await stub.consume(req(T0))).rate).toMatchObject({ allowed: true, remaining: 1, resetSeconds: 10 });
    expect((await stub.consume(req(T0 + 1_000))).allowed).toBe(true);
    expect((await stub.consume(req(T0 + 9_999))).rate).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    expect((await stub.consume(req(T0 + 10_000))).allowed).toBe(true);
  });
});

describe('RateLimiter: decision values', () => {
  it('computes remaining, reset and retry-after for hand-worked cases', async () => {
    const stub = limiter(limiterName('values'));
    const at = (offset: number, cost = 1) => stub.consume({ now: T0 + offset, limit: 3, cost });

    expect((await at(0)).rate).toEqual({ allowed: true, limit: 3, remaining: 2, resetSeconds: 60 });
    // The oldest hit (T0) leaves at T0 + 60 s: 50 s from here.
    expect((await at(10_000)).rate).toEqual({ allowed: true, limit: 3, remaining: 1, resetSeconds: 50 });
    // 39.5 s left, rounded up.
    expect((await at(20_500)).rate).toEqual({ allowed: true, limit: 3, remaining: 0, resetSeconds: 40 });
    expect(await at(30_000)).toEqual({
      allowed: false,
      rate: { allowed: false, limit: 3, remaining: 0, resetSeconds: 30, retryAfterSeconds: 30 },
    });
    // 1 ms before the oldest hit leaves: still denied, retry in one (rounded-up) second.
    expect((await at(59_999)).rate).toEqual({ allowed: false, limit: 3, remaining: 0, resetSeconds: 1, retryAfterSeconds: 1 });
    // T0 is out; the oldest counted is now T0 + 10 s, leaving at T0 + 70 s.
    expect((await at(60_000)).rate).toEqual({ allowed: true, limit: 3, remaining: 0, resetSeconds: 10 });
    // A cost-2 request needs two hits to leave: T0 + 10 s and T0 + 20.5 s, the latter at T0 + 80.5 s.
    expect((await at(60_001, 2)).rate).toEqual({ allowed: false, limit: 3, remaining: 0, resetSeconds: 10, retryAfterSeconds: 21 });
    expect((await at(80_499, 2)).allowed).toBe(false);
    expect((await at(80_500, 2)).rate).toEqual({ allowed: true, limit: 3, remaining: 0, resetSeconds: 40 });
  });

  it('counts a cost-5 request as five', async () => {
    const name = limiterName('cost');
    const stub = limiter(name);
    expect((await stub.consume({ now: T0, limit: 60, cost: 5 })).rate).toMatchObject({ allowed: true, remaining: 55 });
    expect(await stub.usage(T0)).toEqual({ requestsInWindow: 5, quotaUsedToday: 0 });
    for (let i = 1; i < 11; i++) expect((await stub.consume({ now: T0 + i, limit: 60, cost: 5 })).allowed).toBe(true);
    // 55 used: a cost-7 request does not fit; a cost-3 one does, then a cost-5 one no longer fits and a cost-2 one exactly fills it.
    const denied = await stub.consume({ now: T0 + 20, limit: 60, cost: 7 });
    expect(denied.rate).toMatchObject({ allowed: false, remaining: 5 });
    // 55 + 7 - 60 = 2 must leave the window: the first hit (cost 5, at T0) frees enough, at T0 + 60 s.
    expect(denied.rate.retryAfterSeconds).toBe(60);
    expect((await stub.consume({ now: T0 + 21, limit: 60, cost: 3 })).rate).toMatchObject({ allowed: true, remaining: 2 });
    expect((await stub.consume({ now: T0 + 22, limit: 60, cost: 5 })).allowed).toBe(false);
    expect((await stub.consume({ now: T0 + 23, limit: 60, cost: 2 })).rate).toMatchObject({ allowed: true, remaining: 0 });
    expect(await stub.usage(T0 + 23)).toEqual({ requestsInWindow: 60, quotaUsedToday: 0 });
  });
});

describe('RateLimiter: daily prediction quota', () => {
  const quota = (matchId: string) => ({ matchId, dailyLimit: 10 });

  it('admits exactly 10 distinct matches per UTC day; a repeat is free; the next day starts fresh', async () => {
    const stub = limiter(limiterName('quota'));
    const midnight = Date.UTC(2031, 0, 15);
    for (let i = 1; i <= 10; i++) {
      const now = T0 + i * 1_000;
      const result = await stub.consume({ now, limit: 60, quota: quota(`m${i}`) });
      expect(result.allowed).toBe(true);
      expect(result.quota).toEqual({
        allowed: true,
        limit: 10,
        used: i,
        remaining: 10 - i,
        resetSeconds: Math.ceil((midnight - now) / 1000),
        repeat: false,
      });
    }
    const repeat = await stub.consume({ now: T0 + 11_000, limit: 60, quota: quota('m3') });
    expect(repeat.allowed).toBe(true);
    expect(repeat.quota).toMatchObject({ allowed: true, used: 10, remaining: 0, repeat: true });
    // 12:00:11 to midnight is 11 h 59 min 49 s.
    expect(repeat.quota!.resetSeconds).toBe(12 * 3600 - 11);

    const eleventh = await stub.consume({ now: T0 + 12_000, limit: 60, quota: quota('m11') });
    expect(eleventh.allowed).toBe(false);
    expect(eleventh.quota).toMatchObject({ allowed: false, used: 10, remaining: 0, repeat: false });
    // The rate limit alone would have admitted it, and no Retry-After is offered for the window.
    expect(eleventh.rate.allowed).toBe(true);
    expect(eleventh.rate.retryAfterSeconds).toBeUndefined();
    expect(await stub.usage(T0 + 12_000)).toEqual({ requestsInWindow: 11, quotaUsedToday: 10 });

    // The last millisecond of the day still belongs to it.
    expect((await stub.consume({ now: midnight - 1, limit: 60, quota: quota('m12') })).allowed).toBe(false);
    const nextDay = await stub.consume({ now: midnight, limit: 60, quota: quota('m11') });
    expect(nextDay.allowed).toBe(true);
    expect(nextDay.quota).toEqual({ allowed: true, limit: 10, used: 1, remaining: 9, resetSeconds: 86_400, repeat: false });
    // Yesterday's matches are new again today.
    expect((await stub.consume({ now: midnight + 1, limit: 60, quota: quota('m1') })).quota).toMatchObject({ used: 2, repeat: false });
    expect(await stub.usage(midnight + 1)).toEqual({ requestsInWindow: 2, quotaUsedToday: 2 });
  });

  it('a quota denial consumes no rate capacity', async () => {
    const stub = limiter(limiterName('quota-rate'));
    const limit = 12;
    for (let i = 0; i < 10; i++) expect((await stub.consume({ now: T0 + i, limit, quota: quota(`m${i}`) })).allowed).toBe(true);
    for (let i = 0; i < 5; i++) {
      const denied = await stub.consume({ now: T0 + 100 + i, limit, quota: quota(`extra${i}`) });
      expect(denied.allowed).toBe(false);
      expect(denied.rate.remaining).toBe(2);
    }
    // Had the five denials counted, these two would be refused.
    expect((await stub.consume({ now: T0 + 200, limit })).rate).toMatchObject({ allowed: true, remaining: 1 });
    expect((await stub.consume({ now: T0 + 201, limit, quota: quota('m0') })).quota).toMatchObject({ allowed: true, repeat: true });
    expect((await stub.consume({ now: T0 + 202, limit })).rate).toMatchObject({ allowed: false, remaining: 0 });
    expect((await rows(stub)).quota.map((q) => q.match_id).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`).sort());
  });

  it('a rate denial consumes no quota', async () => {
    const stub = limiter(limiterName('rate-quota'));
    expect((await stub.consume({ now: T0, limit: 2, quota: quota('a') })).allowed).toBe(true);
    expect((await stub.consume({ now: T0 + 1, limit: 2, quota: quota('b') })).allowed).toBe(true);
    const denied = await stub.consume({ now: T0 + 2, limit: 2, quota: quota('c') });
    expect(denied.allowed).toBe(false);
    expect(denied.rate).toMatchObject({ allowed: false, retryAfterSeconds: 60 });
    // The quota alone would admit it, and reports the count as it stands: c was not counted.
    expect(denied.quota).toMatchObject({ allowed: true, used: 2, remaining: 8, repeat: false });
    expect(await stub.usage(T0 + 2)).toEqual({ requestsInWindow: 2, quotaUsedToday: 2 });
    const later = await stub.consume({ now: T0 + WINDOW, limit: 2, quota: quota('c') });
    expect(later.allowed).toBe(true);
    expect(later.quota).toMatchObject({ used: 3, repeat: false });
  });

  it('concurrent requests for new matches never exceed the daily quota', async () => {
    const stub = limiter(limiterName('quota-burst'));
    const results: ConsumeResult[] = await Promise.all(
      Array.from({ length: 40 }, (_, i) => stub.consume({ now: T0, limit: 60, quota: quota(`m${i % 20}`) })),
    );
    const admitted = results.filter((r) => r.allowed);
    // 10 distinct matches get in; of the other 30 requests only repeats of those 10 (up to 10 more) pass.
    const distinct = new Set(admitted.filter((r) => !r.quota!.repeat).map((r) => r.quota!.used));
    expect(distinct).toEqual(new Set(Array.from({ length: 10 }, (_, i) => i + 1)));
    expect((await rows(stub)).quota).toHaveLength(10);
    expect(await stub.usage(T0)).toEqual({ requestsInWindow: admitted.length, quotaUsedToday: 10 });
  });
});

describe('RateLimiter: alarm cleanup', () => {
  it('deletes only what no window can reach, and leaves no alarm once empty', async () => {
    const stub = limiter(limiterName('alarm'));
    await stub.consume({ now: T0, limit: 60, quota: { matchId: 'm1', dailyLimit: 10 } });
    await stub.consume({ now: T0 + 10_000, limit: 60 });
    let state = await rows(stub);
    expect(state.hits.map((h) => h.at)).toEqual([T0, T0 + 10_000]);
    expect(state.quota).toEqual([{ day: Math.floor(T0 / DAY), match_id: 'm1' }]);
    expect(state.alarm).not.toBeNull();

    // Run early (no time has passed): nothing is dead yet, so nothing goes, and it re-arms.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    state = await rows(stub);
    expect(state.hits).toHaveLength(2);
    expect(state.quota).toHaveLength(1);
    expect(state.alarm).not.toBeNull();

    // A minute and a bit later T0 has left the window; T0 + 10 s and the new hit are still needed.
    await stub.consume({ now: T0 + 65_000, limit: 60 });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    state = await rows(stub);
    expect(state.hits.map((h) => h.at)).toEqual([T0 + 10_000, T0 + 65_000]);
    expect(state.quota).toHaveLength(1);
    expect(state.alarm).not.toBeNull();
    // What survived is exactly what the next decision counts.
    expect((await stub.consume({ now: T0 + 69_999, limit: 3 })).rate).toMatchObject({ allowed: true, remaining: 0 });

    // The next UTC day: yesterday's quota rows and the old hits go; today's hit stays.
    const nextDay = Date.UTC(2031, 0, 15, 0, 0, 30);
    await stub.consume({ now: nextDay, limit: 60 });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    state = await rows(stub);
    expect(state.hits.map((h) => h.at)).toEqual([nextDay]);
    expect(state.quota).toEqual([]);
    expect(state.alarm).not.toBeNull();

    // Two minutes of silence: everything is dead, so the store is emptied and no alarm remains.
    await letWallTimePass(stub, 2 * WINDOW);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    state = await rows(stub);
    expect(state).toEqual({ hits: [], quota: [], meta: [], alarm: null });
    expect(await runDurableObjectAlarm(stub)).toBe(false);

    // And it starts over cleanly.
    expect((await stub.consume({ now: nextDay + 3 * WINDOW, limit: 60 })).rate.remaining).toBe(59);
    expect((await rows(stub)).alarm).not.toBeNull();
  });

  it('extrapolates the injected clock with wall time: a partial silence keeps the current window', async () => {
    const stub = limiter(limiterName('alarm-partial'));
    await stub.consume({ now: T0, limit: 60 });
    await stub.consume({ now: T0 + 40_000, limit: 60 });
    // 30 s of silence: T0 is dead (70 s old), T0 + 40 s is not (30 s old).
    await letWallTimePass(stub, 30_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const state = await rows(stub);
    expect(state.hits.map((h) => h.at)).toEqual([T0 + 40_000]);
    expect(state.alarm).not.toBeNull();
  });

  it('keeps hits for the longest window used', async () => {
    const stub = limiter(limiterName('alarm-window'));
    await stub.consume({ now: T0, limit: 60, windowMs: 5 * WINDOW });
    await stub.consume({ now: T0 + 2 * WINDOW, limit: 60 });
    await letWallTimePass(stub, WINDOW);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // Three minutes after T0 a 60 s window no longer reaches it, but the 5-minute window does.
    expect((await rows(stub)).hits.map((h) => h.at)).toEqual([T0, T0 + 2 * WINDOW]);
    expect(await stub.usage(T0 + 3 * WINDOW, 5 * WINDOW)).toEqual({ requestsInWindow: 2, quotaUsedToday: 0 });
  });

  it('arms no alarm for an object that never admitted anything', async () => {
    const stub = limiter(limiterName('alarm-none'));
    await expect(stub.consume({ now: T0, limit: 1, quota: { matchId: 'm', dailyLimit: 0 } })).resolves.toMatchObject({ allowed: false });
    expect(await rows(stub)).toEqual({ hits: [], quota: [], meta: [], alarm: null });
  });
});

describe('RateLimiter: bad input', () => {
  const bad: Array<[string, unknown]> = [
    ['a missing request', undefined],
    ['NaN now', { now: Number.NaN, limit: 60 }],
    ['infinite now', { now: Number.POSITIVE_INFINITY, limit: 60 }],
    ['fractional now', { now: T0 + 0.5, limit: 60 }],
    ['string now', { now: String(T0), limit: 60 }],
    ['zero limit', { now: T0, limit: 0 }],
    ['fractional limit', { now: T0, limit: 1.5 }],
    ['missing limit', { now: T0 }],
    ['zero window', { now: T0, limit: 60, windowMs: 0 }],
    ['negative window', { now: T0, limit: 60, windowMs: -1 }],
    ['infinite window', { now: T0, limit: 60, windowMs: Number.POSITIVE_INFINITY }],
    ['zero cost', { now: T0, limit: 60, cost: 0 }],
    ['fractional cost', { now: T0, limit: 60, cost: 1.5 }],
    ['cost above the limit', { now: T0, limit: 60, cost: 61 }],
    ['empty match id', { now: T0, limit: 60, quota: { matchId: '', dailyLimit: 10 } }],
    ['numeric match id', { now: T0, limit: 60, quota: { matchId: 7, dailyLimit: 10 } }],
    ['negative daily limit', { now: T0, limit: 60, quota: { matchId: 'm', dailyLimit: -1 } }],
    ['NaN daily limit', { now: T0, limit: 60, quota: { matchId: 'm', dailyLimit: Number.NaN } }],
  ];

  // Called on the instance inside the object: a rejecting RPC through a stub leaks one unhandled rejection
  // under vitest-pool-workers (cloudflare/workers-sdk#14736), which would fail the run.
  async function errorOf(stub: DurableObjectStub<RateLimiter>, call: (instance: RateLimiter) => unknown) {
    return runInDurableObject(stub, async (instance) => {
      try {
        await call(instance);
        return undefined;
      } catch (error) {
        return { isTypeError: error instanceof TypeError, message: (error as Error).message };
      }
    });
  }

  it.each(bad)('rejects %s with a TypeError and records nothing', async (_label, req) => {
    const stub = limiter(limiterName('bad'));
    const error = await errorOf(stub, (instance) => instance.consume(req as ConsumeRequest));
    expect(error).toMatchObject({ isTypeError: true, message: expect.stringMatching(/^RateLimiter: /) });
    expect(await rows(stub)).toEqual({ hits: [], quota: [], meta: [], alarm: null });
  });

  it('names the offending field', async () => {
    const stub = limiter(limiterName('bad-message'));
    expect(await errorOf(stub, (i) => i.consume({ now: T0, limit: 60, cost: 0 }))).toMatchObject({
      isTypeError: true,
      message: expect.stringContaining('cost must be an integer >= 1'),
    });
    expect(await errorOf(stub, (i) => i.consume({ now: T0, limit: 60, quota: { matchId: '', dailyLimit: 10 } }))).toMatchObject({
      message: expect.stringContaining('quota.matchId'),
    });
    expect(await errorOf(stub, (i) => i.usage(Number.NaN))).toMatchObject({ isTypeError: true, message: expect.stringContaining('now') });
    expect(await errorOf(stub, (i) => i.usage(T0, 0))).toMatchObject({ isTypeError: true, message: expect.stringContaining('windowMs') });
    // The same instance still decides good requests.
    expect(await errorOf(stub, (i) => i.consume({ now: T0, limit: 60 }))).toBeUndefined();
  });
});
