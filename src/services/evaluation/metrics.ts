/**
 * Probabilistic forecast metrics on rows of class probabilities with integer labels.
 *
 * Conventions (also in docs/evaluation.md):
 * - A row is the probability of each class, in a fixed class order; a label is the index of the class that
 *   happened. Rows must sum to 1 within 1e-6; anything else (odds passed as probabilities, a missing
 *   softmax) throws instead of producing a plausible-looking number.
 * - accuracy: the share of rows whose most probable class is the label; ties go to the lowest index.
 * - Brier: Σ_k (p_k − y_k)² per row (y one-hot), averaged over rows. Range [0, 2]; not divided by the number
 *   of classes, so a 2-class Brier here is twice the textbook binary `(p − y)²`.
 * - log loss: −ln p_label averaged over rows, natural log, p_label clipped below at 1e-15 (so one
 *   impossible outcome costs ln(1e15) ≈ 34.5, not infinity). No other clipping or renormalisation.
 * - Reliability and classwise ECE: for each class k, rows are binned by p_k into B equal-width bins
 *   (B = 10: [0, 0.1), [0.1, 0.2), …, [0.9, 1.0]; bin = min(⌊p_k · B⌋, B − 1) in floating point). In a bin,
 *   conf = mean p_k and acc = the share of its rows whose label is k.
 *   ECE_k = Σ_bins (|bin| / N) · |acc − conf|; classwise ECE = the mean of ECE_k over the classes.
 */

export const DEFAULT_BINS = 10;
export const LOG_LOSS_EPSILON = 1e-15;
const ROW_SUM_TOLERANCE = 1e-6;

export type ProbabilityRows = readonly (readonly number[])[];

/** Throws unless the rows are a non-empty, rectangular set of probability vectors with valid labels. */
export function validateProbabilityRows(probabilities: ProbabilityRows, labels: readonly number[]): number {
  if (probabilities.length === 0) throw new RangeError('no rows to evaluate');
  if (probabilities.length !== labels.length) {
    throw new RangeError(`${probabilities.length} probability rows but ${labels.length} labels`);
  }
  const classes = probabilities[0]!.length;
  if (classes < 2) throw new RangeError(`a row needs at least 2 classes, got ${classes}`);
  for (let i = 0; i < probabilities.length; i++) {
    const row = probabilities[i]!;
    if (row.length !== classes) throw new RangeError(`row ${i} has ${row.length} classes, row 0 has ${classes}`);
    let sum = 0;
    for (const p of row) {
      if (!(p >= 0 && p <= 1)) throw new RangeError(`row ${i} has a probability outside [0, 1]: ${p}`);
      sum += p;
    }
    if (Math.abs(sum - 1) > ROW_SUM_TOLERANCE) throw new RangeError(`row ${i} sums to ${sum}, not 1`);
    const label = labels[i]!;
    if (!(Number.isInteger(label) && label >= 0 && label < classes)) {
      throw new RangeError(`label ${i} must be an integer class index in [0, ${classes}), got ${label}`);
    }
  }
  return classes;
}

function argmax(row: readonly number[]): number {
  let best = 0;
  for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
  return best;
}

export function accuracy(probabilities: ProbabilityRows, labels: readonly number[]): number {
  validateProbabilityRows(probabilities, labels);
  let correct = 0;
  for (let i = 0; i < probabilities.length; i++) if (argmax(probabilities[i]!) === labels[i]) correct++;
  return correct / probabilities.length;
}

/** Per-row multi-class Brier, Σ_k (p_k − y_k)². */
export function brierOfRow(row: readonly number[], label: number): number {
  let sum = 0;
  for (let k = 0; k < row.length; k++) {
    const d = row[k]! - (k === label ? 1 : 0);
    sum += d * d;
  }
  return sum;
}

export function brierScore(probabilities: ProbabilityRows, labels: readonly number[]): number {
  validateProbabilityRows(probabilities, labels);
  let sum = 0;
  for (let i = 0; i < probabilities.length; i++) sum += brierOfRow(probabilities[i]!, labels[i]!);
  return sum / probabilities.length;
}

