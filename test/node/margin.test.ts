import { describe, expect, it } from 'vitest';
import { MARGIN_METHODS, removeMargin, removeMarginPower, removeMarginShin, type MarginMethod } from '../../src/domain/odds';

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function expectClose(actual: readonly number[], expected: readonly number[], tolerance: number) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]!), `index ${i}: ${a} vs ${expected[i]}`).toBeLessThanOrEqual(tolerance));
}

describe('multiplicative margin removal', () => {
  it('normalises the implied probabilities', () => {
    // π = 1/1.6, 1/4, 1/5 = 0.625, 0.25, 0.2; S = 1.075 → overround 0.075
    // p = 0.625/1.075, 0.25/1.075, 0.2/1.075 = 25/43, 10/43, 8/43
    const result = removeMargin([1.6, 4, 5], 'multiplicative');
    expect(result.overround).toBeCloseTo(0.075, 14);
    expectClose(result.probabilities, [25 / 43, 10 / 43, 8 / 43], 1e-15);
  });

  it('reproduces the published penaltyblog values', () => {
    // penaltyblog test/test_implied.py, odds 2.7 / 2.3 / 4.4
    expectClose(removeMargin([2.7, 2.3, 4.4], 'multiplicative').probabilities, [0.358738, 0.4211273, 0.2201347], 1e-6);
  });
});

describe('Shin margin removal', () => {
  it('reproduces the published values of the `shin` package', () => {
    // mberk/shin tests/test_shin.py: odds 2.6 / 2.4 / 4.3 → z = 0.01694251
    const result = removeMarginShin([2.6, 2.4, 4.3]);
    expectClose(result.probabilities, [0.3729941, 0.4047794, 0.2222265], 1e-7);
    expect(result.z).toBeCloseTo(0.01694251, 8);
  });

  it('agrees with penaltyblog to the 4 decimals its test checks', () => {
    expectClose(removeMarginShin([2.7, 2.3, 4.4]).probabilities, [0.3593461, 0.4232517, 0.2174022], 5e-5);
  });

  it('equals the additive method for two outcomes, with z from the closed form', () => {
    // With n = 2, Shin's inverse (1 − z)p_i² + z p_i = π_i²/S gives π_1² − π_2² = S(p_1 − p_2), and
    // π_1² − π_2² = (π_1 − π_2)S, so p_1 − p_2 = π_1 − π_2 and p_i = π_i − (S − 1)/2.
    // odds 1.5 / 2.74: π = 0.666667, 0.364964; S = 1.031630; p_1 = 0.666667 − 0.015815 = 0.650852
    const odds = [1.5, 2.74];
    const pi = odds.map((o) => 1 / o);
    const S = pi[0]! + pi[1]!;
    const additive = pi.map((x) => x - (S - 1) / 2);
    const result = removeMarginShin(odds);
    expectClose(result.probabilities, additive, 1e-12);
    expect(result.probabilities[0]).toBeCloseTo(0.650852, 6);
    // z = (π_1²/S − p_1²) / (p_1 (1 − p_1)) = (0.430818 − 0.423608) / 0.227243 = 0.031727
    const p1 = additive[0]!;
    const z = (pi[0]! ** 2 / S - p1 * p1) / (p1 * (1 - p1));
    expect(result.z).toBeCloseTo(z, 10);
    expect(result.z).toBeCloseTo(0.031727, 5);
  });

  it("recovers the true probabilities and z from odds built with Shin's forward model", () => {
    // Shin (1993): π_i = √(z p_i + (1 − z) p_i²) · Σ_j √(z p_j + (1 − z) p_j²)
    const truth = [0.5, 0.3, 0.2];
    const z = 0.02;
    const roots = truth.map((p) => Math.sqrt(z * p + (1 - z) * p * p));
    const beta = sum(roots);
    const odds = roots.map((r) => 1 / (r * beta));
    const result = removeMarginShin(odds);
    expect(result.overround).toBeGreaterThan(0);
    expectClose(result.probabilities, truth, 1e-12);
    expect(result.z).toBeCloseTo(z, 12);
  });
});

describe('power margin removal', () => {
  it('reproduces the published penaltyblog values', () => {
    expectClose(removeMarginPower([2.7, 2.3, 4.4]).probabilities, [0.3591708, 0.4237291, 0.2171001], 5e-6);
  });

  it('recovers the true probabilities and k from odds built as p_i^(1/k)', () => {
    const truth = [0.55, 0.25, 0.2];
    const k = 1.05;
    const odds = truth.map((p) => 1 / p ** (1 / k));
    const result = removeMarginPower(odds);
    expectClose(result.probabilities, truth, 1e-12);
    expect(result.k).toBeCloseTo(k, 12);
  });

  it('solves a book below 1 with k < 1', () => {
    // 1/1.9 + 1/2.3 = 10/19 + 10/23 = 420/437 = 0.961098 < 1: overround −17/437
    const result = removeMarginPower([1.9, 2.3]);
    expect(result.overround).toBeCloseTo(-17 / 437, 14);
    expect(result.k).toBeGreaterThan(0);
    expect(result.k).toBeLessThan(1);
    expect(Math.abs(sum(result.probabilities) - 1)).toBeLessThanOrEqual(1e-12);
  });
});

