// The market-only prediction (a sport without a model) from hand-made lines, with the MatchOdds summary made by
// the real summariseLines: the anchor per line (Pinnacle's complete book, else the consensus, else none), each
// spread and total line its own market, a 2-way moneyline without the draw a book quoted, and best price, EV and
// Kelly at the best bettable price net of an exchange's commission.
import { describe, expect, it } from 'vitest';
import { H2H_THREE_WAY, H2H_TWO_WAY, removeMargin, summariseLines, type H2hOutcomes, type LiveLine, type LiveMarket } from '../../src/domain/odds';
import { buildMarketOnlyPrediction } from '../../src/services/predictions/market-only';
import { mainLine, moneylineAnchor, nbaBasePrediction, nbaLiveFeatures, withModelMoneyline } from '../../src/services/predictions/basketball';
import type { NbaMatchFeatureState } from '../../src/services/feature-store';
import { NBA_FEATURE_INDEX, type NbaTeamState } from '../../src/services/features/basketball';
import type { MarketPrediction } from '../../src/services/predictions/types';
import { PredictionWriteMessageSchema } from '../../src/services/predictions/write-queue';

const KICKOFF = Date.parse('2026-01-10T01:00:00Z');
const NOW = KICKOFF - 5 * 3_600_000;
const CAPTURED = new Date(NOW - 3_600_000).toISOString();
const LATER = new Date(NOW - 600_000).toISOString();
const LATEST = new Date(NOW - 60_000).toISOString();
const settings = { kellyMultiplier: 0.25, exchangeCommission: 0.05 };

const line = (bookmaker: string, market: LiveMarket, outcome: string, point: number | null, price: number, capturedAt = CAPTURED): LiveLine => ({
  bookmaker,
  market,
  outcome,
  point,
  price,
  capturedAt,
  openingPrice: price,
  openingAt: capturedAt,
});

const LINES: LiveLine[] = [
  // Moneyline: three US books and an exchange; another book quotes only a draw, which a 2-way sport has no use
  // for: it is no part of the moneyline's book, its books or its last update.
  line('draftkings', 'h2h', 'home', null, 1.6),
  line('draftkings', 'h2h', 'away', null, 2.4),
  line('fanduel', 'h2h', 'home', null, 1.65),
  line('fanduel', 'h2h', 'away', null, 2.3),
  line('betmgm', 'h2h', 'home', null, 1.62),
  line('betmgm', 'h2h', 'away', null, 2.35, LATER),
  line('bovada', 'h2h', 'draw', null, 15, LATEST),
  // 1.70 on an exchange pays 1 + 0.70 × 0.95 = 1.665: better than any book's home price after commission.
  line('betfair_ex_uk', 'h2h', 'home', null, 1.7),
  // Spread −4.5 (home −4.5 pairs with away +4.5) at two books, and −5 (an integer line that can push) at one.
  line('draftkings', 'spreads', 'home', -4.5, 1.91),
  line('draftkings', 'spreads', 'away', 4.5, 1.91),
  line('fanduel', 'spreads', 'home', -4.5, 1.87),
  line('fanduel', 'spreads', 'away', 4.5, 1.95),
  line('betmgm', 'spreads', 'home', -5, 2.0),
  line('betmgm', 'spreads', 'away', 5, 1.83),
  // Total 220.5: Pinnacle quotes the complete book, so it is the anchor whatever the others say.
  line('pinnacle', 'totals', 'over', 220.5, 1.95),
  line('pinnacle', 'totals', 'under', 220.5, 1.89),
  line('draftkings', 'totals', 'over', 220.5, 1.8),
  line('draftkings', 'totals', 'under', 220.5, 2.05),
  // Total 223: only the over is quoted anywhere: no complete book, no anchor.
  line('fanduel', 'totals', 'over', 223, 2.1),
];

function predict(lines: LiveLine[], h2h: H2hOutcomes = H2H_TWO_WAY) {
  return buildMarketOnlyPrediction({ matchId: 7, kickoff: KICKOFF, predictedAt: NOW, h2hOutcomes: h2h, odds: { lines, consensus: summariseLines(lines, h2h).consensus }, settings });
}

