// The market inputs of a prediction: the latest pre-kick-off prices known at the prediction time, from the
// three sources the live provider also has (Pinnacle, the market average and the market's best price), for
// 1X2 and over/under 2.5. Closing and in-play prices are never inputs, whatever their capture time.

/** The bookmakers the market features read, as stored in odds_snapshots.bookmaker. */
export const FEATURE_BOOKMAKERS = ['pinnacle', 'market_avg', 'market_max'] as const;
export type FeatureBookmaker = (typeof FEATURE_BOOKMAKERS)[number];

/** Phases a prediction may use: prices offered before kick-off. `closing` and `live` never qualify. */
export const PRE_MATCH_PHASES = ['opening', 'pre_match'] as const;

/** One stored price (an odds_snapshots row), times in ms since the epoch. */
export interface OddsQuote {
  bookmaker: string;
  market: string;
  outcome: string;
  point: number | null;
  price: number;
  phase: string;
  capturedAt: number;
}

export interface ThreeWayPrices {
  home: number;
  draw: number;
  away: number;
}
export interface OverUnderPrices {
  over: number;
  under: number;
}
export interface SourcePrices {
  h2h: ThreeWayPrices | null;
  overUnder25: OverUnderPrices | null;
}
export type PreMatchOdds = Record<FeatureBookmaker, SourcePrices>;

export const noPreMatchOdds = (): PreMatchOdds => ({
  pinnacle: { h2h: null, overUnder25: null },
  market_avg: { h2h: null, overUnder25: null },
  market_max: { h2h: null, overUnder25: null },
});

const isFeatureBookmaker = (b: string): b is FeatureBookmaker => (FEATURE_BOOKMAKERS as readonly string[]).includes(b);
const isPreMatchPhase = (p: string) => (PRE_MATCH_PHASES as readonly string[]).includes(p);

/**
 * May this price be a feature of a match kicking off at `startAt`, predicted at `predictionTime`? Only a
 * pre-kick-off phase, captured at or before the prediction time and strictly before kick-off.
 */
export const usableAtPrediction = (q: OddsQuote, predictionTime: number, startAt: number): boolean =>
  isPreMatchPhase(q.phase) && q.capturedAt <= predictionTime && q.capturedAt < startAt && q.price > 1 && Number.isFinite(q.price);

/**
 * The latest usable price per source, market and outcome. A market of a source is present only when every
 * one of its outcomes has a price (a 1X2 with two prices has no margin-free probabilities).
 */
export function selectPreMatchOdds(quotes: Iterable<OddsQuote>, predictionTime: number, startAt: number): PreMatchOdds {
  const latest = new Map<string, OddsQuote>();
  for (const q of quotes) {
    if (!isFeatureBookmaker(q.bookmaker) || !usableAtPrediction(q, predictionTime, startAt)) continue;
    const line = q.market === 'h2h' ? 'h2h' : q.market === 'totals' && q.point === 2.5 ? 'ou25' : null;
    if (line === null) continue;
    const key = `${q.bookmaker}|${line}|${q.outcome}`;
    const seen = latest.get(key);
    if (!seen || q.capturedAt > seen.capturedAt) latest.set(key, q);
  }
  const price = (bookmaker: string, line: string, outcome: string) => latest.get(`${bookmaker}|${line}|${outcome}`)?.price;
  const odds = noPreMatchOdds();
  for (const bookmaker of FEATURE_BOOKMAKERS) {
    const home = price(bookmaker, 'h2h', 'home');
    const draw = price(bookmaker, 'h2h', 'draw');
    const away = price(bookmaker, 'h2h', 'away');
    if (home !== undefined && draw !== undefined && away !== undefined) odds[bookmaker].h2h = { home, draw, away };
    const over = price(bookmaker, 'ou25', 'over');
    const under = price(bookmaker, 'ou25', 'under');
    if (over !== undefined && under !== undefined) odds[bookmaker].overUnder25 = { over, under };
  }
  return odds;
}

/** Σ 1/price − 1: the bookmaker's margin (negative for a set of best prices that is an arbitrage). */
export const overround = (prices: readonly number[]): number => prices.reduce((sum, p) => sum + 1 / p, 0) - 1;

/** Multiplicative margin removal: p_i = (1/price_i) / Σ_j (1/price_j). */
export function marginFreeProbabilities(prices: readonly number[]): number[] {
  const total = prices.reduce((sum, p) => sum + 1 / p, 0);
  return prices.map((p) => 1 / p / total);
}
