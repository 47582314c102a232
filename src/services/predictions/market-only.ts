// The market-only prediction: what a sport without an active model run is served (`model: null`). Pure (no I/O).
// A model that prices only some of a sport's markets (basketball's moneyline) starts from it too: its other
// markets stay exactly these (basketball.ts).
//
// There is no model to move the market's price, so the probability IS the market's margin-free probability,
// and fair odds are its inverse. What makes it worth serving is the rest: the best price a bettor is paid (among
// the books one can bet at, an exchange net of its commission) and the EV and Kelly of betting it against that
// margin-free price, exactly as a model's prediction computes them.
//
// Every line the match's MatchOdds object holds becomes a market: h2h in the sport's outcome set (a 2-way sport
// gets no draw even if some book quotes one), spreads at each line (the home side's handicap names it; home
// −4.5 pairs with away +4.5, and −4.5 and −5 are different lines) and totals at each line.
//
// The anchor of a line: Pinnacle's margin-free price when Pinnacle quotes its complete book; else the MatchOdds
// summary's consensus of the line (the margin-free median of every book quoting it, src/domain/odds/live.ts),
// which is what a `us` feed gives; else none, and then no probability, EV or Kelly. The margin is removed
// multiplicatively in both cases, since no model chose a method on a validation season; a model that prices a
// market passes the method its run chose (`marginMethods`), and that market's anchor is made with it, from
// Pinnacle's prices or the consensus's median prices.
//
// An integer line can push (a refunded stake). The books' prices are for a bet that is not void, so the
// margin-free probabilities are conditional on no push and sum to 1; EV and Kelly are then those of a bet that
// stands, which has the same sign as the unconditional EV (a push returns the stake: EV 0 on that part).
import type { LiveState } from '../../../durable-objects/match-odds';
import {
  bookPoint,
  MARKET_OUTCOMES,
  removeMargin,
  SHARP_BOOKMAKER,
  type H2hOutcomes,
  type LiveLine,
  type LiveMarket,
  type MarginMethod,
} from '../../domain/odds';
import { bestBettablePrices, outcomePrediction, type PredictionSettings } from './compute';
import type { MarketPrediction, MatchPrediction, OutcomePrediction, PredictedOutcome, PredictionAnchor } from './types';

/** How a market-only anchor removes the margin (see the header). */
export const MARKET_ONLY_MARGIN_METHOD: MarginMethod = 'multiplicative';

const HOUR_MS = 3_600_000;
const MARKET_ORDER: Record<LiveMarket, number> = { h2h: 0, spreads: 1, totals: 2 };

/** What the builder takes of the match's MatchOdds state: its lines and their margin-free consensus per line. */
export type MarketOnlyOdds = Pick<LiveState, 'lines' | 'consensus'>;

export interface MarketOnlyInput {
  matchId: number;
  /** ms. */
  kickoff: number;
  predictedAt: number;
  /** The sport's h2h book (data/sports/*.json `h2hOutcomes`). */
  h2hOutcomes: H2hOutcomes;
  odds: MarketOnlyOdds;
  settings: PredictionSettings;
  /** A market's margin method other than MARKET_ONLY_MARGIN_METHOD: the one a model pricing it was trained with. */
  marginMethods?: Partial<Record<LiveMarket, MarginMethod>>;
}

interface LineGroup {
  market: LiveMarket;
  /** null for h2h; the home side's handicap for spreads; the line for totals. */
  point: number | null;
  lines: LiveLine[];
}

/** The match's lines per (market, line), in response order: h2h, spreads by line, totals by line. */
function lineGroups(lines: readonly LiveLine[], h2h: H2hOutcomes): LineGroup[] {
  const groups = new Map<string, LineGroup>();
  for (const l of lines) {
    const outcomes: readonly string[] = l.market === 'h2h' ? h2h : MARKET_OUTCOMES[l.market];
    if (!outcomes?.includes(l.outcome)) continue;
    const point = l.market === 'h2h' ? null : bookPoint(l.market, l.outcome, l.point);
    if (l.market !== 'h2h' && point === null) continue;
    const key = `${l.market}|${point ?? ''}`;
    const group = groups.get(key);
    if (group) group.lines.push(l);
    else groups.set(key, { market: l.market, point, lines: [l] });
  }
  return [...groups.values()].sort((a, b) => MARKET_ORDER[a.market] - MARKET_ORDER[b.market] || (a.point ?? 0) - (b.point ?? 0));
}

interface Anchored {
  info: PredictionAnchor;
  /** Margin-free probability per outcome; null for none. */
  probabilities: Map<string, number> | null;
}

