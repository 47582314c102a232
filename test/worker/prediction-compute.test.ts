// The arithmetic of a prediction on hand-computed cases: EV at the best real price, full and fractional
// Kelly, fair odds, the margin-free market probability, and aggregates kept out of the best price.
import { describe, expect, it } from 'vitest';
import type { LiveLine } from '../../durable-objects/match-odds';
import { buildMatchPrediction, featureQuotes } from '../../src/services/predictions/compute';

const line = (bookmaker: string, market: 'h2h' | 'totals', outcome: string, price: number, capturedAt = '2026-01-01T12:00:00.000Z'): LiveLine => ({
  bookmaker,
  market,
  outcome,
  point: market === 'totals' ? 2.5 : null,
  price,
  capturedAt,
  openingPrice: price,
  openingAt: capturedAt,
});

const lines: LiveLine[] = [
  line('a', 'h2h', 'home', 2.2), line('a', 'h2h', 'draw', 3.2), line('a', 'h2h', 'away', 4.0),
  line('b', 'h2h', 'home', 2.0), line('b', 'h2h', 'draw', 3.5), line('b', 'h2h', 'away', 3.6),
  line('c', 'h2h', 'home', 2.1), line('c', 'h2h', 'draw', 3.4), line('c', 'h2h', 'away', 3.8),
  // An aggregate with a higher price must not become the best price.
  line('market_max', 'h2h', 'home', 2.5),
  line('a', 'totals', 'over', 2.0), line('a', 'totals', 'under', 1.8),
];

function predict(probabilities: { h2h: number[]; ou25: number[] }) {
  return buildMatchPrediction({
    matchId: 1,
    modelRunId: 'run',
    featureVersion: 'v1',
    predictedAt: Date.UTC(2026, 0, 1, 13),
    kickoff: Date.UTC(2026, 0, 2, 15),
    probabilities,
    lines,
    settings: { marginMethod: 'multiplicative', kellyMultiplier: 0.25 },
  });
}

describe('buildMatchPrediction', () => {
  const p = predict({ h2h: [0.5, 0.25, 0.25], ou25: [0.4, 0.6] });
  const h2h = p.markets.find((m) => m.market === 'h2h')!.outcomes;
  const totals = p.markets.find((m) => m.market === 'totals')!;

  it('prices each outcome at the best real bookmaker, never an aggregate', () => {
    expect(h2h.map((o) => [o.outcome, o.bestPrice, o.bestBookmaker])).toEqual([
      ['home', 2.2, 'a'],
      ['draw', 3.5, 'b'],
      ['away', 4.0, 'a'],
    ]);
  });

  it('computes EV = p × price − 1 and Kelly = EV / (price − 1), clipped at 0, and the fraction of it', () => {
    // home: 0.5 × 2.2 − 1 = 0.1; Kelly 0.1 / 1.2 = 1/12; quarter Kelly 1/48.
    expect(h2h[0]!.expectedValue).toBeCloseTo(0.1, 12);
    expect(h2h[0]!.kellyFraction).toBeCloseTo(1 / 12, 12);
    expect(h2h[0]!.kellyStake).toBeCloseTo(1 / 48, 12);
    // draw: 0.25 × 3.5 − 1 = −0.125: no stake.
    expect(h2h[1]!.expectedValue).toBeCloseTo(-0.125, 12);
    expect(h2h[1]!.kellyFraction).toBe(0);
    expect(h2h[1]!.kellyStake).toBe(0);
    // away: 0.25 × 4.0 − 1 = 0: no edge, no stake.
    expect(h2h[2]!.expectedValue).toBeCloseTo(0, 12);
    expect(h2h[2]!.kellyFraction).toBe(0);
    expect(h2h.map((o) => o.fairOdds)).toEqual([2, 4, 4]);
  });

  it('takes the margin out of the median prices for the market probability', () => {
    // Medians: home 2.1, draw 3.4, away 3.8; multiplicative: (1/odds) / Σ(1/odds).
    const inv = [1 / 2.1, 1 / 3.4, 1 / 3.8];
    const total = inv.reduce((a, b) => a + b, 0);
    h2h.forEach((o, i) => expect(o.marketProbability).toBeCloseTo(inv[i]! / total, 12));
  });

  it('maps the bundle’s [under, over] output to over and under, with EV per side', () => {
    expect(totals.point).toBe(2.5);
    expect(totals.outcomes.map((o) => [o.outcome, o.probability])).toEqual([
      ['over', 0.6],
      ['under', 0.4],
    ]);
    expect(totals.outcomes[0]!.expectedValue).toBeCloseTo(0.6 * 2.0 - 1, 12);
    expect(totals.outcomes[0]!.kellyFraction).toBeCloseTo(0.2 / 1.0, 12);
    expect(totals.outcomes[1]!.expectedValue).toBeCloseTo(0.4 * 1.8 - 1, 12);
    expect(totals.outcomes[0]!.marketProbability).toBeCloseTo(0.5 / (0.5 + 1 / 1.8), 12);
  });

  it('leaves price-dependent fields null without odds', () => {
    const bare = buildMatchPrediction({
      matchId: 1, modelRunId: 'run', featureVersion: 'v1', predictedAt: 0, kickoff: 1,
      probabilities: { h2h: [0.5, 0.3, 0.2], ou25: [0.5, 0.5] }, lines: [],
      settings: { marginMethod: 'shin', kellyMultiplier: 0.5 },
    });
    expect(bare.markets[0]!.outcomes[0]).toEqual({
      outcome: 'home', probability: 0.5, fairOdds: 2, bestPrice: null, bestBookmaker: null,
      marketProbability: null, expectedValue: null, kellyFraction: null, kellyStake: null,
    });
  });
});

describe('featureQuotes', () => {
  it('derives the market average and maximum from real bookmakers when the provider has no aggregates', () => {
    const quotes = featureQuotes(lines.filter((l) => l.bookmaker !== 'market_max'));
    const price = (bookmaker: string, outcome: string) => quotes.find((q) => q.bookmaker === bookmaker && q.outcome === outcome && q.market === 'h2h')?.price;
    expect(price('market_avg', 'home')).toBeCloseTo((2.2 + 2.0 + 2.1) / 3, 12);
    expect(price('market_max', 'draw')).toBe(3.5);
  });

  it('keeps an aggregate the provider sent instead of deriving one', () => {
    const quotes = featureQuotes(lines);
    expect(quotes.filter((q) => q.bookmaker === 'market_max' && q.market === 'h2h' && q.outcome === 'home').map((q) => q.price)).toEqual([2.5]);
  });
});
