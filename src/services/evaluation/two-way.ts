/**
 * The evaluation of a 2-way market (the NBA's moneyline, spreads and totals) beside the margin-free closing
 * consensus line on the same games: the report `npm run evaluate -- --sport basketball` prints, with the same
 * layout as football's (`report.markets[market]` with rows, metrics, reliability and the paired interval).
 *
 * Why not football's report: football compares with two pre-match sources (Pinnacle and the market average) and
 * bets at the best price; the NBA archive has one price per line, the consensus close, so it is the only
 * baseline, and there is no price to bet at that the baseline did not already set.
 *
 * A row without a complete closing line is dropped from the model's figures too. A push (a spread or total
 * that lands on the line) is void, neither outcome: it is counted and dropped. A market with no model (spreads
 * and totals, for now) is reported with the margin-free market as its predictor (`predictor: 'market'`), so
 * its difference is 0 by construction: that is what is served for it.
 */
import { removeMargin, type MarginMethod } from '../../domain/odds';
import { inKickoffOrder } from './compare';
import { bootstrapMeanInterval, bootstrapSettings, type BootstrapInterval, type BootstrapSettings } from './bootstrap';
import { gateFigures, type RollingGateOf } from './gate';
import { DEFAULT_BINS, evaluateProbabilities, LOG_LOSS_EPSILON, logLossOfRow, validateProbabilityRows, type ProbabilityMetrics, type ReliabilityTable } from './metrics';

export const TWO_WAY_REPORT_SCHEMA_VERSION = 1;
export const TWO_WAY_MARKET_OUTCOMES = {
  h2h: ['home', 'away'],
  spreads: ['home', 'away'],
  totals: ['over', 'under'],
} as const satisfies Record<string, readonly [string, string]>;
export type TwoWayMarket = keyof typeof TWO_WAY_MARKET_OUTCOMES;
export const TWO_WAY_MARKETS = Object.keys(TWO_WAY_MARKET_OUTCOMES) as TwoWayMarket[];
export const CLOSING_BASELINE = 'consensus_closing';

export interface TwoWayRow {
  matchId: string | number;
  /** ISO 8601 start (the game's date for the archive); orders the rows. */
  kickoff: string;
  /** Index into the market's outcomes of what happened; null for a push (void). */
  label: 0 | 1 | null;
  /** The predictor's probabilities in outcome order. */
  model: readonly [number, number];
  /** Closing decimal prices in outcome order; null when the line is missing. */
  closing: readonly [number, number] | null;
  /** The margin removal of this row's baseline (the predictor's own anchor method, chosen per season). */
  marginMethod: MarginMethod;
}

export interface TwoWayMarketReport {
  market: TwoWayMarket;
  outcomes: string[];
  /** `model`: the trained model; `market`: no model, the margin-free closing line itself. */
  predictor: 'model' | 'market';
  baseline: typeof CLOSING_BASELINE;
  /** The baselines' margin methods and how many rows each covers (one method unless seasons were pooled). */
  marginMethods: Partial<Record<MarginMethod, number>>;
  rows: { input: number; evaluated: number; dropped: number; droppedNoClosing: number; voidPush: number };
  kickoffRange: { first: string; last: string } | null;
  metrics: { model: ProbabilityMetrics; closing: ProbabilityMetrics } | null;
  reliability: { model: ReliabilityTable; closing: ReliabilityTable } | null;
  /** Model log loss − the margin-free close's on the same rows, with its paired bootstrap interval. */
  logLossDifference: (BootstrapInterval & { baseline: typeof CLOSING_BASELINE }) | null;
}

export interface TwoWayReport {
  schemaVersion: typeof TWO_WAY_REPORT_SCHEMA_VERSION;
  settings: {
    baseline: typeof CLOSING_BASELINE;
    eceBins: number;
    logLossEpsilon: number;
    bootstrap: BootstrapSettings;
  };
  markets: Record<TwoWayMarket, TwoWayMarketReport | null>;
}

export interface TwoWayOptions {
  bootstrapResamples?: number;
  bootstrapSeed?: number;
  eceBins?: number;
}

const completePrices = (p: readonly number[] | null): p is readonly [number, number] =>
  p !== null && p.length === 2 && p.every((x) => typeof x === 'number' && x > 1 && x < Infinity);

