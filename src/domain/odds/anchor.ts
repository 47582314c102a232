// The market anchor of a prediction: the margin-free price a model's correction starts from, and which
// books count for the market features and for a bet.
//
// One implementation for the training export (football-data history), the Worker (live lines) and the
// evaluation, so that the prior a model was trained on top of is the prior it is served on top of.
//
// - The anchor is Pinnacle's price with its margin removed: Pinnacle is the sharp book (low margin, high
//   limits, moves on information), so its margin-free price is the best public estimate to start from.
// - Without a complete Pinnacle book, the anchor is the consensus: the margin-free average price of the
//   fixed list of bookmakers below (football-data's own market average, `market_avg`, in the history).
// - Without either, there is no anchor (`none`): no probability, no EV and no Kelly is served, rather than
//   a number with nothing under it.
import { removeMargin, type MarginMethod } from './margin';
import type { PreMatchOdds } from '../../services/features';

/** The sharp bookmaker whose margin-free price is the prior. */
export const SHARP_BOOKMAKER = 'pinnacle';

/**
 * The Odds API keys (uk and eu regions) whose prices make the live "market average" and "market best"
 * features and the consensus anchor: fixed, so that the feature means the same thing from one poll to the
 * next whatever books a poll happens to return. Sportsbooks only: an exchange price is quoted before its
 * commission and moves with the matched volume, which football-data's averages (the training data) do not
 * include. Pinnacle is in the list because football-data's average and maximum include it.
 */
export const MARKET_BOOKMAKERS: readonly string[] = [
  'pinnacle',
  'bet365',
  'betclic',
  'betfair_sb_uk',
  'betsson',
  'betvictor',
  'betway',
  'bwin',
  'coolbet',
  'coral',
  'everygame',
  'interwetten',
  'ladbrokes_uk',
  'leovegas',
  'livescorebet',
  'marathonbet',
  'nordicbet',
  'onexbet',
  'paddypower',
  'skybet',
  'sport888',
  'tipico_de',
  'unibet_eu',
  'unibet_uk',
  'virginbet',
  'williamhill',
];

/** Betting exchanges (The Odds API keys, and football-data's `BFE`): a winning bet pays commission. */
export const EXCHANGE_BOOKMAKERS: readonly string[] = ['betfair_ex_uk', 'betfair_ex_eu', 'betfair_ex_au', 'matchbook', 'smarkets', 'betfair_exchange'];

/**
 * Aggregates of the history, not books one can bet at: football-data's market average and maximum, and the NBA
 * archive's consensus closing line (`consensus`, data/nba/README.md).
 */
export const AGGREGATE_BOOKMAKERS: readonly string[] = ['market_avg', 'market_max', 'consensus'];

const marketBookmakers = new Set(MARKET_BOOKMAKERS);
const exchanges = new Set(EXCHANGE_BOOKMAKERS);
const aggregates = new Set(AGGREGATE_BOOKMAKERS);

export const isMarketBookmaker = (bookmaker: string) => marketBookmakers.has(bookmaker);
export const isExchange = (bookmaker: string) => exchanges.has(bookmaker);
export const isAggregate = (bookmaker: string) => aggregates.has(bookmaker);

/**
 * The price a bettor is actually paid at: an exchange takes `commission` of the net winnings, so a quoted
 * price o pays 1 + (o − 1)(1 − commission); a bookmaker pays its price.
 */
export function priceAfterCommission(bookmaker: string, price: number, commission: number): number {
  if (!(commission >= 0 && commission < 1)) throw new RangeError(`exchange commission must be in [0, 1), got ${commission}`);
  return isExchange(bookmaker) ? 1 + (price - 1) * (1 - commission) : price;
}

/** The predicted markets and their outcomes, in the order anchors carry them. */
export const ANCHOR_OUTCOMES = {
  h2h: ['home', 'draw', 'away'],
  ou25: ['over', 'under'],
} as const;
export type AnchorMarket = keyof typeof ANCHOR_OUTCOMES;
export const ANCHOR_MARKETS = Object.keys(ANCHOR_OUTCOMES) as AnchorMarket[];

export type AnchorSource = 'pinnacle' | 'consensus' | 'none';

export type MarketAnchor =
  | {
      source: 'pinnacle' | 'consensus';
      marginMethod: MarginMethod;
      /** The decimal prices the anchor was made from, in ANCHOR_OUTCOMES order. */
      prices: number[];
      /** Their margin-free probabilities, in the same order, summing to 1. */
      probabilities: number[];
    }
  | { source: 'none'; marginMethod: MarginMethod; prices: null; probabilities: null };

function pricesOf(odds: PreMatchOdds, bookmaker: 'pinnacle' | 'market_avg', market: AnchorMarket): number[] | null {
  if (market === 'h2h') {
    const p = odds[bookmaker].h2h;
    return p ? [p.home, p.draw, p.away] : null;
  }
  const p = odds[bookmaker].overUnder25;
  return p ? [p.over, p.under] : null;
}

/**
 * The anchor of one market from the prices a prediction may use (selectPreMatchOdds: the latest pre-kick-off
 * price per source): Pinnacle if its book is complete, else the consensus average, else none.
 */
export function marketAnchor(odds: PreMatchOdds, market: AnchorMarket, marginMethod: MarginMethod): MarketAnchor {
  for (const [bookmaker, source] of [
    ['pinnacle', 'pinnacle'],
    ['market_avg', 'consensus'],
  ] as const) {
    const prices = pricesOf(odds, bookmaker, market);
    if (prices) return { source, marginMethod, prices, probabilities: removeMargin(prices, marginMethod).probabilities };
  }
  return { source: 'none', marginMethod, prices: null, probabilities: null };
}

export type MarketAnchors = Record<AnchorMarket, MarketAnchor>;

export const marketAnchors = (odds: PreMatchOdds, methods: Record<AnchorMarket, MarginMethod>): MarketAnchors => ({
  h2h: marketAnchor(odds, 'h2h', methods.h2h),
  ou25: marketAnchor(odds, 'ou25', methods.ou25),
});

/** What the model runtime takes of the anchors: their probabilities, null where a market has none. */
export const anchorProbabilities = (anchors: MarketAnchors) => ({ h2h: anchors.h2h.probabilities, ou25: anchors.ou25.probabilities });
