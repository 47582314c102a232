// A real season from data/football-data/*.csv, turned into what The Odds API would have shown live: events
// with The Odds API's team names and ids, and per bookmaker/market/outcome the pre-match and closing prices
// between which the replay moves.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPORT_DEFINITIONS } from '../../../src/domain/sports/catalog';
import { spellingsBetween } from '../../../src/domain/sports/definition';
import { competitionForDivision, FOOTBALL_DATA_SPORT } from '../../../src/providers/football-data/competitions';
import { FOOTBALL_DATA_PROVIDER, parseFootballDataCsv, type ParsedOdds } from '../../../src/providers/football-data/parse';
import { THE_ODDS_API_PROVIDER } from '../../../src/providers/the-odds-api/client';
import type { OddsMarket, OddsOutcome } from '../../../src/providers/types';

export const DEFAULT_DIVISIONS = ['E0', 'SP1', 'D1', 'I1', 'F1'] as const;

/** The Odds API's `sport_title` for the divisions in the repo. */
const SPORT_TITLES: Record<string, string> = {
  E0: 'EPL',
  SP1: 'La Liga - Spain',
  D1: 'Bundesliga - Germany',
  I1: 'Serie A - Italy',
  F1: 'Ligue 1 - France',
};

/** football-data bookmaker → The Odds API bookmaker key, title and the regions it is listed in. */
const BOOKMAKERS: Record<string, { key: string; title: string; regions: string[] }> = {
  pinnacle: { key: 'pinnacle', title: 'Pinnacle', regions: ['eu'] },
  bet365: { key: 'bet365', title: 'Bet365', regions: ['uk', 'eu'] },
  bwin: { key: 'bwin', title: 'Bwin', regions: ['eu'] },
  interwetten: { key: 'interwetten', title: 'Interwetten', regions: ['eu'] },
  william_hill: { key: 'williamhill', title: 'William Hill', regions: ['uk', 'eu'] },
  vc_bet: { key: 'betvictor', title: 'Bet Victor', regions: ['uk'] },
  ladbrokes: { key: 'ladbrokes_uk', title: 'Ladbrokes', regions: ['uk'] },
  '1xbet': { key: 'onexbet', title: '1xBet', regions: ['eu'] },
  betfair: { key: 'betfair_sb_uk', title: 'Betfair Sportsbook', regions: ['uk'] },
  coolbet: { key: 'coolbet', title: 'Coolbet', regions: ['eu'] },
};

export interface ReplayPrice {
  price: number;
  point: number | null;
}

export interface ReplayLine {
  market: OddsMarket;
  outcome: OddsOutcome;
  preMatch: ReplayPrice | null;
  closing: ReplayPrice | null;
}

export interface ReplayBookmaker {
  key: string;
  title: string;
  regions: string[];
  lines: ReplayLine[];
}

export interface ReplayEvent {
  id: string;
  division: string;
  sportKey: string;
  sportTitle: string;
  commenceTime: Date;
  /** When the pre-match prices were taken (football-data's Tuesday/Friday capture); the replay moves from here. */
  openAt: Date;
  homeTeam: string;
  awayTeam: string;
  /** The football-data names, so a test can find the CSV row (football events only). */
  footballData?: { homeTeam: string; awayTeam: string; externalId: string };
  /** The NBA archive's codes, key and US date (NBA events only, ./nba.ts). */
  nba?: { homeCode: string; awayCode: string; externalId: string; date: string };
  homeScore: number | null;
  awayScore: number | null;
  homeHalfTimeScore: number | null;
  awayHalfTimeScore: number | null;
  bookmakers: ReplayBookmaker[];
}

export interface SportInfo {
  key: string;
  /** The Odds API's `group`. */
  group: string;
  title: string;
  description: string;
  division: string;
}

export function sportInfo(division: string): SportInfo {
  if (division === 'NBA') return { key: 'basketball_nba', group: 'Basketball', title: 'NBA', description: 'US Basketball', division };
  const competition = competitionForDivision(division);
  return {
    key: competition.key,
    group: 'Soccer',
    title: SPORT_TITLES[division] ?? competition.name,
    description: competition.country ? `${competition.name} | ${competition.country}` : competition.name,
    division,
  };
}

/** The Odds API ids are 32 hex characters; an md5 of the CSV's natural key is stable across restarts. */
export function replayEventId(externalId: string): string {
  return createHash('md5').update(`odds-api-standin:${externalId}`).digest('hex');
}

