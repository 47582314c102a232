/**
 * A seeded, deterministic bootstrap for the mean of per-row values (here: the per-row log-loss difference
 * model − baseline on the same matches, so the pairing of rows is kept).
 *
 * - PRNG: mulberry32 (32-bit state, period 2³²), seeded with an unsigned 32-bit integer. Not
 *   cryptographic, but fast, uniform enough for resampling, and identical on every JavaScript runtime.
 * - Each resample draws N row indices uniformly with replacement (`⌊u · N⌋`) and takes the mean.
 * - Percentile interval: the (1 − c)/2 and (1 + c)/2 quantiles of the resampled means, with linear
 *   interpolation between order statistics (position h = (B − 1)·q, the "type 7" default of R and NumPy).
 */

export const DEFAULT_BOOTSTRAP_RESAMPLES = 1000;
export const DEFAULT_BOOTSTRAP_SEED = 20240519;
export const DEFAULT_CONFIDENCE = 0.95;

import { createPrng } from '../../lib/prng';

export { createPrng };

/** A report's recorded bootstrap settings: the caller's resamples and seed, else the defaults. */
export interface BootstrapSettings {
  resamples: number;
  seed: number;
  confidence: number;
}

export const bootstrapSettings = (options: { bootstrapResamples?: number; bootstrapSeed?: number }): BootstrapSettings => ({
  resamples: options.bootstrapResamples ?? DEFAULT_BOOTSTRAP_RESAMPLES,
  seed: options.bootstrapSeed ?? DEFAULT_BOOTSTRAP_SEED,
  confidence: DEFAULT_CONFIDENCE,
});

/** Quantile q of ascending `sorted` by linear interpolation at position (n − 1)·q. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of an empty sample');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`);
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
  confidence?: number;
}

export interface BootstrapInterval {
  /** The mean of the original values. */
  estimate: number;
  lower: number;
  upper: number;
  confidence: number;
  resamples: number;
  seed: number;
  rows: number;
}

/** The mean of `values` with a percentile bootstrap interval. */
export function bootstrapMeanInterval(values: readonly number[], options: BootstrapOptions = {}): BootstrapInterval {
  const resamples = options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
  const seed = options.seed ?? DEFAULT_BOOTSTRAP_SEED;
  const confidence = options.confidence ?? DEFAULT_CONFIDENCE;
  if (!(Number.isInteger(resamples) && resamples >= 1)) throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const n = values.length;
  if (n === 0) throw new RangeError('bootstrap of an empty sample');
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(values[i])) throw new RangeError(`value ${i} is not finite: ${values[i]}`);
  }

  let total = 0;
  for (let i = 0; i < n; i++) total += values[i]!;
  const random = createPrng(seed);
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(random() * n)]!;
    means[b] = sum / n;
  }
  means.sort();
  const tail = (1 - confidence) / 2;
  return {
    estimate: total / n,
    lower: quantileSorted(means, tail),
    upper: quantileSorted(means, 1 - tail),
    confidence,
    resamples,
    seed,
    rows: n,
  };
}
