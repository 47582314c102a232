import { describe, expect, it } from 'vitest';
import { closingLineValue, closingLineValueMarginFree, maxDrawdown, simulateFlatBetting, type BetCandidate } from '../../src/services/evaluation';

describe('max drawdown', () => {
  it('is the largest fall from a running peak of the cumulative profit', () => {
    // match profits +1, −1, −1, +2, −3, +0.5 → cumulative 1, 0, −1, 1, −2, −1.5
    // peak 1 (after match 1 and again after match 4), lowest point after it −2 → drawdown 3
    expect(maxDrawdown([1, 0, -1, 1, -2, -1.5])).toBe(3);
  });

  it('counts the starting bankroll as a peak', () => {
    // 0 → −1 → −2: a loss from the very first bet is a drawdown of 2
    expect(maxDrawdown([-1, -2])).toBe(2);
  });

  it('is 0 without a fall', () => {
    expect(maxDrawdown([])).toBe(0);
    expect(maxDrawdown([0.5, 1, 1, 3])).toBe(0);
  });

  it('keeps the deepest of several falls, not the last', () => {
    // peaks 2 then 5: falls 2 → −1 (3) and 5 → 4 (1)
    expect(maxDrawdown([2, -1, 5, 4])).toBe(3);
  });
});

describe('closing-line value of one bet', () => {
  it('is price / closing price − 1, and the margin-free version is p_close_fair × price − 1', () => {
    // taken at 2.2, closed at 2.0 → +10%
    expect(closingLineValue(2.2, 2)).toBeCloseTo(0.1, 15);
    // taken at 5.5, closed at 6.0 → −1/12
    expect(closingLineValue(5.5, 6)).toBeCloseTo(-1 / 12, 15);
    // closing fair probability 0.5, taken at 2.2 → EV +0.1
    expect(closingLineValueMarginFree(2.2, 0.5)).toBeCloseTo(0.1, 15);
    expect(() => closingLineValue(2, 1)).toThrow('decimal odds');
  });
});

