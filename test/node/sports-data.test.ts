// Sports are data: data/sports/*.json is validated, db:migrate loads it, and loading it again changes nothing.
// The seeding cases use a sport of their own (a random key), so the run's shared database keeps its NBA intact.
import { readdirSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { describe, expect, inject, it } from 'vitest';
import { migrate } from '../../scripts/lib/migrate';
import { readSportDefinitions, SPORTS_DIR } from '../../scripts/lib/sports';
import { parseSportDefinition, type SportDefinition } from '../../src/domain/sports/definition';
import { competitionLive, DEFAULT_LIVE_SETTINGS, h2hOutcomesOf, SPORT_DEFINITIONS } from '../../src/domain/sports/catalog';
import { competitionForDivision } from '../../src/providers/football-data/competitions';
import { parseFootballDataCsv } from '../../src/providers/football-data/parse';
import { DEFAULT_DIVISIONS } from '../../scripts/lib/odds-api-standin/season';
import { REPO_DATA_DIR } from '../../scripts/lib/football-data/seed';
import { seedSport } from '../../src/services/sport-definitions';
import { testPool } from './support/db';

const pool = testPool();
const db = drizzle({ client: pool });

const NBA_CODES = 'atl bkn bos cha chi cle dal den det gs hou ind lac lal mem mia mil min no ny okc orl phi phx por sa sac tor utah wsh'.split(' ');

async function teamsOf(sportKey: string) {
  const { rows } = await pool.query<{ id: number; key: string | null; name: string; aliases: string[] }>(
    `select t.id, t.key, t.name, array_agg(a.provider || ':' || a.alias order by a.provider, a.alias) as aliases
     from teams t join sports s on s.id = t.sport_id left join team_aliases a on a.team_id = t.id
     where s.key = $1 group by t.id order by t.key`,
    [sportKey],
  );
  return rows;
}

describe('data/sports', () => {
  it("declares basketball: the NBA, its 30 franchises by the archive's codes, and The Odds API's names", async () => {
    const defs = await readSportDefinitions();
    const basketball = defs.find((d) => d.key === 'basketball')!;
    expect(basketball.competitions).toEqual([{ key: 'basketball_nba', name: 'NBA', country: 'USA' }]);
    expect(basketball.teams.map((t) => t.key).sort()).toEqual(NBA_CODES);
    expect(basketball.teams.map((t) => t.aliases['sbr-nba']).flat().sort()).toEqual(NBA_CODES);
    for (const t of basketball.teams) expect(t.aliases['the-odds-api']).toContain(t.name);
  });

  it("declares football: every club of the repo's history by football-data's spelling, each with one distinct The Odds API name", async () => {
    const soccer = (await readSportDefinitions()).find((d) => d.key === 'soccer')!;
    const clubs = new Set<string>();
    const divisions = new Set<string>();
    for (const file of readdirSync(REPO_DATA_DIR).filter((f) => f.endsWith('.csv'))) {
      for (const m of parseFootballDataCsv(readFileSync(join(REPO_DATA_DIR, file), 'utf8'), file).matches) {
        clubs.add(m.homeTeam).add(m.awayTeam);
        divisions.add(m.division);
      }
    }
    expect(clubs.size).toBe(160);
    expect(soccer.teams.flatMap((t) => t.aliases['football-data']!).sort()).toEqual([...clubs].sort());
    // The API shows a club as the history spells it (no rename); The Odds API's spelling is one alias of it.
    for (const t of soccer.teams) {
      expect(t.aliases['football-data']).toEqual([t.name]);
      expect(t.aliases['the-odds-api']).toHaveLength(1);
    }
    expect(new Set(soccer.teams.map((t) => t.aliases['the-odds-api']![0])).size).toBe(160);
    const oddsApi = (name: string) => soccer.teams.find((t) => t.name === name)!.aliases['the-odds-api']![0];
    expect([oddsApi('Man United'), oddsApi('Tottenham'), oddsApi("Nott'm Forest")]).toEqual(['Manchester United', 'Tottenham Hotspur', 'Nottingham Forest']);
    expect(soccer.h2hOutcomes).toEqual(['home', 'draw', 'away']);

    // Every division of the history and of the stand-in's live feed is a declared competition, by its code.
    expect([...divisions].sort()).toEqual([...DEFAULT_DIVISIONS].sort());
    const declared = new Map(soccer.competitions.map((c) => [c.key, c]));
    for (const division of divisions) {
      const competition = competitionForDivision(division);
      expect(declared.get(competition.key)?.aliases?.['football-data']).toEqual([division]);
      expect(competition).toEqual({ key: competition.key, name: declared.get(competition.key)!.name, country: declared.get(competition.key)!.country });
    }
    expect(competitionForDivision('E0').key).toBe('soccer_epl');
    expect(competitionForDivision('XK9')).toEqual({ key: 'football_data_xk9', name: 'football-data.co.uk XK9', country: null });
  });

  it("declares how football is polled live: every stored market, in the Worker's ODDS_API_REGIONS, joined within ± 36 h", async () => {
    const soccer = (await readSportDefinitions()).find((d) => d.key === 'soccer')!;
    // No regions: ODDS_API_REGIONS decides (and with it the credits), as before football was a file.
    expect(soccer.live?.['the-odds-api']).toEqual({ markets: ['h2h', 'spreads', 'totals'], matchWindowHours: 36 });
  });

  it("declares how the NBA is polled live: h2h, spreads and totals in the us region, joined on the tip-off's Pacific date", async () => {
    const basketball = (await readSportDefinitions()).find((d) => d.key === 'basketball')!;
    expect(basketball.live?.['the-odds-api']).toEqual({ markets: ['h2h', 'spreads', 'totals'], regions: ['us'], matchWindowHours: 6, dateTimeZone: 'America/Los_Angeles' });
    // Under a day: two games of the same pair on consecutive days are never joined by the hour window.
    expect(basketball.live!['the-odds-api']!.matchWindowHours).toBeLessThan(12);
  });

  it('is in the catalog the Worker reads (every data file, with the same content)', async () => {
    const defs = await readSportDefinitions();
    expect(SPORT_DEFINITIONS).toEqual(defs);
    expect(competitionLive('basketball_nba')).toMatchObject({ sportKey: 'basketball', oddsApi: { regions: ['us'] } });
    expect(competitionLive('soccer_epl')).toEqual({ sportKey: 'soccer', oddsApi: { markets: ['h2h', 'spreads', 'totals'], matchWindowHours: 36 } });
    // A competition no file declares belongs to the sport its key's group prefix names, as The Odds API groups keys.
    expect(competitionLive('soccer_usa_mls')).toEqual(competitionLive('soccer_epl'));
    expect(competitionLive('icehockey_nhl')).toEqual({ sportKey: 'icehockey', oddsApi: DEFAULT_LIVE_SETTINGS });
    // A competition no file declares, of a sport a file does: the sport's, but not the declared league's polling.
    expect(competitionLive('basketball_euroleague')).toEqual({ sportKey: 'basketball', oddsApi: DEFAULT_LIVE_SETTINGS });
    // The h2h book: the NBA's moneyline has no draw, football's 1X2 has one; a sport no file declares has one too.
    expect(h2hOutcomesOf('basketball_nba')).toEqual(['home', 'away']);
    expect(h2hOutcomesOf('basketball_euroleague')).toEqual(['home', 'away']);
    expect(h2hOutcomesOf('soccer_epl')).toEqual(['home', 'draw', 'away']);
    expect(h2hOutcomesOf('icehockey_nhl')).toEqual(['home', 'draw', 'away']);
    expect(() => parseSportDefinition({ ...defs.find((d) => d.key === 'basketball')!, h2hOutcomes: ['home', 'away', 'draw'] }, 'x.json')).toThrow(/h2hOutcomes/);
  });

  it('refuses live settings that are not markets, regions or a time zone the odds job can use', () => {
    const base = { format: 'senzu-sport/1', key: 'curling', name: 'Curling', competitions: [{ key: 'curling_x', name: 'X' }],
      teams: [{ key: 'a', name: 'A', aliases: {} }, { key: 'b', name: 'B', aliases: {} }] };
    const live = (settings: Record<string, unknown>) => ({ ...base, live: { 'the-odds-api': { markets: ['h2h'], regions: ['us'], matchWindowHours: 6, ...settings } } });
    expect(() => parseSportDefinition(live({}), 'ok.json')).not.toThrow();
    expect(() => parseSportDefinition(live({ markets: ['h2h', 'h2h'] }), 'x.json')).toThrow(/live\.the-odds-api\.markets: a market is listed twice/);
    expect(() => parseSportDefinition(live({ markets: ['outrights'] }), 'x.json')).toThrow(/live\.the-odds-api\.markets\.0/);
    expect(() => parseSportDefinition(live({ regions: [] }), 'x.json')).toThrow(/live\.the-odds-api\.regions/);
    expect(() => parseSportDefinition(live({ matchWindowHours: 0 }), 'x.json')).toThrow(/matchWindowHours/);
    expect(() => parseSportDefinition(live({ dateTimeZone: 'Mars/Olympus' }), 'x.json')).toThrow(/dateTimeZone: not an IANA time zone/);
    expect(() => parseSportDefinition({ ...base, live: { 'other-api': {} } }, 'x.json')).toThrow(/live/);
  });

  it('is loaded by db:migrate: a relocated or renamed franchise is one team with its former names', async () => {
    const teams = await teamsOf('basketball');
    expect(teams).toHaveLength(30);
    expect(teams.find((t) => t.key === 'okc')).toMatchObject({
      name: 'Oklahoma City Thunder',
      aliases: ['former-name:Seattle SuperSonics', 'sbr-nba:okc', 'the-odds-api:Oklahoma City Thunder'],
    });
    expect(teams.find((t) => t.key === 'lac')!.aliases).toEqual(['sbr-nba:lac', 'the-odds-api:LA Clippers', 'the-odds-api:Los Angeles Clippers']);
    for (const [key, former] of [['bkn', 'New Jersey Nets'], ['no', 'New Orleans Hornets'], ['cha', 'Charlotte Bobcats']]) {
      expect(teams.find((t) => t.key === key)!.aliases).toContain(`former-name:${former}`);
    }
  });

  it("is loaded by db:migrate: football's clubs keep the history's names, with The Odds API's spelling beside each", async () => {
    const teams = (await teamsOf('soccer')).filter((t) => t.key !== null);
    expect(teams).toHaveLength(160);
    expect(teams.find((t) => t.key === 'man_city')).toMatchObject({ name: 'Man City', aliases: ['football-data:Man City', 'the-odds-api:Manchester City'] });
    const { rows } = await pool.query(`select c.key, c.name, c.country from competitions c join sports s on s.id = c.sport_id where s.key = 'soccer' and c.key like 'soccer\\_%'`);
    expect(rows).toHaveLength(18);
    expect(rows).toContainEqual({ key: 'soccer_france_ligue_one', name: 'Ligue 1', country: 'France' });
  });

  it('changes nothing when db:migrate runs again', async () => {
    const before = await Promise.all([teamsOf('basketball'), teamsOf('soccer')]);
    const result = await migrate(inject('databaseUrl'));
    const unchanged = { sportCreated: false, competitionsCreated: 0, competitionsUpdated: 0, teamsCreated: 0, teamsUpdated: 0, aliasesCreated: 0, aliasesMoved: 0 };
    expect(result.sports).toEqual([{ sport: 'basketball', ...unchanged }, { sport: 'soccer', ...unchanged }]);
    expect(await Promise.all([teamsOf('basketball'), teamsOf('soccer')])).toEqual(before);
  });

  it('refuses a broken data file before applying anything, naming the file and the problem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'senzu-sports-'));
    try {
      await cp(SPORTS_DIR, dir, { recursive: true });
      const broken = { format: 'senzu-sport/1', key: 'curling', name: 'Curling', competitions: [{ key: 'curling_x', name: 'X' }],
        teams: [{ key: 'a', name: 'A', aliases: { 'the-odds-api': ['Same'] } }, { key: 'b', name: 'B', aliases: { 'the-odds-api': ['Same'] } }] };
      await writeFile(join(dir, 'curling.json'), JSON.stringify(broken));
      await expect(migrate(inject('databaseUrl'), undefined, { sportsDir: dir })).rejects.toThrow(/curling\.json: not a sport definition .*the-odds-api:Same" is declared twice/);
      await writeFile(join(dir, 'curling.json'), '{ nope');
      await expect(readSportDefinitions(dir)).rejects.toThrow(/curling\.json: not valid JSON/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('seedSport', () => {
  const definition = (key: string, overrides: Partial<Record<'x' | 'y', string>> = {}): SportDefinition =>
    parseSportDefinition(
      {
        format: 'senzu-sport/1',
        key,
        name: 'Test ball',
        competitions: [{ key: `${key}_league`, name: 'League' }],
        teams: [
          { key: 'x', name: overrides.x ?? 'Xville Foxes', aliases: { 'test-archive': [`${key}-x`], 'the-odds-api': [`${key} ${overrides.x ?? 'Xville Foxes'}`] } },
          { key: 'y', name: overrides.y ?? 'Yton Yaks', aliases: { 'test-archive': [`${key}-y`] } },
        ],
      },
      'test',
    );

  it('creates, then renames in place (same team id), and is idempotent', async () => {
    const key = `testball_${crypto.randomUUID().slice(0, 8)}`;
    const first = await seedSport(db, definition(key));
    expect(first).toMatchObject({ sportCreated: true, competitionsCreated: 1, teamsCreated: 2, aliasesCreated: 3 });
    const [x] = (await teamsOf(key)).filter((t) => t.key === 'x');

    // The franchise moves: a new name and a new Odds API spelling; the old spelling stays an alias of the same team.
    const moved = await seedSport(db, definition(key, { x: 'Xburg Foxes' }));
    expect(moved).toMatchObject({ sportCreated: false, teamsCreated: 0, teamsUpdated: 1, aliasesCreated: 1, aliasesMoved: 0 });
    const after = (await teamsOf(key)).find((t) => t.key === 'x')!;
    expect(after.id).toBe(x!.id);
    expect(after.name).toBe('Xburg Foxes');
    expect(after.aliases).toEqual([`test-archive:${key}-x`, `the-odds-api:${key} Xburg Foxes`, `the-odds-api:${key} Xville Foxes`]);

    expect(await seedSport(db, definition(key, { x: 'Xburg Foxes' }))).toEqual({
      sport: key, sportCreated: false, competitionsCreated: 0, competitionsUpdated: 0, teamsCreated: 0, teamsUpdated: 0, aliasesCreated: 0, aliasesMoved: 0,
    });
  });

  it('adopts a team an importer created before the file declared it, through its alias', async () => {
    const key = `testball_${crypto.randomUUID().slice(0, 8)}`;
    const { rows } = await pool.query<{ id: number }>(
      `with s as (insert into sports (key, name) values ($1, 'Test ball') returning id),
            t as (insert into teams (sport_id, name) select id, 'X (as the archive spelt it)' from s returning id)
       insert into team_aliases (team_id, provider, alias) select id, 'test-archive', $2 from t returning team_id as id`,
      [key, `${key}-x`],
    );
    const result = await seedSport(db, definition(key));
    expect(result).toMatchObject({ sportCreated: false, teamsCreated: 1, teamsUpdated: 1 });
    const x = (await teamsOf(key)).find((t) => t.key === 'x')!;
    expect(x.id).toBe(rows[0]!.id);
    expect(x.name).toBe('Xville Foxes');
  });
});
