// American (moneyline) odds ⇄ decimal odds: the one conversion, for the NBA archive's importer, The Odds API
// stand-in's `oddsFormat=american`, and any US source after them.
//
// American odds name the favourite by what it takes to win 100 (−150: stake 150 to win 100) and the underdog by
// what 100 wins (+130: stake 100 to win 130). Decimal odds are the return per unit staked, stake included:
//   ml ≥ +100: 1 + ml/100        ml ≤ −100: 1 + 100/|ml|
// Values strictly between −100 and +100 are not American odds (+100 and −100 are both evens, 2.0).

/** The price both sides of a spread or a total carry when a source gives only the line: −110, "eleven to win ten". */
export const STANDARD_LINE_PRICE_AMERICAN = -110;

/** −110 as decimal odds: 1 + 100/110 = 21/11 = 1.90909… (stored as 1.909 in odds_snapshots' numeric(10, 3)). */
export const STANDARD_LINE_PRICE = 21 / 11;

export function isAmericanOdds(value: number): boolean {
  return Number.isFinite(value) && Math.abs(value) >= 100;
}

/** Decimal odds of an American price; a RangeError for anything that is not one. */
export function americanToDecimal(american: number): number {
  if (!isAmericanOdds(american)) throw new RangeError(`American odds must be ≤ −100 or ≥ +100, got ${String(american)}`);
  return american > 0 ? 1 + american / 100 : 1 + 100 / -american;
}

/** American odds of a decimal price, rounded to a whole number (the way books quote them); 2.0 is +100. */
export function decimalToAmerican(decimal: number): number {
  if (!(decimal > 1 && decimal < Infinity)) throw new RangeError(`decimal odds must be finite and above 1, got ${String(decimal)}`);
  return decimal >= 2 ? Math.round((decimal - 1) * 100) : Math.round(-100 / (decimal - 1));
}
