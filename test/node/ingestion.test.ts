// The ingestion write path (writeOdds) and team identity (data/sports/soccer.json, match resolver) against a real
// database of the file's own, with 2023/24's Premier League imported from the repo's CSV.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFootballData } from '../../scripts/lib/football-data/import';
import { REPO_DATA_DIR } from '../../scripts/lib/football-data/seed';
import { nodeDatabase } from '../../scripts/lib/db';
import { databaseFailure } from '../../src/db/pg';
import { loadSeason } from '../../scripts/lib/odds-api-standin';
import { resolveFixture, resolveFixtures } from '../../src/services/ingestion/match-resolver';
import { writeOdds, type ResolvedOddsRow } from '../../src/services/ingestion/odds-writer';
import { migrate } from '../../scripts/lib/migrate';
import { SPORTS_DIR } from '../../scripts/lib/sports';
import { SPORT_DEFINITIONS } from '../../src/domain/sports/catalog';
import { spellingsBetween } from '../../src/domain/sports/definition';
import type { ProviderFixture } from '../../src/providers/types';
import { isolatedDatabase } from './support/isolated-database';

const db = isolatedDatabase();
const PROVIDER = 'the-odds-api';
const count = async (text: string, params: unknown[] = []) => Number((await db.pool.query(text, params)).rows[0].n);
const partitionExists = async (name: string) => (await db.pool.query(`select to_regclass($1) as t`, [name])).rows[0].t !== null;

const soccer = SPORT_DEFINITIONS.find((d) => d.key === 'soccer')!;
/** football-data's name of every club of data/sports/soccer.json → The Odds API's. */
const spellings = Object.fromEntries(spellingsBetween(soccer, 'football-data', PROVIDER));

let manUtdSpurs: { fixture: ProviderFixture; csvMatchId: string; csvExternalId: string };
let teamsTheImportCreated: number;

beforeAll(async () => {
  const summary = await importFootballData(db.pool, [join(REPO_DATA_DIR, 'E0_2324.csv')]);
  expect(summary.failedFiles).toBe(0);
  teamsTheImportCreated = summary.teamsCreated;
  const event = loadSeason({ dataDir: REPO_DATA_DIR, season: '2324', divisions: ['E0'] }).find(
    (e) => e.footballData!.homeTeam === 'Man United' && e.footballData!.awayTeam === 'Tottenham',
  )!;
  const csv = await db.pool.query(`select id::text as id from matches where provider = 'football-data' and external_match_id = $1`, [
    event.footballData!.externalId,
  ]);
  manUtdSpurs = {
    fixture: { eventId: event.id, competitionKey: event.sportKey, commenceTime: event.commenceTime, homeTeam: event.homeTeam, awayTeam: event.awayTeam },
    csvMatchId: csv.rows[0].id,
    csvExternalId: event.footballData!.externalId,
  };
}, 120_000);

/** Every bookmaker × (h2h 3 + totals 2) × capture of one match. */
function oddsFor(matchId: string, captures: Date[], bookmakers = ['pinnacle', 'bet365', 'williamhill']): ResolvedOddsRow[] {
  const rows: ResolvedOddsRow[] = [];
  for (const capturedAt of captures) {
    for (const [b, bookmaker] of bookmakers.entries()) {
      for (const [i, outcome] of (['home', 'draw', 'away'] as const).entries()) {
        rows.push({ matchId, bookmaker, market: 'h2h', outcome, point: null, price: 1.5 + i + b / 100, phase: 'pre_match', capturedAt });
      }
      rows.push({ matchId, bookmaker, market: 'totals', outcome: 'over', point: 2.5, price: 1.9, phase: 'pre_match', capturedAt });
      rows.push({ matchId, bookmaker, market: 'totals', outcome: 'under', point: 2.5, price: 1.95, phase: 'pre_match', capturedAt });
    }
  }
  return rows;
}

