// The arithmetic of a prediction on hand-computed cases: the anchor (Pinnacle, else the consensus of the fixed list
// of bookmakers, else none), the live features' average and best price from that same list, EV and Kelly at the
// best price a bettor is paid (an exchange's net of commission, never an aggregate), and fair odds.
import { describe, expect, it } from 'vitest';
import type { LiveLine } from '../../durable-objects/match-odds';
import { marketAnchors, priceAfterCommission, summariseLines } from '../../src/domain/odds';
import { createHeadToHeadState, createLeagueState, createTeamState, noPreMatchOdds } from '../../src/services/features';
import { buildMatchPrediction, featureQuotes, liveInputs, type PredictionSettings } from '../../src/services/predictions/compute';
import type { MatchFeatureState } from '../../src/services/feature-store';

const KICKOFF = Date.UTC(2026, 0, 2, 15);
const NOW = Date.UTC(2026, 0, 2, 12);

const line = (bookmaker: string, market: 'h2h' | 'totals', outcome: string, price: number, capturedAt = '2026-01-02T11:00:00.000Z'): LiveLine => ({
  bookmaker,
  market,
  outcome,
  point: market === 'totals' ? 2.5 : null,
  price,
  capturedAt,
  openingPrice: price,
  openingAt: capturedAt,
});

const pinnacle: LiveLine[] = [
  line('pinnacle', 'h2h', 'home', 2.1, '2026-01-02T10:30:00.000Z'),
  line('pinnacle', 'h2h', 'draw', 3.4, '2026-01-02T10:30:00.000Z'),
  line('pinnacle', 'h2h', 'away', 3.9, '2026-01-02T10:30:00.000Z'),
  line('pinnacle', 'totals', 'over', 1.95, '2026-01-02T09:00:00.000Z'),
  line('pinnacle', 'totals', 'under', 1.95, '2026-01-02T09:00:00.000Z'),
];
const others: LiveLine[] = [
  line('bet365', 'h2h', 'home', 2.2), line('bet365', 'h2h', 'draw', 3.2), line('bet365', 'h2h', 'away', 3.6),
  line('williamhill', 'h2h', 'home', 2.0), line('williamhill', 'h2h', 'draw', 3.5), line('williamhill', 'h2h', 'away', 3.5),
  // An exchange: the highest quote on home, but it pays 5% of the winnings; not in the consensus.
  line('betfair_ex_uk', 'h2h', 'home', 2.3), line('betfair_ex_uk', 'h2h', 'draw', 3.6), line('betfair_ex_uk', 'h2h', 'away', 4.4),
  // A book outside the fixed list: a bettor may take its price, but it is not part of the average.
  line('unlistedbook', 'h2h', 'home', 1.5), line('unlistedbook', 'h2h', 'draw', 5.0), line('unlistedbook', 'h2h', 'away', 4.0),
  // An aggregate with a higher price must not become the best price.
  line('market_max', 'h2h', 'away', 9.9),
  line('bet365', 'totals', 'over', 2.0), line('bet365', 'totals', 'under', 1.8),
];

/** The lines with the summary MatchOdds hands out beside them. */
const live = (lines: LiveLine[]) => ({ lines, aggregates: summariseLines(lines).aggregates });

const settings: PredictionSettings = { kellyMultiplier: 0.25, exchangeCommission: 0.05 };
const methods = { h2h: 'multiplicative', ou25: 'multiplicative' } as const;

/** A match state with no history for the teams: the market part is what these tests are about. */
const state: MatchFeatureState = {
  featureVersion: 'v1',
  matchId: 1,
  computedAt: NOW,
  staleAfter: KICKOFF,
  match: { competitionId: 1, season: '2025-26', homeTeamId: 1, awayTeamId: 2, startAt: KICKOFF, startTimeKnown: true, status: 'scheduled' },
  home: createTeamState(1),
  away: createTeamState(2),
  pair: createHeadToHeadState(1, 2),
  league: createLeagueState(1),
};

const multiplicative = (prices: number[]) => {
  const inv = prices.map((p) => 1 / p);
  const total = inv.reduce((a, b) => a + b, 0);
  return inv.map((x) => x / total);
};

