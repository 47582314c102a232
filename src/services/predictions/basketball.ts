// A basketball game priced by an NBA moneyline run (nba-v1). Pure (no I/O): the route's miss and the warm-up both
// run exactly this.
//
// The run prices the moneyline only. The prediction starts as the game's market-only one (every line the
// MatchOdds object holds: the moneyline, spreads and totals at each line, market-only.ts), with the moneyline's
// anchor made with the run's margin method; the model then moves the moneyline's probabilities off that anchor,
// and EV and Kelly are recomputed at the same best prices. Spreads and totals stay the market's.
//
// The vector's market features are those of the closing consensus the model was trained on, read from the live
// summary: the moneyline's median prices (mkt_p_home, mkt_overround), and the spread and total lines most books
// quote (the main lines; a tie goes to the line whose prices are nearest even).
import type { LiveState } from '../../../durable-objects/match-odds';
import { H2H_TWO_WAY, type ConsensusMarket, type LiveMarket, type MarginMethod } from '../../domain/odds';
import type { NbaMatchFeatureState } from '../feature-store';
import { nbaGameFeatures, NBA_VENUES } from '../features/basketball';
import { outcomePrediction, type PredictionSettings } from './compute';
import { buildMarketOnlyPrediction } from './market-only';
import type { MatchPrediction, MoneylineMarket, OutcomePrediction, PredictionModel } from './types';

export type NbaLiveOdds = Pick<LiveState, 'lines' | 'consensus'>;

/** The consensus line of `market` most books quote; a tie goes to the one whose prices are nearest even. */
export function mainLine(consensus: readonly ConsensusMarket[], market: Exclude<LiveMarket, 'h2h'>): ConsensusMarket | null {
  const imbalance = (c: ConsensusMarket) => Math.abs((c.outcomes[0]?.probability ?? 0.5) - 0.5);
  let best: ConsensusMarket | null = null;
  for (const c of consensus) {
    if (c.market !== market || c.point === null) continue;
    if (!best || c.bookmakers > best.bookmakers || (c.bookmakers === best.bookmakers && imbalance(c) < imbalance(best))) best = c;
  }
  return best;
}

/** The game's nba-v1 vector at prediction time: its stored team states, and the live consensus as its closing lines. */
export function nbaLiveFeatures(state: NbaMatchFeatureState, live: NbaLiveOdds): Float64Array {
  const moneyline = live.consensus.find((c) => c.market === 'h2h' && c.point === null);
  const price = (o: string) => moneyline?.outcomes.find((x) => x.outcome === o)?.medianPrice;
  const home = price('home');
  const away = price('away');
  return nbaGameFeatures(
    {
      ...state.game,
      moneyline: home !== undefined && away !== undefined ? { home, away } : null,
      spreadHome: mainLine(live.consensus, 'spreads')?.point ?? null,
      total: mainLine(live.consensus, 'totals')?.point ?? null,
    },
    state.home,
    state.away,
    NBA_VENUES,
  );
}

export interface NbaPredictionInput {
  state: NbaMatchFeatureState;
  live: NbaLiveOdds;
  model: PredictionModel;
  marginMethod: MarginMethod;
  predictedAt: number;
  settings: PredictionSettings;
}

/** The market-only prediction with the run's margin method on the moneyline: the model's anchor and everything else. */
export function nbaBasePrediction(input: Omit<NbaPredictionInput, 'model'>): MatchPrediction {
  return buildMarketOnlyPrediction({
    matchId: input.state.matchId,
    kickoff: input.state.match.startAt,
    predictedAt: input.predictedAt,
    h2hOutcomes: H2H_TWO_WAY,
    odds: input.live,
    settings: input.settings,
    marginMethods: { h2h: input.marginMethod },
  });
}

/** The moneyline's margin-free [home, away] anchor of a base prediction; null without a price. */
export function moneylineAnchor(base: MatchPrediction): [number, number] | null {
  const market = base.markets.find((m): m is MoneylineMarket => m.kind === 'moneyline');
  const p = (o: 'home' | 'away') => market?.outcomes.find((x) => x.outcome === o)?.marketProbability ?? null;
  const home = p('home');
  const away = p('away');
  return home === null || away === null ? null : [home, away];
}

/**
 * The run's prediction: the base with the model's [home, away] moneyline probabilities (null: no anchor, so none)
 * in place of the market's, EV and Kelly at the same best prices, and the run named.
 */
export function withModelMoneyline(base: MatchPrediction, probabilities: readonly [number, number] | null, model: PredictionModel, settings: PredictionSettings): MatchPrediction {
  const markets = base.markets.map((m) => {
    if (m.kind !== 'moneyline') return m;
    const outcomes = m.outcomes.map((o): OutcomePrediction<'home' | 'away'> => {
      const p = probabilities ? probabilities[o.outcome === 'home' ? 0 : 1] : null;
      const best = o.bestPrice === null ? undefined : { price: o.bestPrice, bookmaker: o.bestBookmaker!, net: o.bestPriceNet! };
      return outcomePrediction(o.outcome, p, o.marketProbability, best, settings);
    });
    return { ...m, outcomes };
  });
  return { ...base, model, modelRunId: model.runId, featureVersion: model.featureVersion, markets };
}
