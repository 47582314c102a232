// The NBA archive importer on real files (data/nba/, two full seasons 14 years apart) in a database of its own:
// every game once, known scores and prices, one team per franchise across a relocation, a second run that adds
// nothing, and broken rows reported as file:line.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMatches } from '../../scripts/lib/features/matrix';
import { importNbaArchive, NBA_DATA_DIR, type NbaImportSummary } from '../../scripts/lib/nba/import';
import { parseCsv } from '../../src/providers/football-data/csv';
import { isolatedDatabase } from './support/isolated-database';

const run = promisify(execFile);
const db = isolatedDatabase();
const SEASONS = ['nba_2007-08.csv', 'nba_2021-22.csv'];
const real = (file: string) => join(NBA_DATA_DIR, file);
let scratch: string;
let first: NbaImportSummary;

/** Games and prices a file should give, counted straight from its cells: one game a row, a price a non-empty cell. */
async function expectedFrom(file: string) {
  const [header, ...rows] = parseCsv(await readFile(real(file), 'utf8'));
  const at = (fields: string[], name: string) => fields[header!.fields.indexOf(name)]!.trim();
  let prices = 0;
  for (const { fields } of rows) {
    prices += ['moneyline_home', 'moneyline_away'].filter((c) => at(fields, c) !== '').length;
    prices += 2 * ['spread', 'total'].filter((c) => at(fields, c) !== '').length;
  }
  return { games: rows.length, prices };
}

async function game(externalId: string) {
  const { rows } = await db.pool.query(
    `select m.id::int as id, m.season, m.start_at, m.start_time_known, m.status, m.home_score, m.away_score, c.key as competition,
            s.key as sport, m.home_team_id, m.away_team_id, h.name as home, a.name as away, m.odds_captured_from, m.odds_captured_to
     from matches m join competitions c on c.id = m.competition_id join sports s on s.id = m.sport_id
     join teams h on h.id = m.home_team_id join teams a on a.id = m.away_team_id
     where m.provider = 'sbr-nba' and m.external_match_id = $1`,
    [externalId],
  );
  expect(rows, externalId).toHaveLength(1);
  return rows[0];
}

async function prices(matchId: number) {
  const { rows } = await db.pool.query<{ line: string }>(
    `select concat_ws(' ', provider, bookmaker, phase, market, outcome, point::float8, price::float8, to_char(captured_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"')) as line
     from odds_snapshots where match_id = $1 order by market, outcome`,
    [matchId],
  );
  return rows.map((r) => r.line);
}

