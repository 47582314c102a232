// The NBA archive's CSV (data/nba/README.md: sportsbookreviewsonline.com's NBA odds archives, one file per
// season) → games with final scores and the closing consensus lines as decimal prices. Pure TypeScript with no
// Node or Worker APIs, like the football-data parser.
//
// - Team codes (`okc`, `bkn`) are always the current franchise; the importer resolves them through
//   team_aliases (provider `sbr-nba`, declared in data/sports/basketball.json).
// - No tip-off times: `startAt` is 00:00 UTC of the (US) game date and `startTimeKnown` false, as football's
//   date-only kick-offs are stored. Every tip-off of that US date is later than this instant, so the closing
//   lines are captured at `startAt`: before tip-off, as football-data's closing prices are captured at kick-off.
// - Moneylines are American odds, converted to decimal. Spreads are the favourite's unsigned handicap: the
//   favourite gets `point = −spread`, the underdog `+spread` (0 for both in a pick'em). Spreads and totals carry
//   no prices in the archive, so each side is −110 (STANDARD_LINE_PRICE). A missing line is a missing price.
import { americanToDecimal, isAmericanOdds, STANDARD_LINE_PRICE } from '../../domain/odds/american';
import { parseCsv } from '../football-data/csv';
import type { RowProblem } from '../football-data/parse';

export type { RowProblem };

/** Matches, aliases and odds of the archive are filed under this provider (one label per sport: codes clash across sports). */
export const NBA_ARCHIVE_PROVIDER = 'sbr-nba';
/** The archive's one figure per line is the market's consensus closing line, not a bookmaker one can bet at. */
export const NBA_ARCHIVE_BOOKMAKER = 'consensus';
/** competitions.key of the NBA (The Odds API's sport key), declared in data/sports/basketball.json. */
export const NBA_COMPETITION_KEY = 'basketball_nba';

export type NbaMarket = 'h2h' | 'spreads' | 'totals';
export type NbaOutcome = 'home' | 'away' | 'over' | 'under';

export interface NbaOdds {
  market: NbaMarket;
  outcome: NbaOutcome;
  /** The side's handicap (spreads), the line (totals), null for the moneyline. */
  point: number | null;
  /** Decimal odds. */
  price: number;
}

export interface NbaGame {
  line: number;
  /** `2007-08` for the archive's season 2008 (the year it ends). */
  season: string;
  /** The US game date, `YYYY-MM-DD`. */
  date: string;
  /** `2007-10-30:por@sa`: date, away and home code. */
  externalId: string;
  startAt: Date;
  homeCode: string;
  awayCode: string;
  status: 'finished' | 'scheduled';
  homeScore: number | null;
  awayScore: number | null;
  odds: NbaOdds[];
  /**
   * Markets whose cell was there but unreadable (reported in invalidPrices): not the same as a missing line, so
   * an importer keeps what it stored for them before instead of treating them as withdrawn.
   */
  unreadable: NbaMarketSide[];
}

export interface NbaMarketSide {
  market: NbaMarket;
  outcome: NbaOutcome;
}

export interface ParsedNbaFile {
  file: string;
  games: NbaGame[];
  /** Rows skipped whole: no usable season, date, teams or score. */
  rejected: RowProblem[];
  /** Single lines dropped because they are not a price or a line (the rest of the row is kept). */
  invalidPrices: RowProblem[];
}

const REQUIRED = ['season', 'date', 'away', 'home', 'score_away', 'score_home'];

class RowError extends Error {}

function parseDate(value: string): string {
  const m = value.trim().match(/^(\d{4})-(\d{2})-(\d{2})$/);
  if (!m) throw new RowError(`date "${value}" is not YYYY-MM-DD`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) {
    throw new RowError(`date "${value}" is not a calendar date`);
  }
  return m[0];
}

function score(row: Record<string, string>, column: string): number | null {
  const raw = row[column]?.trim() ?? '';
  if (raw === '') return null;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 400) throw new RowError(`${column} "${raw}" is not a score`);
  return value;
}

/** A half-point line in [min, max], or null when the cell is empty; `problem` gets why a cell is unusable. */
function lineCell(row: Record<string, string>, column: string, min: number, max: number, problem: (reason: string) => void): number | null {
  const raw = row[column]?.trim() ?? '';
  if (raw === '') return null;
  const value = Number(raw);
  if (!Number.isFinite(value) || !Number.isInteger(value * 2) || value < min || value > max) {
    problem(`${column} "${raw}" is not a line (a whole or half number from ${min} to ${max})`);
    return null;
  }
  return value;
}