const median = (...xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const find = <K extends MarketPrediction['kind']>(p: ReturnType<typeof predict>, kind: K, point: number | null) =>
  p.markets.find((m): m is Extract<MarketPrediction, { kind: K }> => m.kind === kind && m.point === point)!;

describe('market-only prediction', () => {
  it('has no model, and every line as its own market: moneyline, spreads by line, totals by line', () => {
    const p = predict(LINES);
    expect(p).toMatchObject({ matchId: 7, model: null, modelRunId: null, featureVersion: null, kellyMultiplier: 0.25, exchangeCommission: 0.05 });
    expect(p.predictedAt).toBe(new Date(NOW).toISOString());
    expect(p.kickoff).toBe(new Date(KICKOFF).toISOString());
    expect(p.markets.map((m) => [m.kind, m.market, m.point])).toEqual([
      ['moneyline', 'h2h', null],
      ['spread', 'spreads', -5],
      ['spread', 'spreads', -4.5],
      ['total', 'totals', 220.5],
      ['total', 'totals', 223],
    ]);
  });

  it("anchors the moneyline on the consensus: the margin-free median of the books' prices, without the draw", () => {
    const m = find(predict(LINES), 'moneyline', null);
    expect(m.outcomes.map((o) => o.outcome)).toEqual(['home', 'away']);
    // Median per outcome over every book quoting it (the exchange's home price is one of them).
    const medianHome = (1.62 + 1.65) / 2;
    const medianAway = median(2.4, 2.3, 2.35);
    const [pHome, pAway] = removeMargin([medianHome, medianAway], 'multiplicative').probabilities as [number, number];
    expect(m.anchor).toEqual({
      source: 'consensus',
      bookmakers: ['betfair_ex_uk', 'betmgm', 'draftkings', 'fanduel'],
      marginMethod: 'multiplicative',
      lastUpdate: LATER,
      hoursToKickoff: (KICKOFF - Date.parse(LATER)) / 3_600_000,
    });
    expect(m.outcomes[0]!.probability).toBeCloseTo(pHome, 12);
    expect(m.outcomes[1]!.probability).toBeCloseTo(pAway, 12);
    expect(m.outcomes[0]!.probability! + m.outcomes[1]!.probability!).toBeCloseTo(1, 12);
    for (const o of m.outcomes) {
      expect(o.marketProbability).toBe(o.probability);
      expect(o.fairOdds).toBeCloseTo(1 / o.probability!, 12);
    }
  });

  it('prices at the best bettable price, an exchange net of its commission, with EV and Kelly there', () => {
    const [home, away] = find(predict(LINES), 'moneyline', null).outcomes;
    expect(home).toMatchObject({ bestPrice: 1.7, bestBookmaker: 'betfair_ex_uk' });
    expect(home!.bestPriceNet).toBeCloseTo(1.665, 12);
    expect(home!.expectedValue).toBeCloseTo(home!.probability! * 1.665 - 1, 12);
    expect(away).toMatchObject({ bestPrice: 2.4, bestBookmaker: 'draftkings', bestPriceNet: 2.4 });
    const ev = away!.probability! * 2.4 - 1;
    expect(away!.expectedValue).toBeCloseTo(ev, 12);
    expect(away!.kellyFraction).toBeCloseTo(Math.max(0, ev / (2.4 - 1)), 12);
    expect(away!.kellyStake).toBeCloseTo(away!.kellyFraction! * 0.25, 12);
  });

  it('keeps each spread line apart, each side at its own handicap, the integer line included', () => {
    const p = predict(LINES);
    const half = find(p, 'spread', -4.5);
    expect(half.outcomes.map((o) => [o.outcome, o.point])).toEqual([
      ['home', -4.5],
      ['away', 4.5],
    ]);
    const [h, a] = removeMargin([(1.91 + 1.87) / 2, (1.91 + 1.95) / 2], 'multiplicative').probabilities as [number, number];
    expect(half.outcomes[0]!.probability).toBeCloseTo(h, 12);
    expect(half.outcomes[1]!.probability).toBeCloseTo(a, 12);
    expect(half.anchor.bookmakers).toEqual(['draftkings', 'fanduel']);
    expect(half.outcomes[0]).toMatchObject({ bestPrice: 1.91, bestBookmaker: 'draftkings' });

    // −5 can push: its prices are for a bet that stands, so its probabilities are given no push and sum to 1.
    const whole = find(p, 'spread', -5);
    expect(whole.outcomes.map((o) => [o.outcome, o.point])).toEqual([
      ['home', -5],
      ['away', 5],
    ]);
    const [h5, a5] = removeMargin([2.0, 1.83], 'multiplicative').probabilities as [number, number];
    expect(whole.outcomes[0]!.probability).toBeCloseTo(h5, 12);
    expect(whole.outcomes[1]!.probability).toBeCloseTo(a5, 12);
    expect(whole.anchor).toMatchObject({ source: 'consensus', bookmakers: ['betmgm'] });
    expect(whole.outcomes[0]!.expectedValue).toBeCloseTo(h5 * 2.0 - 1, 12);
  });

  it("anchors a line on Pinnacle's complete book before the consensus", () => {
    const total = find(predict(LINES), 'total', 220.5);
    const [over, under] = removeMargin([1.95, 1.89], 'multiplicative').probabilities as [number, number];
    expect(total.anchor).toMatchObject({ source: 'pinnacle', bookmakers: ['pinnacle'], marginMethod: 'multiplicative', lastUpdate: CAPTURED });
    expect(total.outcomes.map((o) => o.outcome)).toEqual(['over', 'under']);
    expect(total.outcomes[0]!.probability).toBeCloseTo(over, 12);
    expect(total.outcomes[1]!.probability).toBeCloseTo(under, 12);
    // Not the consensus, which would be the median of both books.
    const consensusOver = removeMargin([(1.95 + 1.8) / 2, (1.89 + 2.05) / 2], 'multiplicative').probabilities[0]!;
    expect(Math.abs(total.outcomes[0]!.probability! - consensusOver)).toBeGreaterThan(0.01);
    // The best price is still the best book's, whoever anchors.
    expect(total.outcomes[1]).toMatchObject({ bestPrice: 2.05, bestBookmaker: 'draftkings' });
  });

  it('gives a line without a complete book no anchor: no probability, EV or Kelly, but its best price', () => {
    const total = find(predict(LINES), 'total', 223);
    expect(total.anchor).toEqual({ source: 'none', bookmakers: [], marginMethod: 'multiplicative', lastUpdate: null, hoursToKickoff: null });
    expect(total.outcomes[0]).toEqual({
      outcome: 'over',
      probability: null,
      fairOdds: null,
      bestPrice: 2.1,
      bestBookmaker: 'fanduel',
      bestPriceNet: 2.1,
      marketProbability: null,
      expectedValue: null,
      kellyFraction: null,
      kellyStake: null,
    });
    expect(total.outcomes[1]).toMatchObject({ outcome: 'under', probability: null, bestPrice: null });
  });

  it('needs the draw for a 3-way sport: then the same h2h lines make an incomplete 1X2', () => {
    const threeWay = LINES.filter((l) => l.market === 'h2h' && l.bookmaker !== 'bovada');
    const m = find(predict(threeWay, H2H_THREE_WAY), '1x2', null);
    expect(m.outcomes.map((o) => o.outcome)).toEqual(['home', 'draw', 'away']);
    expect(m.anchor.source).toBe('none');
    expect(m.outcomes.every((o) => o.probability === null)).toBe(true);
  });

  it('is a message the prediction write queue accepts (the one write path), and only with every field of each kind', () => {
    const p = predict(LINES);
    const parsed = PredictionWriteMessageSchema.safeParse(JSON.parse(JSON.stringify(p)));
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(parsed.data).toEqual(p);
    // A spread side without its handicap, or a moneyline with a draw, is not a prediction the queue can store.
    const withoutPoint = structuredClone(p);
    delete (withoutPoint.markets[1]!.outcomes[0] as { point?: number }).point;
    expect(PredictionWriteMessageSchema.safeParse(withoutPoint).success).toBe(false);
    const withDraw = structuredClone(p);
    (withDraw.markets[0]!.outcomes[0] as { outcome: string }).outcome = 'draw';
    expect(PredictionWriteMessageSchema.safeParse(withDraw).success).toBe(false);
  });

  it('has no market before any book quotes the match', () => {
    expect(predict([]).markets).toEqual([]);
  });
});

// The NBA run's prediction (src/services/predictions/basketball.ts): the market-only one with the moneyline's
// anchor under the run's margin method and the model's probabilities in its place; spreads and totals untouched.
describe("an NBA run's prediction", () => {
  const odds = { lines: LINES, consensus: summariseLines(LINES, H2H_TWO_WAY).consensus };
  const team = (key: string): NbaTeamState => ({ team: key, elo: key === 'bos' ? 1600 : 1450, season: '2024-25', seasonGames: 40, lastDate: '2026-01-07', lastVenue: null });
  const state: NbaMatchFeatureState = {
    featureVersion: 'nba-v1',
    matchId: 7,
    computedAt: NOW,
    staleAfter: KICKOFF,
    match: { startAt: KICKOFF, startTimeKnown: true, status: 'scheduled', homeTeamId: 1, awayTeamId: 2 },
    game: { matchId: 7, competition: 'basketball_nba', season: '2025-26', date: '2026-01-09', homeTeam: 'bos', awayTeam: 'lal', homeScore: null, awayScore: null, moneyline: null, spreadHome: null, total: null },
    home: team('bos'),
    away: team('lal'),
  };
  const model = { runId: 'run-nba', name: 'xgb-nba-v1-test', featureVersion: 'nba-v1' };
  /** The summary's median price of each moneyline side (the exchange's home price among them). */
  const moneylineMedians = () => {
    const c = odds.consensus.find((x) => x.market === 'h2h')!;
    return ['home', 'away'].map((o) => c.outcomes.find((x) => x.outcome === o)!.medianPrice);
  };

  it("anchors the moneyline under the run's margin method, from the consensus's median prices", () => {
    const base = nbaBasePrediction({ state, live: odds, marginMethod: 'shin', predictedAt: NOW, settings });
    const medians = moneylineMedians();
    expect(medians).toEqual([(1.62 + 1.65) / 2, 2.35]);
    expect(moneylineAnchor(base)).toEqual(removeMargin(medians, 'shin').probabilities);
    expect(moneylineAnchor(base)).not.toEqual(removeMargin(medians, 'multiplicative').probabilities);
    expect(find(base, 'moneyline', null).anchor).toMatchObject({ source: 'consensus', marginMethod: 'shin' });
    // Every other line is the market-only prediction's, to the bit.
    expect(base.markets.filter((m) => m.kind !== 'moneyline')).toEqual(predict(LINES).markets.filter((m) => m.kind !== 'moneyline'));
  });

  it("puts the model's probabilities on the moneyline, with EV and Kelly at the same best prices, and names the run", () => {
    const base = nbaBasePrediction({ state, live: odds, marginMethod: 'multiplicative', predictedAt: NOW, settings });
    const p = withModelMoneyline(base, [0.7, 0.3], model, settings);
    expect(p).toMatchObject({ model, modelRunId: 'run-nba', featureVersion: 'nba-v1' });
    const [home, away] = find(p, 'moneyline', null).outcomes;
    const [baseHome, baseAway] = find(base, 'moneyline', null).outcomes;
    expect([home!.probability, away!.probability]).toEqual([0.7, 0.3]);
    expect([home!.marketProbability, away!.marketProbability]).toEqual([baseHome!.marketProbability, baseAway!.marketProbability]);
    // The exchange's 1.70 pays 1.665 after commission: the best home price, as in the market-only prediction.
    expect(home).toMatchObject({ bestPrice: baseHome!.bestPrice, bestBookmaker: 'betfair_ex_uk', bestPriceNet: baseHome!.bestPriceNet });
    expect(home!.expectedValue).toBeCloseTo(0.7 * baseHome!.bestPriceNet! - 1, 12);
    expect(home!.kellyStake).toBeCloseTo(((0.7 * baseHome!.bestPriceNet! - 1) / (baseHome!.bestPriceNet! - 1)) * 0.25, 12);
    expect(away!.expectedValue).toBeCloseTo(0.3 * baseAway!.bestPriceNet! - 1, 12);
    expect(away!.kellyFraction).toBe(0);
    expect(p.markets.filter((m) => m.kind !== 'moneyline')).toEqual(base.markets.filter((m) => m.kind !== 'moneyline'));
    // No anchor: no probability, as a model without a price gives none.
    expect(find(withModelMoneyline(base, null, model, settings), 'moneyline', null).outcomes.every((o) => o.probability === null && o.expectedValue === null)).toBe(true);
  });

  it('reads the vector\'s lines from the consensus: the moneyline\'s medians and the spread and total most books quote', () => {
    const x = nbaLiveFeatures(state, odds);
    const at = (name: keyof typeof NBA_FEATURE_INDEX) => x[NBA_FEATURE_INDEX[name]];
    const [h, a] = moneylineMedians() as [number, number];
    expect(at('mkt_p_home')).toBeCloseTo(1 / h / (1 / h + 1 / a), 12);
    // −4.5 has two books, −5 one.
    expect(at('mkt_spread_home')).toBe(-4.5);
    // 220.5 is the only complete total.
    expect(at('mkt_total')).toBe(220.5);
    expect(at('elo_home')).toBeCloseTo(0.75 * 1600 + 0.25 * 1505, 9);
    // A tie in books goes to the line priced nearest even.
    const tie = summariseLines([
      line('a', 'totals', 'over', 210.5, 1.5), line('a', 'totals', 'under', 210.5, 2.6),
      line('a', 'totals', 'over', 212.5, 1.9), line('a', 'totals', 'under', 212.5, 1.92),
    ], H2H_TWO_WAY).consensus;
    expect(mainLine(tie, 'totals')?.point).toBe(212.5);
  });
});
