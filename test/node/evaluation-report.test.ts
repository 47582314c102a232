import { describe, expect, it } from 'vitest';
import { buildReport, compareWithBaseline, type EvaluationReport, type EvaluationRow } from '../../src/services/evaluation';

// Two complete 1X2 rows, mirror images of each other, plus three rows a baseline cannot price.
// Pinnacle 2 / 4 / 4 has no margin (1/2 + 1/4 + 1/4 = 1), so its fair probabilities are 0.5 / 0.25 / 0.25
// under every method; the average 1.6 / 4 / 5 has S = 1.075 and multiplicative fair 25/43, 10/43, 8/43.
const complete: EvaluationRow[] = [
  {
    matchId: 'R2',
    kickoff: '2023-08-13T14:00:00Z',
    label: 2,
    model: [0.2, 0.2, 0.6],
    prices: { pinnaclePreMatch: [4, 4, 2], marketAverage: [5, 4, 1.6], bestPrice: [3.9, 4.1, 2.1] },
  },
  {
    matchId: 'R1',
    kickoff: '2023-08-12T14:00:00Z',
    label: 0,
    model: [0.6, 0.2, 0.2],
    prices: { pinnaclePreMatch: [2, 4, 4], marketAverage: [1.6, 4, 5], bestPrice: [2.1, 4.1, 3.9], pinnacleClosing: [2, 4, 4] },
  },
];
const unpriced: EvaluationRow[] = [
  { matchId: 'R3', kickoff: '2023-08-14T14:00:00Z', label: 1, model: [0.3, 0.4, 0.3], prices: { pinnaclePreMatch: null, marketAverage: [2.5, 3.2, 3] } },
  { matchId: 'R4', kickoff: '2023-08-15T14:00:00Z', label: 1, model: [0.3, 0.4, 0.3], prices: { pinnaclePreMatch: [2.6, 3.3, 3.1], marketAverage: [2.5, 1, 3] } },
  { matchId: 'R5', kickoff: '2023-08-16T14:00:00Z', label: 0, model: [0.3, 0.4, 0.3], prices: {} },
];
const rows = [...complete, ...unpriced];

describe('compareWithBaseline', () => {
  it('drops rows lacking a baseline price from every source and counts them', () => {
    const comparison = compareWithBaseline('1x2', rows, { marginMethod: 'multiplicative', bootstrapResamples: 200 });
    // R3 lacks Pinnacle, R4 has an average price of 1.0, R5 lacks both
    expect(comparison.rows).toEqual({ input: 5, evaluated: 2, dropped: 3, droppedNoPinnaclePreMatch: 2, droppedNoMarketAverage: 2 });
    expect(comparison.metrics!.model.rows).toBe(2);
    expect(comparison.metrics!.pinnacle.rows).toBe(2);
    expect(comparison.metrics!.marketAverage.rows).toBe(2);
    expect(comparison.kickoffRange).toEqual({ first: '2023-08-12T14:00:00Z', last: '2023-08-13T14:00:00Z' });
  });

  it('scores the model and the margin-free baselines on the same rows', () => {
    const comparison = compareWithBaseline('1x2', rows, { marginMethod: 'multiplicative', bootstrapResamples: 200 });
    const { model, pinnacle, marketAverage } = comparison.metrics!;
    // model: p(label) = 0.6 in both rows → log loss −ln 0.6 = 0.510826; Brier 0.4² + 0.2² + 0.2² = 0.24
    expect(model).toEqual({ rows: 2, accuracy: 1, brier: expect.closeTo(0.24, 14), logLoss: expect.closeTo(-Math.log(0.6), 14), ece: expect.any(Number) });
    // Pinnacle: p(label) = 0.5 → ln 2 = 0.693147; Brier 0.5² + 0.25² + 0.25² = 0.375
    expect(pinnacle.logLoss).toBeCloseTo(Math.LN2, 14);
    expect(pinnacle.brier).toBeCloseTo(0.375, 14);
    // average: p(label) = 25/43 → ln(43/25) = 0.542324
    expect(marketAverage.logLoss).toBeCloseTo(Math.log(43 / 25), 14);
    expect(marketAverage.logLoss).toBeCloseTo(0.542324, 6);
    // ECE of the model, class 0: 0.6 ✓ in bin 6 (|1 − 0.6| = 0.4), 0.2 ✗ in bin 2 (0.2) → ½·0.4 + ½·0.2 = 0.3;
    // class 1: both 0.2 ✗ in bin 2 → 0.2; class 2 mirrors class 0 → 0.3. Mean (0.3 + 0.2 + 0.3)/3 = 0.266667
    expect(model.ece).toBeCloseTo(0.8 / 3, 14);
    // no margin to remove: every method gives Pinnacle the same ln 2
    expect(comparison.pinnacleLogLossByMethod).toEqual({
      multiplicative: expect.closeTo(Math.LN2, 14),
      shin: expect.closeTo(Math.LN2, 14),
      power: expect.closeTo(Math.LN2, 14),
    });
  });

  it('bootstraps the paired log-loss difference model − Pinnacle', () => {
    // both rows differ by −ln 0.6 − ln 2 = −ln 1.2 = −0.182322, so every resample's mean is that value too
    const { logLossDifference } = compareWithBaseline('1x2', rows, { bootstrapResamples: 300, bootstrapSeed: 9 });
    expect(logLossDifference).toMatchObject({ baseline: 'pinnacle', rows: 2, resamples: 300, seed: 9, confidence: 0.95 });
    expect(logLossDifference!.estimate).toBeCloseTo(-Math.log(1.2), 14);
    expect(logLossDifference!.lower).toBeCloseTo(-Math.log(1.2), 14);
    expect(logLossDifference!.upper).toBeCloseTo(-Math.log(1.2), 14);
  });

  it('has no figures when no row has both baselines', () => {
    const comparison = compareWithBaseline('1x2', unpriced);
    expect(comparison.rows.evaluated).toBe(0);
    expect(comparison).toMatchObject({ metrics: null, reliability: null, logLossDifference: null, pinnacleLogLossByMethod: null, kickoffRange: null });
  });

  it('refuses malformed rows instead of dropping them', () => {
    const base = complete[1]!;
    expect(() => compareWithBaseline('ou25', [base])).toThrow('market ou25, match R1: 3 model probabilities for a 2-outcome market');
    expect(() => compareWithBaseline('1x2', [{ ...base, model: [0.6, 0.3, 0.3] }])).toThrow('match R1: row 0 sums to 1.2');
    expect(() => compareWithBaseline('1x2', [{ ...base, label: 3 }])).toThrow('match R1');
    expect(() => compareWithBaseline('1x2', [{ ...base, kickoff: 'Saturday' }])).toThrow('kickoff is not a date');
    expect(() => compareWithBaseline('1x2', [{ ...base, prices: { ...base.prices, bestPrice: [2.1, 4.1] } }])).toThrow(
      'match R1: bestPrice has 2 prices for a 3-outcome market',
    );
  });
});

