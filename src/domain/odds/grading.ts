// How a bet on a 2-way line is graded once the score is known: win, loss, or push (void: the stake comes back).
// Spreads and totals are quoted at any line; an integer line can land exactly on the result, a half-point line
// (−4.5, 215.5) never can. Asian quarter lines (±0.25, ±0.75: football's handicaps) are two bets at the
// neighbouring lines, split stakes, and are refused here rather than graded as one.
//
// Conventions, the ones odds_snapshots uses (The Odds API's): a spread's `point` is the handicap of the side bet
// on (the favourite's is negative: home −4.5 means home must win by 5 or more; its opponent is quoted at +4.5);
// a total's `point` is the line for both `over` and `under`.

export type LineGrade = 'win' | 'loss' | 'push';

export interface FinalScore {
  home: number;
  away: number;
}

function checkScore(score: FinalScore): void {
  for (const side of ['home', 'away'] as const) {
    const v = score[side];
    if (!(Number.isInteger(v) && v >= 0)) throw new RangeError(`score.${side} must be a non-negative whole number, got ${String(v)}`);
  }
}

function checkLine(point: number): void {
  if (!Number.isFinite(point) || !Number.isInteger(point * 2)) {
    throw new RangeError(`a line must be a whole or half number (an Asian quarter line is two bets), got ${String(point)}`);
  }
}

const sign = (x: number): LineGrade => (x > 0 ? 'win' : x < 0 ? 'loss' : 'push');

/** A spread bet on `side` at its own handicap `point` (−4.5 for a 4.5-point favourite). */
export function gradeSpread(side: 'home' | 'away', point: number, score: FinalScore): LineGrade {
  checkScore(score);
  checkLine(point);
  const margin = side === 'home' ? score.home - score.away : score.away - score.home;
  return sign(margin + point);
}

/** A totals bet on `over` or `under` the line `point`. */
export function gradeTotal(side: 'over' | 'under', point: number, score: FinalScore): LineGrade {
  checkScore(score);
  checkLine(point);
  if (point < 0) throw new RangeError(`a total line cannot be negative, got ${point}`);
  const excess = score.home + score.away - point;
  return sign(side === 'over' ? excess : -excess);
}

/** A moneyline bet (2-way, no draw): a tie, where the sport allows one, returns the stake. */
export function gradeMoneyline(side: 'home' | 'away', score: FinalScore): LineGrade {
  checkScore(score);
  return sign(side === 'home' ? score.home - score.away : score.away - score.home);
}

/** A 1X2 bet (3-way: football's h2h): no push, the draw is an outcome of its own. */
export function gradeMatchResult(side: 'home' | 'draw' | 'away', score: FinalScore): LineGrade {
  checkScore(score);
  const result = score.home > score.away ? 'home' : score.home < score.away ? 'away' : 'draw';
  return side === result ? 'win' : 'loss';
}

/**
 * Any 2-way bet as odds_snapshots stores it: `h2h` home/away, `spreads` home/away with the side's point,
 * `totals` over/under with the line. A RangeError for an outcome the market does not have or a missing point.
 */
export function gradeLineBet(bet: { market: string; outcome: string; point: number | null }, score: FinalScore): LineGrade {
  const { market, outcome, point } = bet;
  if (market === 'h2h' && (outcome === 'home' || outcome === 'away')) return gradeMoneyline(outcome, score);
  if (market === 'spreads' && (outcome === 'home' || outcome === 'away') && point !== null) return gradeSpread(outcome, point, score);
  if (market === 'totals' && (outcome === 'over' || outcome === 'under') && point !== null) return gradeTotal(outcome, point, score);
  throw new RangeError(`cannot grade ${market} ${outcome}${point === null ? ' without a point' : ` ${point}`} as a 2-way bet`);
}

/**
 * Any bet as a prediction row stores it, in its sport's h2h book: with a draw in the book (football's 1X2) an h2h
 * bet is graded on the full-time result, a draw being an outcome of its own; without one (a 2-way moneyline) and
 * for spreads and totals, as a 2-way bet (gradeLineBet), a push returning the stake.
 */
export function gradeBet(
  bet: { market: string; outcome: string; point: number | null },
  score: FinalScore,
  h2hOutcomes: readonly string[],
): LineGrade {
  const { market, outcome } = bet;
  if (market === 'h2h' && h2hOutcomes.includes('draw') && (outcome === 'home' || outcome === 'draw' || outcome === 'away')) {
    return gradeMatchResult(outcome, score);
  }
  return gradeLineBet(bet, score);
}

/** Profit per unit staked at decimal `price`: a win pays price − 1, a loss costs the stake, a push returns it (0). */
export function profitPerUnit(grade: LineGrade, price: number): number {
  if (!(price > 1 && price < Infinity)) throw new RangeError(`decimal odds must be finite and above 1, got ${String(price)}`);
  return grade === 'win' ? price - 1 : grade === 'loss' ? -1 : 0;
}
