import { describe, expect, it } from 'vitest';
import { bestPriceByOutcome, type BookmakerQuote } from '../../src/domain/odds';
import { expectedValue, fairOdds, fractionalKelly, kelly } from '../../src/services/ev';

describe('expected value', () => {
  it('is p × price − 1', () => {
    // 0.5 × 2.2 = 1.1 → +0.10 per unit staked
    expect(expectedValue(0.5, 2.2)).toBeCloseTo(0.1, 15);
    // 0.4 × 2.0 = 0.8 → −0.20
    expect(expectedValue(0.4, 2)).toBeCloseTo(-0.2, 15);
    // a fair price has zero EV: 0.25 × 4 = 1
    expect(expectedValue(0.25, 4)).toBe(0);
  });

  it('refuses prices that are not decimal odds and probabilities outside [0, 1]', () => {
    for (const price of [1, 0.5, 0, -2, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => expectedValue(0.5, price)).toThrow(/price must be finite decimal odds > 1/);
    }
    for (const p of [-0.01, 1.01, Number.NaN]) expect(() => expectedValue(p, 2)).toThrow(/probability must be in \[0, 1\]/);
  });
});

describe('Kelly fraction', () => {
  it('is EV over the net odds', () => {
    // b = 1.2, p = 0.5, q = 0.5: (b·p − q)/b = (0.6 − 0.5)/1.2 = 0.083333…
    expect(kelly(0.5, 2.2)).toBeCloseTo(0.1 / 1.2, 15);
    // the classic even-money case: 60% to win at 2.0 → stake 20% = (1.2 − 1)/(2 − 1)
    expect(kelly(0.6, 2)).toBeCloseTo(0.2, 15);
    // p = 0.3 at 5.0: (1.5 − 1)/4 = 0.125
    expect(kelly(0.3, 5)).toBeCloseTo(0.125, 15);
  });

  it('is clipped at 0 when the EV is not positive', () => {
    // raw (0.8 − 1)/(2 − 1) = −0.2: no stake rather than a negative one
    expect(kelly(0.4, 2)).toBe(0);
    // EV exactly 0: 0.5 × 2 − 1
    expect(kelly(0.5, 2)).toBe(0);
    expect(kelly(0, 3)).toBe(0);
  });

  it('never exceeds p', () => {
    for (const [p, price] of [
      [0.9, 1.5],
      [0.5, 100],
      [1, 1.01],
      [0.2, 1000],
    ] as const) {
      expect(kelly(p, price)).toBeLessThanOrEqual(p);
    }
  });

  it('scales by the fraction', () => {
    // a quarter of 0.2
    expect(fractionalKelly(0.6, 2, 0.25)).toBeCloseTo(0.05, 15);
    // half of 0.125
    expect(fractionalKelly(0.3, 5, 0.5)).toBeCloseTo(0.0625, 15);
    expect(fractionalKelly(0.4, 2, 0.5)).toBe(0);
    expect(() => fractionalKelly(0.6, 2, 1.5)).toThrow(/fraction must be in \[0, 1\]/);
    expect(() => fractionalKelly(0.6, 2, -0.1)).toThrow(/fraction/);
  });

  it('validates like expected value', () => {
    expect(() => kelly(0.5, 1)).toThrow(/price/);
    expect(() => kelly(2, 2)).toThrow(/probability/);
  });
});

describe('fair odds', () => {
  it('is 1/p', () => {
    expect(fairOdds(0.25)).toBe(4);
    expect(fairOdds(0.8)).toBeCloseTo(1.25, 15);
    expect(fairOdds(1)).toBe(1);
    expect(fairOdds(0)).toBe(Number.POSITIVE_INFINITY);
    expect(() => fairOdds(1.2)).toThrow(/probability/);
  });
});

describe('best price by outcome', () => {
  const quotes: BookmakerQuote<'home' | 'draw' | 'away'>[] = [
    { bookmaker: 'williamhill', outcome: 'home', price: 2.1 },
    { bookmaker: 'unibet', outcome: 'home', price: 2.15 },
    { bookmaker: 'betfair', outcome: 'home', price: 2.15 },
    { bookmaker: 'williamhill', outcome: 'draw', price: 3.4 },
    { bookmaker: 'betfair', outcome: 'draw', price: 3.3 },
    { bookmaker: 'unibet', outcome: 'away', price: 3.6 },
    { bookmaker: 'broken', outcome: 'away', price: Number.NaN },
    { bookmaker: 'zero', outcome: 'away', price: 1 },
  ];

  it('takes the highest price, ties to the bookmaker name that sorts first, skipping unusable prices', () => {
    expect(bestPriceByOutcome(quotes)).toEqual({
      home: { price: 2.15, net: 2.15, bookmaker: 'betfair' }, // tie at 2.15: "betfair" < "unibet"
      draw: { price: 3.4, net: 3.4, bookmaker: 'williamhill' },
      away: { price: 3.6, net: 3.6, bookmaker: 'unibet' }, // NaN and 1.0 cannot be a best price
    });
  });

  it('does not depend on the order of the quotes', () => {
    const expected = bestPriceByOutcome(quotes);
    expect(bestPriceByOutcome([...quotes].reverse())).toEqual(expected);
    const rotated = [...quotes.slice(3), ...quotes.slice(0, 3)];
    expect(bestPriceByOutcome(rotated)).toEqual(expected);
  });

  it('leaves out an outcome with no usable quote', () => {
    const best = bestPriceByOutcome([
      { bookmaker: 'a', outcome: 'over', price: 1.9 },
      { bookmaker: 'b', outcome: 'under', price: 0.5 },
    ]);
    expect(best).toEqual({ over: { price: 1.9, net: 1.9, bookmaker: 'a' } });
    expect('under' in best).toBe(false);
  });
});
