// From precomputed state and the match's live odds to a MatchPrediction. Pure (no I/O), so the route, the
// warm-up and the tests all run exactly this.
//
// Live odds are the MatchOdds lines. The feature builder reads three sources, as in training: Pinnacle, the
// market average and the market's best price. Historical replays carry the aggregates as bookmakers
// (`market_avg`, `market_max`) and they are used as they are; a live provider has only real bookmakers,
// so each missing aggregate is derived from them (mean and maximum of their latest prices per outcome).
// Best prices, EV and the market's margin-free probabilities only ever use real bookmakers.
import type { LiveLine } from '../../../durable-objects/match-odds';
import { MARKET_OUTPUTS } from '../inference/bundle';
import { expectedValue, fairOdds, fractionalKelly, kelly } from '../ev';
import { buildFeatures, selectPreMatchOdds, type MatchContext, type OddsQuote } from '../features';
import { removeMargin, type MarginMethod } from '../margin';
import type { MarketProbabilities } from '../inference/runtime';
import type { MatchFeatureState } from './team-state-kv';
import type { MarketPrediction, MatchPrediction, OutcomePrediction, PredictedOutcome } from './types';

export const AGGREGATE_BOOKMAKERS: ReadonlySet<string> = new Set(['market_avg', 'market_max']);
const TOTALS_LINE = 2.5;
const H2H_OUTCOMES = ['home', 'draw', 'away'] as const;
const TOTALS_OUTCOMES = ['over', 'under'] as const;

type PredictedLine = 'h2h' | 'ou25';
const lineOf = (l: Pick<LiveLine, 'market' | 'point'>): PredictedLine | null =>
  l.market === 'h2h' ? 'h2h' : l.market === 'totals' && l.point === TOTALS_LINE ? 'ou25' : null;

/** The quotes the feature builder sees: every line as a pre-match price, plus derived aggregates where absent. */
export function featureQuotes(lines: readonly LiveLine[]): OddsQuote[] {
  const quotes: OddsQuote[] = [];
  const real = new Map<string, LiveLine[]>();
  const aggregatesPresent = new Set<string>();
  for (const l of lines) {
    const line = lineOf(l);
    if (line === null) continue;
    const capturedAt = Date.parse(l.capturedAt);
    quotes.push({ bookmaker: l.bookmaker, market: l.market, outcome: l.outcome, point: l.point, price: l.price, phase: 'pre_match', capturedAt });
    if (AGGREGATE_BOOKMAKERS.has(l.bookmaker)) aggregatesPresent.add(`${l.bookmaker}|${line}`);
    else {
      const key = `${line}|${l.outcome}`;
      const list = real.get(key) ?? [];
      list.push(l);
      real.set(key, list);
    }
  }
  for (const [key, list] of real) {
    const [line, outcome] = key.split('|') as [PredictedLine, string];
    const capturedAt = Math.max(...list.map((l) => Date.parse(l.capturedAt)));
    const { market, point } = list[0]!;
    const derived: Array<[string, number]> = [
      ['market_avg', list.reduce((s, l) => s + l.price, 0) / list.length],
      ['market_max', Math.max(...list.map((l) => l.price))],
    ];
    for (const [bookmaker, price] of derived) {
      if (!aggregatesPresent.has(`${bookmaker}|${line}`)) quotes.push({ bookmaker, market, outcome, point, price, phase: 'pre_match', capturedAt });
    }
  }
  return quotes;
}

/** The match's feature vector at `predictionTime` (ms) from its precomputed state and live lines. */
export function liveFeatureVector(state: MatchFeatureState, lines: readonly LiveLine[], predictionTime: number): Float64Array {
  const ctx: MatchContext = { ...state.match, predictionTime, league: state.league };
  return buildFeatures(ctx, state.home, state.away, state.pair, selectPreMatchOdds(featureQuotes(lines), predictionTime, state.match.startAt));
}

export interface PredictionSettings {
  marginMethod: MarginMethod;
  kellyMultiplier: number;
}

