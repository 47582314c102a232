// What each tier sees of a prediction, applied after the cache read (the cache holds the full prediction).
// The tier table's `valueFinder` column decides it: best prices, EV and Kelly stakes are the value-betting
// part of a prediction, so they belong to the tiers with the value finder (premium and pro). Free callers
// see the model's probabilities, fair odds, the market's margin-free probabilities and where they came from.
import type { Tier } from '../../db/schema';
import { policyFor } from '../auth/tiers';
import type { MatchPrediction, OutcomePrediction } from './types';

export type PredictionView = 'basic' | 'full';

/** What every view keeps of an outcome: what it is (a spread side with its handicap) and its probabilities. */
type Kept = 'outcome' | 'point' | 'probability' | 'fairOdds' | 'marketProbability';
type ShapedOutcome<O> = Pick<O, Extract<keyof O, Kept>> & Partial<O>;
type ShapedMarket<M> = M extends { outcomes: Array<infer O> } ? Omit<M, 'outcomes'> & { outcomes: Array<ShapedOutcome<O>> } : never;

export interface ShapedPrediction extends Omit<MatchPrediction, 'markets'> {
  source: 'live' | 'stored';
  view: PredictionView;
  markets: Array<ShapedMarket<MatchPrediction['markets'][number]>>;
}

export const predictionViewFor = (tier: Tier | null): PredictionView => (policyFor(tier).valueFinder ? 'full' : 'basic');

export function shapePrediction(prediction: MatchPrediction, tier: Tier | null, source: 'live' | 'stored'): ShapedPrediction {
  const view = predictionViewFor(tier);
  return {
    ...prediction,
    source,
    view,
    markets: prediction.markets.map(
      (m) =>
        ({
          kind: m.kind,
          market: m.market,
          point: m.point,
          anchor: m.anchor,
          outcomes: (m.outcomes as Array<OutcomePrediction & { point?: number }>).map((o) =>
            view === 'full'
              ? { ...o }
              : {
                  outcome: o.outcome,
                  // A spread side's handicap is what the outcome is, not a value-betting field.
                  ...(o.point === undefined ? {} : { point: o.point }),
                  probability: o.probability,
                  fairOdds: o.fairOdds,
                  marketProbability: o.marketProbability,
                },
          ),
        }) as ShapedMarket<MatchPrediction['markets'][number]>,
    ),
  };
}