/**
 * The Odds API's spelling of a football-data team, from data/sports/soccer.json; a team the file does not know
 * passes through as the archive spells it (the resolver then records it as unresolved, as a live rename would be).
 */
function oddsApiTeamNames(): (footballDataName: string) => string {
  const soccer = SPORT_DEFINITIONS.find((d) => d.key === FOOTBALL_DATA_SPORT);
  if (!soccer) throw new Error(`no sport data file declares ${FOOTBALL_DATA_SPORT}`);
  const names = spellingsBetween(soccer, FOOTBALL_DATA_PROVIDER, THE_ODDS_API_PROVIDER);
  return (name) => names.get(name) ?? name;
}

export function loadSeason(options: { dataDir: string; season: string; divisions?: readonly string[] }): ReplayEvent[] {
  const events: ReplayEvent[] = [];
  const oddsApiTeamName = oddsApiTeamNames();
  for (const division of options.divisions ?? DEFAULT_DIVISIONS) {
    const file = join(options.dataDir, `${division}_${options.season}.csv`);
    const parsed = parseFootballDataCsv(readFileSync(file, 'utf8'), file);
    const sport = sportInfo(division);
    for (const match of parsed.matches) {
      const openAt = match.odds.find((o) => o.phase === 'pre_match')?.capturedAt ?? new Date(match.startAt.getTime() - 3 * 86_400_000);
      events.push({
        id: replayEventId(match.externalId),
        division,
        sportKey: sport.key,
        sportTitle: sport.title,
        commenceTime: match.startAt,
        openAt,
        homeTeam: oddsApiTeamName(match.homeTeam),
        awayTeam: oddsApiTeamName(match.awayTeam),
        footballData: { homeTeam: match.homeTeam, awayTeam: match.awayTeam, externalId: match.externalId },
        homeScore: match.homeScore,
        awayScore: match.awayScore,
        homeHalfTimeScore: match.homeHalfTimeScore,
        awayHalfTimeScore: match.awayHalfTimeScore,
        bookmakers: bookmakersOf(match.odds),
      });
    }
  }
  return events.sort((a, b) => a.commenceTime.getTime() - b.commenceTime.getTime() || a.id.localeCompare(b.id));
}

function bookmakersOf(odds: ParsedOdds[]): ReplayBookmaker[] {
  const byBookmaker = new Map<string, Map<string, ReplayLine>>();
  for (const o of odds) {
    const info = BOOKMAKERS[o.bookmaker];
    if (!info) continue; // market_max / market_avg are aggregates, not bookmakers
    let lines = byBookmaker.get(o.bookmaker);
    if (!lines) byBookmaker.set(o.bookmaker, (lines = new Map()));
    const key = `${o.market}|${o.outcome}`;
    let line = lines.get(key);
    if (!line) lines.set(key, (line = { market: o.market, outcome: o.outcome as OddsOutcome, preMatch: null, closing: null }));
    line[o.phase === 'closing' ? 'closing' : 'preMatch'] = { price: o.price, point: o.point };
  }
  return [...byBookmaker].map(([name, lines]) => ({ ...BOOKMAKERS[name]!, lines: [...lines.values()] }));
}

const REQUIRED_OUTCOMES: Record<OddsMarket, OddsOutcome[]> = {
  h2h: ['home', 'draw', 'away'],
  spreads: ['home', 'away'],
  totals: ['over', 'under'],
};

export interface QuotedOutcome {
  outcome: OddsOutcome;
  price: number;
  point: number | null;
}

/**
 * A bookmaker's market as it stands at `now`: each price moves linearly from its pre-match value (at `openAt`,
 * and before it) to its closing value (at kick-off). A handicap whose line changed between the two cannot
 * move smoothly (football's totals are always 2.5; the NBA's move), so it shows the pre-match line and prices for the first half of the way and the closing
 * ones after. A market missing one of its outcomes is not quoted at all.
 */