interface LineMarket {
  best: Map<string, { price: number; bookmaker: string }>;
  /** Margin-free probabilities of the median prices (complete books only). */
  market: Map<string, number> | null;
}

/** Median of a non-empty list. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function marketOf(lines: readonly LiveLine[], line: PredictedLine, outcomes: readonly string[], method: MarginMethod): LineMarket {
  const best = new Map<string, { price: number; bookmaker: string }>();
  const prices = new Map<string, number[]>();
  for (const l of lines) {
    if (lineOf(l) !== line || AGGREGATE_BOOKMAKERS.has(l.bookmaker) || !outcomes.includes(l.outcome)) continue;
    const held = best.get(l.outcome);
    // Ties go to the bookmaker whose name sorts first, as in bestPriceByOutcome, so the answer is stable.
    if (!held || l.price > held.price || (l.price === held.price && l.bookmaker < held.bookmaker)) best.set(l.outcome, { price: l.price, bookmaker: l.bookmaker });
    prices.set(l.outcome, [...(prices.get(l.outcome) ?? []), l.price]);
  }
  let market: Map<string, number> | null = null;
  if (outcomes.every((o) => prices.has(o))) {
    const removal = removeMargin(
      outcomes.map((o) => median(prices.get(o)!)),
      method,
    );
    market = new Map(outcomes.map((o, i) => [o, removal.probabilities[i]!]));
  }
  return { best, market };
}

function outcomePrediction(outcome: PredictedOutcome, probability: number, m: LineMarket, settings: PredictionSettings): OutcomePrediction {
  const best = m.best.get(outcome) ?? null;
  return {
    outcome,
    probability,
    fairOdds: fairOdds(probability),
    bestPrice: best?.price ?? null,
    bestBookmaker: best?.bookmaker ?? null,
    marketProbability: m.market?.get(outcome) ?? null,
    expectedValue: best ? expectedValue(probability, best.price) : null,
    kellyFraction: best ? kelly(probability, best.price) : null,
    kellyStake: best ? fractionalKelly(probability, best.price, settings.kellyMultiplier) : null,
  };
}

/** The full prediction of one match from the model's calibrated probabilities and the live lines. */
export function buildMatchPrediction(input: {
  matchId: number;
  modelRunId: string;
  featureVersion: string;
  predictedAt: number;
  kickoff: number;
  probabilities: { h2h: number[]; ou25: number[] };
  lines: readonly LiveLine[];
  settings: PredictionSettings;
}): MatchPrediction {
  const { probabilities, lines, settings } = input;
  const h2hMarket = marketOf(lines, 'h2h', H2H_OUTCOMES, settings.marginMethod);
  const ouMarket = marketOf(lines, 'ou25', TOTALS_OUTCOMES, settings.marginMethod);
  const h2h: MarketPrediction = {
    market: 'h2h',
    point: null,
    outcomes: MARKET_OUTPUTS.h2h.map((o, i) => outcomePrediction(o, probabilities.h2h[i]!, h2hMarket, settings)),
  };
  // The bundle's O/U output order is [under, over]; the response lists over first, as bookmakers do.
  const totals: MarketPrediction = {
    market: 'totals',
    point: TOTALS_LINE,
    outcomes: TOTALS_OUTCOMES.map((o) => outcomePrediction(o, probabilities.ou25[MARKET_OUTPUTS.ou25.indexOf(o)]!, ouMarket, settings)),
  };
  return {
    matchId: input.matchId,
    modelRunId: input.modelRunId,
    featureVersion: input.featureVersion,
    predictedAt: new Date(input.predictedAt).toISOString(),
    kickoff: new Date(input.kickoff).toISOString(),
    marginMethod: settings.marginMethod,
    kellyMultiplier: settings.kellyMultiplier,
    markets: [h2h, totals],
  };
}

/** Row 0 of a runtime answer, as buildMatchPrediction takes it. */
export const firstRow = (p: MarketProbabilities) => ({ h2h: p.h2h[0]!, ou25: p.ou25[0]! });
