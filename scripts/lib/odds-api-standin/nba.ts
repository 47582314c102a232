// A real NBA season from data/nba/nba_<season>.csv, turned into what The Odds API would show for
// `basketball_nba` in the `us` region: events with The Odds API's team names (data/sports/basketball.json) and,
// per bookmaker, moneyline, spread and total prices that move from an opening value to a closing one.
//
// SYNTHETIC PRICES BUILT AROUND REAL CLOSING LINES. The archive has one consensus closing figure per line and
// no tip-off times, so everything else here is made up, deterministically (a hash of the game and the book):
// - the closing moneyline is the archive's American odds, each book within about ±1.5 % of it;
// - the closing spread and total are the archive's lines at −110, and about one book in three shades its line
//   by ±0.5 with the prices moved around −110 to match (−115/−105);
// - the opening (a day before tip-off) spread is the closing one moved by up to ±1 point, the total by up to
//   ±1.5, the moneyline by up to ±2 %: the replay moves the lines towards the real close;
// - tip-off is 7:30 pm Eastern, 7 pm Central, Mountain or Pacific by the home team's time zone (as UTC on the
//   next day), within the same US date in every time zone, so the archive's date-only game is that date;
// - the final score is the archive's; there is no half-time score.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { americanToDecimal } from '../../../src/domain/odds/american';
import { SPORT_DEFINITIONS } from '../../../src/domain/sports/catalog';
import { NBA_COMPETITION_KEY, parseNbaArchiveCsv, type NbaGame } from '../../../src/providers/nba-archive/parse';
import type { OddsMarket, OddsOutcome } from '../../../src/providers/types';
import type { ReplayEvent, ReplayLine, ReplayPrice } from './season';

/** The replay's division label (ReplayEvent.division) for the NBA. */
export const NBA_DIVISION = 'NBA';
export const DEFAULT_NBA_SEASON = '2021-22';

/** US bookmakers of The Odds API's `us` region (keys and titles as the API has them). */
const NBA_BOOKMAKERS = [
  { key: 'draftkings', title: 'DraftKings' },
  { key: 'fanduel', title: 'FanDuel' },
  { key: 'betmgm', title: 'BetMGM' },
  { key: 'williamhill_us', title: 'Caesars' },
  { key: 'betrivers', title: 'BetRivers' },
  { key: 'bovada', title: 'Bovada' },
] as const;

/** Tip-off, in minutes after 00:00 UTC of the day after the US date, by the home team's time zone (winter time). */
const TIP_OFF_MINUTES: Record<string, number> = {
  ...Object.fromEntries('chi dal hou mem mil min no okc sa'.split(' ').map((c) => [c, 60])),
  ...Object.fromEntries('den utah phx'.split(' ').map((c) => [c, 120])),
  ...Object.fromEntries('gs lal lac sac por'.split(' ').map((c) => [c, 180])),
};
const EASTERN_TIP_OFF_MINUTES = 30;

const DAY_MS = 86_400_000;

/** A game's tip-off on the replay's clock: the evening of its US date. */
export function nbaTipOff(game: Pick<NbaGame, 'date' | 'homeCode'>): Date {
  return new Date(Date.parse(`${game.date}T00:00:00Z`) + DAY_MS + (TIP_OFF_MINUTES[game.homeCode] ?? EASTERN_TIP_OFF_MINUTES) * 60_000);
}

/** The Odds API's name of each franchise code: the data file's current name (also one of its `the-odds-api` spellings). */
function oddsApiNames(): Map<string, string> {
  const basketball = SPORT_DEFINITIONS.find((d) => d.competitions.some((c) => c.key === NBA_COMPETITION_KEY));
  if (!basketball) throw new Error(`no sport data file declares ${NBA_COMPETITION_KEY}`);
  return new Map(basketball.teams.flatMap((t) => (t.aliases['sbr-nba'] ?? []).map((code) => [code, t.name] as const)));
}

/** [0, 1) from a key: the same game and book always get the same synthetic prices. */
function unit(key: string): number {
  return createHash('md5').update(key).digest().readUInt32BE(0) / 0x1_0000_0000;
}

/** One of `choices`, chosen by the key. */
function pick<T>(key: string, choices: readonly T[]): T {
  return choices[Math.floor(unit(key) * choices.length)]!;
}

/** Decimal odds of an American price, to 2 places as the API gives them (−110 → 1.91). */
const american = (a: number): number => Math.round(americanToDecimal(a) * 100) / 100;