const count = async (sql: string) => Number((await db.pool.query(sql)).rows[0].n);

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'senzu-nba-'));
  first = await importNbaArchive(db.pool, SEASONS.map(real));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('NBA archive importer on two real seasons', () => {
  it('stores every game once and every line as a price, as the CSV counts them', async () => {
    const expected = await Promise.all(SEASONS.map(expectedFrom));
    expect(first.failedFiles).toBe(0);
    expect(first.rejected).toEqual([]);
    expect(first.files.map((f) => f.matches)).toEqual(expected.map((e) => ({ inserted: e.games, updated: 0, unchanged: 0 })));
    expect(first.files.map((f) => f.odds.inserted)).toEqual(expected.map((e) => e.prices));
    expect(expected.map((e) => e.games)).toEqual([1316, 1323]); // the CSVs' line counts less their headers
    expect(await count(`select count(*) as n from matches m join competitions c on c.id = m.competition_id where c.key = 'basketball_nba'`)).toBe(1316 + 1323);
    expect(await count(`select count(*) as n from odds_snapshots where provider = 'sbr-nba'`)).toBe(expected[0]!.prices + expected[1]!.prices);
    // 2007/08 has one game without moneylines: a missing price, never a zero
    expect(expected[0]!.prices).toBe(1316 * 6 - 2);
  });

  it('stores a game as a match of the NBA on its date, time unknown, with the final score', async () => {
    expect(await game('2007-10-30:por@sa')).toMatchObject({
      sport: 'basketball',
      competition: 'basketball_nba',
      season: '2007-08',
      start_at: new Date('2007-10-30T00:00:00Z'),
      start_time_known: false,
      status: 'finished',
      home: 'San Antonio Spurs',
      away: 'Portland Trail Blazers',
      home_score: 106,
      away_score: 97,
      odds_captured_from: new Date('2007-10-30T00:00:00Z'),
      odds_captured_to: new Date('2007-10-30T00:00:00Z'),
    });
  });

  it('stores the closing lines as decimal prices: moneylines converted, spreads signed, -110 where only the line is given', async () => {
    // 2007-10-30 por at sa: home favoured by 13, total 189.5, moneylines +900 / -1400
    expect(await prices((await game('2007-10-30:por@sa')).id)).toEqual([
      'sbr-nba consensus closing h2h away 10 2007-10-30T00:00Z',
      'sbr-nba consensus closing h2h home 1.071 2007-10-30T00:00Z', // 1 + 100/1400
      'sbr-nba consensus closing spreads away 13 1.909 2007-10-30T00:00Z',
      'sbr-nba consensus closing spreads home -13 1.909 2007-10-30T00:00Z',
      'sbr-nba consensus closing totals over 189.5 1.909 2007-10-30T00:00Z',
      'sbr-nba consensus closing totals under 189.5 1.909 2007-10-30T00:00Z',
    ]);
    // 2021-10-19 gs at lal: home favoured by 3.5, total 226.5, moneylines +140 / -160
    const lal = await game('2021-10-19:gs@lal');
    expect(lal).toMatchObject({ season: '2021-22', home: 'Los Angeles Lakers', away: 'Golden State Warriors', home_score: 114, away_score: 121 });
    expect(await prices(lal.id)).toEqual([
      'sbr-nba consensus closing h2h away 2.4 2021-10-19T00:00Z',
      'sbr-nba consensus closing h2h home 1.625 2021-10-19T00:00Z', // 1 + 100/160
      'sbr-nba consensus closing spreads away 3.5 1.909 2021-10-19T00:00Z',
      'sbr-nba consensus closing spreads home -3.5 1.909 2021-10-19T00:00Z',
      'sbr-nba consensus closing totals over 226.5 1.909 2021-10-19T00:00Z',
      'sbr-nba consensus closing totals under 226.5 1.909 2021-10-19T00:00Z',
    ]);
  });

  it('keeps a relocated franchise one team: okc is Seattle in 2007/08 and Oklahoma City in 2021/22', async () => {
    const seattle = await game('2007-10-31:okc@den'); // the SuperSonics' first game in the archive
    const { rows } = await db.pool.query<{ team_id: number; seasons: string[] }>(
      `select t.team_id, array_agg(distinct m.season order by m.season) as seasons
       from matches m cross join lateral (values (m.home_team_id), (m.away_team_id)) as t(team_id)
       join team_aliases a on a.team_id = t.team_id and a.provider = 'sbr-nba' and a.alias = 'okc'
       where m.provider = 'sbr-nba' group by t.team_id`,
    );
    expect(rows).toEqual([{ team_id: seattle.away_team_id, seasons: ['2007-08', '2021-22'] }]);
    expect(seattle.away).toBe('Oklahoma City Thunder');
    const nets = await count(`select count(distinct t.id) as n from teams t join team_aliases a on a.team_id = t.id where a.alias in ('bkn', 'New Jersey Nets', 'Brooklyn Nets')`);
    expect(nets).toBe(1);
  });

  it("stays out of football's training export (its 72 features are football's)", async () => {
    expect(await loadMatches(db.pool)).toEqual([]);
  });

  it('adds nothing on a second run', async () => {
    const again = await importNbaArchive(db.pool, SEASONS.map(real));
    expect(again.matches).toEqual({ inserted: 0, updated: 0, unchanged: 1316 + 1323 });
    expect(again.odds).toEqual({ inserted: 0, updated: 0, unchanged: first.odds.inserted, removed: 0 });
    expect(await count(`select count(*) as n from ingestion_jobs where provider = 'sbr-nba' and status = 'succeeded'`)).toBe(4);
  });
});

