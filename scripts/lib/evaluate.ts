// The evaluation pipeline behind `npm run evaluate` and `npm run model:register`: features for a window built
// from earlier data only (the one TypeScript feature builder), the bundle run through the same runtime module
// as the Worker, and the one TypeScript evaluation beside the market baselines on the same matches.
import type pg from 'pg';
import { MARKET_OUTPUTS } from '../../src/services/inference/bundle';
import { anchorProbabilities, marketAnchors } from '../../src/domain/odds';
import type { ModelInput, ModelRuntime } from '../../src/services/inference/runtime';
import { buildReport, type EvaluationOptions, type EvaluationReport, type EvaluationRow, type MarketPrices } from '../../src/services/evaluation';
import { buildFeatureMatrix, type FeatureMatrixOptions, type FeatureRow } from './features';

interface PriceRow {
  match_id: string;
  bookmaker: string;
  market: 'h2h' | 'totals';
  outcome: string;
  price: number;
  phase: 'pre_match' | 'closing';
}

const H2H = ['home', 'draw', 'away'] as const;
const OU = ['over', 'under'] as const;

type Prices = { h2h: MarketPrices; ou25: MarketPrices };

/**
 * The prices the evaluation compares against, per match: Pinnacle pre-match and closing, the market average
 * and the best price, for 1X2 and over/under 2.5. Prices are evidence to evaluate against, never features.
 */
export async function loadEvaluationPrices(db: Pick<pg.Pool, 'query'>, matchIds: number[]): Promise<Map<number, Prices>> {
  const { rows } = await db.query<PriceRow>(
    `select match_id::text, bookmaker, market, outcome, price::float8 as price, phase
     from odds_snapshots
     where match_id = any($1::bigint[])
       and bookmaker in ('pinnacle', 'market_avg', 'market_max')
       and phase in ('pre_match', 'closing')
       and (market = 'h2h' or (market = 'totals' and point = 2.5))`,
    [matchIds],
  );
  const slots = new Map<number, Map<string, Map<string, number>>>();
  for (const r of rows) {
    const id = Number(r.match_id);
    const source = `${r.market}|${r.bookmaker}|${r.phase}`;
    const bySource = slots.get(id) ?? new Map<string, Map<string, number>>();
    slots.set(id, bySource);
    const outcomes = bySource.get(source) ?? new Map<string, number>();
    bySource.set(source, outcomes);
    outcomes.set(r.outcome, r.price);
  }
  const pick = (bySource: Map<string, Map<string, number>> | undefined, source: string, order: readonly string[]) => {
    const outcomes = bySource?.get(source);
    if (!outcomes) return null;
    const prices = order.map((o) => outcomes.get(o));
    return prices.every((p): p is number => p !== undefined) ? prices : null;
  };
  const result = new Map<number, Prices>();
  for (const id of matchIds) {
    const s = slots.get(id);
    result.set(id, {
      h2h: {
        pinnaclePreMatch: pick(s, 'h2h|pinnacle|pre_match', H2H),
        pinnacleClosing: pick(s, 'h2h|pinnacle|closing', H2H),
        marketAverage: pick(s, 'h2h|market_avg|pre_match', H2H),
        bestPrice: pick(s, 'h2h|market_max|pre_match', H2H),
      },
      ou25: {
        pinnaclePreMatch: pick(s, 'totals|pinnacle|pre_match', OU),
        pinnacleClosing: pick(s, 'totals|pinnacle|closing', OU),
        marketAverage: pick(s, 'totals|market_avg|pre_match', OU),
        bestPrice: pick(s, 'totals|market_max|pre_match', OU),
      },
    });
  }
  return result;
}

export interface EvaluationRun {
  report: EvaluationReport;
  /** Finished matches in the window that were scored. */
  matches: number;
  window: { from?: string; to?: string };
  rows: FeatureRow[];
  /** Model probabilities per match, in the bundle's output order; null for a market with no anchor. */
  probabilities: Map<number, { h2h: number[] | null; ou25: number[] | null }>;
  /** The rows the report was built from, per market (what a rolling evaluation pools). */
  evaluationRows: { '1x2': EvaluationRow[]; ou25: EvaluationRow[] };
}

/** The model's input for a feature row: its vector and the market anchors under the bundle's margin methods. */
export const modelInput = (runtime: ModelRuntime, row: FeatureRow): ModelInput => ({
  features: row.values,
  anchors: anchorProbabilities(marketAnchors(row.odds, runtime.marginMethods)),
});

/**
 * The bundle on finished feature rows, beside the market baselines. An anchored bundle is compared with
 * Pinnacle under each market's own margin method (so that no trees score Pinnacle exactly) unless
 * `options.marginMethod` asks for one method everywhere. A market without an anchor has no model
 * probability; such a row has no Pinnacle price either, and it is left out of that market.
 */
