/**
 * Expected value, Kelly stakes and fair odds (the best price on the market is src/domain/odds/prices.ts).
 *
 * Shared by the Worker's hot path and the offline evaluation, so the value a user is shown and the value
 * the backtest bets on are the same arithmetic. Pure TypeScript: no Node or Worker APIs, no allocation.
 *
 * Prices are decimal odds (the total return of a 1-unit winning stake, stake included), so a price must be
 * finite and greater than 1. Probabilities are in [0, 1]. Anything else is a bug upstream (odds are
 * validated at ingestion, probabilities come from the model), so it throws a RangeError rather than letting
 * a NaN travel into a stored prediction.
 */

function assertProbability(p: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`probability must be in [0, 1], got ${p}`);
}

function assertPrice(price: number): void {
  if (!(price > 1 && price < Infinity)) throw new RangeError(`price must be finite decimal odds > 1, got ${price}`);
}

/** Expected profit of a 1-unit stake: `p × price − 1` (0.05 means +5% of the stake). */
export function expectedValue(p: number, price: number): number {
  assertProbability(p);
  assertPrice(price);
  return p * price - 1;
}

/**
 * The Kelly fraction of the bankroll to stake: `(p × price − 1) / (price − 1)`, i.e. EV divided by the net
 * odds `b = price − 1` (the textbook `(b·p − q) / b`).
 *
 * Clipped at 0: a negative value means "take the other side", which a bettor cannot do at a bookmaker's
 * price, so the stake is simply nothing. It is never above `p` (it equals `p` only as the price tends to
 * infinity), so it never exceeds 1.
 */
export function kelly(p: number, price: number): number {
  const ev = expectedValue(p, price);
  return ev > 0 ? ev / (price - 1) : 0;
}

/**
 * Fractional Kelly: `fraction × kelly(p, price)`. Staking a fraction (a quarter or a half is common) of the
 * full Kelly stake trades a little growth for much less variance, and is more forgiving of a probability
 * that is slightly too high. `fraction` must be in [0, 1].
 */
export function fractionalKelly(p: number, price: number, fraction: number): number {
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`Kelly fraction must be in [0, 1], got ${fraction}`);
  return fraction * kelly(p, price);
}

/** The price at which a bet with probability `p` has zero EV: `1 / p`. `Infinity` for `p = 0`. */
export function fairOdds(p: number): number {
  assertProbability(p);
  return 1 / p;
}
