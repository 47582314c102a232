import { z } from '@hono/zod-openapi';
import { IsoInstant, orNull } from './common';

const nullablePrice = (description: string) => z.number().nullable().openapi({ description });

/** The value-betting fields: the free tier's `basic` view leaves them out, so the API marks them optional. */
const valueFields = {
  bestPrice: nullablePrice('The highest price a bettor is paid, among bookmakers and exchanges (an exchange net of its commission), as quoted; null without odds. Premium and pro only.'),
  bestBookmaker: z.string().nullable().openapi({ example: 'pinnacle' }),
  bestPriceNet: nullablePrice(
    "bestPrice after the exchange's commission (exchangeCommission of the net winnings); equal to bestPrice at a bookmaker. EV and Kelly use it. Premium and pro only.",
  ),
  expectedValue: nullablePrice(
    'probability × bestPriceNet − 1 (0.05 = +5% of the stake; on a line that can push, per stake of a bet that is not void); null without a probability or a price. Premium and pro only.',
  ),
  kellyFraction: nullablePrice('The full Kelly fraction of the bankroll at bestPriceNet (0 when EV ≤ 0). Premium and pro only.'),
  kellyStake: nullablePrice('kellyFraction × kellyMultiplier. Premium and pro only.'),
};

const optionalValueFields = {
  bestPrice: valueFields.bestPrice.optional(),
  bestBookmaker: valueFields.bestBookmaker.optional(),
  bestPriceNet: valueFields.bestPriceNet.optional(),
  expectedValue: valueFields.expectedValue.optional(),
  kellyFraction: valueFields.kellyFraction.optional(),
  kellyStake: valueFields.kellyStake.optional(),
};

const probabilityFields = {
  probability: z.number().nullable().openapi({
    example: 0.47,
    description:
      "With a model: the market anchor moved by the model's correction (the anchor itself where the data supports no move). Without one " +
      '(`model: null`): the anchor\'s margin-free probability itself. On an integer line that can push, the probability given no push. ' +
      'Null when the market has no anchor',
  }),
  fairOdds: z.number().nullable().openapi({ example: 2.13, description: '1 / probability: the price at which the bet has zero EV; null with probability' }),
  marketProbability: z.number().nullable().openapi({
    example: 0.44,
    description: "The anchor's margin-free probability of this outcome (see the market's `anchor`): the market price the prediction sits beside; null when there is no anchor",
  }),
};

export const PredictionAnchorSchema = z
  .object({
    source: z.enum(['pinnacle', 'consensus', 'none']).openapi({
      description:
        "Where the market's prior came from: Pinnacle's price with its margin removed; else `consensus`: with a model, the average price of a fixed " +
        'list of bookmakers (docs/decisions.md), without one (`model: null`), the median price of every book quoting the line; `none`: no ' +
        'complete book at all, so no probability, EV or Kelly',
    }),
    bookmakers: z.array(z.string()).openapi({ example: ['pinnacle'], description: 'The books whose prices made the anchor' }),
    marginMethod: z.enum(['multiplicative', 'shin', 'power']).openapi({
      description: "How the margin was removed: the model's method for this market, chosen on its validation season; `multiplicative` without a model",
    }),
    lastUpdate: IsoInstant.nullable().openapi({ description: "The newest update of the anchor's prices" }),
    hoursToKickoff: z.number().nullable().openapi({ example: 1.5, description: 'Hours from lastUpdate to kick-off' }),
  })
  .openapi('PredictionAnchor');

type Variant = 'api' | 'strict';

/**
 * The four market kinds, discriminated on `kind`. `api`: what the route documents (value fields optional, each
 * option a named component, so the document has a oneOf with a discriminator); `strict`: what the write queue
 * accepts (every field present: a persisted prediction is the full view).
 */