function predict(lines: LiveLine[], probabilities: { h2h: number[] | null; ou25: number[] | null }) {
  const inputs = liveInputs(state, live(lines), NOW, methods);
  return {
    inputs,
    prediction: buildMatchPrediction({
      matchId: 1,
      model: { runId: 'run', name: 'compute-test', featureVersion: 'v1' },
      predictedAt: NOW,
      kickoff: KICKOFF,
      probabilities,
      anchors: inputs.anchors,
      anchorInfo: inputs.anchorInfo,
      lines,
      settings,
    }),
  };
}

describe('the anchor of a live prediction', () => {
  it("is Pinnacle's margin-free price when Pinnacle quotes the whole market, with when it was updated", () => {
    const { inputs, prediction } = predict([...pinnacle, ...others], { h2h: [0.5, 0.25, 0.25], ou25: [0.45, 0.55] });
    expect(inputs.anchors.h2h.source).toBe('pinnacle');
    inputs.anchors.h2h.probabilities!.forEach((p, i) => expect(p).toBeCloseTo(multiplicative([2.1, 3.4, 3.9])[i]!, 12));
    const h2h = prediction.markets.find((m) => m.market === 'h2h')!;
    expect(h2h.anchor).toEqual({ source: 'pinnacle', bookmakers: ['pinnacle'], marginMethod: 'multiplicative', lastUpdate: '2026-01-02T10:30:00.000Z', hoursToKickoff: 4.5 });
    // The price printed beside the prediction is the anchor's.
    h2h.outcomes.forEach((o, i) => expect(o.marketProbability).toBeCloseTo(multiplicative([2.1, 3.4, 3.9])[i]!, 12));
    const totals = prediction.markets.find((m) => m.market === 'totals')!;
    expect(totals.anchor).toMatchObject({ source: 'pinnacle', lastUpdate: '2026-01-02T09:00:00.000Z', hoursToKickoff: 6 });
    expect(totals.outcomes.map((o) => o.marketProbability)).toEqual([0.5, 0.5]);
  });

  it('falls back to the consensus of the fixed list of bookmakers, leaving out exchanges and books not on it', () => {
    const { inputs, prediction } = predict(others, { h2h: [0.5, 0.25, 0.25], ou25: [0.45, 0.55] });
    // Only bet365 and williamhill are on the list: the average of their prices, then the margin removed.
    const average = [(2.2 + 2.0) / 2, (3.2 + 3.5) / 2, (3.6 + 3.5) / 2];
    expect(inputs.anchors.h2h.source).toBe('consensus');
    expect(inputs.anchors.h2h.prices).toEqual(average);
    inputs.anchors.h2h.probabilities!.forEach((p, i) => expect(p).toBeCloseTo(multiplicative(average)[i]!, 12));
    expect(prediction.markets[0]!.anchor).toMatchObject({ source: 'consensus', bookmakers: ['bet365', 'williamhill'], lastUpdate: '2026-01-02T11:00:00.000Z', hoursToKickoff: 4 });
  });

  it('is none without any price: no probability, no fair odds, no EV or Kelly, and the response says so', () => {
    const { inputs, prediction } = predict([], { h2h: null, ou25: null });
    expect(inputs.anchors.h2h).toEqual({ source: 'none', marginMethod: 'multiplicative', prices: null, probabilities: null });
    for (const market of prediction.markets) {
      expect(market.anchor).toEqual({ source: 'none', bookmakers: [], marginMethod: 'multiplicative', lastUpdate: null, hoursToKickoff: null });
      for (const o of market.outcomes) {
        expect(o).toEqual({
          outcome: o.outcome, probability: null, fairOdds: null, bestPrice: null, bestBookmaker: null, bestPriceNet: null,
          marketProbability: null, expectedValue: null, kellyFraction: null, kellyStake: null,
        });
      }
    }
  });

  it('is the same function training uses: the anchor of the same prices through marketAnchors', () => {
    const odds = noPreMatchOdds();
    odds.pinnacle.h2h = { home: 2.1, draw: 3.4, away: 3.9 };
    const { inputs } = predict([...pinnacle, ...others], { h2h: null, ou25: null });
    expect(inputs.anchors.h2h).toEqual(marketAnchors(odds, methods).h2h);
  });
});

