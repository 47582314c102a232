// The shape of one match's prediction: what inference produces, what the KV cache holds (the full, unshaped
// prediction; tiers are applied after the read), and what is persisted to the partitioned `predictions`
// table (one row per outcome). Serving, persistence, settlement and the value finder all speak this type.

export type PredictedMarket = 'h2h' | 'totals';
export type PredictedOutcome = 'home' | 'draw' | 'away' | 'over' | 'under';

export interface OutcomePrediction {
  outcome: PredictedOutcome;
  /** The model's calibrated probability. */
  probability: number;
  /** 1 / probability. */
  fairOdds: number;
  /** The highest price among real bookmakers (not aggregates), with who offers it; null without odds. */
  bestPrice: number | null;
  bestBookmaker: string | null;
  /** The margin-free market probability of this outcome (consensus of bookmakers); null without odds. */
  marketProbability: number | null;
  /** probability × bestPrice − 1; null without a best price. */
  expectedValue: number | null;
  /** The full Kelly fraction at bestPrice (0 when EV ≤ 0); null without a best price. */
  kellyFraction: number | null;
  /** kellyFraction × the configured fraction (e.g. quarter Kelly); null without a best price. */
  kellyStake: number | null;
}

export interface MarketPrediction {
  market: PredictedMarket;
  /** The line: null for h2h, 2.5 for totals. */
  point: number | null;
  outcomes: OutcomePrediction[];
}

export interface MatchPrediction {
  matchId: number;
  /** The model run (one run covers both markets of a bundle). */
  modelRunId: string;
  featureVersion: string;
  /** ISO 8601 instants. */
  predictedAt: string;
  kickoff: string;
  /** The margin-removal method used for marketProbability, and the configured Kelly fraction. */
  marginMethod: 'multiplicative' | 'shin' | 'power';
  kellyMultiplier: number;
  markets: MarketPrediction[];
}
