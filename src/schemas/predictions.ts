import { z } from '@hono/zod-openapi';
import { IsoInstant } from './common';

const nullablePrice = (description: string) => z.number().nullable().openapi({ description });

export const OutcomePredictionSchema = z
  .object({
    outcome: z.enum(['home', 'draw', 'away', 'over', 'under']).openapi({ example: 'home' }),
    probability: z.number().openapi({ example: 0.47, description: "The model's calibrated probability" }),
    fairOdds: z.number().openapi({ example: 2.13, description: '1 / probability: the price at which the bet has zero EV' }),
    marketProbability: z
      .number()
      .nullable()
      .openapi({ example: 0.44, description: "The bookmakers' consensus (median prices) with the margin removed; null without a complete book" }),
    bestPrice: nullablePrice('The highest price among real bookmakers; null without odds. Premium and pro only.').optional(),
    bestBookmaker: z.string().nullable().openapi({ example: 'pinnacle' }).optional(),
    expectedValue: nullablePrice('probability × bestPrice − 1 (0.05 = +5% of the stake). Premium and pro only.').optional(),
    kellyFraction: nullablePrice('The full Kelly fraction of the bankroll at bestPrice (0 when EV ≤ 0). Premium and pro only.').optional(),
    kellyStake: nullablePrice('kellyFraction × kellyMultiplier. Premium and pro only.').optional(),
  })
  .openapi('OutcomePrediction');

export const MarketPredictionSchema = z
  .object({
    market: z.enum(['h2h', 'totals']).openapi({ description: 'h2h is 1X2; totals is over/under `point` goals' }),
    point: z.number().nullable().openapi({ example: 2.5 }),
    outcomes: z.array(OutcomePredictionSchema),
  })
  .openapi('MarketPrediction');

export const MatchPredictionSchema = z
  .object({
    matchId: z.number().int().openapi({ example: 1234 }),
    modelRunId: z.string().uuid(),
    featureVersion: z.string().openapi({ example: 'v1' }),
    predictedAt: IsoInstant,
    kickoff: IsoInstant,
    marginMethod: z.enum(['multiplicative', 'shin', 'power']),
    kellyMultiplier: z.number().openapi({ example: 0.25 }),
    source: z
      .enum(['live', 'stored'])
      .openapi({ description: '`stored`: the match has started; this is the last prediction made before kick-off' }),
    view: z
      .enum(['basic', 'full'])
      .openapi({ description: '`basic` (free tier): probabilities, fair odds and market probabilities; `full` adds best prices, EV and Kelly' }),
    markets: z.array(MarketPredictionSchema),
  })
  .openapi('MatchPrediction');