describe('EV and Kelly at the price a bettor is paid', () => {
  const { prediction } = predict([...pinnacle, ...others], { h2h: [0.5, 0.25, 0.25], ou25: [0.45, 0.55] });
  const h2h = prediction.markets.find((m) => m.market === 'h2h')!.outcomes;
  const totals = prediction.markets.find((m) => m.market === 'totals')!.outcomes;

  it("compares an exchange after its commission, and a bookmaker as quoted, never an aggregate", () => {
    // home: the exchange's 2.3 pays 1 + 1.3 × 0.95 = 2.235 > bet365's 2.2. away: the exchange's 4.4 pays 4.23 > 3.9.
    expect(priceAfterCommission('betfair_ex_uk', 2.3, 0.05)).toBeCloseTo(2.235, 12);
    expect(h2h.map((o) => [o.outcome, o.bestBookmaker, o.bestPrice])).toEqual([
      ['home', 'betfair_ex_uk', 2.3],
      ['draw', 'unlistedbook', 5.0],
      ['away', 'betfair_ex_uk', 4.4],
    ]);
    expect(h2h[0]!.bestPriceNet).toBeCloseTo(2.235, 12);
    expect(h2h[1]!.bestPriceNet).toBe(5.0);
    expect(h2h[2]!.bestPriceNet).toBeCloseTo(1 + 3.4 * 0.95, 12);
  });

  it('computes EV = p × net price − 1 and Kelly = EV / (net price − 1), clipped at 0, and the fraction of it', () => {
    // home: 0.5 × 2.235 − 1 = 0.1175; Kelly 0.1175 / 1.235; quarter of that.
    expect(h2h[0]!.expectedValue).toBeCloseTo(0.1175, 12);
    expect(h2h[0]!.kellyFraction).toBeCloseTo(0.1175 / 1.235, 12);
    expect(h2h[0]!.kellyStake).toBeCloseTo(0.1175 / 1.235 / 4, 12);
    // draw: 0.25 × 5.0 − 1 = 0.25 at the unlisted book.
    expect(h2h[1]!.expectedValue).toBeCloseTo(0.25, 12);
    // away: 0.25 × 4.23 − 1 = 0.0575.
    expect(h2h[2]!.expectedValue).toBeCloseTo(0.0575, 12);
    expect(h2h.map((o) => o.fairOdds)).toEqual([2, 4, 4]);
    // totals: the bundle's [under, over] output is listed over first; over 0.55 × 2.0 − 1 = 0.1 at bet365.
    expect(totals.map((o) => [o.outcome, o.probability, o.bestBookmaker])).toEqual([
      ['over', 0.55, 'bet365'],
      ['under', 0.45, 'pinnacle'],
    ]);
    expect(totals[0]!.expectedValue).toBeCloseTo(0.1, 12);
    expect(totals[1]!.expectedValue).toBeCloseTo(0.45 * 1.95 - 1, 12);
    expect(totals[1]!.kellyFraction).toBe(0);
  });
});

describe('featureQuotes', () => {
  it('derives the market average and maximum from the fixed list of bookmakers only', () => {
    const quotes = featureQuotes(live([...pinnacle, ...others.filter((l) => l.bookmaker !== 'market_max')]));
    const price = (bookmaker: string, outcome: string) => quotes.find((q) => q.bookmaker === bookmaker && q.outcome === outcome && q.market === 'h2h')?.price;
    // pinnacle, bet365 and williamhill; not the exchange, not the unlisted book.
    expect(price('market_avg', 'home')).toBeCloseTo((2.1 + 2.2 + 2.0) / 3, 12);
    expect(price('market_max', 'draw')).toBe(3.5);
    expect(price('market_max', 'away')).toBe(3.9);
  });

  it('keeps an aggregate the provider sent instead of deriving one', () => {
    const quotes = featureQuotes(live([...pinnacle, ...others]));
    expect(quotes.filter((q) => q.bookmaker === 'market_max' && q.market === 'h2h' && q.outcome === 'away').map((q) => q.price)).toEqual([9.9]);
  });
});