describe('margin methods per market and per row', () => {
  // A Pinnacle book with a margin, where the methods disagree: 1.8 / 3.6 / 4.5 (S = 1.0556).
  const margined: EvaluationRow = {
    matchId: 'M1',
    kickoff: '2023-08-12T14:00:00Z',
    label: 0,
    model: [0.5, 0.25, 0.25],
    prices: { pinnaclePreMatch: [1.8, 3.6, 4.5], marketAverage: [1.75, 3.5, 4.4] },
  };
  const fairHome = (method: 'multiplicative' | 'shin' | 'power') => {
    const report = buildReport({ '1x2': [margined] }, { marginMethods: { '1x2': method }, bootstrapResamples: 10 });
    return Math.exp(-report.markets['1x2']!.metrics!.pinnacle.logLoss);
  };

  it("compares each market with Pinnacle under that market's own method", () => {
    const multiplicative = (1 / 1.8) / (1 / 1.8 + 1 / 3.6 + 1 / 4.5);
    expect(fairHome('multiplicative')).toBeCloseTo(multiplicative, 12);
    // Shin and power give the favourite more than multiplicative does.
    expect(fairHome('shin')).toBeGreaterThan(multiplicative + 1e-4);
    expect(fairHome('power')).toBeGreaterThan(multiplicative + 1e-4);
    const report = buildReport({ '1x2': [margined] }, { marginMethods: { '1x2': 'power' }, bootstrapResamples: 10 });
    expect(report.settings.marginMethods).toEqual({ '1x2': 'power', ou25: 'shin' });
    expect(report.markets['1x2']!.marginMethod).toBe('power');
  });

  it("a row's own method wins, so rows pooled from models with different methods keep theirs", () => {
    const pooled = buildReport({ '1x2': [{ ...margined, marginMethod: 'power' }] }, { marginMethod: 'multiplicative', bootstrapResamples: 10 });
    expect(Math.exp(-pooled.markets['1x2']!.metrics!.pinnacle.logLoss)).toBeCloseTo(fairHome('power'), 12);
  });
});

