// From precomputed state and the match's live odds to a MatchPrediction. Pure (no I/O), so the route, the
// warm-up and the tests all run exactly this.
//
// Live odds are the MatchOdds lines. They are read the way training read football-data's prices:
// - the feature builder's three sources are Pinnacle, the market average and the market's best price; a live
//   provider has no aggregates, so each is the mean and maximum of the fixed list of bookmakers' latest prices
//   (domain/odds: MARKET_BOOKMAKERS, marketAggregates), which the MatchOdds summary carries;
//   historical replays carry football-data's aggregates as bookmakers (`market_avg`, `market_max`) and those
//   are used as they are;
// - each market's anchor is Pinnacle's margin-free price, else the consensus (that average), else none.
// Best prices, EV and Kelly come from the books a bettor can actually bet at: every bookmaker and exchange
// quoting the line, an exchange's price net of its commission, never an aggregate.
import type { LiveState } from '../../../durable-objects/match-odds';
import {
  ANCHOR_OUTCOMES,
  bestPriceByOutcome,
  isAggregate,
  isMarketBookmaker,
  marketAnchors,
  priceAfterCommission,
  type AnchorMarket,
  type BestPrice,
  type LiveLine,
  type MarginMethod,
  type MarketAnchors,
} from '../../domain/odds';
import { expectedValue, fairOdds, fractionalKelly, kelly } from '../ev';
import { buildFeatures, selectPreMatchOdds, type MatchContext, type OddsQuote, type PreMatchOdds } from '../features';
import { MARKET_OUTPUTS } from '../inference/bundle';
import type { MarketProbabilities } from '../inference/runtime';
import type { MatchFeatureState } from '../feature-store';
import type { MarketPrediction, MatchPrediction, OutcomePrediction, PredictedOutcome, PredictionAnchor, PredictionModel } from './types';

const TOTALS_LINE = 2.5;
const HOUR_MS = 3_600_000;

const lineOf = (l: Pick<LiveLine, 'market' | 'point'>): AnchorMarket | null =>
  l.market === 'h2h' ? 'h2h' : l.market === 'totals' && l.point === TOTALS_LINE ? 'ou25' : null;

/** What the prediction takes of the match's MatchOdds state: its lines and the summary made beside them. */
export type LiveOdds = Pick<LiveState, 'lines' | 'aggregates'>;

/**
 * The quotes the feature builder sees: every line as a pre-match price, plus the market list's average and
 * best (the summary's aggregates) as `market_avg`/`market_max` where the lines carry no such aggregate.
 */
export function featureQuotes(live: LiveOdds): OddsQuote[] {
  const quotes: OddsQuote[] = [];
  const aggregatesPresent = new Set<string>();
  for (const l of live.lines) {
    const line = lineOf(l);
    if (line === null) continue;
    quotes.push({ bookmaker: l.bookmaker, market: l.market, outcome: l.outcome, point: l.point, price: l.price, phase: 'pre_match', capturedAt: Date.parse(l.capturedAt) });
    if (isAggregate(l.bookmaker)) aggregatesPresent.add(`${l.bookmaker}|${line}`);
  }
  for (const a of live.aggregates) {
    const line = lineOf(a);
    if (line === null) continue;
    const { market, outcome, point } = a;
    const capturedAt = Date.parse(a.capturedAt);
    for (const [bookmaker, price] of [
      ['market_avg', a.average],
      ['market_max', a.max],
    ] as const) {
      if (!aggregatesPresent.has(`${bookmaker}|${line}`)) quotes.push({ bookmaker, market, outcome, point, price, phase: 'pre_match', capturedAt });
    }
  }
  return quotes;
}

export interface LiveInputs {
  /** The feature version's vector. */
  features: Float64Array;
  /** The prices the features and the anchors were made from. */
  odds: PreMatchOdds;
  anchors: MarketAnchors;
  /** What the response says about each market's anchor. */
  anchorInfo: Record<AnchorMarket, PredictionAnchor>;
}

/** The model's inputs at `predictionTime` (ms) from the match's precomputed state and its live lines. */
export function liveInputs(
  state: MatchFeatureState,
  live: LiveOdds,
  predictionTime: number,
  marginMethods: Record<AnchorMarket, MarginMethod>,
): LiveInputs {
  const ctx: MatchContext = { ...state.match, predictionTime, league: state.league };
  const { lines } = live;
  const odds = selectPreMatchOdds(featureQuotes(live), predictionTime, state.match.startAt);
  const anchors = marketAnchors(odds, marginMethods);
  const anchorInfo = {} as Record<AnchorMarket, PredictionAnchor>;
  for (const market of Object.keys(ANCHOR_OUTCOMES) as AnchorMarket[]) {
    anchorInfo[market] = describeAnchor(anchors[market], market, lines, predictionTime, state.match.startAt);
  }
  return { features: buildFeatures(ctx, state.home, state.away, state.pair, odds), odds, anchors, anchorInfo };
}

