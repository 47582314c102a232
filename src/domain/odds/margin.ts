/**
 * Margin removal: the bookmaker's decimal odds of one market → probabilities that sum to 1.
 *
 * Used on the Worker's hot path (the margin-free market probability beside each prediction) and by the
 * evaluation (the Pinnacle and market-average baselines, CLV). Pure TypeScript, no Node or Worker APIs.
 *
 * Notation: for odds o_1..o_n, the implied probabilities are π_i = 1/o_i, the booksum is S = Σ π_i and the
 * overround (the margin) is S − 1 (0.05 is a 5% book).
 *
 * - `multiplicative`: p_i = π_i / S. Takes the margin off every outcome in proportion to its price.
 * - `shin` (Shin 1993): the bookmaker sets prices against a share z of insiders who know the result. Given z,
 *     p_i(z) = (√(z² + 4(1 − z) π_i² / S) − z) / (2(1 − z))
 *   (Jullien & Salanié 1994; Štrumbelj 2014), and z is the root in [0, 1) of Σ p_i(z) = 1. The forward
 *   model is π_i = √(z p_i + (1 − z) p_i²) · Σ_j √(z p_j + (1 − z) p_j²). For two outcomes this equals the
 *   additive method, p_i = π_i − (S − 1)/2 (Clarke, Kovalchik & Ingram 2017).
 * - `power`: p_i = π_i^k with k the root of Σ π_i^k = 1. Since every π_i < 1, Σ π_i^k falls as k grows,
 *   so k > 1 exactly when the overround is positive (k < 1 for a booksum below 1).
 *
 * Shin and power move more of the margin onto long shots than multiplicative does (the favourite-longshot
 * bias). Shin's z is found by bisection, which needs only a sign change and works for any number of
 * outcomes (the popular Jullien–Salanié fixed point divides by n − 2, so it cannot do a 2-way market); the
 * power k by Newton's method, which is safe there because the function is convex (see `removeMarginPower`).
 * After the root, probabilities are divided by their sum to remove the root finder's last ulps, so they sum
 * to 1 within a few ulps.
 *
 * A booksum below 1 (possible when prices come from different bookmakers) has no Shin solution with z ≥ 0,
 * since z is a share of money; Shin then reports z = 0 and the multiplicative probabilities. The power
 * method handles it naturally with k < 1.
 */

export const MARGIN_METHODS = ['multiplicative', 'shin', 'power'] as const;
export type MarginMethod = (typeof MARGIN_METHODS)[number];

interface MarginFree {
  /** Margin-free probabilities, in the order of the odds, summing to 1. */
  probabilities: number[];
  /** Σ 1/o_i − 1. */
  overround: number;
}

export type MarginRemoval =
  | (MarginFree & { method: 'multiplicative' })
  | (MarginFree & { method: 'shin'; /** The estimated share of insider money, in [0, 1). */ z: number })
  | (MarginFree & { method: 'power'; /** The exponent: p_i = (1/o_i)^k. */ k: number });

/** Shin bisection steps: the bracket halves each time, so 200 is far beyond the 53 bits a double holds. */
const MAX_BISECTIONS = 200;

/** The implied probabilities 1/o_i after validating the odds, and their sum. */
function impliedProbabilities(odds: readonly number[]): { implied: number[]; booksum: number } {
  if (!Array.isArray(odds) || odds.length < 2) {
    throw new RangeError(`a market needs at least 2 outcomes' odds, got ${Array.isArray(odds) ? odds.length : typeof odds}`);
  }
  const implied = new Array<number>(odds.length);
  let booksum = 0;
  for (let i = 0; i < odds.length; i++) {
    const o = odds[i]!;
    if (!(typeof o === 'number' && o > 1 && o < Infinity)) {
      throw new RangeError(`odds[${i}] must be finite decimal odds > 1, got ${String(o)}`);
    }
    implied[i] = 1 / o;
    booksum += implied[i]!;
  }
  return { implied, booksum };
}

function normalise(values: number[]): number[] {
  let sum = 0;
  for (const v of values) sum += v;
  for (let i = 0; i < values.length; i++) values[i] = values[i]! / sum;
  return values;
}