/** Every soccer team with its key, name and aliases, in id order. */
async function soccerTeams(pool: typeof db.pool) {
  const { rows } = await pool.query<{ id: number; key: string | null; name: string; aliases: string[] }>(
    `select t.id, t.key, t.name, array_agg(a.provider || ':' || a.alias order by a.provider, a.alias) as aliases
     from teams t join sports s on s.id = t.sport_id and s.key = 'soccer' left join team_aliases a on a.team_id = t.id
     group by t.id order by t.id`,
  );
  return rows;
}

describe('team identity', () => {
  it("finds data/sports/soccer.json's clubs: the import creates no team, and each club is one team with both spellings", async () => {
    expect(teamsTheImportCreated).toBe(0);
    const teams = await soccerTeams(db.pool);
    expect(teams).toHaveLength(160);
    const [fd, oa] = ['football-data:', `${PROVIDER}:`];
    const pairs = teams.map((t) => [t.aliases.find((a) => a.startsWith(fd))!.slice(fd.length), t.aliases.find((a) => a.startsWith(oa))!.slice(oa.length)]);
    expect(Object.fromEntries(pairs)).toEqual(spellings);
    expect(teams.find((t) => t.key === 'man_city')).toMatchObject({ name: 'Man City', aliases: ['football-data:Man City', `${PROVIDER}:Manchester City`] });
  });
});

describe('a database from before football was a data file', () => {
  // Migrated while data/sports had basketball only; then football as the code made it: the soccer row, the
  // importer's teams (named and aliased by football-data's spelling, no key) and the alias seed's (every other
  // club of the old name table, with The Odds API's spelling beside each).
  const sportsDir = mkdtempSync(join(tmpdir(), 'senzu-sports-'));
  copyFileSync(join(SPORTS_DIR, 'basketball.json'), join(sportsDir, 'basketball.json'));
  const before = isolatedDatabase({ sportsDir });
  afterAll(() => rmSync(sportsDir, { recursive: true, force: true }));

  async function seedAsTheCodeDid() {
    const q = (text: string, params: unknown[] = []) => before.pool.query(text, params);
    await q(`insert into sports (key, name) values ('soccer', 'Soccer')`);
    expect((await importFootballData(before.pool, [join(REPO_DATA_DIR, 'E0_2324.csv')])).teamsCreated).toBe(20);
    const [fd, oa] = [Object.keys(spellings), Object.values(spellings)];
    await q(
      `insert into teams (sport_id, name) select s.id, p.fd from unnest($1::text[]) as p(fd) cross join sports s
       where s.key = 'soccer' and not exists (select 1 from team_aliases where provider = 'football-data' and alias = p.fd)`,
      [fd],
    );
    await q(
      `insert into team_aliases (team_id, provider, alias) select t.id, 'football-data', t.name from teams t join sports s on s.id = t.sport_id
       where s.key = 'soccer' on conflict do nothing`,
    );
    await q(
      `insert into team_aliases (team_id, provider, alias) select a.team_id, $3, p.oa from unnest($1::text[], $2::text[]) as p(fd, oa)
       join team_aliases a on a.provider = 'football-data' and a.alias = p.fd`,
      [fd, oa, PROVIDER],
    );
    // An operator renamed one by hand since: only its alias still says which club it is.
    await q(`update teams set name = 'Wolverhampton' where name = 'Wolves'`);
  }

  it('keeps every team (same id, same name, no duplicate) when migrate loads soccer.json, and both providers still find them', async () => {
    await seedAsTheCodeDid();
    const old = await soccerTeams(before.pool);
    expect(old).toHaveLength(160);
    expect(old.every((t) => t.key === null)).toBe(true);
    const csv = await before.pool.query(`select id::text as id from matches where provider = 'football-data' and external_match_id = $1`, [manUtdSpurs.csvExternalId]);
    const csvMatchId = csv.rows[0].id;
    expect(await resolveFixture(nodeDatabase(before.pool), manUtdSpurs.fixture)).toMatchObject({ status: 'matched', matchId: csvMatchId });

    const upgrade = await migrate(before.url);
    expect(upgrade.sports.find((r) => r.sport === 'soccer')).toEqual({
      sport: 'soccer', sportCreated: false, competitionsCreated: soccer.competitions.length - 1, competitionsUpdated: 0,
      teamsCreated: 0, teamsUpdated: 160, aliasesCreated: 0, aliasesMoved: 0,
    });
    const upgraded = await soccerTeams(before.pool);
    // The same teams with the same aliases; the file's name wins over the hand-made one.
    const asDeclared = old.map(({ id, name, aliases }) => ({ id, name: name === 'Wolverhampton' ? 'Wolves' : name, aliases }));
    expect(upgraded.map(({ id, name, aliases }) => ({ id, name, aliases }))).toEqual(asDeclared);
    const keyOf = new Map(soccer.teams.map((t) => [t.name, t.key]));
    for (const t of upgraded) expect(t.key).toBe(keyOf.get(t.name));

    // The history and the live feed still land on the same match, and nothing is made twice.
    const again = await importFootballData(before.pool, [join(REPO_DATA_DIR, 'E0_2324.csv')]);
    expect(again).toMatchObject({ teamsCreated: 0, matches: { inserted: 0, updated: 0, unchanged: 380 } });
    const live = await resolveFixture(nodeDatabase(before.pool), { ...manUtdSpurs.fixture, eventId: 'e'.repeat(32) });
    expect(live).toMatchObject({ status: 'matched', matchId: csvMatchId });
    expect((await migrate(before.url)).sports.find((r) => r.sport === 'soccer')).toMatchObject({ competitionsCreated: 0, teamsCreated: 0, teamsUpdated: 0, aliasesCreated: 0 });
    expect(await soccerTeams(before.pool)).toEqual(upgraded);
  });
});

