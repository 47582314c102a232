/**
 * The model beside the market baselines on the same matches.
 *
 * Baselines: Pinnacle pre-match and the market average, each with the margin removed by the chosen method.
 * A row enters the comparison only if it has both baselines' complete, valid prices; every other row is
 * dropped from the model's figures too (so no metric is computed on a friendlier subset), and the drops are
 * counted by reason. Rows are put in kick-off order (then match id) first, so the result, the bootstrap
 * included, does not depend on the order they were given in.
 */

import { MARGIN_METHODS, removeMargin, type MarginMethod } from '../../domain/odds';
import { bootstrapMeanInterval, DEFAULT_BOOTSTRAP_RESAMPLES, DEFAULT_BOOTSTRAP_SEED, DEFAULT_CONFIDENCE, type BootstrapInterval } from './bootstrap';
import { DEFAULT_BINS, evaluateProbabilities, logLossOfRow, validateProbabilityRows, type ProbabilityMetrics, type ReliabilityTable } from './metrics';

/** The markets the model predicts, with their outcomes in label order. */
export const MARKET_OUTCOMES = {
  '1x2': ['home', 'draw', 'away'],
  ou25: ['over', 'under'],
} as const satisfies Record<string, readonly string[]>;
export type EvaluationMarket = keyof typeof MARKET_OUTCOMES;

/** Decimal odds per outcome (in the market's outcome order) from each price source. */
export interface MarketPrices {
  pinnaclePreMatch?: readonly number[] | null;
  pinnacleClosing?: readonly number[] | null;
  marketAverage?: readonly number[] | null;
  /** The best price on the market for each outcome (football-data's `Max*`, or `bestPriceByOutcome` live). */
  bestPrice?: readonly number[] | null;
}

export interface EvaluationRow {
  matchId: string | number;
  /** ISO 8601 kick-off; orders the rows for the betting simulation. */
  kickoff: string;
  /** Index into the market's outcomes of what happened. */
  label: number;
  /** The model's probabilities, in the market's outcome order. */
  model: readonly number[];
  prices: MarketPrices;
  /**
   * The margin method of this row's baselines, when it is not the comparison's: rows pooled from several
   * models (a rolling evaluation) each keep the method their own model's anchor used.
   */
  marginMethod?: MarginMethod;
}

export interface RowAccounting {
  /** Rows given. */
  input: number;
  /** Rows with both baselines, on which every figure is computed. */
  evaluated: number;
  /** Rows dropped from everything (input − evaluated). */
  dropped: number;
  /** Dropped rows lacking a complete, valid Pinnacle pre-match price (a row can lack both). */
  droppedNoPinnaclePreMatch: number;
  /** Dropped rows lacking a complete, valid market-average price. */
  droppedNoMarketAverage: number;
}

/** A row that has both baselines, with their margin-free probabilities. */
export interface AlignedRow extends EvaluationRow {
  pinnacleFair: number[];
  marketAverageFair: number[];
}

export interface Alignment {
  marginMethod: MarginMethod;
  rows: AlignedRow[];
  accounting: RowAccounting;
}

export interface ComparisonOptions {
  marginMethod?: MarginMethod;
  bootstrapResamples?: number;
  bootstrapSeed?: number;
  eceBins?: number;
}

export const DEFAULT_MARGIN_METHOD: MarginMethod = 'shin';

export interface SourceMetrics<T> {
  model: T;
  pinnacle: T;
  marketAverage: T;
}

export interface LogLossDifference extends BootstrapInterval {
  /** Model log loss − Pinnacle (margin-free) log loss on the same rows: negative favours the model. */
  baseline: 'pinnacle';
}

export interface BaselineComparison {
  rows: RowAccounting;
  marginMethod: MarginMethod;
  /** First and last kick-off of the evaluated rows. */
  kickoffRange: { first: string; last: string } | null;
  /** Null when no row survived the alignment. */
  metrics: SourceMetrics<ProbabilityMetrics> | null;
  reliability: SourceMetrics<ReliabilityTable> | null;
  logLossDifference: LogLossDifference | null;
  /** Pinnacle's log loss under every margin method, to show the headline baseline is not cherry-picked. */
  pinnacleLogLossByMethod: Record<MarginMethod, number> | null;
}

function isCompletePrice(prices: readonly number[] | null | undefined, outcomes: number, what: string, matchId: string | number): prices is readonly number[] {
  if (prices == null) return false;
  if (prices.length !== outcomes) {
    throw new RangeError(`match ${matchId}: ${what} has ${prices.length} prices for a ${outcomes}-outcome market`);
  }
  for (const price of prices) if (!(typeof price === 'number' && price > 1 && price < Infinity)) return false;
  return true;
}

/** What ordering needs of a row: football's EvaluationRow and the NBA's TwoWayRow both have it. */
export interface KickoffRow {
  matchId: string | number;
  kickoff: string;
}

function kickoffTime(row: KickoffRow): number {
  const t = Date.parse(row.kickoff);
  if (Number.isNaN(t)) throw new RangeError(`match ${row.matchId}: kickoff is not a date: ${JSON.stringify(row.kickoff)}`);
  return t;
}

