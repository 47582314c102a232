// Aggregates of several bookmakers' prices for one outcome: the median (the live consensus), the best price a
// bettor can take, and the mean and maximum of the fixed market list (the "market average" and "market best"
// the features were trained on). One implementation for the MatchOdds object, the prediction, settlement and
// the evaluation, so that "the best price" or "the market average" means the same number everywhere.
import { isMarketBookmaker } from './anchor';

/** The median of a non-empty list; for an even count, the mean of the middle two. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('the median of no values is undefined');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface BookmakerQuote<O extends string = string> {
  bookmaker: string;
  outcome: O;
  /** Decimal odds. */
  price: number;
}

export interface BestPrice {
  /** The quoted price. */
  price: number;
  /** What the bettor is paid at that price (`net` of the options; the price itself by default). */
  net: number;
  bookmaker: string;
}

/**
 * The best price for each outcome, with the bookmaker offering it: the highest `net(bookmaker, price)` (the
 * price itself unless the caller says what a bettor is paid, e.g. after an exchange's commission).
 *
 * Deterministic whatever the order of `quotes`: on equal values the bookmaker whose name sorts first by UTF-16
 * code units wins (plain `<`, not `localeCompare`, so every runtime agrees). Quotes whose price is not finite
 * decimal odds above 1 cannot be a best price and are skipped; an outcome with no usable quote is absent from
 * the result.
 *
 * Which quotes count is the caller's choice: pass only books one can bet at, not aggregates such as
 * `market_max`/`market_avg`.
 */
export function bestPriceByOutcome<O extends string>(
  quotes: Iterable<BookmakerQuote<O>>,
  net: (bookmaker: string, price: number) => number = (_, price) => price,
): Partial<Record<O, BestPrice>> {
  const best: Partial<Record<O, BestPrice>> = {};
  for (const { price, bookmaker, outcome } of quotes) {
    if (!(price > 1 && price < Infinity)) continue;
    const paid = net(bookmaker, price);
    const held = best[outcome];
    if (held === undefined || paid > held.net || (paid === held.net && bookmaker < held.bookmaker)) {
      best[outcome] = { price, net: paid, bookmaker };
    }
  }
  return best;
}

export interface MarketAggregate {
  /** Mean of the market list's prices. */
  average: number;
  /** Highest of them. */
  max: number;
  /** How many of the market list's bookmakers quoted the outcome. */
  bookmakers: number;
  /** The newest capture among them (ms). */
  capturedAt: number;
}

/**
 * Per outcome, the mean and maximum price of the fixed market list (anchor.ts, MARKET_BOOKMAKERS): what a live
 * provider has in place of football-data's `Avg*`/`Max*` columns. Other books (exchanges, aggregates, books off
 * the list) are left out, so the figure means the same whatever books a poll happens to return. Pass one quote
 * per bookmaker and outcome (the latest).
 */
export function marketAggregates<O extends string>(
  quotes: Iterable<BookmakerQuote<O> & { capturedAt: number }>,
): Partial<Record<O, MarketAggregate>> {
  const sums: Partial<Record<O, MarketAggregate & { sum: number }>> = {};
  for (const q of quotes) {
    if (!isMarketBookmaker(q.bookmaker)) continue;
    const held = sums[q.outcome];
    if (held === undefined) sums[q.outcome] = { sum: q.price, average: q.price, max: q.price, bookmakers: 1, capturedAt: q.capturedAt };
    else {
      held.sum += q.price;
      held.bookmakers++;
      held.max = Math.max(held.max, q.price);
      held.capturedAt = Math.max(held.capturedAt, q.capturedAt);
    }
  }
  const result: Partial<Record<O, MarketAggregate>> = {};
  for (const [outcome, { sum, max, bookmakers, capturedAt }] of Object.entries(sums) as Array<[O, MarketAggregate & { sum: number }]>) {
    result[outcome] = { average: sum / bookmakers, max, bookmakers, capturedAt };
  }
  return result;
}
