// football-data.co.uk CSV → matches with results, statistics and odds snapshots. Pure TypeScript with no
// Node or Worker APIs, so the CLI importer and a future upload endpoint share it.
//
// The format is described in data/football-data/README.md. Both column generations are read: up to 2018/19
// the market maximum and average are BetBrain's (`BbMxH`, `BbAvH`, `BbAHh`...), from 2019/20 they are
// `MaxH`, `AvgH`, `AHh`, and closing prices (`PSCH`, `B365CH`, `MaxCH`...) sit beside the pre-match ones.
import type { MatchStats } from '../../db/schema';
import { parseCsv } from './csv';
import { preMatchCaptureTime, seasonOf } from '../../domain/calendar';

// The parser's own; they live in domain/calendar.ts because the feature timeline needs them too.
export { preMatchCaptureTime, seasonOf };

export const FOOTBALL_DATA_PROVIDER = 'football-data';

export type Market = 'h2h' | 'totals' | 'spreads';
export type Phase = 'pre_match' | 'closing';

export interface ParsedOdds {
  bookmaker: string;
  market: Market;
  outcome: string;
  point: number | null;
  price: number;
  phase: Phase;
  capturedAt: Date;
}

export interface ParsedMatch {
  line: number;
  division: string;
  season: string;
  externalId: string;
  startAt: Date;
  startTimeKnown: boolean;
  homeTeam: string;
  awayTeam: string;
  status: 'finished' | 'scheduled';
  homeScore: number | null;
  awayScore: number | null;
  homeHalfTimeScore: number | null;
  awayHalfTimeScore: number | null;
  stats: MatchStats | null;
  referee: string | null;
  odds: ParsedOdds[];
}

export interface RowProblem {
  file: string;
  line: number;
  reason: string;
}

export interface ParsedFile {
  file: string;
  matches: ParsedMatch[];
  /** Rows skipped whole: no usable date, teams or division, or a non-numeric result or statistic. */
  rejected: RowProblem[];
  /** Single prices dropped because they are not decimal odds above 1 (the rest of the row is kept). */
  invalidPrices: RowProblem[];
}

/** Bookmaker column prefixes. The closing twin of `XH` is `XCH`. */
const BOOKMAKERS: Record<string, string> = {
  B365: 'bet365',
  BW: 'bwin',
  IW: 'interwetten',
  LB: 'ladbrokes',
  PS: 'pinnacle',
  WH: 'william_hill',
  SJ: 'stan_james',
  VC: 'vc_bet',
  GB: 'gamebookers',
  BS: 'blue_square',
  SO: 'sporting_odds',
  SB: 'sportingbet',
  SY: 'stanleybet',
  '1XB': '1xbet',
  BF: 'betfair',
  BFE: 'betfair_exchange',
  CL: 'coolbet',
  BV: 'betvictor',
};
const MARKET_MAX = 'market_max';
const MARKET_AVG = 'market_avg';

interface PriceSet {
  bookmaker: string;
  market: Market;
  phase: Phase;
  /** outcome → column */
  columns: Record<string, string>;
  /** For spreads: the column holding the home side's handicap line. */
  lineColumn?: string;
}

function priceSets(): PriceSet[] {
  const sets: PriceSet[] = [];
  const h2h = (bookmaker: string, phase: Phase, prefix: string) =>
    sets.push({ bookmaker, market: 'h2h', phase, columns: { home: `${prefix}H`, draw: `${prefix}D`, away: `${prefix}A` } });
  const totals = (bookmaker: string, phase: Phase, prefix: string) =>
    sets.push({ bookmaker, market: 'totals', phase, columns: { over: `${prefix}>2.5`, under: `${prefix}<2.5` } });
  const spreads = (bookmaker: string, phase: Phase, prefix: string, lineColumn: string) =>
    sets.push({ bookmaker, market: 'spreads', phase, columns: { home: `${prefix}AHH`, away: `${prefix}AHA` }, lineColumn });

  for (const [prefix, bookmaker] of Object.entries(BOOKMAKERS)) {
    h2h(bookmaker, 'pre_match', prefix);
    h2h(bookmaker, 'closing', `${prefix}C`);
  }
  h2h(MARKET_MAX, 'pre_match', 'Max');
  h2h(MARKET_AVG, 'pre_match', 'Avg');
  h2h(MARKET_MAX, 'closing', 'MaxC');
  h2h(MARKET_AVG, 'closing', 'AvgC');
  h2h(MARKET_MAX, 'pre_match', 'BbMx');
  h2h(MARKET_AVG, 'pre_match', 'BbAv');

  // Over/under 2.5: Pinnacle is `P` here, not `PS`.
  for (const [prefix, bookmaker] of [
    ['B365', 'bet365'],
    ['P', 'pinnacle'],
    ['GB', 'gamebookers'],
    ['Max', MARKET_MAX],
    ['Avg', MARKET_AVG],
    ['BbMx', MARKET_MAX],
    ['BbAv', MARKET_AVG],
  ] as const) {
    totals(bookmaker, 'pre_match', prefix);
  }
  for (const [prefix, bookmaker] of [
    ['B365C', 'bet365'],
    ['PC', 'pinnacle'],
    ['MaxC', MARKET_MAX],
    ['AvgC', MARKET_AVG],
  ] as const) {
    totals(bookmaker, 'closing', prefix);
  }

  // Asian handicap: `AHh` (`BbAHh` before 2019/20) is the home line; closing prices use `AHCh`.
  for (const [prefix, bookmaker] of [
    ['B365', 'bet365'],
    ['P', 'pinnacle'],
    ['Max', MARKET_MAX],
    ['Avg', MARKET_AVG],
  ] as const) {
    spreads(bookmaker, 'pre_match', prefix, 'AHh');
    spreads(bookmaker, 'closing', `${prefix}C`, 'AHCh');
  }
  spreads(MARKET_MAX, 'pre_match', 'BbMx', 'BbAHh');
  spreads(MARKET_AVG, 'pre_match', 'BbAv', 'BbAHh');
  return sets;
}