function marketReport(market: TwoWayMarket, predictor: 'model' | 'market', input: readonly TwoWayRow[], settings: TwoWayReport['settings']): TwoWayMarketReport {
  // Start order, ties by match id (as football's rows): the bootstrap then does not depend on the input order.
  let ordered: TwoWayRow[];
  try {
    ordered = inKickoffOrder(input);
  } catch (error) {
    throw new RangeError(`market ${market}, ${(error as Error).message}`);
  }
  let noClosing = 0;
  let pushes = 0;
  const kept: Array<{ row: TwoWayRow; fair: number[]; label: 0 | 1 }> = [];
  for (const row of ordered) {
    try {
      if (row.model.length !== 2) throw new RangeError(`${row.model.length} probabilities for a 2-way market`);
      validateProbabilityRows([row.model], [row.label ?? 0]);
    } catch (error) {
      throw new RangeError(`market ${market}, match ${row.matchId}: ${(error as Error).message}`);
    }
    if (row.label === null) {
      pushes++;
      continue;
    }
    if (!completePrices(row.closing)) {
      noClosing++;
      continue;
    }
    kept.push({ row, fair: removeMargin(row.closing, row.marginMethod).probabilities, label: row.label });
  }
  const methods: Partial<Record<MarginMethod, number>> = {};
  for (const k of kept) methods[k.row.marginMethod] = (methods[k.row.marginMethod] ?? 0) + 1;
  const rows = { input: input.length, evaluated: kept.length, dropped: input.length - kept.length, droppedNoClosing: noClosing, voidPush: pushes };
  const base: Pick<TwoWayMarketReport, 'market' | 'outcomes' | 'predictor' | 'baseline' | 'marginMethods' | 'rows'> = {
    market,
    outcomes: [...TWO_WAY_MARKET_OUTCOMES[market]],
    predictor,
    baseline: CLOSING_BASELINE,
    marginMethods: methods,
    rows,
  };
  if (kept.length === 0) return { ...base, kickoffRange: null, metrics: null, reliability: null, logLossDifference: null };
  const labels = kept.map((k) => k.label);
  const model = evaluateProbabilities(kept.map((k) => k.row.model), labels, settings.eceBins);
  const closing = evaluateProbabilities(kept.map((k) => k.fair), labels, settings.eceBins);
  const differences = kept.map((k) => logLossOfRow(k.row.model, k.label) - logLossOfRow(k.fair, k.label));
  const interval = bootstrapMeanInterval(differences, { resamples: settings.bootstrap.resamples, seed: settings.bootstrap.seed, confidence: settings.bootstrap.confidence });
  return {
    ...base,
    kickoffRange: { first: kept[0]!.row.kickoff, last: kept[kept.length - 1]!.row.kickoff },
    metrics: { model: model.metrics, closing: closing.metrics },
    reliability: { model: model.reliability, closing: closing.reliability },
    logLossDifference: { baseline: CLOSING_BASELINE, ...interval },
  };
}

/** The whole report; `predictors` says which markets' rows carry a model (default: h2h only). Deterministic. */
export function buildTwoWayReport(
  input: Partial<Record<TwoWayMarket, readonly TwoWayRow[]>>,
  options: TwoWayOptions & { predictors?: Partial<Record<TwoWayMarket, 'model' | 'market'>> } = {},
): TwoWayReport {
  const settings: TwoWayReport['settings'] = {
    baseline: CLOSING_BASELINE,
    eceBins: options.eceBins ?? DEFAULT_BINS,
    logLossEpsilon: LOG_LOSS_EPSILON,
    bootstrap: bootstrapSettings(options),
  };
  const markets = {} as Record<TwoWayMarket, TwoWayMarketReport | null>;
  for (const market of TWO_WAY_MARKETS) {
    const rows = input[market];
    const predictor = options.predictors?.[market] ?? (market === 'h2h' ? 'model' : 'market');
    markets[market] = rows && rows.length > 0 ? marketReport(market, predictor, rows, settings) : null;
  }
  return { schemaVersion: TWO_WAY_REPORT_SCHEMA_VERSION, settings, markets };
}

/** The margin-free closing line as a 2-way predictor: what is served for a market without a model. */
export const closingAsPredictor = (closing: readonly [number, number], method: MarginMethod): [number, number] => {
  const [a, b] = removeMargin(closing, method).probabilities;
  return [a!, b!];
};

/**
 * The activation gate's figures of a 2-way rolling evaluation, for the markets that have a model: the same
 * conditions as football's (gate.ts), against the margin-free close instead of Pinnacle. Null if any is missing.
 */
export function twoWayRollingGate(
  seasons: ReadonlyArray<{ season: string; report: TwoWayReport }>,
  pooled: TwoWayReport,
  markets: readonly TwoWayMarket[] = ['h2h'],
): RollingGateOf<TwoWayMarket> | null {
  const figures = gateFigures(markets, seasons, pooled, (report, market) => {
    const m = report.markets[market];
    return { difference: m?.logLossDifference, ece: m?.metrics && { model: m.metrics.model.ece, baseline: m.metrics.closing.ece } };
  });
  return figures && { kind: 'rolling', seasons: seasons.map((s) => s.season), baseline: 'the margin-free closing line', markets: figures };
}