describe('buildReport', () => {
  const report = buildReport({ '1x2': rows }, { marginMethod: 'multiplicative', evThreshold: 0, bootstrapResamples: 200, bootstrapSeed: 11 });
  const market = report.markets['1x2']!;

  it('records its settings and leaves a market without rows null', () => {
    expect(report.schemaVersion).toBe(1);
    expect(report.settings).toEqual({
      marginMethod: 'multiplicative',
      marginMethods: { '1x2': 'multiplicative', ou25: 'multiplicative' },
      evThreshold: 0,
      stake: 1,
      eceBins: 10,
      logLossEpsilon: 1e-15,
      bootstrap: { resamples: 200, seed: 11, confidence: 0.95 },
    });
    expect(report.markets.ou25).toBeNull();
    expect(market.market).toBe('1x2');
    expect(market.outcomes).toEqual(['home', 'draw', 'away']);
    expect(market.rows.evaluated).toBe(2);
    expect(market.reliability!.model).toHaveLength(3);
    expect(market.reliability!.pinnacle[0]!.bins).toHaveLength(10);
  });

  it('bets the model at each price source, in kick-off order', () => {
    const { bestPrice, pinnaclePreMatch, marketAverage } = market.betting.model;
    // best: R1 home 0.6·2.1 = 1.26 ✓ (+1.1), draw 0.2·4.1, away 0.2·3.9 ✗; R2 mirrors it with away → +2.2 on 2 bets
    expect(bestPrice).toMatchObject({ rows: 2, rowsWithoutPrice: 0, bets: 2, wins: 2, staked: 2 });
    expect(bestPrice.profit).toBeCloseTo(2.2, 12);
    expect(bestPrice.roi).toBeCloseTo(1.1, 12);
    expect(bestPrice.equityCurve).toEqual([expect.closeTo(1.1, 12), expect.closeTo(2.2, 12)]);
    // CLV: only R1 has a close (2 / 4 / 4): 2.1/2 − 1 = 0.05; fair 0.5 · 2.1 − 1 = 0.05
    expect(bestPrice.clv).toEqual({ bets: 1, missingClosing: 1, meanClv: expect.closeTo(0.05, 14), meanClvMarginFree: expect.closeTo(0.05, 14), beatClosingShare: 1 });
    // Pinnacle: 0.6·2 = 1.2 ✓ (+1) in each row
    expect(pinnaclePreMatch).toMatchObject({ bets: 2, wins: 2, profit: 2, roi: 1 });
    // average: 0.6·1.6 = 0.96, 0.2·4 = 0.8, 0.2·5 = 1.0 (EV 0, not > 0) → nothing
    expect(marketAverage).toMatchObject({ bets: 0, profit: 0, roi: null, equityCurve: [] });
  });

  it('reports the market value rule: Pinnacle fair probability against the best price, no model', () => {
    // R1: 0.5·2.1 = 1.05 ✓ (home wins, +1.1), 0.25·4.1 = 1.025 ✓ (draw loses, −1), 0.25·3.9 = 0.975 ✗ → +0.1
    // R2 mirrors it → +0.1. 4 bets, 2 winners, profit 0.2, ROI 0.05
    const rule = market.betting.marketValueRule;
    expect(rule).toMatchObject({ bets: 4, wins: 2, staked: 4 });
    expect(rule.profit).toBeCloseTo(0.2, 12);
    expect(rule.roi).toBeCloseTo(0.05, 12);
    expect(rule.equityCurve).toEqual([expect.closeTo(0.1, 12), expect.closeTo(0.2, 12)]);
    // CLV on R1: home 2.1/2 − 1 = 0.05, draw 4.1/4 − 1 = 0.025 → 0.0375; R2's two bets have no close
    expect(rule.clv.meanClv).toBeCloseTo(0.0375, 14);
    expect(rule.clv.missingClosing).toBe(2);
  });

  it('does not depend on the order of the input rows', () => {
    const shuffled = [rows[3]!, rows[1]!, rows[4]!, rows[0]!, rows[2]!];
    const again = buildReport({ '1x2': shuffled }, { marginMethod: 'multiplicative', evThreshold: 0, bootstrapResamples: 200, bootstrapSeed: 11 });
    expect(again).toEqual(report);
  });

  it('is plain JSON: no NaN, Infinity or undefined survives a round trip differently', () => {
    const withEmptyBetting = buildReport({ '1x2': rows, ou25: [] }, { evThreshold: 5 });
    for (const r of [report, withEmptyBetting]) {
      const roundTrip = JSON.parse(JSON.stringify(r)) as EvaluationReport;
      expect(roundTrip).toStrictEqual(r);
    }
    expect(withEmptyBetting.markets.ou25).toBeNull();
    expect(withEmptyBetting.markets['1x2']!.betting.model.bestPrice.roi).toBeNull();
  });
});
