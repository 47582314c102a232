/**
 * The evaluation report: everything about a model on one period, as one JSON-serialisable object. The
 * evaluation CLI prints it and the registry stores it (`model_evaluations`, `backtest_results`).
 *
 * Per market (1X2 three-class, over/under 2.5 two-class), on the rows that have both baselines:
 * - metrics and reliability tables for the model, Pinnacle pre-match and the market average (margin-free);
 * - the log-loss difference model − Pinnacle with its bootstrap 95% interval;
 * - flat-stake betting on the model's EV > threshold at three prices: the best price on the market, Pinnacle
 *   pre-match and the market average, each with CLV against the Pinnacle close;
 * - the market value rule as a reference: bet at the best price when Pinnacle's own margin-free probability
 *   says EV > threshold. It uses no model at all, so it shows how much a best price alone flatters.
 *
 * No NaN, Infinity or undefined anywhere: an undefined figure (ROI without bets, an empty market) is null.
 */

import type { MarginMethod } from '../../domain/odds';
import { bootstrapSettings, type BootstrapSettings } from './bootstrap';
import { simulateFlatBetting, type BetCandidate, type BettingResult } from './betting';
import {
  alignWithBaselines,
  compareAligned,
  DEFAULT_MARGIN_METHOD,
  MARKET_OUTCOMES,
  type AlignedRow,
  type BaselineComparison,
  type EvaluationMarket,
  type EvaluationRow,
} from './compare';
import { DEFAULT_BINS, LOG_LOSS_EPSILON } from './metrics';

export const REPORT_SCHEMA_VERSION = 1;
export const DEFAULT_EV_THRESHOLD = 0;

export interface EvaluationOptions {
  /** Margin removal for the baselines, the market value rule and the margin-free CLV. Default 'shin'. */
  marginMethod?: MarginMethod;
  /**
   * Per market, overriding `marginMethod`: an anchored model is compared with Pinnacle under the method its
   * anchor uses (chosen on its validation season), so a model with no trees scores exactly Pinnacle's figures.
   */
  marginMethods?: Partial<Record<EvaluationMarket, MarginMethod>>;
  /** Bet when EV > this. Default 0. */
  evThreshold?: number;
  /** Bootstrap resamples for the log-loss difference. Default 1000. */
  bootstrapResamples?: number;
  /** Bootstrap PRNG seed (unsigned 32-bit). */
  bootstrapSeed?: number;
  /** Reliability/ECE bins. Default 10. */
  eceBins?: number;
}

export type EvaluationInput = Partial<Record<EvaluationMarket, readonly EvaluationRow[]>>;

export interface ModelBetting {
  /** At the best price on the market (football-data `Max*`). Flatters: see `marketValueRule`. */
  bestPrice: BettingResult;
  pinnaclePreMatch: BettingResult;
  marketAverage: BettingResult;
}

export interface MarketReport extends BaselineComparison {
  market: EvaluationMarket;
  /** Outcome names in label order. */
  outcomes: string[];
  betting: {
    /** The model's EV > threshold, at each price source. */
    model: ModelBetting;
    /** Reference strategy without the model: Pinnacle's margin-free probability vs the best price. */
    marketValueRule: BettingResult;
  };
}

export interface EvaluationReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  settings: {
    marginMethod: MarginMethod;
    /** The method each market was evaluated with (marginMethod unless overridden per market). */
    marginMethods: Record<EvaluationMarket, MarginMethod>;
    evThreshold: number;
    /** Units staked per bet. */
    stake: 1;
    eceBins: number;
    logLossEpsilon: number;
    bootstrap: BootstrapSettings;
  };
  /** Null for a market with no input rows. */
  markets: Record<EvaluationMarket, MarketReport | null>;
}

function bettingOn(rows: readonly AlignedRow[], probabilities: (row: AlignedRow) => readonly number[], prices: (row: AlignedRow) => readonly number[] | null | undefined): BetCandidate[] {
  return rows.map((row) => ({
    matchId: row.matchId,
    label: row.label,
    probabilities: probabilities(row),
    prices: prices(row) ?? null,
    closingPrices: row.prices.pinnacleClosing ?? null,
  }));
}

function marketReport(market: EvaluationMarket, rows: readonly EvaluationRow[], settings: EvaluationReport['settings']): MarketReport {
  const marginMethod = settings.marginMethods[market];
  const alignment = alignWithBaselines(market, rows, marginMethod);
  const comparison = compareAligned(alignment, {
    bootstrapResamples: settings.bootstrap.resamples,
    bootstrapSeed: settings.bootstrap.seed,
    eceBins: settings.eceBins,
  });
  const betting = { threshold: settings.evThreshold, marginMethod };
  const aligned = alignment.rows;
  const model = (r: AlignedRow) => r.model;
  return {
    market,
    outcomes: [...MARKET_OUTCOMES[market]],
    ...comparison,
    betting: {
      model: {
        bestPrice: simulateFlatBetting(bettingOn(aligned, model, (r) => r.prices.bestPrice), betting),
        pinnaclePreMatch: simulateFlatBetting(bettingOn(aligned, model, (r) => r.prices.pinnaclePreMatch), betting),
        marketAverage: simulateFlatBetting(bettingOn(aligned, model, (r) => r.prices.marketAverage), betting),
      },
      marketValueRule: simulateFlatBetting(bettingOn(aligned, (r) => r.pinnacleFair, (r) => r.prices.bestPrice), betting),
    },
  };
}

/** Assembles the whole report (see the module comment). Deterministic for the same rows and options. */
export function buildReport(input: EvaluationInput, options: EvaluationOptions = {}): EvaluationReport {
  const marginMethod = options.marginMethod ?? DEFAULT_MARGIN_METHOD;
  const settings: EvaluationReport['settings'] = {
    marginMethod,
    marginMethods: {
      '1x2': options.marginMethods?.['1x2'] ?? marginMethod,
      ou25: options.marginMethods?.ou25 ?? marginMethod,
    },
    evThreshold: options.evThreshold ?? DEFAULT_EV_THRESHOLD,
    stake: 1,
    eceBins: options.eceBins ?? DEFAULT_BINS,
    logLossEpsilon: LOG_LOSS_EPSILON,
    bootstrap: bootstrapSettings(options),
  };
  const markets = {} as Record<EvaluationMarket, MarketReport | null>;
  for (const market of Object.keys(MARKET_OUTCOMES) as EvaluationMarket[]) {
    const rows = input[market];
    markets[market] = rows && rows.length > 0 ? marketReport(market, rows, settings) : null;
  }
  return { schemaVersion: REPORT_SCHEMA_VERSION, settings, markets };
}