const PRICE_SETS = priceSets();

const STAT_COLUMNS: Array<[keyof MatchStats['home'], string, string]> = [
  ['shots', 'HS', 'AS'],
  ['shotsOnTarget', 'HST', 'AST'],
  ['corners', 'HC', 'AC'],
  ['fouls', 'HF', 'AF'],
  ['yellowCards', 'HY', 'AY'],
  ['redCards', 'HR', 'AR'],
];

class RowError extends Error {}

/** `dd/mm/yy` or `dd/mm/yyyy` → [year, month, day], validated as a real calendar date. */
export function parseFootballDataDate(value: string): [number, number, number] {
  const m = value.trim().match(/^(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})$/);
  if (!m) throw new RowError(`Date "${value}" is not dd/mm/yy or dd/mm/yyyy`);
  const day = Number(m[1]);
  const month = Number(m[2]);
  let year = Number(m[3]);
  // Two-digit years: the site's data starts in 1993, so 93–99 are the 1900s.
  if (m[3]!.length === 2) year += year >= 90 ? 1900 : 2000;
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) {
    throw new RowError(`Date "${value}" is not a calendar date`);
  }
  return [year, month, day];
}

/** The UTC instant of a wall-clock time in the UK (the site's `Time` column is UK time for every league). */
export function ukTimeToUtc(year: number, month: number, day: number, hour: number, minute: number): Date {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  const bstStart = lastSundayUtc(year, 2) + 3_600_000; // 01:00 UTC, last Sunday of March
  const bstEnd = lastSundayUtc(year, 9) + 3_600_000; // 01:00 UTC, last Sunday of October
  const candidate = asUtc - 3_600_000;
  return new Date(candidate >= bstStart && candidate < bstEnd ? candidate : asUtc);
}

function lastSundayUtc(year: number, monthIndex: number): number {
  const last = new Date(Date.UTC(year, monthIndex + 1, 0));
  return Date.UTC(year, monthIndex, last.getUTCDate() - last.getUTCDay());
}

function intCell(row: Record<string, string>, column: string): number | null {
  const raw = row[column]?.trim();
  if (raw === undefined || raw === '') return null;
  const value = Number(raw);
  if (!Number.isFinite(value) || !Number.isInteger(value) || value < 0) {
    throw new RowError(`${column} "${raw}" is not a non-negative whole number`);
  }
  return value;
}

