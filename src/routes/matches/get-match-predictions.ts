import { createRoute } from '@hono/zod-openapi';
import { json } from '../../lib/openapi';
import { problemResponses } from '../../lib/problem';
import { principalOf, requireUser } from '../../middleware/auth';
import { SECURITY } from '../../schemas/auth';
import { MatchIdParams } from '../../schemas/matches';
import { MatchPredictionSchema } from '../../schemas/predictions';
import { shapePrediction } from '../../services/predictions/shape';
import type { App } from '../../types';

const route = createRoute({
  method: 'get',
  path: '/matches/{matchId}/predictions',
  tags: ['predictions'],
  operationId: 'getMatchPredictions',
  summary: "A match's prediction: each market's probabilities with EV and Kelly at the best price (market-only, model null, for a sport without a model)",
  description:
    "Each market's probabilities, with fair odds, beside the market anchor they start from: each market's " +
    "`anchor` is Pinnacle's margin-free price (else the consensus; `none` without a complete book, and then no probability, EV or Kelly), " +
    'and `marketProbability` is its probability of each outcome. Markets are discriminated on `kind`: `1x2` (home/draw/away), ' +
    '`moneyline` (home/away), `spread` (each side at its own `point`) and `total` (over/under `point`). ' +
    'Football is priced by the active model (`model` names its run): `1x2`, then `total` at 2.5. A sport without a trained model (basketball) ' +
    "gets a market-only prediction (`model: null`): the probabilities are the market's margin-free ones, for the moneyline, every quoted spread " +
    'line and every quoted total line, with the best price, EV and Kelly against them. ' +
    'Premium and pro also get the best price a bettor is paid and its bookmaker (an exchange net of its commission), ' +
    'EV and the Kelly fraction (full and at the configured multiplier). Free accounts get 10 distinct matches per UTC day (a repeat read of a match is free; ' +
    'the 11th is a 429 `quota-exceeded` with `Retry-After` at the next UTC midnight). Once a match has kicked off ' +
    'the answer is its last prediction made before kick-off (`source: stored`). `X-Cache` says whether the ' +
    'prediction came from the cache, `X-Model-Run` which model run made it (`none` for a market-only prediction).',
  security: SECURITY,
  middleware: [requireUser] as const,
  request: { params: MatchIdParams },
  responses: { 200: json(MatchPredictionSchema, 'The prediction'), ...problemResponses(401, 404, 429, 503) },
});

export const registerGetMatchPredictions = (app: App) =>
  app.openapi(route, async (c) => {
    const { matchId } = c.req.valid('param');
    const principal = principalOf(c);
    const result = await c.get('services').predictions.forMatch(matchId);
    c.header('x-cache', result.cache);
    c.header('x-model-run', result.prediction.model?.runId ?? 'none');
    c.header('cache-control', 'private, no-store');
    return c.json(shapePrediction(result.prediction, principal.tier, result.source), 200);
  });
