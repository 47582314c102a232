/**
 * The activation gate: may a model be served without an admin forcing it? Decided on its rolling-origin
 * evaluation (`npm run evaluate -- --rolling`: each test season predicted by a model trained only on the
 * seasons before it), per market, against Pinnacle's margin-free pre-match price on the same matches:
 *
 * - pooled over the test seasons, the log-loss difference model − Pinnacle is at most 0 (up to ROUNDING);
 * - no single test season's paired bootstrap 95% interval of that difference lies entirely above 0;
 * - pooled classwise ECE is no worse than Pinnacle's by more than ECE_TOLERANCE.
 *
 * Pure: the registry (Worker) and the Node CLIs both call `gateDecision` on the figures stored with a run.
 */
import type { EvaluationMarket, LogLossDifference } from './compare';
import type { EvaluationReport } from './report';

export const GATE_MARKETS: readonly EvaluationMarket[] = ['1x2', 'ou25'];
/**
 * The markets a sport's model prices, which are the ones its gate checks: football's bundle prices 1X2 and
 * over/under 2.5; basketball's the moneyline (its spreads and totals stay market-only). A sport not listed has no
 * model recipe, so nothing of it can pass.
 */
export const SPORT_GATE_MARKETS: Readonly<Record<string, readonly string[]>> = { soccer: GATE_MARKETS, basketball: ['h2h'] };

/** The markets the gate checks for a run of `sport`; null for a sport without a model recipe. */
export const gateMarketsOf = (sport: string): readonly string[] | null => SPORT_GATE_MARKETS[sport] ?? null;
export const ECE_TOLERANCE = 0.002;
/**
 * Log-loss differences this small are floating-point rounding, not a model: a model with no trees serves
 * softmax(ln p) where Pinnacle's baseline is p itself, equal to about 1e-16 per match.
 */
export const ROUNDING = 1e-9;

export interface GateInterval {
  matches: number;
  /** Mean per-match log loss of the model − Pinnacle's; negative favours the model. */
  logLossDelta: number;
  lower: number;
  upper: number;
}

export interface GateMarketFigures {
  /** `pinnacleEce` is the baseline's ECE: Pinnacle's for football, the margin-free close's for a 2-way sport. */
  pooled: GateInterval & { modelEce: number; pinnacleEce: number };
  seasons: Array<GateInterval & { season: string }>;
}

export interface RollingGate {
  kind: 'rolling';
  /** The test seasons, in order. */
  seasons: string[];
  markets: Record<EvaluationMarket, GateMarketFigures>;
}

/**
 * The same figures for any set of markets against any baseline (the NBA's moneyline against the margin-free
 * closing line): `gateDecision(gate, markets)` applies the same three conditions to each listed market.
 */
export interface RollingGateOf<M extends string> {
  kind: 'rolling';
  seasons: string[];
  /** What the model is compared with, as the reasons name it. */
  baseline: string;
  markets: Partial<Record<M, GateMarketFigures>>;
}

export interface GateDecision {
  passes: boolean;
  /** Why it does not pass (empty when it does), one line per failed condition. */
  reasons: string[];
}

/** The figures the gate reads of a paired log-loss difference (football's against Pinnacle, or a 2-way one). */
type Difference = Pick<LogLossDifference, 'rows' | 'estimate' | 'lower' | 'upper'>;

const interval = (d: Difference): GateInterval => ({ matches: d.rows, logLossDelta: d.estimate, lower: d.lower, upper: d.upper });

/** What a report says of one market for the gate: its log-loss difference, and the model's and baseline's ECE. */
export interface GateMarketReading {
  difference: Difference | null | undefined;
  ece: { model: number; baseline: number } | null | undefined;
}

/**
 * Per market, the pooled and per-season figures of a rolling evaluation; null if a market has none. One walk for
 * every report shape: `read` says where a report keeps a market's difference and ECEs.
 */
export function gateFigures<M extends string, R>(
  markets: readonly M[],
  seasons: ReadonlyArray<{ season: string; report: R }>,
  pooled: R,
  read: (report: R, market: M) => GateMarketReading,
): Record<M, GateMarketFigures> | null {
  const out = {} as Record<M, GateMarketFigures>;
  for (const market of markets) {
    const p = read(pooled, market);
    if (!p.difference || !p.ece) return null;
    const perSeason: GateMarketFigures['seasons'] = [];
    for (const s of seasons) {
      const d = read(s.report, market).difference;
      if (!d) return null;
      perSeason.push({ season: s.season, ...interval(d) });
    }
    out[market] = { pooled: { ...interval(p.difference), modelEce: p.ece.model, pinnacleEce: p.ece.baseline }, seasons: perSeason };
  }
  return out;
}

/** The gate's figures from the per-season and pooled reports of a rolling evaluation; null if a market has none. */
export function rollingGate(seasons: ReadonlyArray<{ season: string; report: EvaluationReport }>, pooled: EvaluationReport): RollingGate | null {
  const markets = gateFigures(GATE_MARKETS, seasons, pooled, (report, market) => {
    const m = report.markets[market];
    return { difference: m?.logLossDifference, ece: m?.metrics && { model: m.metrics.model.ece, baseline: m.metrics.pinnacle.ece } };
  });
  return markets && { kind: 'rolling', seasons: seasons.map((s) => s.season), markets };
}

const f5 = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(5);

export function gateDecision<M extends string = EvaluationMarket>(
  gate: RollingGate | RollingGateOf<M> | null | undefined,
  markets: readonly M[] = GATE_MARKETS as readonly string[] as readonly M[],
): GateDecision {
  if (!gate || gate.kind !== 'rolling') {
    return { passes: false, reasons: ['no rolling-origin evaluation is stored for this model (npm run model:register stores the one its bundle carries)'] };
  }
  const baseline = 'baseline' in gate ? gate.baseline : "Pinnacle's";
  const reasons: string[] = [];
  for (const market of markets) {
    const m = (gate.markets as Partial<Record<string, GateMarketFigures>>)[market];
    if (!m) {
      reasons.push(`${market}: no figures`);
      continue;
    }
    if (!(m.pooled.logLossDelta <= ROUNDING)) {
      reasons.push(`${market}: pooled log loss is worse than ${baseline} by ${f5(m.pooled.logLossDelta)} over ${m.pooled.matches} matches`);
    }
    for (const s of m.seasons) {
      if (!(s.lower <= ROUNDING)) reasons.push(`${market}: in ${s.season} the model is worse than ${baseline === "Pinnacle's" ? 'Pinnacle' : baseline} beyond noise, 95% interval [${f5(s.lower)}, ${f5(s.upper)}]`);
    }
    if (!(m.pooled.modelEce - m.pooled.pinnacleEce <= ECE_TOLERANCE)) {
      reasons.push(`${market}: pooled ECE ${m.pooled.modelEce.toFixed(4)} is worse than ${baseline} ${m.pooled.pinnacleEce.toFixed(4)} by more than ${ECE_TOLERANCE}`);
    }
  }
  return { passes: reasons.length === 0, reasons };
}