export function parseNbaArchiveCsv(text: string, file: string): ParsedNbaFile {
  const records = parseCsv(text);
  const result: ParsedNbaFile = { file, games: [], rejected: [], invalidPrices: [] };
  const header = records.shift();
  if (!header) return result;
  const columns = header.fields.map((c) => c.trim());
  for (const required of REQUIRED) {
    if (!columns.includes(required)) {
      result.rejected.push({ file, line: header.line, reason: `header has no ${required} column; not an NBA archive file (data/nba/README.md)` });
      return result;
    }
  }
  const seen = new Set<string>();
  for (const record of records) {
    if (record.fields.every((f) => f.trim() === '')) continue;
    const row: Record<string, string> = {};
    columns.forEach((c, i) => (row[c] = record.fields[i] ?? ''));
    const line = record.line;
    try {
      // A truncated row, or one with values past the header (empty trailing fields from a spreadsheet are fine).
      if (record.fields.length < columns.length || record.fields.slice(columns.length).some((f) => f.trim() !== '')) {
        throw new RowError(`has ${record.fields.length} fields but the header has ${columns.length}`);
      }
      const seasonRaw = row.season!.trim();
      if (!/^\d{4}$/.test(seasonRaw)) throw new RowError(`season "${seasonRaw}" is not the year a season ends`);
      const seasonEnd = Number(seasonRaw);
      const date = parseDate(row.date!);
      const year = Number(date.slice(0, 4));
      if (year !== seasonEnd && year !== seasonEnd - 1) throw new RowError(`date ${date} is not in season ${seasonEnd - 1}/${String(seasonEnd % 100).padStart(2, '0')}`);
      const homeCode = row.home!.trim().toLowerCase();
      const awayCode = row.away!.trim().toLowerCase();
      if (!homeCode || !awayCode) throw new RowError('home or away is empty');
      if (homeCode === awayCode) throw new RowError(`home and away are both "${homeCode}"`);
      const homeScore = score(row, 'score_home');
      const awayScore = score(row, 'score_away');
      if ((homeScore === null) !== (awayScore === null)) throw new RowError('only one of score_home and score_away is set');
      if (homeScore !== null && homeScore === awayScore) throw new RowError(`a tied final score (${homeScore}-${awayScore}): NBA games end with a winner`);

      const unreadable: NbaMarketSide[] = [];
      const unusable = (reason: string, ...sides: NbaMarketSide[]) => {
        result.invalidPrices.push({ file, line, reason });
        unreadable.push(...sides);
      };
      const spreadSides: NbaMarketSide[] = [{ market: 'spreads', outcome: 'home' }, { market: 'spreads', outcome: 'away' }];
      const totalSides: NbaMarketSide[] = [{ market: 'totals', outcome: 'over' }, { market: 'totals', outcome: 'under' }];
      const odds: NbaOdds[] = [];
      for (const [outcome, column] of [
        ['home', 'moneyline_home'],
        ['away', 'moneyline_away'],
      ] as const) {
        const raw = row[column]?.trim() ?? '';
        if (raw === '') continue;
        const american = Number(raw);
        if (!isAmericanOdds(american)) {
          unusable(`${column} "${raw}" is not American odds (≤ −100 or ≥ +100)`, { market: 'h2h', outcome });
          continue;
        }
        odds.push({ market: 'h2h', outcome, point: null, price: americanToDecimal(american) });
      }
      const spread = lineCell(row, 'spread', 0, 60, (reason) => unusable(reason, ...spreadSides));
      if (spread !== null) {
        const favoured = row.whos_favored?.trim().toLowerCase() ?? '';
        if (spread === 0) {
          odds.push({ market: 'spreads', outcome: 'home', point: 0, price: STANDARD_LINE_PRICE });
          odds.push({ market: 'spreads', outcome: 'away', point: 0, price: STANDARD_LINE_PRICE });
        } else if (favoured !== 'home' && favoured !== 'away') {
          unusable(`whos_favored "${row.whos_favored ?? ''}" is neither home nor away, so spread ${spread} has no side`, ...spreadSides);
        } else {
          const underdog = favoured === 'home' ? 'away' : 'home';
          odds.push({ market: 'spreads', outcome: favoured, point: -spread, price: STANDARD_LINE_PRICE });
          odds.push({ market: 'spreads', outcome: underdog, point: spread, price: STANDARD_LINE_PRICE });
        }
      }
      const total = lineCell(row, 'total', 50, 400, (reason) => unusable(reason, ...totalSides));
      if (total !== null) {
        odds.push({ market: 'totals', outcome: 'over', point: total, price: STANDARD_LINE_PRICE });
        odds.push({ market: 'totals', outcome: 'under', point: total, price: STANDARD_LINE_PRICE });
      }

      const externalId = `${date}:${awayCode}@${homeCode}`;
      if (seen.has(externalId)) throw new RowError(`duplicate of an earlier row (${externalId})`);
      seen.add(externalId);
      result.games.push({
        line,
        season: `${seasonEnd - 1}-${String(seasonEnd % 100).padStart(2, '0')}`,
        date,
        externalId,
        startAt: new Date(`${date}T00:00:00Z`),
        homeCode,
        awayCode,
        status: homeScore === null ? 'scheduled' : 'finished',
        homeScore,
        awayScore,
        odds,
        unreadable,
      });
    } catch (error) {
      if (!(error instanceof RowError)) throw error;
      result.rejected.push({ file, line, reason: error.message });
    }
  }
  return result;
}