describe('flat-stake betting simulation', () => {
  // Threshold 0.05. EV per outcome = p × price − 1.
  const rows: BetCandidate[] = [
    {
      // EV: 0.5·2.2 − 1 = 0.10 ✓, 0.3·3.2 − 1 = −0.04, 0.2·5.5 − 1 = 0.10 ✓ → bets on home and away
      // home wins: +1.2, away loses: −1 → +0.2 (cumulative 0.2)
      matchId: 'A',
      label: 0,
      probabilities: [0.5, 0.3, 0.2],
      prices: [2.2, 3.2, 5.5],
      closingPrices: [1.9, 3.1, 6],
    },
    {
      // EV −0.04, −0.01, −0.10 → no bet; not a point of the equity curve
      matchId: 'B',
      label: 1,
      probabilities: [0.4, 0.3, 0.3],
      prices: [2.4, 3.3, 3],
      closingPrices: [2.3, 3.3, 3.1],
    },
    {
      // EV 0.6·1.9 − 1 = 0.14 ✓, 0.25·4 − 1 = 0 (not > 0.05), 0.15·8 − 1 = 0.20 ✓
      // home loses −1, away wins +7 → +6 (cumulative 6.2); no closing price → 2 bets without CLV
      matchId: 'C',
      label: 2,
      probabilities: [0.6, 0.25, 0.15],
      prices: [1.9, 4, 8],
      closingPrices: null,
    },
    {
      // no price at this source → skipped
      matchId: 'D',
      label: 0,
      probabilities: [0.9, 0.05, 0.05],
      prices: null,
    },
    {
      // EV 0.7·1.6 − 1 = 0.12 ✓, 0.2·4.5 − 1 = −0.1, 0.1·9 − 1 = −0.1 → home, which loses: −1 (cumulative 5.2)
      matchId: 'E',
      label: 1,
      probabilities: [0.7, 0.2, 0.1],
      prices: [1.6, 4.5, 9],
      closingPrices: [1.5, 4.2, 9],
    },
    {
      // a price of 1.0 makes the row unusable at this source
      matchId: 'F',
      label: 0,
      probabilities: [0.9, 0.05, 0.05],
      prices: [1, 20, 20],
    },
  ];

  it('bets every outcome with EV above the threshold and reports profit, ROI and drawdown', () => {
    const result = simulateFlatBetting(rows, { threshold: 0.05, marginMethod: 'multiplicative' });
    // 2 + 0 + 2 + 1 = 5 bets, 2 winners; profit 0.2 + 6 − 1 = 5.2; ROI 5.2 / 5 = 1.04
    expect(result).toMatchObject({ threshold: 0.05, rows: 6, rowsWithoutPrice: 2, bets: 5, wins: 2, staked: 5 });
    expect(result.profit).toBeCloseTo(5.2, 12);
    expect(result.roi).toBeCloseTo(1.04, 12);
    // (2.2 + 5.5 + 1.9 + 8 + 1.6) / 5 = 19.2 / 5
    expect(result.averagePrice).toBeCloseTo(3.84, 12);
    // one point per match with a bet: 0.2, 6.2, 5.2 → drawdown 6.2 − 5.2 = 1
    expect(result.equityCurve).toEqual([expect.closeTo(0.2, 12), expect.closeTo(6.2, 12), expect.closeTo(5.2, 12)]);
    expect(result.maxDrawdown).toBeCloseTo(1, 12);
  });

  it('averages CLV against the Pinnacle close over the bets that have one', () => {
    const { clv } = simulateFlatBetting(rows, { threshold: 0.05, marginMethod: 'multiplicative' });
    // bets with a close: A home (2.2 vs 1.9), A away (5.5 vs 6.0), E home (1.6 vs 1.5); C's two bets have none
    // clv: 2.2/1.9 − 1 = 3/19, 5.5/6 − 1 = −1/12, 1.6/1.5 − 1 = 1/15 → mean (3/19 − 1/12 + 1/15)/3 = 0.047076
    expect(clv.bets).toBe(3);
    expect(clv.missingClosing).toBe(2);
    expect(clv.meanClv).toBeCloseTo((3 / 19 - 1 / 12 + 1 / 15) / 3, 14);
    expect(clv.meanClv).toBeCloseTo(0.047076, 6);
    expect(clv.beatClosingShare).toBeCloseTo(2 / 3, 14);
    // margin-free (multiplicative) closing probabilities:
    // A: 1/1.9 + 1/3.1 + 1/6 = 1860/3534 + 1140/3534 + 589/3534 = 3589/3534
    //    p_home = 1860/3589, p_away = 589/3589 → 2.2·1860/3589 − 1 = 503/3589; 5.5·589/3589 − 1 = −349.5/3589
    // E: 1/1.5 + 1/4.2 + 1/9 = 42/63 + 15/63 + 7/63 = 64/63 → p_home = 42/64 = 0.65625 → 1.6·0.65625 − 1 = 0.05
    // mean (503/3589 − 349.5/3589 + 0.05)/3 = (0.042770 + 0.05)/3 = 0.030923
    expect(clv.meanClvMarginFree).toBeCloseTo((503 / 3589 - 349.5 / 3589 + 0.05) / 3, 14);
    expect(clv.meanClvMarginFree).toBeCloseTo(0.030923, 6);
  });

  it('does not bet at exactly the threshold, and reports null ROI and CLV without bets', () => {
    // 0.5 × 2 − 1 = 0 exactly: EV must be strictly above the threshold 0
    const result = simulateFlatBetting(
      [{ matchId: 1, label: 0, probabilities: [0.5, 0.5], prices: [2, 2], closingPrices: [1.9, 1.9] }],
      { threshold: 0, marginMethod: 'shin' },
    );
    expect(result).toMatchObject({ bets: 0, staked: 0, profit: 0, roi: null, averagePrice: null, maxDrawdown: 0, equityCurve: [] });
    expect(result.clv).toEqual({ bets: 0, missingClosing: 0, meanClv: null, meanClvMarginFree: null, beatClosingShare: null });
  });

  it('settles all bets of a match together', () => {
    // both outcomes at 2.5 with p = 0.5: EV 0.25 each → one wins +1.5, one loses −1 → a single point +0.5
    const result = simulateFlatBetting([{ matchId: 1, label: 1, probabilities: [0.5, 0.5], prices: [2.5, 2.5] }], {
      threshold: 0,
      marginMethod: 'multiplicative',
    });
    expect(result.bets).toBe(2);
    expect(result.equityCurve).toEqual([0.5]);
    expect(result.maxDrawdown).toBe(0);
  });
});