describe('NBA archive importer on broken and corrected rows', () => {
  /** The header and the first `rows` games of a real season, with lines rewritten by 1-based line number. */
  async function excerpt(name: string, rows: number, edit: (line: string, lineNo: number) => string = (l) => l) {
    const lines = (await readFile(real('nba_2021-22.csv'), 'utf8')).split('\n').slice(0, rows + 1);
    const path = join(scratch, name);
    await writeFile(path, lines.map((l, i) => edit(l, i + 1)).join('\n') + '\n');
    return path;
  }
  const cells = (line: string, changes: Record<number, string>) => line.split(',').map((c, i) => changes[i] ?? c).join(',');
  // columns: 0 season, 1 date, 4 away, 5 home, 6 score_away, 7 score_home, 18 whos_favored, 19 spread, 20 total, 21/22 moneylines

  it('skips rows that cannot be a game and reports each as file:line, the CLI too; a bad price drops only that price', async () => {
    const path = await excerpt('broken-2021-22.csv', 12, (line, n) => {
      if (n === 3) return cells(line, { 1: '2021-02-30' }); // not a calendar date
      if (n === 4) return cells(line, { 5: 'sea' }); // not a code of the data file
      if (n === 5) return cells(line, { 7: '' }); // half a score
      if (n === 6) return cells(line, { 21: '8' }); // a moneyline that is not American odds
      if (n === 7) return line.split(',').slice(0, 10).join(','); // a truncated row
      return line;
    });
    const summary = await importNbaArchive(db.pool, [path]);
    expect(summary.rejected).toEqual([
      { file: 'broken-2021-22.csv', line: 3, reason: 'date "2021-02-30" is not a calendar date' },
      { file: 'broken-2021-22.csv', line: 4, reason: 'unknown team code "sea" (not an sbr-nba alias in data/sports/basketball.json)' },
      { file: 'broken-2021-22.csv', line: 5, reason: 'only one of score_home and score_away is set' },
      { file: 'broken-2021-22.csv', line: 7, reason: 'has 10 fields but the header has 27' },
    ]);
    expect(summary.invalidPrices).toEqual([{ file: 'broken-2021-22.csv', line: 6, reason: 'moneyline_away "8" is not American odds (≤ −100 or ≥ +100)' }]);
    // The 7 good rows are games the two-season import already holds; line 6's game is kept too, its prices unchanged.
    expect(summary.matches).toEqual({ inserted: 0, updated: 0, unchanged: 8 });
    expect(summary.odds).toEqual({ inserted: 0, updated: 0, unchanged: 8 * 6 - 1, removed: 0 });

    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/import-nba.ts', '--', path], {
      env: { ...process.env, DATABASE_URL: db.url },
    });
    expect(stderr).toContain('broken-2021-22.csv:4: rejected: unknown team code "sea"');
    expect(stderr).toContain('broken-2021-22.csv:6: line skipped: moneyline_away "8"');
    expect(stdout).toContain('1 file(s) in');
    expect(stdout).toMatch(/: 0 new, 0 updated, 0 removed, \d+ unchanged, rejected 4 row\(s\), 1 invalid line\(s\) skipped/);
  });

  it('applies a corrected score, price and line to the stored game instead of adding one', async () => {
    // line 2: bkn at mil, home favoured by 1.5, moneylines +105 / -125, final 104-127
    const path = await excerpt('corrected-2021-22.csv', 1, (line, n) => (n === 2 ? cells(line, { 7: '128', 19: '2.0', 22: '-130' }) : line));
    const summary = await importNbaArchive(db.pool, [path]);
    expect(summary.rejected).toEqual([]);
    expect(summary.matches).toEqual({ inserted: 0, updated: 1, unchanged: 0 });
    expect(summary.odds).toEqual({ inserted: 2, updated: 1, unchanged: 3, removed: 2 });
    const mil = await game('2021-10-19:bkn@mil');
    expect(mil.home_score).toBe(128);
    expect((await prices(mil.id)).filter((p) => !p.includes('totals'))).toEqual([
      'sbr-nba consensus closing h2h away 2.05 2021-10-19T00:00Z',
      'sbr-nba consensus closing h2h home 1.769 2021-10-19T00:00Z', // 1 + 100/130
      'sbr-nba consensus closing spreads away 2 1.909 2021-10-19T00:00Z',
      'sbr-nba consensus closing spreads home -2 1.909 2021-10-19T00:00Z',
    ]);
  });
});
