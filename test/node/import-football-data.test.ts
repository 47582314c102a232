import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFootballData } from '../../scripts/lib/football-data/import';
import { REPO_DATA_DIR } from '../../scripts/lib/football-data/seed';
import { isolatedDatabase } from './support/isolated-database';

const run = promisify(execFile);
const db = isolatedDatabase();
const real = (file: string) => join(REPO_DATA_DIR, file);
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'senzu-import-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** A copy of a real file with its lines rewritten; `edit` gets the 1-based line number. */
async function alteredCopy(source: string, name: string, edit: (line: string, lineNo: number) => string | null, opts: { bom?: boolean; crlf?: boolean } = {}) {
  const lines = (await readFile(real(source), 'utf8')).split('\n');
  const out = lines.map((l, i) => edit(l, i + 1)).filter((l): l is string => l !== null);
  const path = join(scratch, name);
  await writeFile(path, (opts.bom ? '\uFEFF' : '') + out.join(opts.crlf ? '\r\n' : '\n'));
  return path;
}

async function matchRow(externalId: string) {
  const { rows } = await db.pool.query(
    `select m.id, m.season, m.start_at, m.start_time_known, m.status, m.home_score, m.away_score, m.home_ht_score, m.away_ht_score,
            m.stats, m.referee, c.key as competition, h.name as home, a.name as away
     from matches m join competitions c on c.id = m.competition_id join teams h on h.id = m.home_team_id join teams a on a.id = m.away_team_id
     where m.provider = 'football-data' and m.external_match_id = $1`,
    [externalId],
  );
  return rows[0];
}

async function price(matchId: number, bookmaker: string, market: string, outcome: string, phase: string) {
  const { rows } = await db.pool.query<{ price: string; point: string | null; captured_at: Date }>(
    `select price, point, captured_at from odds_snapshots where match_id = $1 and bookmaker = $2 and market = $3 and outcome = $4 and phase = $5`,
    [matchId, bookmaker, market, outcome, phase],
  );
  expect(rows.length, `${bookmaker} ${market} ${outcome} ${phase}`).toBe(1);
  return { price: Number(rows[0]!.price), point: rows[0]!.point === null ? null : Number(rows[0]!.point), capturedAt: rows[0]!.captured_at.toISOString() };
}

const countRows = async (table: string) => Number((await db.pool.query(`select count(*) as n from ${table}`)).rows[0].n);

