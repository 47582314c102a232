// Responses of the value finder (GET /predictions) and of live performance (a model's, or a sport's market-only). One list item is one
// outcome of one stored prediction, flat, so it can be filtered and sorted by its own EV.
import { z } from '@hono/zod-openapi';
import { LIVE_PERFORMANCE_WINDOW } from '../services/predictions/live-performance';
import { IsoInstant, limitParam, orNull, pageOf } from './common';
import { CompetitionRefSchema } from './matches';
import { SportSchema, TeamSchema } from './sports';

const nullableNumber = (description: string, example?: number) =>
  z.number().nullable().openapi(example === undefined ? { description } : { description, example });

export const PredictedMarketSchema = z
  .enum(['h2h', 'spreads', 'totals'])
  .openapi('PredictedMarket', { description: '`h2h`: 1X2 (football) or the moneyline (a sport without draws); `spreads`: the point spread; `totals`: over/under a line' });

export const SettlementSchema = z
  .object({
    settledAt: IsoInstant,
    won: z.boolean().nullable().openapi({
      description: 'Null for a push, a void bet whose stake comes back: a spread or a total exactly on an integer line (a moneyline tie, in a sport that has them)',
    }),
    profit: nullableNumber('Profit of a 1-unit stake at bestPriceNet: bestPriceNet − 1, −1, or 0 for a push; null without a price', 1.1),
    closingPrice: nullableNumber(
      'The best price across real bookmakers of their last quotes at or before kick-off; null when none was recorded',
      2.0,
    ),
    clv: nullableNumber('Closing line value: bestPrice / closingPrice − 1 (positive = beat the close)', 0.05),
  })
  .openapi('Settlement');

export const PredictionListItemSchema = z
  .object({
    id: z.number().int().openapi({ description: 'The stored prediction row (one outcome)', example: 981 }),
    matchId: z.number().int().openapi({ example: 1234 }),
    sportId: z.number().int().openapi({ description: 'The sport of the match, from GET /sports', example: 1 }),
    kickoff: IsoInstant,
    competition: CompetitionRefSchema,
    homeTeam: TeamSchema,
    awayTeam: TeamSchema,
    modelRunId: z.string().nullable().openapi({
      format: 'uuid',
      description: 'The model run that predicted it; null for a market-only prediction (a sport no model covers), whose probability is the margin-free market price',
    }),
    predictedAt: IsoInstant,
    market: PredictedMarketSchema,
    point: z.number().nullable().openapi({
      description: "The line: null for h2h; for spreads the handicap of this outcome's side (home −4.5 / away +4.5: home must win by 5 or more); for totals the line (2.5, 215.5)",
      example: null,
    }),
    outcome: z.enum(['home', 'draw', 'away', 'over', 'under']).openapi({ example: 'home' }),
    probability: z.number().openapi({ example: 0.52 }),
    fairOdds: z.number().openapi({ description: '1 / probability', example: 1.92 }),
    marketProbability: nullableNumber('Margin-free market probability when predicted', 0.48),
    bestPrice: nullableNumber('The best price a bettor was paid when predicted, as quoted (bookmakers and exchanges, never an aggregate)', 2.1),
    bestBookmaker: z.string().nullable().openapi({ example: 'pinnacle' }),
    bestPriceNet: nullableNumber("bestPrice after an exchange's commission (bestPrice itself at a bookmaker): what EV, Kelly and the settled profit use", 2.1),
    expectedValue: nullableNumber('probability × bestPriceNet − 1', 0.092),
    kellyFraction: nullableNumber('The full Kelly fraction at bestPriceNet (0 when EV ≤ 0)', 0.083),
    kellyStake: nullableNumber('kellyFraction × the configured Kelly multiplier', 0.021),
    settlement: orNull(SettlementSchema).openapi({ description: 'Null until the match has a result' }),
  })
  .openapi('PredictionListItem');

export type PredictionListItem = z.infer<typeof PredictionListItemSchema>;

export const PredictionPageSchema = pageOf(PredictionListItemSchema, 'PredictionPage');

export const MarketLivePerformanceSchema = z
  .object({
    sport: SportSchema,
    market: PredictedMarketSchema,
    matches: z.number().int().openapi({ description: 'Settled matches of record of this sport and market in the window' }),
    from: IsoInstant.nullable().openapi({ description: 'Kick-off of the oldest match in the window' }),
    to: IsoInstant.nullable().openapi({ description: 'Kick-off of the newest match in the window' }),
    logLoss: z.object({
      events: z.number().int().openapi({
        description:
          'Events compared: one per match and line (a spread or total may be priced at several lines) where both the model and the market priced the result. A push has no result and is left out',
      }),
      matches: z.number().int().openapi({ description: 'Distinct matches among those events' }),
      model: z.number().nullable().openapi({
        description: "Null for market-only predictions: their probability is the market's own, so there is no model to score",
      }),
      market: z.number().nullable(),
      difference: z.number().nullable().openapi({ description: 'model − market: positive means the model is behind the market; null without a model' }),
    }),
    betting: z.object({
      bets: z.number().int().openapi({ description: 'Outcomes of record with EV > 0 and a price, 1 unit each' }),
      won: z.number().int(),
      lost: z.number().int(),
      pushes: z.number().int().openapi({ description: 'Void bets (a line landed on exactly): the stake came back; neither won nor lost, profit 0' }),
      hitRate: z.number().nullable().openapi({ description: 'won / (won + lost): pushes are left out; null without a decided bet' }),
      profit: z.number().openapi({ description: 'Units won, a push adding 0' }),
      roi: z.number().nullable().openapi({ description: 'profit / (won + lost): a void bet stakes nothing' }),
      kellyStaked: z.number().openapi({ description: 'Sum of the Kelly stakes (fractions of a bankroll) of those bets, pushes left out' }),
      kellyProfit: z.number(),
      kellyRoi: z.number().nullable(),
    }),
    clv: z.object({
      bets: z.number().int().openapi({ description: 'Bets with a closing price, pushes included (their price had a close all the same)' }),
      mean: z.number().nullable(),
      positiveShare: z.number().nullable().openapi({ description: 'Share of those bets whose price beat the close' }),
    }),
    behindMarket: z.boolean().openapi({ description: "True when the model's log loss is worse than the market's; always false for market-only predictions" }),
  })
  .openapi('MarketLivePerformance');

export const LivePerformanceSchema = z
  .object({
    modelRunId: z.string().openapi({ format: 'uuid' }),
    window: z.number().int().openapi({ description: 'The most recent settled matches per sport and market taken into account' }),
    markets: z.array(MarketLivePerformanceSchema).openapi({ description: 'One entry per sport and market the model has settled predictions for' }),
  })
  .openapi('LivePerformance');

export const MarketOnlyLivePerformanceSchema = z
  .object({
    sport: SportSchema,
    window: z.number().int().openapi({ description: 'The most recent settled matches per market taken into account' }),
    markets: z.array(MarketLivePerformanceSchema).openapi({
      description: "One entry per market the sport has settled market-only predictions for (none for a sport whose predictions a model made)",
    }),
  })
  .openapi('MarketOnlyLivePerformance');

export const LivePerformanceQuerySchema = z.object({
  window: limitParam(LIVE_PERFORMANCE_WINDOW.max, LIVE_PERFORMANCE_WINDOW.default).openapi({
    type: 'integer',
    minimum: 1,
    maximum: LIVE_PERFORMANCE_WINDOW.max,
    default: LIVE_PERFORMANCE_WINDOW.default,
    description: 'How many of the most recent settled matches per sport and market to include',
  }),
});
