import { z } from '@hono/zod-openapi';
import { IsoInstant } from './common';

const nullablePrice = (description: string) => z.number().nullable().openapi({ description });

export const OutcomePredictionSchema = z
  .object({
    outcome: z.enum(['home', 'draw', 'away', 'over', 'under']).openapi({ example: 'home' }),
    probability: z.number().nullable().openapi({
      example: 0.47,
      description: "The model's probability: the market anchor moved by the model's correction (the anchor itself where the data supports no move); null when the market has no anchor",
    }),
    fairOdds: z.number().nullable().openapi({ example: 2.13, description: '1 / probability: the price at which the bet has zero EV; null with probability' }),
    marketProbability: z.number().nullable().openapi({
      example: 0.44,
      description: "The anchor's margin-free probability of this outcome (see the market's `anchor`): the market price the prediction sits beside; null when there is no anchor",
    }),
    bestPrice: nullablePrice('The highest price a bettor is paid, among bookmakers and exchanges (an exchange net of its commission), as quoted; null without odds. Premium and pro only.').optional(),
    bestBookmaker: z.string().nullable().openapi({ example: 'pinnacle' }).optional(),
    bestPriceNet: nullablePrice(
      "bestPrice after the exchange's commission (exchangeCommission of the net winnings); equal to bestPrice at a bookmaker. EV and Kelly use it. Premium and pro only.",
    ).optional(),
    expectedValue: nullablePrice('probability × bestPriceNet − 1 (0.05 = +5% of the stake); null without a probability or a price. Premium and pro only.').optional(),
    kellyFraction: nullablePrice('The full Kelly fraction of the bankroll at bestPriceNet (0 when EV ≤ 0). Premium and pro only.').optional(),
    kellyStake: nullablePrice('kellyFraction × kellyMultiplier. Premium and pro only.').optional(),
  })
  .openapi('OutcomePrediction');

export const PredictionAnchorSchema = z
  .object({
    source: z.enum(['pinnacle', 'consensus', 'none']).openapi({
      description:
        "Where the market's prior came from: Pinnacle's price with its margin removed; else `consensus`, the average price of a fixed list of bookmakers (docs/decisions.md); `none`: no price at all, so no probability, EV or Kelly",
    }),
    bookmakers: z.array(z.string()).openapi({ example: ['pinnacle'], description: 'The books whose prices made the anchor' }),
    marginMethod: z.enum(['multiplicative', 'shin', 'power']).openapi({ description: "How the margin was removed: the model's method for this market, chosen on its validation season" }),
    lastUpdate: IsoInstant.nullable().openapi({ description: "The newest update of the anchor's prices" }),
    hoursToKickoff: z.number().nullable().openapi({ example: 1.5, description: 'Hours from lastUpdate to kick-off' }),
  })
  .openapi('PredictionAnchor');

export const MarketPredictionSchema = z
  .object({
    market: z.enum(['h2h', 'totals']).openapi({ description: 'h2h is 1X2; totals is over/under `point` goals' }),
    point: z.number().nullable().openapi({ example: 2.5 }),
    anchor: PredictionAnchorSchema,
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
    kellyMultiplier: z.number().openapi({ example: 0.25 }),
    exchangeCommission: z.number().openapi({ example: 0.05, description: "The share of an exchange's net winnings deducted before EV and Kelly" }),
    source: z
      .enum(['live', 'stored'])
      .openapi({ description: '`stored`: the match has started; this is the last prediction made before kick-off' }),
    view: z
      .enum(['basic', 'full'])
      .openapi({ description: '`basic` (free tier): probabilities, fair odds and market probabilities; `full` adds best prices, EV and Kelly' }),
    markets: z.array(MarketPredictionSchema),
  })
  .openapi('MatchPrediction');