export function quoteMarket(
  event: ReplayEvent,
  bookmaker: ReplayBookmaker,
  market: OddsMarket,
  now: Date,
  options: { jitter?: number } = {},
): QuotedOutcome[] | null {
  // The NBA's moneyline is 2-way: no draw.
  const required = market === 'h2h' && event.nba ? (['home', 'away'] as OddsOutcome[]) : REQUIRED_OUTCOMES[market];
  const lines = required.map((outcome) => bookmaker.lines.find((l) => l.market === market && l.outcome === outcome));
  if (lines.some((l) => !l || (!l.preMatch && !l.closing))) return null;
  const span = event.commenceTime.getTime() - event.openAt.getTime();
  const progress = span <= 0 ? 1 : Math.min(1, Math.max(0, (now.getTime() - event.openAt.getTime()) / span));
  const lineJumps = market !== 'h2h' && lines.some((l) => l!.preMatch && l!.closing && l!.preMatch.point !== l!.closing.point);
  return lines.map((l) => {
    const { preMatch, closing } = l!;
    if (!preMatch || !closing) {
      const only = (preMatch ?? closing)!;
      return { outcome: l!.outcome, price: only.price, point: only.point };
    }
    if (lineJumps) {
      const side = progress < 0.5 ? preMatch : closing;
      return { outcome: l!.outcome, price: side.price, point: side.point };
    }
    let price = preMatch.price + (closing.price - preMatch.price) * progress;
    if (options.jitter) price *= 1 + options.jitter * Math.min(1, 40 * progress * (1 - progress)) * wobble(event, bookmaker, market, l!.outcome, now);
    return { outcome: l!.outcome, price: Math.max(1.01, Math.round(price * 100) / 100), point: closing.point };
  });
}

/**
 * A deterministic wobble in [−1, 1] per line and 5-minute bucket: the site gives two prices per line, so at real
 * speed the line between them moves by less than a tick per poll; `npm start` adds this so odds visibly move.
 */
function wobble(event: ReplayEvent, bookmaker: ReplayBookmaker, market: OddsMarket, outcome: OddsOutcome, now: Date): number {
  const key = `${event.id}|${bookmaker.key}|${market}|${outcome}|${Math.floor(now.getTime() / 300_000)}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  // FNV-1a's last character barely moves the high bits; murmur3's finaliser spreads it over all of them.
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  hash ^= hash >>> 16;
  return ((hash >>> 0) / 0xffffffff) * 2 - 1;
}

/**
 * How replay time maps onto real time, so a replayed season can be served as live to clients that use the real
 * clock (`npm start`): an event at replay instant t is served at realStart + (t − replayStart) / speed.
 */
export interface ReplayTimeline {
  replayStart: Date;
  realStart: Date;
  /** Replay seconds per real second. */
  speed: number;
}

const WEEK_MS = 7 * 86_400_000;

/**
 * A timeline that puts `replayStart` at `realNow`. With `keepWeekdays` (the default) at speed 1, the shift is a
 * whole number of weeks instead, so every match keeps its weekday and kick-off hour (the replay's "now" is then
 * within half a week of replayStart); otherwise it is a whole number of minutes.
 */
/**
 * A second season on the same clock as `timeline`: `otherStart` (say the NBA's first tip-off) is put where
 * `start` (the football season's first kick-off) is, moved by whole days so every game keeps its hour of day.
 */
export function alignedTimeline(timeline: ReplayTimeline, start: Date, otherStart: Date): ReplayTimeline {
  const days = Math.round((start.getTime() - otherStart.getTime()) / 86_400_000);
  return { ...timeline, replayStart: new Date(timeline.replayStart.getTime() - days * 86_400_000) };
}

export function liveTimeline(replayStart: Date, realNow: Date, speed = 1, options: { keepWeekdays?: boolean } = {}): ReplayTimeline {
  if (!(speed > 0)) throw new RangeError(`speed must be positive, not ${speed}`);
  if (speed !== 1) return { replayStart, realStart: realNow, speed };
  const step = (options.keepWeekdays ?? true) ? WEEK_MS : 60_000;
  const shift = Math.round((realNow.getTime() - replayStart.getTime()) / step) * step;
  return { replayStart, realStart: new Date(replayStart.getTime() + shift), speed };
}

export function toRealTime(timeline: ReplayTimeline, replayTime: Date): Date {
  const ms = timeline.realStart.getTime() + (replayTime.getTime() - timeline.replayStart.getTime()) / timeline.speed;
  // Whole seconds: The Odds API's timestamps have no milliseconds, and a client must read back what was meant.
  return new Date(Math.round(ms / 1000) * 1000);
}

/** The events with kick-off and price-capture times moved onto the timeline; prices and scores move with them. */
export function onTimeline(events: readonly ReplayEvent[], timeline: ReplayTimeline): ReplayEvent[] {
  return events
    .map((e) => ({ ...e, commenceTime: toRealTime(timeline, e.commenceTime), openAt: toRealTime(timeline, e.openAt) }))
    .sort((a, b) => a.commenceTime.getTime() - b.commenceTime.getTime() || a.id.localeCompare(b.id));
}