/** Multiplicative (basic) normalisation: p_i = (1/o_i) / Σ 1/o_j. */
export function removeMarginMultiplicative(odds: readonly number[]): MarginRemoval & { method: 'multiplicative' } {
  const { implied, booksum } = impliedProbabilities(odds);
  return { method: 'multiplicative', probabilities: normalise(implied), overround: booksum - 1 };
}

/** Σ p_i(z) for Shin's inverse formula; `scaled[i]` holds 4 π_i² / S. */
function shinSum(z: number, scaled: readonly number[]): number {
  let sum = 0;
  for (const s of scaled) sum += Math.sqrt(z * z + (1 - z) * s) - z;
  return sum / (2 * (1 - z));
}

/** Shin (1993), solved for the insider share z by bisection on [0, 1). */
export function removeMarginShin(odds: readonly number[]): MarginRemoval & { method: 'shin' } {
  const { implied, booksum } = impliedProbabilities(odds);
  const overround = booksum - 1;
  if (booksum <= 1) return { method: 'shin', probabilities: normalise(implied), overround, z: 0 };

  const scaled = implied.map((pi) => (4 * pi * pi) / booksum);
  // Σ p_i(0) = √S > 1, and Σ p_i(z) → Σ π_i² / S < 1 as z → 1, so [0, 1) brackets the root.
  let lo = 0;
  let hi = 1;
  for (let step = 0; step < MAX_BISECTIONS; step++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    if (shinSum(mid, scaled) > 1) lo = mid;
    else hi = mid;
  }
  const z = lo;
  const probabilities = scaled.map((s) => (Math.sqrt(z * z + (1 - z) * s) - z) / (2 * (1 - z)));
  return { method: 'shin', probabilities: normalise(probabilities), overround, z };
}

/** Newton steps for the power method; it converges quadratically, so this cap is never the reason to stop. */
const MAX_NEWTON_STEPS = 100;

/**
 * The power method: p_i = (1/o_i)^k with Σ (1/o_i)^k = 1.
 *
 * f(k) = Σ π_i^k − 1 is strictly decreasing and convex (a sum of exponentials e^{k ln π_i} with ln π_i < 0),
 * so Newton's method started left of the root (k = 1 when S > 1, where f = S − 1 > 0; k = 0 when S < 1,
 * where f = n − 1 > 0) climbs monotonically to the root without overshooting. It needs about 5 steps where
 * bisection needs 50+, which matters on the Worker's hot path (Math.exp is the cost).
 */
export function removeMarginPower(odds: readonly number[]): MarginRemoval & { method: 'power' } {
  const { implied, booksum } = impliedProbabilities(odds);
  const overround = booksum - 1;
  if (booksum === 1) return { method: 'power', probabilities: normalise(implied), overround, k: 1 };

  const logs = implied.map(Math.log);
  let k = booksum > 1 ? 1 : 0;
  for (let step = 0; step < MAX_NEWTON_STEPS; step++) {
    let f = -1;
    let slope = 0;
    for (const l of logs) {
      const term = Math.exp(k * l);
      f += term;
      slope += l * term;
    }
    // f ≤ 0: at the root to within rounding (exact Newton never passes it).
    if (!(f > 0)) break;
    const next = k - f / slope;
    if (!(next > k)) break;
    k = next;
  }
  const probabilities = logs.map((l) => Math.exp(k * l));
  return { method: 'power', probabilities: normalise(probabilities), overround, k };
}

/**
 * Margin-free probabilities of one market by the named method. Throws a RangeError for fewer than two
 * outcomes or any odds that are not finite and above 1, and for an unknown method.
 */
export function removeMargin(odds: readonly number[], method: MarginMethod): MarginRemoval {
  switch (method) {
    case 'multiplicative':
      return removeMarginMultiplicative(odds);
    case 'shin':
      return removeMarginShin(odds);
    case 'power':
      return removeMarginPower(odds);
    default:
      throw new RangeError(`unknown margin removal method ${JSON.stringify(method)}; expected one of ${MARGIN_METHODS.join(', ')}`);
  }
}
