import { describe, expect, it } from 'vitest';
import {
  accuracy,
  brierScore,
  classwiseEce,
  evaluateProbabilities,
  logLoss,
  reliabilityTable,
} from '../../src/services/evaluation';

// Three 1X2 rows, no probability on a bin edge.
const threeClass = [
  [0.62, 0.23, 0.15], // label 0 (home)
  [0.25, 0.47, 0.28], // label 2 (away)
  [0.12, 0.13, 0.75], // label 2
];
const threeClassLabels = [0, 2, 2];

// Four binary rows that share bins, so a bin's mean and frequency are averages.
const binary = [
  [0.82, 0.18], // label 0
  [0.86, 0.14], // label 1
  [0.33, 0.67], // label 1
  [0.37, 0.63], // label 1
];
const binaryLabels = [0, 1, 1, 1];

describe('accuracy', () => {
  it('counts rows whose most probable class happened', () => {
    // argmax 0 ✓, 1 ✗ (label 2), 2 ✓ → 2/3
    expect(accuracy(threeClass, threeClassLabels)).toBeCloseTo(2 / 3, 15);
    // argmax 0 ✓, 0 ✗, 1 ✓, 1 ✓ → 3/4
    expect(accuracy(binary, binaryLabels)).toBe(0.75);
  });

  it('breaks a tie to the lowest class index', () => {
    expect(accuracy([[0.4, 0.4, 0.2]], [0])).toBe(1);
    expect(accuracy([[0.4, 0.4, 0.2]], [1])).toBe(0);
  });
});

describe('multi-class Brier', () => {
  it('sums squared errors over classes and averages over rows', () => {
    // row 1: (0.62 − 1)² + 0.23² + 0.15² = 0.1444 + 0.0529 + 0.0225 = 0.2198
    // row 2: 0.25² + 0.47² + (0.28 − 1)² = 0.0625 + 0.2209 + 0.5184 = 0.8018
    // row 3: 0.12² + 0.13² + (0.75 − 1)² = 0.0144 + 0.0169 + 0.0625 = 0.0938
    // (0.2198 + 0.8018 + 0.0938) / 3 = 1.1154 / 3 = 0.3718
    expect(brierScore(threeClass, threeClassLabels)).toBeCloseTo(0.3718, 14);
    // binary rows count both classes: 0.0648 + 1.4792 + 0.2178 + 0.2738 = 2.0356 → / 4 = 0.5089
    expect(brierScore(binary, binaryLabels)).toBeCloseTo(0.5089, 14);
  });

  it('is 0 for a certain correct forecast and 2 for a certain wrong one', () => {
    expect(brierScore([[1, 0, 0]], [0])).toBe(0);
    expect(brierScore([[1, 0, 0]], [2])).toBe(2);
  });
});

describe('log loss', () => {
  it('averages −ln p(label) with the natural log', () => {
    // −(ln 0.62 + ln 0.28 + ln 0.75) / 3 = (0.478036 + 1.272966 + 0.287682) / 3 = 0.679561
    expect(logLoss(threeClass, threeClassLabels)).toBeCloseTo(0.679561, 6);
    expect(logLoss(threeClass, threeClassLabels)).toBeCloseTo(-(Math.log(0.62) + Math.log(0.28) + Math.log(0.75)) / 3, 14);
    // −(ln 0.82 + ln 0.14 + ln 0.67 + ln 0.63) / 4 = (0.198451 + 1.966113 + 0.400478 + 0.462035) / 4 = 0.756769
    expect(logLoss(binary, binaryLabels)).toBeCloseTo(0.756769, 6);
  });

  it('clips the probability of the outcome at 1e-15', () => {
    // −ln(1e-15) = 15 ln 10 = 34.538776
    expect(logLoss([[1, 0]], [1])).toBeCloseTo(34.538776, 6);
    expect(logLoss([[1, 0]], [0])).toBe(0); // −ln 1
  });
});

