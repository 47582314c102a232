import { describe, expect, it } from 'vitest';
import { bootstrapMeanInterval, createPrng, quantileSorted } from '../../src/services/evaluation';

function sample(n: number, seed: number): number[] {
  const random = createPrng(seed);
  return Array.from({ length: n }, () => random());
}

describe('seeded PRNG', () => {
  it('is deterministic per seed and uniform on [0, 1)', () => {
    expect(sample(5, 7)).toEqual(sample(5, 7));
    expect(sample(5, 7)).not.toEqual(sample(5, 8));
    const draws = sample(100_000, 1);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    // the mean of 100,000 uniforms has sd √(1/12/100000) ≈ 0.0009: 0.5 ± 0.005 is over 5 sd
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
    // each tenth of [0, 1) gets about 10,000 draws (sd ≈ 95)
    const deciles = new Array<number>(10).fill(0);
    for (const u of draws) deciles[Math.floor(u * 10)]!++;
    for (const count of deciles) expect(Math.abs(count - 10_000)).toBeLessThan(600);
  });

  it('refuses a seed that is not an unsigned 32-bit integer', () => {
    expect(() => createPrng(-1)).toThrow('seed');
    expect(() => createPrng(1.5)).toThrow('seed');
    expect(() => createPrng(2 ** 32)).toThrow('seed');
  });
});

describe('quantiles', () => {
  it('interpolate linearly at (n − 1)·q', () => {
    // [1, 2, 3, 4]: q = 0.5 → position 1.5 → 2.5; q = 0.25 → position 0.75 → 1 + 0.75 = 1.75
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantileSorted([1, 2, 3, 4], 0)).toBe(1);
    expect(quantileSorted([1, 2, 3, 4], 1)).toBe(4);
    expect(quantileSorted([7], 0.975)).toBe(7);
  });
});

describe('bootstrap interval of a mean', () => {
  const values = sample(400, 99).map((u) => u - 0.45);

  it('is deterministic for a seed and changes with the seed', () => {
    const a = bootstrapMeanInterval(values, { seed: 42, resamples: 500 });
    const b = bootstrapMeanInterval(values, { seed: 42, resamples: 500 });
    const c = bootstrapMeanInterval(values, { seed: 43, resamples: 500 });
    expect(b).toEqual(a);
    expect([c.lower, c.upper]).not.toEqual([a.lower, a.upper]);
    expect(c.estimate).toBe(a.estimate);
  });

  it('contains the point estimate and has about the normal-theory width', () => {
    const interval = bootstrapMeanInterval(values, { seed: 1 });
    const n = values.length;
    const mean = values.reduce((a, b) => a + b, 0) / n;
    expect(interval).toMatchObject({ estimate: mean, resamples: 1000, confidence: 0.95, rows: 400 });
    expect(interval.lower).toBeLessThan(interval.estimate);
    expect(interval.upper).toBeGreaterThan(interval.estimate);
    // half-width ≈ 1.96 · s / √n; s ≈ 1/√12 ≈ 0.289, so ≈ 0.028. A broken resampler misses this by far.
    const s = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
    const halfWidth = (interval.upper - interval.lower) / 2;
    expect(halfWidth / ((1.96 * s) / Math.sqrt(n))).toBeGreaterThan(0.85);
    expect(halfWidth / ((1.96 * s) / Math.sqrt(n))).toBeLessThan(1.15);
  });

  it('is a point for constant values', () => {
    expect(bootstrapMeanInterval([0.3, 0.3, 0.3], { seed: 5 })).toMatchObject({ estimate: 0.3, lower: 0.3, upper: 0.3 });
  });

  it('spans the extremes of a two-point sample', () => {
    // Resampling [0, 1] twice gives a mean of 0, ½ or 1 with probabilities ¼, ½, ¼. Of 1000 resamples about
    // 250 are 0 and 250 are 1; the 2.5% and 97.5% quantiles sit at positions 24.975 and 974.025, well
    // inside those runs, so the interval is exactly [0, 1].
    expect(bootstrapMeanInterval([0, 1], { seed: 3 })).toMatchObject({ estimate: 0.5, lower: 0, upper: 1 });
  });

  it('refuses empty or non-finite input and bad options', () => {
    expect(() => bootstrapMeanInterval([])).toThrow('empty');
    expect(() => bootstrapMeanInterval([1, Number.NaN])).toThrow('not finite');
    expect(() => bootstrapMeanInterval([1, 2], { resamples: 0 })).toThrow('resamples');
    expect(() => bootstrapMeanInterval([1, 2], { confidence: 1 })).toThrow('confidence');
  });
});