describe('football-data.co.uk importer on real files', () => {
  it('reads the old column generation: dd/mm/yy dates, BetBrain aggregates, no kick-off time, a trailing empty row', async () => {
    const summary = await importFootballData(db.pool, [real('E0_1415.csv')]);
    expect(summary.failedFiles).toBe(0);
    expect(summary.rejected).toEqual([]);
    expect(summary.matches).toEqual({ inserted: 380, updated: 0, unchanged: 0 });
    expect(summary.odds.inserted).toBeGreaterThan(380 * 30);

    const m = await matchRow('E0:2014-08-16:Arsenal:Crystal Palace');
    expect(m).toMatchObject({
      competition: 'soccer_epl',
      season: '2014-15',
      start_time_known: false,
      status: 'finished',
      home_score: 2,
      away_score: 1,
      home_ht_score: 1,
      away_ht_score: 1,
      referee: 'J Moss',
      stats: {
        home: { shots: 14, shotsOnTarget: 6, fouls: 13, corners: 9, yellowCards: 2, redCards: 0 },
        away: { shots: 4, shotsOnTarget: 2, fouls: 19, corners: 3, yellowCards: 2, redCards: 1 },
      },
    });
    expect((m.start_at as Date).toISOString()).toBe('2014-08-16T00:00:00.000Z');
    // Pre-match prices were collected the Friday before the Saturday match; closing ones at kick-off.
    expect(await price(m.id, 'market_max', 'h2h', 'home', 'pre_match')).toEqual({ price: 1.3, point: null, capturedAt: '2014-08-15T12:00:00.000Z' });
    expect((await price(m.id, 'market_avg', 'h2h', 'away', 'pre_match')).price).toBe(12.43);
    expect((await price(m.id, 'bet365', 'h2h', 'draw', 'pre_match')).price).toBe(6.5);
    expect(await price(m.id, 'pinnacle', 'h2h', 'home', 'closing')).toEqual({ price: 1.29, point: null, capturedAt: '2014-08-16T00:00:00.000Z' });
    expect(await price(m.id, 'market_max', 'totals', 'over', 'pre_match')).toMatchObject({ price: 1.77, point: 2.5 });
    expect(await price(m.id, 'market_max', 'spreads', 'home', 'pre_match')).toMatchObject({ price: 1.81, point: -1.5 });
    expect(await price(m.id, 'market_avg', 'spreads', 'away', 'pre_match')).toMatchObject({ price: 2.1, point: 1.5 });
  });

  it('reads the new column generation: dd/mm/yyyy dates, Max/Avg, closing prices and UK kick-off times', async () => {
    const summary = await importFootballData(db.pool, [real('E0_2324.csv')]);
    expect(summary.rejected).toEqual([]);
    expect(summary.matches.inserted).toBe(380);

    const m = await matchRow('E0:2023-08-11:Burnley:Man City');
    expect(m).toMatchObject({ season: '2023-24', start_time_known: true, home_score: 0, away_score: 3 });
    // 20:00 in the UK in August is 19:00 UTC (BST).
    expect((m.start_at as Date).toISOString()).toBe('2023-08-11T19:00:00.000Z');
    expect(await price(m.id, 'market_max', 'h2h', 'home', 'pre_match')).toEqual({ price: 9.5, point: null, capturedAt: '2023-08-08T12:00:00.000Z' });
    expect(await price(m.id, 'market_max', 'h2h', 'home', 'closing')).toEqual({ price: 10.5, point: null, capturedAt: '2023-08-11T19:00:00.000Z' });
    expect((await price(m.id, 'bet365', 'h2h', 'home', 'closing')).price).toBe(9);
    expect((await price(m.id, 'bet365', 'totals', 'over', 'pre_match')).price).toBe(1.67);
    expect((await price(m.id, 'pinnacle', 'totals', 'under', 'closing')).price).toBe(2.35);
    expect(await price(m.id, 'pinnacle', 'spreads', 'home', 'closing')).toMatchObject({ price: 1.95, point: 1.5 });
    expect(await price(m.id, 'pinnacle', 'spreads', 'away', 'pre_match')).toMatchObject({ price: 2.07, point: -1.5 });
    // The match's capture range, which odds reads use to prune partitions, spans exactly its snapshots.
    const range = await db.pool.query(`select odds_captured_from as f, odds_captured_to as t from matches where id = $1`, [m.id]);
    expect([range.rows[0].f.toISOString(), range.rows[0].t.toISOString()]).toEqual(['2023-08-08T12:00:00.000Z', '2023-08-11T19:00:00.000Z']);
  });

  it('is idempotent: a second run inserts 0 rows and reports everything unchanged', async () => {
    const before = { matches: await countRows('matches'), odds: await countRows('odds_snapshots'), teams: await countRows('teams') };
    const summary = await importFootballData(db.pool, [real('E0_1415.csv'), real('E0_2324.csv')]);
    expect(summary.matches).toEqual({ inserted: 0, updated: 0, unchanged: 760 });
    expect(summary.odds.inserted).toBe(0);
    expect(summary.odds.updated).toBe(0);
    expect(summary.odds.unchanged).toBe(before.odds);
    expect(summary.teamsCreated).toBe(0);
    expect({ matches: await countRows('matches'), odds: await countRows('odds_snapshots'), teams: await countRows('teams') }).toEqual(before);
  });

  it('accepts a byte-order mark and CRLF line endings', async () => {
    const path = await alteredCopy('E0_2324.csv', 'E0_2324_bom.csv', (l) => l, { bom: true, crlf: true });
    const summary = await importFootballData(db.pool, [path]);
    expect(summary.rejected).toEqual([]);
    // The same real rows, so the same keys: a BOM that leaked into the "Div" header would reject every row.
    expect(summary.matches).toEqual({ inserted: 0, updated: 0, unchanged: 380 });
  });

  it('records a corrected result as updated, not as a new match', async () => {
    const path = await alteredCopy('E0_2324.csv', 'E0_2324_fix.csv', (l, n) => (n === 2 ? l.replace(',Burnley,Man City,0,3,A,', ',Burnley,Man City,0,4,A,') : l));
    const summary = await importFootballData(db.pool, [path]);
    expect(summary.matches).toEqual({ inserted: 0, updated: 1, unchanged: 379 });
    expect((await matchRow('E0:2023-08-11:Burnley:Man City')).away_score).toBe(4);
    await importFootballData(db.pool, [real('E0_2324.csv')]);
    expect((await matchRow('E0:2023-08-11:Burnley:Man City')).away_score).toBe(3);
  });

  it('reports a malformed row with file and line, skips it and imports the rest', async () => {
    const path = await alteredCopy('E0_2223.csv', 'E0_2223_bad.csv', (l, n) => {
      if (n === 5) return l.replace(/^E0,\d\d\/\d\d\/\d{4}/, 'E0,31/02/2022');
      if (n === 9) return l.replace(/^(E0,[^,]*,[^,]*,[^,]*,[^,]*,)\d+,/, '$1x,');
      return l;
    });
    const summary = await importFootballData(db.pool, [path]);
    expect(summary.rejected).toEqual([
      { file: 'E0_2223_bad.csv', line: 5, reason: 'Date "31/02/2022" is not a calendar date' },
      { file: 'E0_2223_bad.csv', line: 9, reason: 'FTHG "x" is not a non-negative whole number' },
    ]);
    expect(summary.matches.inserted).toBe(378);
  });

  it('drops a price that is not decimal odds above 1, keeps the match, and says where', async () => {
    const summary = await importFootballData(db.pool, [real('E0_2122.csv')]);
    expect(summary.rejected).toEqual([]);
    expect(summary.invalidPrices).toContainEqual({ file: 'E0_2122.csv', line: 168, reason: 'B365C>2.5 "0.0" is not a decimal price above 1' });
    const m = await matchRow('E0:2021-12-19:Newcastle:Man City');
    expect(m).toMatchObject({ home_score: 0, away_score: 4 });
    const { rows } = await db.pool.query(`select count(*)::int as n from odds_snapshots where match_id = $1 and bookmaker = 'bet365' and market = 'totals' and phase = 'closing'`, [m.id]);
    expect(rows[0].n).toBe(0);
  });

  it('imports a league and season it has never seen, creating its competition and partitions', async () => {
    const path = await alteredCopy('E0_2324.csv', 'XK9_3132.csv', (l, n) =>
      n === 1 ? l : l.replace(/^E0,/, 'XK9,').replace(/\/2023,/, '/2031,').replace(/\/2024,/, '/2032,'),
    );
    const summary = await importFootballData(db.pool, [path]);
    expect(summary.rejected).toEqual([]);
    expect(summary.matches.inserted).toBe(380);
    const m = await matchRow('XK9:2031-08-11:Burnley:Man City');
    expect(m).toMatchObject({ competition: 'football_data_xk9', season: '2031-32', home: 'Burnley', away: 'Man City' });
    const parts = await db.pool.query(`select count(*)::int as n from pg_class where relname like 'odds_snapshots_y2031m%' or relname like 'odds_snapshots_y2032m%'`);
    expect(parts.rows[0].n).toBeGreaterThanOrEqual(10);
    // The same club under the same provider spelling is one team, not a new one per league.
    const teams = await db.pool.query(`select count(*)::int as n from teams where name = 'Burnley'`);
    expect(teams.rows[0].n).toBe(1);
  });

  it('writes nothing of a file that fails in the database, and records the failed job', async () => {
    const matchesBefore = await countRows('matches');
    // 123456789 does not fit numeric(10,3): the database refuses the second match's price mid-file.
    const path = await alteredCopy('E0_2021.csv', 'E0_2021_overflow.csv', (l, n) => {
      if (n > 3) return null;
      if (n === 3) return l.replace(/^(([^,]*,){24})[^,]*/, '$1123456789');
      return l;
    });
    const summary = await importFootballData(db.pool, [path]);
    expect(summary.failedFiles).toBe(1);
    expect(summary.files[0]!.error).toMatch(/numeric field overflow/);
    expect(await countRows('matches')).toBe(matchesBefore);
    const job = await db.pool.query(`select status, error, stats->>'file' as file from ingestion_jobs where id = $1`, [summary.files[0]!.jobId]);
    expect(job.rows[0]).toMatchObject({ status: 'failed', file: 'E0_2021_overflow.csv' });
    expect(job.rows[0].error).toMatch(/numeric field overflow/);
  });

  it('the CLI prints rejected rows with file:line and ends with the counts', async () => {
    const path = await alteredCopy('E0_2223.csv', 'E0_2223_cli.csv', (l, n) => (n === 7 ? l.replace(/^E0,[^,]*,/, 'E0,someday,') : l));
    const { stdout, stderr } = await run('node_modules/.bin/tsx', ['scripts/import-football-data.ts', '--', path], {
      env: { ...process.env, DATABASE_URL: db.url },
    });
    expect(stderr).toContain('E0_2223_cli.csv:7: rejected: Date "someday" is not dd/mm/yy or dd/mm/yyyy');
    // Lines 5 and 9 were rejected by the earlier test's copy, so those two matches are new now; the rest exist.
    expect(stdout).toMatch(/1 file\(s\) in [\d.]+ s: inserted \d+, updated 0, unchanged \d+, rejected 1 row\(s\)/);
    expect(stdout).toContain('matches: 2 inserted, 0 updated, 377 unchanged');
  });

  it('the CLI refuses a path that does not exist, with usage-style exit code 2', async () => {
    const failure = await run('node_modules/.bin/tsx', ['scripts/import-football-data.ts', '--', join(scratch, 'nope.csv')], {
      env: { ...process.env, DATABASE_URL: db.url },
    }).catch((e: { code: number; stderr: string }) => e);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain('nope.csv: no such file or directory');
  });
});