/** Rows in kick-off order, ties by match id, so every result is independent of the input order. */
export function inKickoffOrder<T extends KickoffRow>(rows: readonly T[]): T[] {
  const keyed = rows.map((row) => ({ row, t: kickoffTime(row), id: String(row.matchId) }));
  keyed.sort((a, b) => a.t - b.t || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return keyed.map((k) => k.row);
}

/**
 * Validates the rows of one market, orders them by kick-off and keeps those with both baselines.
 * Throws on a malformed row (model probabilities, label, or a price vector of the wrong length): those are
 * bugs in the caller. A missing or invalid price only drops the row.
 */
export function alignWithBaselines(market: EvaluationMarket, rows: readonly EvaluationRow[], marginMethod: MarginMethod = DEFAULT_MARGIN_METHOD): Alignment {
  const outcomes = MARKET_OUTCOMES[market].length;
  const ordered = inKickoffOrder(rows);
  for (const row of ordered) {
    try {
      if (row.model.length !== outcomes) throw new RangeError(`${row.model.length} model probabilities for a ${outcomes}-outcome market`);
      validateProbabilityRows([row.model], [row.label]);
    } catch (error) {
      throw new RangeError(`market ${market}, match ${row.matchId}: ${(error as Error).message}`);
    }
  }
  const aligned: AlignedRow[] = [];
  let noPinnacle = 0;
  let noAverage = 0;
  for (const row of ordered) {
    const pinnacle = isCompletePrice(row.prices.pinnaclePreMatch, outcomes, 'pinnaclePreMatch', row.matchId) ? row.prices.pinnaclePreMatch : null;
    const average = isCompletePrice(row.prices.marketAverage, outcomes, 'marketAverage', row.matchId) ? row.prices.marketAverage : null;
    // Checked for shape only: a wrong-length vector is a caller bug even where it is not a baseline.
    isCompletePrice(row.prices.bestPrice, outcomes, 'bestPrice', row.matchId);
    isCompletePrice(row.prices.pinnacleClosing, outcomes, 'pinnacleClosing', row.matchId);
    if (!pinnacle) noPinnacle++;
    if (!average) noAverage++;
    if (!pinnacle || !average) continue;
    const method = row.marginMethod ?? marginMethod;
    aligned.push({
      ...row,
      pinnacleFair: removeMargin(pinnacle, method).probabilities,
      marketAverageFair: removeMargin(average, method).probabilities,
    });
  }
  return {
    marginMethod,
    rows: aligned,
    accounting: {
      input: rows.length,
      evaluated: aligned.length,
      dropped: rows.length - aligned.length,
      droppedNoPinnaclePreMatch: noPinnacle,
      droppedNoMarketAverage: noAverage,
    },
  };
}

/** The comparison on rows aligned by `alignWithBaselines` (its margin method applies; `options.marginMethod` is ignored). */
export function compareAligned(alignment: Alignment, options: ComparisonOptions = {}): BaselineComparison {
  const { marginMethod } = alignment;
  const bins = options.eceBins ?? DEFAULT_BINS;
  const { rows, accounting } = alignment;
  if (rows.length === 0) {
    return { rows: accounting, marginMethod, kickoffRange: null, metrics: null, reliability: null, logLossDifference: null, pinnacleLogLossByMethod: null };
  }
  const labels = rows.map((r) => r.label);
  const model = evaluateProbabilities(rows.map((r) => r.model), labels, bins);
  const pinnacle = evaluateProbabilities(rows.map((r) => r.pinnacleFair), labels, bins);
  const average = evaluateProbabilities(rows.map((r) => r.marketAverageFair), labels, bins);

  const differences = rows.map((r) => logLossOfRow(r.model, r.label) - logLossOfRow(r.pinnacleFair, r.label));
  const interval = bootstrapMeanInterval(differences, {
    resamples: options.bootstrapResamples ?? DEFAULT_BOOTSTRAP_RESAMPLES,
    seed: options.bootstrapSeed ?? DEFAULT_BOOTSTRAP_SEED,
    confidence: DEFAULT_CONFIDENCE,
  });

  const pinnacleLogLossByMethod = {} as Record<MarginMethod, number>;
  for (const method of MARGIN_METHODS) {
    let sum = 0;
    for (const r of rows) {
      const fair = method === (r.marginMethod ?? marginMethod) ? r.pinnacleFair : removeMargin(r.prices.pinnaclePreMatch!, method).probabilities;
      sum += logLossOfRow(fair, r.label);
    }
    pinnacleLogLossByMethod[method] = sum / rows.length;
  }

  return {
    rows: accounting,
    marginMethod,
    kickoffRange: { first: rows[0]!.kickoff, last: rows[rows.length - 1]!.kickoff },
    metrics: { model: model.metrics, pinnacle: pinnacle.metrics, marketAverage: average.metrics },
    reliability: { model: model.reliability, pinnacle: pinnacle.reliability, marketAverage: average.reliability },
    logLossDifference: { baseline: 'pinnacle', ...interval },
    pinnacleLogLossByMethod,
  };
}

/** The model and both baselines on the same rows of one market (see the module comment). */
export function compareWithBaseline(market: EvaluationMarket, rows: readonly EvaluationRow[], options: ComparisonOptions = {}): BaselineComparison {
  return compareAligned(alignWithBaselines(market, rows, options.marginMethod ?? DEFAULT_MARGIN_METHOD), options);
}