describe('classwise ECE and the reliability table', () => {
  it('is the mean over classes of Σ_bins |bin|/N · |acc − conf| (one row per bin)', () => {
    // class 0: 0.62 (happened) in bin 6, 0.25 in bin 2, 0.12 in bin 1 → (0.38 + 0.25 + 0.12)/3 = 0.25
    // class 1: 0.23 in bin 2, 0.47 in bin 4, 0.13 in bin 1, none happened → (0.23 + 0.47 + 0.13)/3 = 0.276667
    // class 2: 0.15 in bin 1, 0.28 (happened) in bin 2, 0.75 (happened) in bin 7 → (0.15 + 0.72 + 0.25)/3 = 0.373333
    // mean: (0.25 + 0.276667 + 0.373333) / 3 = 0.3
    const table = reliabilityTable(threeClass, threeClassLabels);
    expect(table.map((c) => c.ece)).toEqual([expect.closeTo(0.25, 14), expect.closeTo(0.83 / 3, 14), expect.closeTo(1.12 / 3, 14)]);
    expect(classwiseEce(threeClass, threeClassLabels)).toBeCloseTo(0.3, 14);
  });

  it('weights each bin by its share of rows (rows sharing bins)', () => {
    // class 0: bin 8 = {0.82 ✓, 0.86 ✗}: conf 0.84, acc 0.5 → 2/4 · 0.34 = 0.17
    //          bin 3 = {0.33 ✗, 0.37 ✗}: conf 0.35, acc 0   → 2/4 · 0.35 = 0.175   ECE_0 = 0.345
    // class 1: bin 1 = {0.18 ✗, 0.14 ✓}: conf 0.16, acc 0.5 → 0.17; bin 6 = {0.67 ✓, 0.63 ✓}: conf 0.65, acc 1 → 0.175
    // ECE_1 = 0.345; classwise ECE = 0.345
    expect(classwiseEce(binary, binaryLabels)).toBeCloseTo(0.345, 14);
    const [class0] = reliabilityTable(binary, binaryLabels);
    expect(class0!.bins).toHaveLength(10);
    expect(class0!.bins[8]).toEqual({ lower: 0.8, upper: 0.9, count: 2, meanPredicted: expect.closeTo(0.84, 14), observedFrequency: 0.5 });
    expect(class0!.bins[3]).toEqual({ lower: 0.3, upper: 0.4, count: 2, meanPredicted: expect.closeTo(0.35, 14), observedFrequency: 0 });
    expect(class0!.bins[0]).toEqual({ lower: 0, upper: 0.1, count: 0, meanPredicted: null, observedFrequency: null });
    expect(class0!.bins.reduce((n, b) => n + b.count, 0)).toBe(4);
  });

  it('puts a lower edge in its own bin and 1.0 in the last bin', () => {
    // class 0: p = 1 (happened) in bin 9: |1 − 1| = 0; p = 0.5 (did not) in bin 5: ½ · |0 − 0.5| = 0.25
    // class 1: p = 0 (did not) in bin 0: 0; p = 0.5 (happened) in bin 5: ½ · |1 − 0.5| = 0.25
    const rows = [
      [1, 0],
      [0.5, 0.5],
    ];
    const table = reliabilityTable(rows, [0, 1]);
    expect(table[0]!.bins[9]!.count).toBe(1);
    expect(table[0]!.bins[5]!.count).toBe(1);
    expect(table[1]!.bins[0]!.count).toBe(1);
    expect(table[1]!.bins[5]!.count).toBe(1);
    expect(classwiseEce(rows, [0, 1])).toBe(0.25);
  });

  it('is 0 for a forecaster whose bins match the frequencies', () => {
    // 0.25 in bin 2 for class 0: one of four happened; class 1 at 0.75 (bin 7): three of four
    const rows = Array.from({ length: 4 }, () => [0.25, 0.75]);
    expect(classwiseEce(rows, [0, 1, 1, 1])).toBe(0);
  });
});

describe('evaluateProbabilities', () => {
  it('returns every metric consistently', () => {
    const { metrics, reliability } = evaluateProbabilities(threeClass, threeClassLabels);
    expect(metrics).toEqual({
      rows: 3,
      accuracy: expect.closeTo(2 / 3, 14),
      brier: expect.closeTo(0.3718, 14),
      logLoss: expect.closeTo(0.679561, 6),
      ece: expect.closeTo(0.3, 14),
    });
    expect(reliability).toHaveLength(3);
  });
});

describe('input validation', () => {
  it('refuses rows that are not probability vectors and labels that are not class indices', () => {
    expect(() => logLoss([], [])).toThrow('no rows');
    expect(() => logLoss([[0.5, 0.5]], [0, 1])).toThrow('1 probability rows but 2 labels');
    expect(() => logLoss([[0.5, 0.6]], [0])).toThrow('row 0 sums to 1.1');
    expect(() => logLoss([[2.2, 3.4, 3.1]], [0])).toThrow('outside [0, 1]');
    expect(() => logLoss([[0.5, 0.5], [0.2, 0.3, 0.5]], [0, 0])).toThrow('row 1 has 3 classes');
    expect(() => brierScore([[0.5, 0.5]], [2])).toThrow('label 0 must be an integer class index in [0, 2)');
    expect(() => accuracy([[0.5, 0.5]], [0.5])).toThrow('integer class index');
    expect(() => classwiseEce([[Number.NaN, 1]], [0])).toThrow('outside [0, 1]');
    expect(() => reliabilityTable([[0.5, 0.5]], [0], 0)).toThrow('bins must be a positive integer');
  });
});
