// From precomputed state and the match's live odds to a MatchPrediction. Pure (no I/O), so the route, the
// warm-up and the tests all run exactly this.
//
// Live odds are the MatchOdds lines. They are read the way training read football-data's prices:
// - the feature builder's three sources are Pinnacle, the market average and the market's best price; a live
//   provider has no aggregates, so each is derived from the fixed list of bookmakers (anchor.ts,
//   MARKET_BOOKMAKERS: sportsbooks only, exchanges left out) as the mean and maximum of their latest prices;
//   historical replays carry football-data's aggregates as bookmakers (`market_avg`, `market_max`) and those
//   are used as they are;
// - each market's anchor is Pinnacle's margin-free price, else the consensus (that average), else none.
// Best prices, EV and Kelly come from the books a bettor can actually bet at: every bookmaker and exchange
// quoting the line, an exchange's price net of its commission, never an aggregate.
import type { LiveLine } from '../../../durable-objects/match-odds';
import { ANCHOR_OUTCOMES, isAggregate, isMarketBookmaker, marketAnchors, priceAfterCommission, type AnchorMarket, type MarketAnchors } from '../anchor';
import { expectedValue, fairOdds, fractionalKelly, kelly } from '../ev';
import { buildFeatures, selectPreMatchOdds, type MatchContext, type OddsQuote, type PreMatchOdds } from '../features';
import { MARKET_OUTPUTS } from '../inference/bundle';
import type { MarketProbabilities } from '../inference/runtime';
import type { MarginMethod } from '../margin';
import type { MatchFeatureState } from '../feature-store';
import type { MarketPrediction, MatchPrediction, OutcomePrediction, PredictedMarket, PredictedOutcome, PredictionAnchor } from './types';

const TOTALS_LINE = 2.5;
const HOUR_MS = 3_600_000;

const lineOf = (l: Pick<LiveLine, 'market' | 'point'>): AnchorMarket | null =>
  l.market === 'h2h' ? 'h2h' : l.market === 'totals' && l.point === TOTALS_LINE ? 'ou25' : null;

/** The quotes the feature builder sees: every line as a pre-match price, plus derived aggregates where absent. */
export function featureQuotes(lines: readonly LiveLine[]): OddsQuote[] {
  const quotes: OddsQuote[] = [];
  const listed = new Map<string, LiveLine[]>();
  const aggregatesPresent = new Set<string>();
  for (const l of lines) {
    const line = lineOf(l);
    if (line === null) continue;
    const capturedAt = Date.parse(l.capturedAt);
    quotes.push({ bookmaker: l.bookmaker, market: l.market, outcome: l.outcome, point: l.point, price: l.price, phase: 'pre_match', capturedAt });
    if (isAggregate(l.bookmaker)) aggregatesPresent.add(`${l.bookmaker}|${line}`);
    else if (isMarketBookmaker(l.bookmaker)) {
      const key = `${line}|${l.outcome}`;
      const list = listed.get(key) ?? [];
      list.push(l);
      listed.set(key, list);
    }
  }
  for (const [key, list] of listed) {
    const [line, outcome] = key.split('|') as [AnchorMarket, string];
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
  lines: readonly LiveLine[],
  predictionTime: number,
  marginMethods: Record<AnchorMarket, MarginMethod>,
): LiveInputs {
  const ctx: MatchContext = { ...state.match, predictionTime, league: state.league };
  const odds = selectPreMatchOdds(featureQuotes(lines), predictionTime, state.match.startAt);
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

interface BestPrice {
  price: number;
  net: number;
  bookmaker: string;
}

/** Per outcome, the book paying the most after commission; ties go to the name that sorts first, so it is stable. */
function bestPrices(lines: readonly LiveLine[], market: AnchorMarket, commission: number): Map<string, BestPrice> {
  const best = new Map<string, BestPrice>();
  for (const l of lines) {
    if (lineOf(l) !== market || isAggregate(l.bookmaker) || !(l.price > 1 && l.price < Infinity)) continue;
    const net = priceAfterCommission(l.bookmaker, l.price, commission);
    const held = best.get(l.outcome);
    if (!held || net > held.net || (net === held.net && l.bookmaker < held.bookmaker)) best.set(l.outcome, { price: l.price, net, bookmaker: l.bookmaker });
  }
  return best;
}

function outcomePrediction(
  outcome: PredictedOutcome,
  probability: number | null,
  marketProbability: number | null,
  best: BestPrice | undefined,
  settings: PredictionSettings,
): OutcomePrediction {
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
const RESPONSE_MARKETS: ReadonlyArray<{ market: PredictedMarket; point: number | null; anchor: AnchorMarket; outcomes: readonly PredictedOutcome[] }> = [
  { market: 'h2h', point: null, anchor: 'h2h', outcomes: ['home', 'draw', 'away'] },
  { market: 'totals', point: TOTALS_LINE, anchor: 'ou25', outcomes: ['over', 'under'] },
];

/** The full prediction of one match from the model's probabilities (null: no anchor), the anchors and the live lines. */
export function buildMatchPrediction(input: {
  matchId: number;
  modelRunId: string;
  featureVersion: string;
  predictedAt: number;
  kickoff: number;
  probabilities: { h2h: number[] | null; ou25: number[] | null };
  anchors: MarketAnchors;
  anchorInfo: Record<AnchorMarket, PredictionAnchor>;
  lines: readonly LiveLine[];
  settings: PredictionSettings;
}): MatchPrediction {
  const { probabilities, anchors, lines, settings } = input;
  const markets: MarketPrediction[] = RESPONSE_MARKETS.map(({ market, point, anchor, outcomes }) => {
    const probs = probabilities[anchor];
    const best = bestPrices(lines, anchor, settings.exchangeCommission);
    const anchorOutcomes = ANCHOR_OUTCOMES[anchor] as readonly string[];
    const modelOutcomes = MARKET_OUTPUTS[anchor] as readonly string[];
    return {
      market,
      point,
      anchor: input.anchorInfo[anchor],
      outcomes: outcomes.map((o) =>
        outcomePrediction(
          o,
          probs ? probs[modelOutcomes.indexOf(o)]! : null,
          anchors[anchor].probabilities?.[anchorOutcomes.indexOf(o)] ?? null,
          best.get(o),
          settings,
        ),
      ),
    };
  });
  return {
    matchId: input.matchId,
    modelRunId: input.modelRunId,
    featureVersion: input.featureVersion,
    predictedAt: new Date(input.predictedAt).toISOString(),
    kickoff: new Date(input.kickoff).toISOString(),
    kellyMultiplier: settings.kellyMultiplier,
    exchangeCommission: settings.exchangeCommission,
    markets,
  };
}

/** Row 0 of a runtime answer, as buildMatchPrediction takes it. */
export const firstRow = (p: MarketProbabilities) => ({ h2h: p.h2h[0]!, ou25: p.ou25[0]! });
