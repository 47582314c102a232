// The odds module's aggregates on hand-computed cases: what "best price" and "market average" mean everywhere
// (MatchOdds, the prediction, settlement and the evaluation all call these).
import { describe, expect, it } from 'vitest';
import { bestPriceByOutcome, marketAggregates, median, priceAfterCommission } from '../../src/domain/odds';

describe('median', () => {
  it('refuses an empty list instead of answering NaN', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('bestPriceByOutcome with what a bettor is paid', () => {
  const quotes = [
    { bookmaker: 'betfair_ex_uk', outcome: 'home', price: 2.2 },
    { bookmaker: 'bet365', outcome: 'home', price: 2.15 },
    { bookmaker: 'smarkets', outcome: 'away', price: 3.0 },
  ];
  const net = (bookmaker: string, price: number) => priceAfterCommission(bookmaker, price, 0.05);

  it('ranks by the net price: an exchange quoting higher can pay less after its commission', () => {
    // betfair_ex_uk: 1 + 1.2 × 0.95 = 2.14 < 2.15.
    expect(bestPriceByOutcome(quotes, net)).toEqual({
      home: { price: 2.15, net: 2.15, bookmaker: 'bet365' },
      away: { price: 3.0, net: 1 + 2 * 0.95, bookmaker: 'smarkets' },
    });
    // Without it, the quoted price ranks.
    expect(bestPriceByOutcome(quotes).home).toEqual({ price: 2.2, net: 2.2, bookmaker: 'betfair_ex_uk' });
  });
});

describe('marketAggregates', () => {
  it('averages and maximises the market list only, with the newest capture', () => {
    const aggregates = marketAggregates([
      { bookmaker: 'pinnacle', outcome: 'home', price: 2.0, capturedAt: 1_000 },
      { bookmaker: 'williamhill', outcome: 'home', price: 2.3, capturedAt: 3_000 },
      { bookmaker: 'bet365', outcome: 'home', price: 2.1, capturedAt: 2_000 },
      // Not on the list: an exchange, an aggregate and an unknown book.
      { bookmaker: 'betfair_ex_uk', outcome: 'home', price: 9.0, capturedAt: 9_000 },
      { bookmaker: 'market_max', outcome: 'home', price: 9.0, capturedAt: 9_000 },
      { bookmaker: 'somebook', outcome: 'home', price: 9.0, capturedAt: 9_000 },
      { bookmaker: 'somebook', outcome: 'away', price: 4.0, capturedAt: 9_000 },
    ]);
    expect(aggregates).toEqual({ home: { average: (2.0 + 2.3 + 2.1) / 3, max: 2.3, bookmakers: 3, capturedAt: 3_000 } });
  });
});