function describe(source: 'pinnacle' | 'consensus', used: readonly LiveLine[], kickoff: number, marginMethod: MarginMethod): PredictionAnchor {
  const lastUpdate = Math.max(...used.map((l) => Date.parse(l.capturedAt)));
  return {
    source,
    bookmakers: [...new Set(used.map((l) => l.bookmaker))].sort(),
    marginMethod,
    lastUpdate: new Date(lastUpdate).toISOString(),
    hoursToKickoff: (kickoff - lastUpdate) / HOUR_MS,
  };
}

/** Pinnacle's complete book, else the summary's consensus of the line, else none. */
function anchorOf(group: LineGroup, expected: readonly string[], odds: MarketOnlyOdds, kickoff: number, method: MarginMethod): Anchored {
  const pinnacle = group.lines.filter((l) => l.bookmaker === SHARP_BOOKMAKER);
  const pinnaclePrices = expected.map((o) => pinnacle.find((l) => l.outcome === o)?.price);
  if (pinnaclePrices.every((p): p is number => p !== undefined)) {
    const { probabilities } = removeMargin(pinnaclePrices, method);
    return { info: describe('pinnacle', pinnacle, kickoff, method), probabilities: new Map(expected.map((o, i) => [o, probabilities[i]!])) };
  }
  const consensus = odds.consensus.find((c) => c.market === group.market && c.point === group.point);
  const medians = expected.map((o) => consensus?.outcomes.find((c) => c.outcome === o)?.medianPrice);
  if (medians.every((p): p is number => p !== undefined)) {
    // The summary's probabilities are the medians' multiplicative margin removal; another method starts from the medians.
    const probabilities =
      method === MARKET_ONLY_MARGIN_METHOD
        ? new Map(consensus!.outcomes.map((o) => [o.outcome, o.probability]))
        : new Map(expected.map((o, i) => [o, removeMargin(medians, method).probabilities[i]!]));
    return { info: describe('consensus', group.lines, kickoff, method), probabilities };
  }
  return { info: { source: 'none', bookmakers: [], marginMethod: method, lastUpdate: null, hoursToKickoff: null }, probabilities: null };
}

function marketOf(group: LineGroup, h2h: H2hOutcomes, odds: MarketOnlyOdds, input: MarketOnlyInput): MarketPrediction {
  const expected: readonly PredictedOutcome[] = group.market === 'h2h' ? h2h : (MARKET_OUTCOMES[group.market] as readonly PredictedOutcome[]);
  const anchor = anchorOf(group, expected, odds, input.kickoff, input.marginMethods?.[group.market] ?? MARKET_ONLY_MARGIN_METHOD);
  const { exchangeCommission } = input.settings;
  const best = bestBettablePrices(group.lines, exchangeCommission);
  const outcomes: OutcomePrediction[] = expected.map((o) => {
    const p = anchor.probabilities?.get(o) ?? null;
    return outcomePrediction(o, p, p, best[o], input.settings);
  });
  const point = group.point;
  if (group.market === 'h2h') {
    return h2h.length === 3
      ? { kind: '1x2', market: 'h2h', point: null, anchor: anchor.info, outcomes: outcomes as OutcomePrediction<'home' | 'draw' | 'away'>[] }
      : { kind: 'moneyline', market: 'h2h', point: null, anchor: anchor.info, outcomes: outcomes as OutcomePrediction<'home' | 'away'>[] };
  }
  if (group.market === 'spreads') {
    // Each side carries its own handicap, next to its name: home −4.5 is away +4.5.
    const spreadOutcomes = (outcomes as OutcomePrediction<'home' | 'away'>[]).map(({ outcome, ...rest }) => ({
      outcome,
      point: bookPoint('spreads', outcome, point)!,
      ...rest,
    }));
    return { kind: 'spread', market: 'spreads', point: point!, anchor: anchor.info, outcomes: spreadOutcomes };
  }
  return { kind: 'total', market: 'totals', point: point!, anchor: anchor.info, outcomes: outcomes as OutcomePrediction<'over' | 'under'>[] };
}

/** The market-only prediction of a match from its MatchOdds state (see the header). */
export function buildMarketOnlyPrediction(input: MarketOnlyInput): MatchPrediction {
  return {
    matchId: input.matchId,
    model: null,
    modelRunId: null,
    featureVersion: null,
    predictedAt: new Date(input.predictedAt).toISOString(),
    kickoff: new Date(input.kickoff).toISOString(),
    kellyMultiplier: input.settings.kellyMultiplier,
    exchangeCommission: input.settings.exchangeCommission,
    markets: lineGroups(input.odds.lines, input.h2hOutcomes).map((g) => marketOf(g, input.h2hOutcomes, input.odds, input)),
  };
}