export function loadNbaSeason(options: { dataDir: string; season?: string }): ReplayEvent[] {
  const season = options.season ?? DEFAULT_NBA_SEASON;
  const file = join(options.dataDir, `nba_${season}.csv`);
  const parsed = parseNbaArchiveCsv(readFileSync(file, 'utf8'), file);
  const names = oddsApiNames();
  const events: ReplayEvent[] = [];
  for (const game of parsed.games) {
    const homeTeam = names.get(game.homeCode);
    const awayTeam = names.get(game.awayCode);
    if (!homeTeam || !awayTeam) throw new Error(`${file}:${game.line}: no Odds API name for ${homeTeam ? game.awayCode : game.homeCode}`);
    const commenceTime = nbaTipOff(game);
    events.push({
      id: createHash('md5').update(`odds-api-standin:nba:${game.externalId}`).digest('hex'),
      division: NBA_DIVISION,
      sportKey: NBA_COMPETITION_KEY,
      sportTitle: 'NBA',
      commenceTime,
      openAt: new Date(commenceTime.getTime() - DAY_MS),
      homeTeam,
      awayTeam,
      nba: { homeCode: game.homeCode, awayCode: game.awayCode, externalId: game.externalId, date: game.date },
      homeScore: game.homeScore,
      awayScore: game.awayScore,
      homeHalfTimeScore: null,
      awayHalfTimeScore: null,
      bookmakers: NBA_BOOKMAKERS.map((b) => ({ ...b, regions: ['us'], lines: linesOf(game, b.key) })),
    });
  }
  return events.sort((a, b) => a.commenceTime.getTime() - b.commenceTime.getTime() || a.id.localeCompare(b.id));
}

function linesOf(game: NbaGame, book: string): ReplayLine[] {
  const lines: ReplayLine[] = [];
  const price = (market: OddsMarket, outcome: OddsOutcome) => game.odds.find((o) => o.market === market && o.outcome === outcome);
  const key = (what: string) => `${game.externalId}|${what}`;

  const home = price('h2h', 'home');
  const away = price('h2h', 'away');
  if (home && away) {
    // The market opens up to 2 % away from the close, the same for every book; each book is within ±1.5 % of it.
    const drift = (unit(key('h2h-open')) * 2 - 1) * 0.02;
    for (const [side, quote, sign] of [['home', home, 1], ['away', away, -1]] as const) {
      const shade = 1 + (unit(key(`h2h|${book}|${side}`)) * 2 - 1) * 0.015;
      const closing = Math.max(1.01, quote.price * shade);
      lines.push({
        market: 'h2h',
        outcome: side,
        preMatch: { price: round2(Math.max(1.01, closing * (1 + sign * drift))), point: null },
        closing: { price: round2(closing), point: null },
      });
    }
  }

  // Spreads and totals: the archive's closing line at −110; a third of the books shade it by half a point.
  const twoSided = (market: 'spreads' | 'totals', first: OddsOutcome, second: OddsOutcome, openMoves: readonly number[]) => {
    const a = price(market, first);
    const b = price(market, second);
    if (!a || !b || a.point === null) return;
    const shade = pick(key(`${market}|${book}|shade`), [0, 0, 0, 0.5, -0.5, 0]);
    const open = pick(key(`${market}|open`), openMoves);
    // More points for a spread's side make it likelier to cover, so it costs more (−115 against −105); a higher
    // total makes the over less likely, so the over gets the better price.
    const favours = market === 'spreads' ? Math.sign(shade) : -Math.sign(shade);
    const juice = shade === 0 ? pick(key(`${market}|${book}|juice`), [0, 0, 5, -5]) : 5 * favours;
    // Spreads: `first`'s handicap is the line and its rival's the negative; totals: one line for both sides.
    const quote = (line: number, side: 'first' | 'second'): ReplayPrice => ({
      point: market === 'spreads' && side === 'second' ? 0 - line : line,
      price: american(side === 'first' ? -110 - juice : -110 + juice),
    });
    const line = a.point + shade;
    lines.push({ market, outcome: first, preMatch: quote(line + open, 'first'), closing: quote(line, 'first') });
    lines.push({ market, outcome: second, preMatch: quote(line + open, 'second'), closing: quote(line, 'second') });
  };
  twoSided('spreads', 'home', 'away', [-1, -0.5, 0, 0, 0.5, 1]);
  twoSided('totals', 'over', 'under', [-1.5, -1, -0.5, 0, 0.5, 1, 1.5]);
  return lines;
}

function round2(price: number): number {
  return Math.round(price * 100) / 100;
}

/** The bookmakers the NBA replay quotes (all in the `us` region). */
export const NBA_BOOKMAKER_KEYS: readonly string[] = NBA_BOOKMAKERS.map((b) => b.key);
