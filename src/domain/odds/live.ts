// The live picture of one match's market from its lines (each bookmaker's latest price per line): best price,
// margin-free median consensus, movement since opening and the market list's aggregates. The MatchOdds object
// computes it once per read and hands it out beside the lines; the prediction uses it as it is.
import { removeMargin } from './margin';
import { bestPriceByOutcome, marketAggregates, median } from './prices';

export type LiveMarket = 'h2h' | 'totals' | 'spreads';

/** The outcomes that make a complete book, per market; other outcome names are refused. */
export const MARKET_OUTCOMES: Record<LiveMarket, readonly string[]> = {
  h2h: ['home', 'draw', 'away'],
  totals: ['over', 'under'],
  spreads: ['home', 'away'],
};

/**
 * The h2h outcomes that make a complete book in a sport: football's 1X2 (the default, also for a match whose
 * sport is unknown) or a sport without draws (basketball's moneyline). The sport data file declares it
 * (`h2hOutcomes`, docs/sports.md).
 */
export const H2H_THREE_WAY = ['home', 'draw', 'away'] as const;
export const H2H_TWO_WAY = ['home', 'away'] as const;
export type H2hOutcomes = typeof H2H_THREE_WAY | typeof H2H_TWO_WAY;

/** The h2h outcome set a value names, or null when it is neither 3-way nor 2-way. */
export function asH2hOutcomes(value: unknown): H2hOutcomes | null {
  if (!Array.isArray(value)) return null;
  for (const set of [H2H_THREE_WAY, H2H_TWO_WAY]) {
    if (value.length === set.length && set.every((o, i) => value[i] === o)) return set;
  }
  return null;
}

/** One provider price of a line, as MatchOdds takes it. */
export interface OddsRowInput {
  bookmaker: string;
  market: LiveMarket;
  outcome: string;
  /** The line for totals and spreads (spreads: the line of that side); null for h2h. */
  point: number | null;
  /** Decimal odds, finite and > 1. */
  price: number;
  /** ISO-8601 instant. */
  capturedAt: string;
}

/** A line's latest price (bookmaker, market, outcome, point), with its opening. */
export interface LiveLine extends OddsRowInput {
  /** The price of the earliest capture seen for this line. */
  openingPrice: number;
  openingAt: string;
}

export interface BestLine {
  market: LiveMarket;
  point: number | null;
  outcome: string;
  price: number;
  bookmaker: string;
}

export interface ConsensusMarket {
  market: LiveMarket;
  /** The line; for spreads the home side's line (the away side of the same line carries the opposite sign). */
  point: number | null;
  method: 'multiplicative';
  /** Bookmakers quoting at least one outcome of this line. */
  bookmakers: number;
  /** Booksum of the median prices minus 1. */
  overround: number;
  outcomes: Array<{ outcome: string; medianPrice: number; probability: number }>;
}

export interface MovementSnapshot {
  /** Median of the bookmakers' prices. */
  consensusPrice: number;
  bestPrice: number;
  /** Margin-free probability of the consensus; null when the line's book is incomplete. */
  probability: number | null;
}

export interface Movement {
  market: LiveMarket;
  /** As in ConsensusMarket: spreads use the home side's line. */
  point: number | null;
  outcome: string;
  opening: MovementSnapshot;
  current: MovementSnapshot;
  /** current − opening, field by field (probability null when either side is null). */
  change: MovementSnapshot;
}

/** The market list's mean and maximum (prices.ts, marketAggregates) of one exact line and outcome. */
export interface AggregateLine {
  market: LiveMarket;
  point: number | null;
  outcome: string;
  average: number;
  max: number;
  bookmakers: number;
  /** The newest capture among them, ISO-8601. */
  capturedAt: string;
}

export interface Summary {
  best: BestLine[];
  consensus: ConsensusMarket[];
  movement: Movement[];
  aggregates: AggregateLine[];
}

interface Quote {
  bookmaker: string;
  market: LiveMarket;
  outcome: string;
  point: number | null;
  price: number;
}

/** The line a quote belongs to for consensus and movement: spreads pair home −x with away +x. */
export const bookPoint = (market: LiveMarket, outcome: string, point: number | null): number | null =>
  market === 'spreads' && outcome === 'away' && point !== null ? (point === 0 ? 0 : -point) : point;

interface BookSummary {
  market: LiveMarket;
  point: number | null;
  bookmakers: number;
  /** Per outcome of the book (in MARKET_OUTCOMES order, only the quoted ones): median and best price. */
  outcomes: Map<string, { median: number; best: number; bestBookmaker: string }>;
  /** Complete books only. */
  margin?: { overround: number; probabilities: Map<string, number> };
}

const groupKey = (market: string, point: number | null) => `${market}|${point === null ? '' : point}`;

function groupBy<T extends { market: LiveMarket }>(items: readonly T[], pointOf: (item: T) => number | null) {
  const groups = new Map<string, { market: LiveMarket; point: number | null; items: T[] }>();
  for (const item of items) {
    const point = pointOf(item);
    const key = groupKey(item.market, point);
    const group = groups.get(key);
    if (group) group.items.push(item);
    else groups.set(key, { market: item.market, point, items: [item] });
  }
  return groups;
}