/** Per-row log loss, −ln max(p_label, 1e-15). */
export function logLossOfRow(row: readonly number[], label: number): number {
  return -Math.log(Math.max(row[label]!, LOG_LOSS_EPSILON));
}

/** Per-row log losses, for paired comparisons and the bootstrap. */
export function logLosses(probabilities: ProbabilityRows, labels: readonly number[]): number[] {
  validateProbabilityRows(probabilities, labels);
  return probabilities.map((row, i) => logLossOfRow(row, labels[i]!));
}

export function logLoss(probabilities: ProbabilityRows, labels: readonly number[]): number {
  const losses = logLosses(probabilities, labels);
  let sum = 0;
  for (const l of losses) sum += l;
  return sum / losses.length;
}

export interface ReliabilityBin {
  /** Inclusive lower edge. */
  lower: number;
  /** Exclusive upper edge, except the last bin, which includes 1. */
  upper: number;
  count: number;
  /** Mean predicted probability of the class in this bin; null when the bin is empty. */
  meanPredicted: number | null;
  /** Share of the bin's rows whose label is the class; null when the bin is empty. */
  observedFrequency: number | null;
}

export interface ClassReliability {
  class: number;
  bins: ReliabilityBin[];
  /** Σ_bins (|bin| / N) · |observedFrequency − meanPredicted| for this class. */
  ece: number;
}

export type ReliabilityTable = ClassReliability[];

function binIndex(p: number, bins: number): number {
  return Math.min(Math.floor(p * bins), bins - 1);
}

/** Per class, per equal-width bin: count, mean predicted probability, observed frequency; and ECE_k. */
export function reliabilityTable(probabilities: ProbabilityRows, labels: readonly number[], bins = DEFAULT_BINS): ReliabilityTable {
  if (!(Number.isInteger(bins) && bins >= 1)) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  const classes = validateProbabilityRows(probabilities, labels);
  const n = probabilities.length;
  const table: ReliabilityTable = [];
  for (let k = 0; k < classes; k++) {
    const count = new Array<number>(bins).fill(0);
    const sumPredicted = new Array<number>(bins).fill(0);
    const hits = new Array<number>(bins).fill(0);
    for (let i = 0; i < n; i++) {
      const p = probabilities[i]![k]!;
      const b = binIndex(p, bins);
      count[b]!++;
      sumPredicted[b]! += p;
      if (labels[i] === k) hits[b]!++;
    }
    let ece = 0;
    const rows: ReliabilityBin[] = [];
    for (let b = 0; b < bins; b++) {
      const c = count[b]!;
      const meanPredicted = c > 0 ? sumPredicted[b]! / c : null;
      const observedFrequency = c > 0 ? hits[b]! / c : null;
      if (c > 0) ece += (c / n) * Math.abs(observedFrequency! - meanPredicted!);
      rows.push({ lower: b / bins, upper: (b + 1) / bins, count: c, meanPredicted, observedFrequency });
    }
    table.push({ class: k, bins: rows, ece });
  }
  return table;
}

/** Classwise ECE: the mean over classes of ECE_k (see the module comment). */
export function classwiseEce(probabilities: ProbabilityRows, labels: readonly number[], bins = DEFAULT_BINS): number {
  return eceOfTable(reliabilityTable(probabilities, labels, bins));
}

export function eceOfTable(table: ReliabilityTable): number {
  let sum = 0;
  for (const c of table) sum += c.ece;
  return sum / table.length;
}

export interface ProbabilityMetrics {
  rows: number;
  accuracy: number;
  brier: number;
  logLoss: number;
  /** Classwise ECE with `bins` equal-width bins. */
  ece: number;
}

/** Every scalar metric at once, with the reliability table they share. */
export function evaluateProbabilities(
  probabilities: ProbabilityRows,
  labels: readonly number[],
  bins = DEFAULT_BINS,
): { metrics: ProbabilityMetrics; reliability: ReliabilityTable } {
  const reliability = reliabilityTable(probabilities, labels, bins);
  return {
    metrics: {
      rows: probabilities.length,
      accuracy: accuracy(probabilities, labels),
      brier: brierScore(probabilities, labels),
      logLoss: logLoss(probabilities, labels),
      ece: eceOfTable(reliability),
    },
    reliability,
  };
}