/** The books behind an anchor and when their prices were last updated (what the anchor was made from). */
function describeAnchor(anchor: MarketAnchors[AnchorMarket], market: AnchorMarket, lines: readonly LiveLine[], predictionTime: number, startAt: number): PredictionAnchor {
  if (anchor.source === 'none') return { source: 'none', bookmakers: [], marginMethod: anchor.marginMethod, lastUpdate: null, hoursToKickoff: null };
  const usable = lines.filter((l) => lineOf(l) === market && Date.parse(l.capturedAt) <= predictionTime && Date.parse(l.capturedAt) < startAt);
  const replayAverage = usable.some((l) => l.bookmaker === 'market_avg');
  const used = usable.filter((l) =>
    anchor.source === 'pinnacle' ? l.bookmaker === 'pinnacle' : replayAverage ? l.bookmaker === 'market_avg' : isMarketBookmaker(l.bookmaker),
  );
  const lastUpdate = Math.max(...used.map((l) => Date.parse(l.capturedAt)));
  return {
    source: anchor.source,
    bookmakers: [...new Set(used.map((l) => l.bookmaker))].sort(),
    marginMethod: anchor.marginMethod,
    lastUpdate: new Date(lastUpdate).toISOString(),
    hoursToKickoff: (startAt - lastUpdate) / HOUR_MS,
  };
}

export interface PredictionSettings {
  kellyMultiplier: number;
  /** Taken from an exchange's net winnings (0.05 = 5%). */
  exchangeCommission: number;
}

/**
 * Per outcome, the book paying the most after commission (prices.ts, bestPriceByOutcome) among the lines of one
 * line: every bookmaker and exchange quoting it, never an aggregate. The market-only builder uses it too.
 */
export function bestBettablePrices(lines: readonly LiveLine[], commission: number): Partial<Record<string, BestPrice>> {
  const bettable = lines.filter((l) => !isAggregate(l.bookmaker));
  return bestPriceByOutcome(bettable, (bookmaker, price) => priceAfterCommission(bookmaker, price, commission));
}

const bestPrices = (lines: readonly LiveLine[], market: AnchorMarket, commission: number) =>
  bestBettablePrices(
    lines.filter((l) => lineOf(l) === market),
    commission,
  );

/** One outcome at its best price: fair odds, EV and Kelly. The market-only builder prices its outcomes with it too. */
export function outcomePrediction<O extends PredictedOutcome>(
  outcome: O,
  probability: number | null,
  marketProbability: number | null,
  best: BestPrice | undefined,
  settings: PredictionSettings,
): OutcomePrediction<O> {
  const priced = probability !== null && best !== undefined;
  return {
    outcome,
    probability,
    fairOdds: probability === null ? null : fairOdds(probability),
    bestPrice: best?.price ?? null,
    bestBookmaker: best?.bookmaker ?? null,
    bestPriceNet: best?.net ?? null,
    marketProbability,
    expectedValue: priced ? expectedValue(probability, best.net) : null,
    kellyFraction: priced ? kelly(probability, best.net) : null,
    kellyStake: priced ? fractionalKelly(probability, best.net, settings.kellyMultiplier) : null,
  };
}

/** The response's markets: 1X2, then over/under 2.5 with over first, as bookmakers list them. */
const RESPONSE_MARKETS = [
  { kind: '1x2', market: 'h2h', point: null, anchor: 'h2h', outcomes: ['home', 'draw', 'away'] },
  { kind: 'total', market: 'totals', point: TOTALS_LINE, anchor: 'ou25', outcomes: ['over', 'under'] },
] as const;

/** The full prediction of one match from the model's probabilities (null: no anchor), the anchors and the live lines. */
export function buildMatchPrediction(input: {
  matchId: number;
  model: PredictionModel;
  predictedAt: number;
  kickoff: number;
  probabilities: { h2h: number[] | null; ou25: number[] | null };
  anchors: MarketAnchors;
  anchorInfo: Record<AnchorMarket, PredictionAnchor>;
  lines: readonly LiveLine[];
  settings: PredictionSettings;
}): MatchPrediction {
  const { probabilities, anchors, lines, settings } = input;
  const markets = RESPONSE_MARKETS.map(({ kind, market, point, anchor, outcomes }) => {
    const probs = probabilities[anchor];
    const best = bestPrices(lines, anchor, settings.exchangeCommission);
    const anchorOutcomes = ANCHOR_OUTCOMES[anchor] as readonly string[];
    const modelOutcomes = MARKET_OUTPUTS[anchor] as readonly string[];
    return {
      kind,
      market,
      point,
      anchor: input.anchorInfo[anchor],
      outcomes: (outcomes as readonly PredictedOutcome[]).map((o) =>
        outcomePrediction(
          o,
          probs ? probs[modelOutcomes.indexOf(o)]! : null,
          anchors[anchor].probabilities?.[anchorOutcomes.indexOf(o)] ?? null,
          best[o],
          settings,
        ),
      ),
    } as MarketPrediction;
  });
  return {
    matchId: input.matchId,
    model: input.model,
    modelRunId: input.model.runId,
    featureVersion: input.model.featureVersion,
    predictedAt: new Date(input.predictedAt).toISOString(),
    kickoff: new Date(input.kickoff).toISOString(),
    kellyMultiplier: settings.kellyMultiplier,
    exchangeCommission: settings.exchangeCommission,
    markets,
  };
}

/** Row 0 of a runtime answer, as buildMatchPrediction takes it. */
export const firstRow = (p: MarketProbabilities) => ({ h2h: p.h2h[0]!, ou25: p.ou25[0]! });