export function parseFootballDataCsv(text: string, file: string): ParsedFile {
  const records = parseCsv(text);
  const result: ParsedFile = { file, matches: [], rejected: [], invalidPrices: [] };
  const header = records.shift();
  if (!header) return result;
  const columns = header.fields.map((c) => c.trim());
  for (const required of ['Div', 'Date', 'HomeTeam', 'AwayTeam']) {
    if (!columns.includes(required)) {
      result.rejected.push({ file, line: header.line, reason: `header has no ${required} column; not a football-data.co.uk file` });
      return result;
    }
  }
  const present = new Set(columns);
  const sets = PRICE_SETS.filter((s) => Object.values(s.columns).some((c) => present.has(c)));

  const pending: Array<Omit<ParsedMatch, 'season' | 'externalId'> & { date: string }> = [];
  for (const record of records) {
    // Trailing rows of bare commas (or blank lines) are an artefact of spreadsheet exports, not data.
    if (record.fields.every((f) => f.trim() === '')) continue;
    const row: Record<string, string> = {};
    columns.forEach((c, i) => (row[c] = record.fields[i] ?? ''));
    try {
      if (record.fields.length > columns.length && record.fields.slice(columns.length).some((f) => f.trim() !== '')) {
        throw new RowError(`has ${record.fields.length} fields but the header has ${columns.length}`);
      }
      const division = row.Div!.trim();
      const homeTeam = row.HomeTeam!.trim();
      const awayTeam = row.AwayTeam!.trim();
      if (!division) throw new RowError('Div is empty');
      if (!homeTeam || !awayTeam) throw new RowError('HomeTeam or AwayTeam is empty');
      if (homeTeam === awayTeam) throw new RowError(`HomeTeam and AwayTeam are both "${homeTeam}"`);
      const [year, month, day] = parseFootballDataDate(row.Date!);
      const time = row.Time?.trim();
      let startAt: Date;
      let startTimeKnown = false;
      if (time) {
        const t = time.match(/^(\d{1,2}):(\d{2})$/);
        if (!t || Number(t[1]) > 23 || Number(t[2]) > 59) throw new RowError(`Time "${time}" is not hh:mm`);
        startAt = ukTimeToUtc(year, month, day, Number(t[1]), Number(t[2]));
        startTimeKnown = true;
      } else {
        startAt = new Date(Date.UTC(year, month - 1, day));
      }
      const homeScore = intCell(row, 'FTHG');
      const awayScore = intCell(row, 'FTAG');
      if ((homeScore === null) !== (awayScore === null)) throw new RowError('only one of FTHG and FTAG is set');
      const stats: MatchStats = { home: {}, away: {} };
      let anyStat = false;
      for (const [key, homeColumn, awayColumn] of STAT_COLUMNS) {
        const h = intCell(row, homeColumn);
        const a = intCell(row, awayColumn);
        if (h !== null || a !== null) anyStat = true;
        if (present.has(homeColumn)) stats.home[key] = h;
        if (present.has(awayColumn)) stats.away[key] = a;
      }

      const preMatchAt = preMatchCaptureTime(year, month, day);
      const odds: ParsedOdds[] = [];
      for (const set of sets) {
        let homeLine: number | null = null;
        if (set.lineColumn) {
          const raw = row[set.lineColumn]?.trim();
          if (!raw) continue;
          homeLine = Number(raw);
          if (!Number.isFinite(homeLine) || Math.abs(homeLine) > 20 || Math.round(homeLine * 4) !== homeLine * 4) {
            result.invalidPrices.push({ file, line: record.line, reason: `${set.lineColumn} "${raw}" is not a handicap line` });
            continue;
          }
        }
        for (const [outcome, column] of Object.entries(set.columns)) {
          const raw = row[column]?.trim();
          if (!raw) continue;
          const price = Number(raw);
          if (!Number.isFinite(price) || price <= 1) {
            result.invalidPrices.push({ file, line: record.line, reason: `${column} "${raw}" is not a decimal price above 1` });
            continue;
          }
          const point =
            set.market === 'totals' ? 2.5 : set.market === 'spreads' ? (outcome === 'home' ? homeLine! : -homeLine! || 0) : null;
          odds.push({
            bookmaker: set.bookmaker,
            market: set.market,
            outcome,
            point,
            price,
            phase: set.phase,
            capturedAt: set.phase === 'closing' ? startAt : preMatchAt,
          });
        }
      }

      pending.push({
        line: record.line,
        division,
        date: `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
        startAt,
        startTimeKnown,
        homeTeam,
        awayTeam,
        status: homeScore === null ? 'scheduled' : 'finished',
        homeScore,
        awayScore,
        homeHalfTimeScore: intCell(row, 'HTHG'),
        awayHalfTimeScore: intCell(row, 'HTAG'),
        stats: anyStat ? stats : null,
        referee: row.Referee?.trim() || null,
        odds: dedupeOdds(odds),
      });
    } catch (error) {
      if (!(error instanceof RowError)) throw error;
      result.rejected.push({ file, line: record.line, reason: error.message });
    }
  }

  // A season is a property of the file (one league-season each); a row's own month would put the
  // July games of a late-finishing season (2019/20) into the next one.
  const earliest = new Map<string, Date>();
  for (const m of pending) {
    const e = earliest.get(m.division);
    if (!e || m.startAt < e) earliest.set(m.division, m.startAt);
  }
  const seen = new Set<string>();
  for (const { date, ...m } of pending) {
    const externalId = `${m.division}:${date}:${m.homeTeam}:${m.awayTeam}`;
    if (seen.has(externalId)) {
      result.rejected.push({ file, line: m.line, reason: `duplicate of an earlier row (${externalId})` });
      continue;
    }
    seen.add(externalId);
    result.matches.push({ ...m, season: seasonOf(earliest.get(m.division)!), externalId });
  }
  return result;
}

/**
 * Old files carry BetBrain and new files Max/Avg columns for the same aggregate; a file with both (none
 * of ours, but a user's might) would produce two prices for one key. The first column set listed wins.
 */
function dedupeOdds(odds: ParsedOdds[]): ParsedOdds[] {
  const seen = new Set<string>();
  return odds.filter((o) => {
    const key = `${o.bookmaker}|${o.market}|${o.outcome}|${o.point}|${o.phase}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
