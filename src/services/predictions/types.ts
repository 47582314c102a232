// The shape of one match's prediction: what inference produces, what the KV cache holds (the full, unshaped
// prediction; tiers are applied after the read), and what is persisted to the partitioned `predictions`
// table (one row per outcome). Serving, persistence, settlement and the value finder all speak this type.
import type { AnchorSource, MarginMethod } from '../../domain/odds';

/** Every market a prediction has: a market-only prediction adds spreads. */
/** Every market a prediction is stored for, in report and response order. */
export const PREDICTION_MARKETS = ['h2h', 'spreads', 'totals'] as const;
export type PredictionMarket = (typeof PREDICTION_MARKETS)[number];
export type PredictedOutcome = 'home' | 'draw' | 'away' | 'over' | 'under';

/** Where a market's prior came from: what a bettor needs to judge the probability beside it. */
export interface PredictionAnchor {
  /** `pinnacle`: Pinnacle's price; `consensus`: the fixed list of bookmakers' average; `none`: no price at all. */
  source: AnchorSource;
  /** The books whose prices made the anchor (Pinnacle, or the consensus books quoting the market); empty for none. */
  bookmakers: string[];
  marginMethod: MarginMethod;
  /** The newest update of those prices, ISO 8601; null for none. */
  lastUpdate: string | null;
  /** Hours from lastUpdate to kick-off; null for none. */
  hoursToKickoff: number | null;
}

export interface OutcomePrediction<O extends PredictedOutcome = PredictedOutcome> {
  outcome: O;
  /** The model's probability: the anchor moved by the model's correction; null when the market has no anchor. */
  probability: number | null;
  /** 1 / probability; null with it. */
  fairOdds: number | null;
  /** The highest price a bettor is paid among bookmakers and exchanges (not aggregates), as quoted; null without odds. */
  bestPrice: number | null;
  bestBookmaker: string | null;
  /** bestPrice after an exchange's commission (the bookmaker's price itself for a bookmaker); what EV and Kelly use. */
  bestPriceNet: number | null;
  /** The anchor's margin-free probability of this outcome: the market price the prediction sits beside. */
  marketProbability: number | null;
  /** probability × bestPriceNet − 1; null without a probability or a price. */
  expectedValue: number | null;
  /** The full Kelly fraction at bestPriceNet (0 when EV ≤ 0); null with expectedValue. */
  kellyFraction: number | null;
  /** kellyFraction × the configured fraction (e.g. quarter Kelly); null with expectedValue. */
  kellyStake: number | null;
}

interface MarketBase {
  anchor: PredictionAnchor;
}

/** Full-time result with a draw (football). */
export interface MatchResultMarket extends MarketBase {
  kind: '1x2';
  market: 'h2h';
  point: null;
  outcomes: OutcomePrediction<'home' | 'draw' | 'away'>[];
}

/** Winner of a sport without draws (basketball): home or away. */
export interface MoneylineMarket extends MarketBase {
  kind: 'moneyline';
  market: 'h2h';
  point: null;
  outcomes: OutcomePrediction<'home' | 'away'>[];
}

/** A handicap line: the home side at `point`, the away side at −point (each outcome carries its own). */
export interface SpreadMarket extends MarketBase {
  kind: 'spread';
  market: 'spreads';
  /** The home side's handicap (−4.5: home must win by 5 or more). */
  point: number;
  outcomes: Array<OutcomePrediction<'home' | 'away'> & { point: number }>;
}

/** Over/under `point` goals or points. */
export interface TotalMarket extends MarketBase {
  kind: 'total';
  market: 'totals';
  point: number;
  outcomes: OutcomePrediction<'over' | 'under'>[];
}

export type MarketPrediction = MatchResultMarket | MoneylineMarket | SpreadMarket | TotalMarket;

/** The model run that made a prediction; null on a market-only prediction (a sport without a model). */
export interface PredictionModel {
  runId: string;
  name: string;
  featureVersion: string;
}

export interface MatchPrediction {
  matchId: number;
  /** The model run that made it; null: market-only (the sport has no model, the probabilities are the market's). */
  model: PredictionModel | null;
  /** model.runId, kept for older clients; null with model. */
  modelRunId: string | null;
  /** model.featureVersion, kept for older clients; null with model. */
  featureVersion: string | null;
  /** ISO 8601 instants. */
  predictedAt: string;
  kickoff: string;
  /** The configured Kelly fraction, and the commission deducted from an exchange's winnings. */
  kellyMultiplier: number;
  exchangeCommission: number;
  markets: MarketPrediction[];
}

/** What the hot path needs of a model run. */
export interface ActiveRun {
  id: string;
  name: string;
  /** The sport whose matches it prices (sports.key): each sport has at most one active run. */
  sport: string;
  featureVersion: string;
  /** R2 prefix of the bundle, e.g. models/<bundle id>/. */
  artifactKey: string;
  /** sha256 of bundle.json, which itself lists the sha256 of every artifact. */
  artifactSha256: string;
}