describe('match resolver', () => {
  it('resolves the stand-in replay of Manchester United v Tottenham Hotspur to the match the CSV import created', async () => {
    const { fixture, csvMatchId } = manUtdSpurs;
    expect([fixture.homeTeam, fixture.awayTeam]).toEqual(['Manchester United', 'Tottenham Hotspur']);
    const matchesBefore = await count(`select count(*) as n from matches`);
    const resolved = await resolveFixture(nodeDatabase(db.pool), fixture);
    expect(resolved).toEqual({ eventId: fixture.eventId, status: 'matched', matchId: csvMatchId });
    // A date-only football-data kick-off is hours away from the provider's commence time: still the same match.
    const shifted = await resolveFixture(nodeDatabase(db.pool), { ...fixture, eventId: 'f'.repeat(32), commenceTime: new Date(fixture.commenceTime.getTime() + 30 * 3_600_000) });
    expect(shifted.matchId).toBe(csvMatchId);
    expect(await count(`select count(*) as n from matches`)).toBe(matchesBefore);
    expect(
      await count(
        `select count(*) as n from matches m join team_aliases h on h.team_id = m.home_team_id and h.provider = $1 and h.alias = 'Manchester United'
         join team_aliases a on a.team_id = m.away_team_id and a.provider = $1 and a.alias = 'Tottenham Hotspur'`,
        [PROVIDER],
      ),
    ).toBe(1);
  });

  it('creates a match for a fixture the history does not have, once', async () => {
    const fixture: ProviderFixture = {
      eventId: 'a'.repeat(32),
      competitionKey: 'soccer_epl',
      commenceTime: new Date('2031-08-16T14:00:00Z'),
      homeTeam: 'Arsenal',
      awayTeam: 'Wolverhampton Wanderers',
    };
    const first = await resolveFixture(nodeDatabase(db.pool), fixture);
    expect(first.status).toBe('created');
    const again = await resolveFixtures(nodeDatabase(db.pool), [fixture, { ...fixture, eventId: 'b'.repeat(32) }]);
    expect(again.resolutions.map((r) => [r.status, r.matchId])).toEqual([
      ['existing', first.matchId],
      ['matched', first.matchId],
    ]);
    const row = (await db.pool.query(`select provider, external_match_id, season, status from matches where id = $1`, [first.matchId])).rows[0];
    expect(row).toEqual({ provider: PROVIDER, external_match_id: fixture.eventId, season: '2031-32', status: 'scheduled' });
  });

  it('records an unknown name once, counting sightings, and invents no team or match', async () => {
    const teams = await count(`select count(*) as n from teams`);
    const matches = await count(`select count(*) as n from matches`);
    const fixture: ProviderFixture = { ...manUtdSpurs.fixture, eventId: 'c'.repeat(32), homeTeam: 'Atlético Nowhere' };
    const first = await resolveFixture(nodeDatabase(db.pool), fixture);
    expect(first).toEqual({ eventId: fixture.eventId, status: 'unresolved', matchId: null, unresolvedNames: ['Atlético Nowhere'] });
    await resolveFixtures(nodeDatabase(db.pool), [{ ...fixture, eventId: 'd'.repeat(32) }]);
    const recorded = await db.pool.query(`select provider, name, competition, occurrences, first_seen <= last_seen as ordered from unresolved_team_names`);
    expect(recorded.rows).toEqual([{ provider: PROVIDER, name: 'Atlético Nowhere', competition: 'soccer_epl', occurrences: 2, ordered: true }]);
    expect(await count(`select count(*) as n from teams`)).toBe(teams);
    expect(await count(`select count(*) as n from matches`)).toBe(matches);
    expect(await count(`select count(*) as n from team_aliases where alias = 'Atlético Nowhere'`)).toBe(0);
  });
});