function marketSchemas<V extends Variant>(variant: V) {
  const named = <T extends z.ZodType>(schema: T, name: string): T => (variant === 'api' ? schema.openapi(name) : schema);
  const value = (variant === 'api' ? optionalValueFields : valueFields) as V extends 'api' ? typeof optionalValueFields : typeof valueFields;
  const outcome = <O extends readonly [string, ...string[]], E extends z.ZodRawShape = {}>(outcomes: O, name: string, extra?: E) =>
    named(z.object({ outcome: z.enum(outcomes).openapi({ example: outcomes[0] }), ...(extra as E), ...probabilityFields, ...value }), name);
  const h2h = z.literal('h2h');
  return z.discriminatedUnion('kind', [
    named(
      z.object({
        kind: z.literal('1x2').openapi({ description: 'Full-time result with a draw (football): home, draw, away' }),
        market: h2h,
        point: z.null(),
        anchor: PredictionAnchorSchema,
        outcomes: z.array(outcome(['home', 'draw', 'away'] as const, 'MatchResultOutcome')),
      }),
      'MatchResultMarket',
    ),
    named(
      z.object({
        kind: z.literal('moneyline').openapi({ description: 'The winner of a sport without draws (basketball): home or away' }),
        market: h2h,
        point: z.null(),
        anchor: PredictionAnchorSchema,
        outcomes: z.array(outcome(['home', 'away'] as const, 'MoneylineOutcome')),
      }),
      'MoneylineMarket',
    ),
    named(
      z.object({
        kind: z.literal('spread').openapi({ description: 'A handicap line: each side covers at its own `point`' }),
        market: z.literal('spreads'),
        point: z.number().openapi({ example: -4.5, description: "The line: the home side's handicap (the away side's is its opposite)" }),
        anchor: PredictionAnchorSchema,
        outcomes: z.array(
          outcome(['home', 'away'] as const, 'SpreadOutcome', {
            point: z.number().openapi({ example: -4.5, description: "This side's handicap: home −4.5 covers by winning by 5 or more, away +4.5 by losing by 4 or fewer" }),
          }),
        ),
      }),
      'SpreadMarket',
    ),
    named(
      z.object({
        kind: z.literal('total').openapi({ description: 'Over/under `point` goals or points' }),
        market: z.literal('totals'),
        point: z.number().openapi({ example: 2.5 }),
        anchor: PredictionAnchorSchema,
        outcomes: z.array(outcome(['over', 'under'] as const, 'TotalOutcome')),
      }),
      'TotalMarket',
    ),
  ]);
}

export const MarketPredictionSchema = marketSchemas('api').openapi('MarketPrediction');
/** Every field present: what a persisted prediction carries (the write queue's messages). */
export const StrictMarketPredictionSchema = marketSchemas('strict');

export const PredictionModelSchema = z
  .object({
    runId: z.string().uuid(),
    name: z.string().openapi({ example: 'xgb-anchored-2025-08' }),
    featureVersion: z.string().openapi({ example: 'v1' }),
  })
  .openapi('PredictionModel');

export const MatchPredictionSchema = z
  .object({
    matchId: z.number().int().openapi({ example: 1234 }),
    model: orNull(PredictionModelSchema).openapi({
      description:
        "The model run that made the prediction. Null: a market-only prediction, for a sport without a trained model (docs/sports.md): each probability is the market's margin-free probability, with the best price, EV and Kelly against it",
    }),
    modelRunId: z.string().uuid().nullable().openapi({ deprecated: true, description: 'Deprecated: use `model.runId`. Null when `model` is null.' }),
    featureVersion: z.string().nullable().openapi({ example: 'v1', deprecated: true, description: 'Deprecated: use `model.featureVersion`. Null when `model` is null.' }),
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
    markets: z.array(MarketPredictionSchema).openapi({
      description:
        'Discriminated on `kind`. With a model (football): `1x2`, then `total` at 2.5. Market-only: the h2h in the sport\'s outcome set (`moneyline` for basketball), ' +
        'then `spread` at each quoted line by line, then `total` at each quoted line by line; empty before any book quotes the match',
    }),
  })
  .openapi('MatchPrediction');