export async function evaluateRows(
  db: Pick<pg.Pool, 'query'>,
  runtime: ModelRuntime,
  featureRows: readonly FeatureRow[],
  options: EvaluationOptions = {},
): Promise<Omit<EvaluationRun, 'window'>> {
  const rows = featureRows.filter((r) => r.label1x2 !== null && r.labelOu25 !== null);
  const { h2h, ou25 } = await runtime.predict(rows.map((r) => modelInput(runtime, r)));
  const prices = await loadEvaluationPrices(db, rows.map((r) => r.matchId));
  const methods = { '1x2': runtime.marginMethods.h2h, ou25: runtime.marginMethods.ou25 };
  const probabilities = new Map<number, { h2h: number[] | null; ou25: number[] | null }>();
  const h2hRows: EvaluationRow[] = [];
  const ouRows: EvaluationRow[] = [];
  // The bundle's O/U output is [under, over] (class 1 = over); the evaluation's outcome order is [over, under].
  const underIndex = MARKET_OUTPUTS.ou25.indexOf('under');
  const overIndex = MARKET_OUTPUTS.ou25.indexOf('over');
  rows.forEach((r, i) => {
    const h = h2h[i]!;
    const o = ou25[i]!;
    probabilities.set(r.matchId, { h2h: h, ou25: o });
    const p = prices.get(r.matchId)!;
    const kickoff = r.startAt.toISOString();
    if (h) h2hRows.push({ matchId: r.matchId, kickoff, label: r.label1x2!, model: h, prices: p.h2h, marginMethod: options.marginMethod ?? methods['1x2'] });
    if (o) {
      ouRows.push({
        matchId: r.matchId,
        kickoff,
        label: r.labelOu25 === 1 ? 0 : 1,
        model: [o[overIndex]!, o[underIndex]!],
        prices: p.ou25,
        marginMethod: options.marginMethod ?? methods.ou25,
      });
    }
  });
  const report = buildReport({ '1x2': h2hRows, ou25: ouRows }, { ...options, marginMethods: options.marginMethod ? undefined : methods });
  return { report, matches: rows.length, rows, probabilities, evaluationRows: { '1x2': h2hRows, ou25: ouRows } };
}

export async function evaluateWindow(
  db: Pick<pg.Pool, 'query'>,
  runtime: ModelRuntime,
  window: FeatureMatrixOptions,
  options: EvaluationOptions = {},
): Promise<EvaluationRun> {
  const run = await evaluateRows(db, runtime, await buildFeatureMatrix(db, window), options);
  const iso = (d: Date | string | undefined) => (d instanceof Date ? d.toISOString().slice(0, 10) : d);
  return { ...run, window: { from: iso(window.from), to: iso(window.to) } };
}

/** One line per market for people; --json prints the whole report. */
export function summarizeReport(run: Pick<EvaluationRun, 'report' | 'matches' | 'window'>): string {
  const lines = [`${run.matches} finished matches from ${run.window.from ?? 'the start'} to ${run.window.to ?? 'the end'}`];
  for (const [market, r] of Object.entries(run.report.markets)) {
    if (!r?.metrics) {
      lines.push(`${market}: no rows with both baselines`);
      continue;
    }
    const m = r.metrics;
    const d = r.logLossDifference;
    lines.push(
      `${market} (${r.rows.evaluated} matches; ${r.rows.dropped} without both baselines; Pinnacle margin-free by ${r.marginMethod}): log loss model ${m.model.logLoss.toFixed(4)}, ` +
        `Pinnacle ${m.pinnacle.logLoss.toFixed(4)}, average ${m.marketAverage.logLoss.toFixed(4)}` +
        (d ? `; model − Pinnacle ${d.estimate.toFixed(4)} [${d.lower.toFixed(4)}, ${d.upper.toFixed(4)}]` : '') +
        `; ECE model ${m.model.ece.toFixed(4)}, Pinnacle ${m.pinnacle.ece.toFixed(4)}; accuracy model ${m.model.accuracy.toFixed(3)}`,
    );
    const best = r.betting.model.bestPrice;
    const pin = r.betting.model.pinnaclePreMatch;
    const avg = r.betting.model.marketAverage;
    const fmt = (b: typeof best) => `${b.bets} bets, ROI ${b.roi === null ? 'n/a' : (b.roi * 100).toFixed(1) + '%'}, max DD ${b.maxDrawdown.toFixed(1)}`;
    lines.push(`  betting EV>${run.report.settings.evThreshold}: best price ${fmt(best)}; Pinnacle ${fmt(pin)}; average ${fmt(avg)}`);
    lines.push(`  market value rule at best prices (reference): ${fmt(r.betting.marketValueRule)}`);
  }
  return lines.join('\n');
}