describe('writeOdds', () => {
  const writer = () => nodeDatabase(db.pool);

  it('creates the capture months on demand, widens the range, and writes the same payload only once', async () => {
    const matchId = manUtdSpurs.csvMatchId;
    const captures = [new Date('2035-03-31T23:00:00Z'), new Date('2035-04-01T01:00:00Z')];
    expect(await partitionExists('odds_snapshots_y2035m03')).toBe(false);
    expect(await partitionExists('odds_snapshots_y2035m04')).toBe(false);
    const before = (await db.pool.query(`select odds_captured_from, odds_captured_to from matches where id = $1`, [matchId])).rows[0];
    const rows = oddsFor(matchId, captures);
    const first = await writeOdds(writer(), PROVIDER, rows, { batchRows: 7 });
    expect(first).toMatchObject({ rows: rows.length, inserted: rows.length, duplicates: 0, matches: 1 });
    expect(first.partitions.sort()).toEqual(['odds_snapshots_y2035m03', 'odds_snapshots_y2035m04']);
    expect(await partitionExists('odds_snapshots_y2035m03')).toBe(true);
    expect(await partitionExists('odds_snapshots_y2035m04')).toBe(true);

    const second = await writeOdds(writer(), PROVIDER, rows, { batchRows: 7 });
    expect(second).toMatchObject({ inserted: 0, duplicates: rows.length });
    expect(await count(`select count(*) as n from odds_snapshots where match_id = $1 and provider = $2`, [matchId, PROVIDER])).toBe(rows.length);

    const after = (await db.pool.query(`select odds_captured_from, odds_captured_to from matches where id = $1`, [matchId])).rows[0];
    expect(after.odds_captured_from).toEqual(before.odds_captured_from); // the CSV's earlier captures stay covered
    expect(after.odds_captured_to).toEqual(captures[1]);
  });

  it('keeps the first price of a capture stamp a provider reuses, as the MatchOdds object does', async () => {
    const matchId = manUtdSpurs.csvMatchId;
    const stamp = new Date('2035-06-01T12:00:00Z');
    const [row] = oddsFor(matchId, [stamp], ['pinnacle']);
    const price = async (at: Date) =>
      Number((await db.pool.query(`select price from odds_snapshots where match_id = $1 and provider = $2 and bookmaker = $3 and market = $4 and outcome = $5 and captured_at = $6`, [matchId, PROVIDER, row!.bookmaker, row!.market, row!.outcome, at])).rows[0].price);
    expect(await writeOdds(writer(), PROVIDER, [{ ...row!, price: 2.1 }])).toMatchObject({ inserted: 1, duplicates: 0 });
    expect(await writeOdds(writer(), PROVIDER, [{ ...row!, price: 2.2 }])).toMatchObject({ inserted: 0, duplicates: 1 });
    expect(await price(stamp)).toBe(2.1);
    // Both prices in one call: the first.
    const other = new Date('2035-06-01T13:00:00Z');
    expect(await writeOdds(writer(), PROVIDER, [{ ...row!, capturedAt: other, price: 2.25 }, { ...row!, capturedAt: other, price: 2.3 }])).toMatchObject({ inserted: 1, duplicates: 1 });
    expect(await price(other)).toBe(2.25);
  });

  it('leaves nothing of a call that fails in its last batch, and a retry completes it', async () => {
    const matchId = manUtdSpurs.csvMatchId;
    const captures = [new Date('2036-01-10T12:00:00Z'), new Date('2036-02-10T12:00:00Z')];
    const rows = oddsFor(matchId, captures);
    const broken = rows.map((r, i) => (i === rows.length - 1 ? { ...r, price: 1 } : r));
    const rangeBefore = (await db.pool.query(`select odds_captured_to from matches where id = $1`, [matchId])).rows[0].odds_captured_to;

    // drizzle reports the database's error as the cause of its own "Failed query" error.
    const failure = await writeOdds(writer(), PROVIDER, broken, { batchRows: 4 }).then(() => null, (error: unknown) => error);
    expect((databaseFailure(failure) as Error).message).toMatch(/check constraint/i);
    expect(await count(`select count(*) as n from odds_snapshots where match_id = $1 and captured_at >= '2036-01-01'`, [matchId])).toBe(0);
    expect(await partitionExists('odds_snapshots_y2036m01')).toBe(false);
    expect((await db.pool.query(`select odds_captured_to from matches where id = $1`, [matchId])).rows[0].odds_captured_to).toEqual(rangeBefore);

    const retry = await writeOdds(writer(), PROVIDER, rows, { batchRows: 4 });
    expect(retry).toMatchObject({ inserted: rows.length, duplicates: 0 });
    expect(await count(`select count(*) as n from odds_snapshots where match_id = $1 and captured_at >= '2036-01-01'`, [matchId])).toBe(rows.length);
    expect((await db.pool.query(`select odds_captured_to from matches where id = $1`, [matchId])).rows[0].odds_captured_to).toEqual(captures[1]);
  });

  it("writes inside a caller's transaction and leaves nothing when that one rolls back; the prices read back as given", async () => {
    const matchId = manUtdSpurs.csvMatchId;
    const rows = oddsFor(matchId, [new Date('2036-05-05T05:05:05Z')], ['pinnacle']);
    const stop = new Error('the caller fails after the write');
    await expect(
      writer().transaction(async (tx) => {
        expect(await writeOdds(tx, PROVIDER, rows)).toMatchObject({ inserted: rows.length, duplicates: 0 });
        throw stop;
      }),
    ).rejects.toBe(stop);
    expect(await count(`select count(*) as n from odds_snapshots where match_id = $1 and captured_at = $2`, [matchId, rows[0]!.capturedAt])).toBe(0);
    expect(await partitionExists('odds_snapshots_y2036m05')).toBe(false);
    expect(await writeOdds(writer(), PROVIDER, rows)).toMatchObject({ inserted: rows.length, duplicates: 0, partitions: ['odds_snapshots_y2036m05'] });
    expect(await writeOdds(writer(), PROVIDER, rows)).toMatchObject({ inserted: 0, duplicates: rows.length });
    const stored = await db.pool.query(
      `select outcome, point::float8 as point, price::float8 as price from odds_snapshots where match_id = $1 and captured_at = $2 order by market, outcome`,
      [matchId, rows[0]!.capturedAt],
    );
    expect(stored.rows).toEqual([
      { outcome: 'away', point: null, price: 3.5 },
      { outcome: 'draw', point: null, price: 2.5 },
      { outcome: 'home', point: null, price: 1.5 },
      { outcome: 'over', point: 2.5, price: 1.9 },
      { outcome: 'under', point: 2.5, price: 1.95 },
    ]);
  });
});
