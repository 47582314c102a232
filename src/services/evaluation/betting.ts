/**
 * Flat-stake betting simulation and closing-line value (CLV).
 *
 * Conventions (also in docs/evaluation.md):
 * - Every outcome of a row whose EV = p × price − 1 is strictly above the threshold gets a 1-unit bet, so a
 *   row can carry bets on several outcomes. A winning bet returns price − 1, a losing one −1.
 * - ROI = profit / staked; null with no bets.
 * - Rows are settled in the order given (the report sorts by kick-off). The equity curve is the cumulative
 *   profit after each row that had a bet, because all bets on one match settle together; it starts from 0
 *   before the first bet, and the max drawdown is the largest fall from a running peak of that curve
 *   (peak included the starting 0), in units, reported as a non-negative number.
 * - CLV of a bet against the Pinnacle closing price c of the same outcome:
 *     clv = price_taken / c − 1                   (positive: the bet beat the close)
 *   and its margin-free version against the closing probability with the margin removed:
 *     clvMarginFree = p_close_fair × price_taken − 1
 *   (the bet's EV if the close were the truth). Both are averaged over the bets that have a closing price.
 */

import { expectedValue } from '../ev';
import { removeMargin, type MarginMethod } from '../../domain/odds';

export interface BetCandidate {
  matchId: string | number;
  /** Index of the outcome that happened. */
  label: number;
  /** The strategy's probabilities: the model's, or for the market value rule Pinnacle's margin-free ones. */
  probabilities: readonly number[];
  /** Decimal odds per outcome at the price source; null when the source has no complete price. */
  prices: readonly number[] | null;
  /** Pinnacle closing odds per outcome, for CLV; null or absent when there is no complete closing price. */
  closingPrices?: readonly number[] | null;
}

export interface BettingOptions {
  /** Bet when EV is strictly above this (0.05: at least +5% expected). */
  threshold: number;
  /** How the margin is removed from the closing prices for the margin-free CLV. */
  marginMethod: MarginMethod;
}

export interface ClvSummary {
  /** Bets with a Pinnacle closing price (the CLV means are over these). */
  bets: number;
  /** Bets whose match has no Pinnacle closing price. */
  missingClosing: number;
  /** Mean of price_taken / closing_price − 1; null without bets. */
  meanClv: number | null;
  /** Mean of p_close_fair × price_taken − 1; null without bets. */
  meanClvMarginFree: number | null;
  /** Share of those bets taken at a price above the close; null without bets. */
  beatClosingShare: number | null;
}

export interface BettingResult {
  threshold: number;
  /** Rows offered to the strategy. */
  rows: number;
  /** Rows skipped because the price source had no complete, valid price for them. */
  rowsWithoutPrice: number;
  bets: number;
  wins: number;
  staked: number;
  profit: number;
  roi: number | null;
  /** Mean decimal price of the bets taken; null without bets. */
  averagePrice: number | null;
  maxDrawdown: number;
  /** Cumulative profit after each row with at least one bet, in settlement order. */
  equityCurve: number[];
  clv: ClvSummary;
}

function isValidPriceVector(prices: readonly number[] | null | undefined, outcomes: number): prices is readonly number[] {
  if (!prices || prices.length !== outcomes) return false;
  for (const price of prices) if (!(price > 1 && price < Infinity)) return false;
  return true;
}

/** The largest peak-to-trough fall of a cumulative-profit curve that starts at 0 (≥ 0, in units). */
export function maxDrawdown(equityCurve: readonly number[]): number {
  let peak = 0;
  let worst = 0;
  for (const value of equityCurve) {
    if (!Number.isFinite(value)) throw new RangeError(`equity curve has a non-finite value: ${value}`);
    if (value > peak) peak = value;
    else if (peak - value > worst) worst = peak - value;
  }
  return worst;
}

/** CLV of one bet at `price` against the closing price: price / closingPrice − 1. */
export function closingLineValue(price: number, closingPrice: number): number {
  if (!(price > 1 && price < Infinity) || !(closingPrice > 1 && closingPrice < Infinity)) {
    throw new RangeError(`prices must be finite decimal odds > 1, got ${price} and ${closingPrice}`);
  }
  return price / closingPrice - 1;
}

/** Margin-free CLV of one bet: the EV at `price` if the margin-free closing probability were true. */
export function closingLineValueMarginFree(price: number, closingFairProbability: number): number {
  return expectedValue(closingFairProbability, price);
}

/** Bets 1 unit on every outcome with EV > threshold, in row order. */
export function simulateFlatBetting(rows: readonly BetCandidate[], options: BettingOptions): BettingResult {
  const { threshold, marginMethod } = options;
  if (!Number.isFinite(threshold)) throw new RangeError(`EV threshold must be finite, got ${threshold}`);
  let rowsWithoutPrice = 0;
  let bets = 0;
  let wins = 0;
  let profit = 0;
  let priceSum = 0;
  let clvBets = 0;
  let missingClosing = 0;
  let clvSum = 0;
  let clvFairSum = 0;
  let beatClosing = 0;
  const equityCurve: number[] = [];

  for (const row of rows) {
    const outcomes = row.probabilities.length;
    if (!isValidPriceVector(row.prices, outcomes)) {
      rowsWithoutPrice++;
      continue;
    }
    const closingPrices = isValidPriceVector(row.closingPrices, outcomes) ? row.closingPrices : null;
    let closingFair: number[] | null = null;
    let betOnRow = false;
    for (let o = 0; o < outcomes; o++) {
      const price = row.prices[o]!;
      if (!(expectedValue(row.probabilities[o]!, price) > threshold)) continue;
      betOnRow = true;
      bets++;
      priceSum += price;
      if (o === row.label) {
        wins++;
        profit += price - 1;
      } else {
        profit -= 1;
      }
      if (closingPrices) {
        closingFair ??= removeMargin(closingPrices, marginMethod).probabilities;
        const closing = closingPrices[o]!;
        clvBets++;
        clvSum += closingLineValue(price, closing);
        clvFairSum += closingLineValueMarginFree(price, closingFair[o]!);
        if (price > closing) beatClosing++;
      } else {
        missingClosing++;
      }
    }
    if (betOnRow) equityCurve.push(profit);
  }

  return {
    threshold,
    rows: rows.length,
    rowsWithoutPrice,
    bets,
    wins,
    staked: bets,
    profit,
    roi: bets > 0 ? profit / bets : null,
    averagePrice: bets > 0 ? priceSum / bets : null,
    maxDrawdown: maxDrawdown(equityCurve),
    equityCurve,
    clv: {
      bets: clvBets,
      missingClosing,
      meanClv: clvBets > 0 ? clvSum / clvBets : null,
      meanClvMarginFree: clvBets > 0 ? clvFairSum / clvBets : null,
      beatClosingShare: clvBets > 0 ? beatClosing / clvBets : null,
    },
  };
}