/** Summarises quotes per (market, line): median and best price per outcome, and the margin-free consensus. */
function summariseBooks(quotes: readonly Quote[], h2h: H2hOutcomes): Map<string, BookSummary> {
  const expectedOf = (market: LiveMarket): readonly string[] => (market === 'h2h' ? h2h : MARKET_OUTCOMES[market]);
  const summaries = new Map<string, BookSummary>();
  for (const [key, group] of groupBy(quotes, (q) => bookPoint(q.market, q.outcome, q.point))) {
    const best = bestPriceByOutcome(group.items);
    const outcomes = new Map<string, { median: number; best: number; bestBookmaker: string }>();
    const expected = expectedOf(group.market);
    for (const outcome of expected) {
      const prices = group.items.filter((q) => q.outcome === outcome).map((q) => q.price);
      const top = best[outcome];
      if (prices.length > 0 && top) outcomes.set(outcome, { median: median(prices), best: top.price, bestBookmaker: top.bookmaker });
    }
    const summary: BookSummary = {
      market: group.market,
      point: group.point,
      bookmakers: new Set(group.items.map((q) => q.bookmaker)).size,
      outcomes,
    };
    if (expected.every((o) => outcomes.has(o))) {
      const removal = removeMargin(
        expected.map((o) => outcomes.get(o)!.median),
        'multiplicative',
      );
      summary.margin = {
        overround: removal.overround,
        probabilities: new Map(expected.map((o, i) => [o, removal.probabilities[i]!])),
      };
    }
    summaries.set(key, summary);
  }
  return summaries;
}

const MARKET_ORDER: Record<LiveMarket, number> = { h2h: 0, totals: 1, spreads: 2 };
const byLine = (a: { market: LiveMarket; point: number | null }, b: { market: LiveMarket; point: number | null }) =>
  MARKET_ORDER[a.market] - MARKET_ORDER[b.market] || (a.point ?? -Infinity) - (b.point ?? -Infinity);
const byOutcome = (a: { market: LiveMarket; outcome: string }, b: { market: LiveMarket; outcome: string }) =>
  MARKET_OUTCOMES[a.market].indexOf(a.outcome) - MARKET_OUTCOMES[b.market].indexOf(b.outcome);

/**
 * Best price, consensus, movement and the market list's aggregates of a match's lines. `h2h` is the match's
 * sport's h2h book: a 2-way moneyline is complete with home and away, a football h2h only with its draw too.
 * (A draw quoted in a 2-way sport still shows in best and aggregates, but is no part of the book.)
 */
export function summariseLines(lines: readonly LiveLine[], h2h: H2hOutcomes = H2H_THREE_WAY): Summary {
  const current = summariseBooks(lines, h2h);
  const opening = summariseBooks(
    lines.map((l) => ({ ...l, price: l.openingPrice })),
    h2h,
  );

  const best: BestLine[] = [];
  const aggregates: AggregateLine[] = [];
  for (const { market, point, items } of groupBy(lines, (l) => l.point).values()) {
    for (const [outcome, top] of Object.entries(bestPriceByOutcome(items))) {
      if (top) best.push({ market, point, outcome, price: top.price, bookmaker: top.bookmaker });
    }
    const quoted = items.map((l) => ({ ...l, capturedAt: Date.parse(l.capturedAt) }));
    for (const [outcome, a] of Object.entries(marketAggregates(quoted))) {
      if (a) aggregates.push({ market, point, outcome, average: a.average, max: a.max, bookmakers: a.bookmakers, capturedAt: new Date(a.capturedAt).toISOString() });
    }
  }
  best.sort((a, b) => byLine(a, b) || byOutcome(a, b));
  aggregates.sort((a, b) => byLine(a, b) || byOutcome(a, b));

  const consensus: ConsensusMarket[] = [];
  const movement: Movement[] = [];
  for (const [key, now] of [...current].sort(([, a], [, b]) => byLine(a, b))) {
    if (now.margin) {
      consensus.push({
        market: now.market,
        point: now.point,
        method: 'multiplicative',
        bookmakers: now.bookmakers,
        overround: now.margin.overround,
        outcomes: [...now.outcomes].map(([outcome, o]) => ({ outcome, medianPrice: o.median, probability: now.margin!.probabilities.get(outcome)! })),
      });
    }
    const then = opening.get(key)!;
    for (const [outcome, o] of now.outcomes) {
      const open = then.outcomes.get(outcome)!;
      const currentSnap: MovementSnapshot = { consensusPrice: o.median, bestPrice: o.best, probability: now.margin?.probabilities.get(outcome) ?? null };
      const openingSnap: MovementSnapshot = { consensusPrice: open.median, bestPrice: open.best, probability: then.margin?.probabilities.get(outcome) ?? null };
      movement.push({
        market: now.market,
        point: now.point,
        outcome,
        opening: openingSnap,
        current: currentSnap,
        change: {
          consensusPrice: currentSnap.consensusPrice - openingSnap.consensusPrice,
          bestPrice: currentSnap.bestPrice - openingSnap.bestPrice,
          probability: currentSnap.probability !== null && openingSnap.probability !== null ? currentSnap.probability - openingSnap.probability : null,
        },
      });
    }
  }
  return { best, consensus, movement, aggregates };
}
