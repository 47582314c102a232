// What each tier sees of a prediction, applied after the cache read (the cache holds the full prediction).
// The tier table's `valueFinder` column decides it: best prices, EV and Kelly stakes are the value-betting
// part of a prediction, so they belong to the tiers with the value finder (premium and pro). Free callers
// see the model's probabilities, fair odds, the market's margin-free probabilities and where they came from.
import type { Tier } from '../../db/schema';
import { policyFor } from '../auth/tiers';
import type { MatchPrediction, OutcomePrediction } from './types';

export type PredictionView = 'basic' | 'full';

export type ShapedOutcome = Pick<OutcomePrediction, 'outcome' | 'probability' | 'fairOdds' | 'marketProbability'> & Partial<OutcomePrediction>;

export interface ShapedPrediction extends Omit<MatchPrediction, 'markets'> {
  source: 'live' | 'stored';
  view: PredictionView;
  markets: Array<Omit<MatchPrediction['markets'][number], 'outcomes'> & { outcomes: ShapedOutcome[] }>;
}

export const predictionViewFor = (tier: Tier | null): PredictionView => (policyFor(tier).valueFinder ? 'full' : 'basic');

export function shapePrediction(prediction: MatchPrediction, tier: Tier | null, source: 'live' | 'stored'): ShapedPrediction {
  const view = predictionViewFor(tier);
  return {
    ...prediction,
    source,
    view,
    markets: prediction.markets.map((m) => ({
      market: m.market,
      point: m.point,
      anchor: m.anchor,
      outcomes: m.outcomes.map((o) =>
        view === 'full'
          ? { ...o }
          : { outcome: o.outcome, probability: o.probability, fairOdds: o.fairOdds, marketProbability: o.marketProbability },
      ),
    })),
  };
}