describe('every method', () => {
  const markets = [
    [2.7, 2.3, 4.4],
    [1.25, 6.5, 13],
    [1.05, 15, 41],
    [3.1, 3.2, 2.45],
    [1.9, 1.95],
    [1.4, 3.1],
    [1.01, 21],
    [1.9, 2.2, 2.5], // a 38% book
  ];

  it.each(MARGIN_METHODS)('%s: sums to 1 within 1e-12 and keeps the order of the prices', (method) => {
    for (const odds of markets) {
      const { probabilities, overround } = removeMargin(odds, method);
      expect(Math.abs(sum(probabilities) - 1), `${method} ${odds}`).toBeLessThanOrEqual(1e-12);
      expect(overround).toBeCloseTo(sum(odds.map((o) => 1 / o)) - 1, 14);
      for (let i = 0; i < odds.length; i++) {
        expect(probabilities[i]).toBeGreaterThan(0);
        for (let j = 0; j < odds.length; j++) {
          if (odds[i]! < odds[j]!) expect(probabilities[i], `${method} ${odds}: ${i} vs ${j}`).toBeGreaterThan(probabilities[j]!);
        }
      }
    }
  });

  it('gives z in (0, 1) and k > 1 when the overround is positive', () => {
    for (const odds of markets) {
      const shin = removeMarginShin(odds);
      const power = removeMarginPower(odds);
      expect(shin.overround).toBeGreaterThan(0);
      expect(shin.z).toBeGreaterThan(0);
      expect(shin.z).toBeLessThan(1);
      expect(power.k).toBeGreaterThan(1);
    }
  });

  it('moves margin onto the long shot compared with multiplicative (Shin and power)', () => {
    // power: p_fav/p_long = (π_fav/π_long)^k > π_fav/π_long for k > 1, the multiplicative ratio
    for (const odds of markets) {
      const fav = odds.indexOf(Math.min(...odds));
      const long = odds.indexOf(Math.max(...odds));
      const basic = removeMargin(odds, 'multiplicative').probabilities;
      for (const method of ['shin', 'power'] as const) {
        const p = removeMargin(odds, method).probabilities;
        expect(p[fav], `${method} ${odds}`).toBeGreaterThan(basic[fav]!);
        expect(p[long], `${method} ${odds}`).toBeLessThan(basic[long]!);
      }
    }
  });

  it.each(MARGIN_METHODS)('%s: reduces to the implied probabilities when there is no margin', (method) => {
    // 1/2 + 1/4 + 1/4 = 1 exactly
    const result = removeMargin([2, 4, 4], method);
    expect(result.overround).toBe(0);
    expectClose(result.probabilities, [0.5, 0.25, 0.25], 1e-15);
    if (result.method === 'shin') expect(result.z).toBe(0);
    if (result.method === 'power') expect(result.k).toBe(1);
  });

  it('Shin falls back to multiplicative (z = 0) on a book below 1', () => {
    const shin = removeMarginShin([1.9, 2.3]);
    expect(shin.z).toBe(0);
    expectClose(shin.probabilities, removeMargin([1.9, 2.3], 'multiplicative').probabilities, 1e-15);
  });

  it('treats a symmetric market the same under every method', () => {
    for (const method of MARGIN_METHODS) expectClose(removeMargin([1.9, 1.9], method).probabilities, [0.5, 0.5], 1e-12);
  });
});

describe('validation', () => {
  it.each(MARGIN_METHODS)('%s: refuses odds that are not finite decimal odds above 1', (method) => {
    expect(() => removeMargin([1, 3, 4], method)).toThrow('odds[0] must be finite decimal odds > 1, got 1');
    expect(() => removeMargin([2, 0.5, 4], method)).toThrow('odds[1] must be finite decimal odds > 1, got 0.5');
    expect(() => removeMargin([2, 3, Number.NaN], method)).toThrow('odds[2] must be finite decimal odds > 1, got NaN');
    expect(() => removeMargin([2, Number.POSITIVE_INFINITY], method)).toThrow('odds[1] must be finite');
    expect(() => removeMargin([2, -3], method)).toThrow('odds[1] must be finite');
  });

  it('needs at least two outcomes and a known method', () => {
    expect(() => removeMargin([2], 'shin')).toThrow('at least 2 outcomes');
    expect(() => removeMargin([], 'power')).toThrow('at least 2 outcomes');
    expect(() => removeMargin([2, 2], 'additive' as MarginMethod)).toThrow('unknown margin removal method "additive"');
  });
});
