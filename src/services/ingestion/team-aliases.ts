// Seeds team_aliases for every team in the repo's data under both providers' spellings (football-data.co.uk's
// and The Odds API's, from src/providers/team-names.ts), so the same club from either provider is one team.
// Teams are keyed by their football-data name, as the importer creates them: seeding before or after the
// history import gives the same teams. Idempotent; a few statements, whatever the table sizes.
import { FOOTBALL_DATA_PROVIDER } from '../../providers/football-data/parse';
import { THE_ODDS_API_PROVIDER } from '../../providers/the-odds-api/client';
import { ODDS_API_TEAM_NAMES } from '../../providers/team-names';
import { eq, sql, type SQL } from 'drizzle-orm';
import { bare, pgArray, type PgDb } from '../../db/pg';
import { sports, teamAliases, teams } from '../../db/schema';

export interface AliasSeedCounts {
  teamsCreated: number;
  footballDataAliasesCreated: number;
  oddsApiAliasesCreated: number;
}

export async function seedOddsApiAliases(
  db: PgDb,
  names: Readonly<Record<string, string>> = ODDS_API_TEAM_NAMES,
): Promise<AliasSeedCounts> {
  const footballData = Object.keys(names);
  const oddsApi = footballData.map((n) => names[n]!);
  await ensureSoccer(db);
  // The three inserts below are INSERT ... SELECT over unnest of the names joined to the tables (one parameter per
  // list, whatever its length); the builder's insert ... select cannot select from a set-returning function.
  // A club already known under its football-data alias keeps its team, even if that team was since renamed.
  const teamsCreated = await db.execute(sql`
    insert into ${teams} (${bare(teams.sportId)}, ${bare(teams.name)})
    select ${sports.id}, p.fd from unnest(${pgArray(footballData, 'text')}) as p(fd) cross join ${sports}
    where ${sports.key} = 'soccer'
      and not exists (select 1 from ${teamAliases} where ${teamAliases.provider} = ${FOOTBALL_DATA_PROVIDER} and ${teamAliases.alias} = p.fd)
    on conflict (${bare(teams.sportId)}, ${bare(teams.name)}) do nothing`);
  const fdAliases = await db.execute(sql`
    insert into ${teamAliases} (${bare(teamAliases.teamId)}, ${bare(teamAliases.provider)}, ${bare(teamAliases.alias)})
    select ${teams.id}, ${FOOTBALL_DATA_PROVIDER}, p.fd from unnest(${pgArray(footballData, 'text')}) as p(fd)
    join ${sports} on ${sports.key} = 'soccer' join ${teams} on ${teams.sportId} = ${sports.id} and ${teams.name} = p.fd
    on conflict (${bare(teamAliases.provider)}, ${bare(teamAliases.alias)}) do nothing`);
  const oaAliases = await db.execute(sql`
    insert into ${teamAliases} (${bare(teamAliases.teamId)}, ${bare(teamAliases.provider)}, ${bare(teamAliases.alias)})
    select ${teamAliases.teamId}, ${THE_ODDS_API_PROVIDER}, p.oa from unnest(${pgArray(footballData, 'text')}, ${pgArray(oddsApi, 'text')}) as p(fd, oa)
    join ${teamAliases} on ${teamAliases.provider} = ${FOOTBALL_DATA_PROVIDER} and ${teamAliases.alias} = p.fd
    on conflict (${bare(teamAliases.provider)}, ${bare(teamAliases.alias)}) do nothing`);
  return {
    teamsCreated: teamsCreated.rowCount ?? 0,
    footballDataAliasesCreated: fdAliases.rowCount ?? 0,
    oddsApiAliasesCreated: oaAliases.rowCount ?? 0,
  };
}

/** The soccer sport row every football competition, team and match hangs from. */
export async function ensureSoccer(db: PgDb): Promise<void> {
  await db.insert(sports).values({ key: 'soccer', name: 'Soccer' }).onConflictDoNothing({ target: sports.key });
}

/** The soccer sport's id as a scalar subquery, for inserted rows' sport_id (after ensureSoccer). */
export const soccerSportId = (db: PgDb): SQL => sql`${db.select({ id: sports.id }).from(sports).where(eq(sports.key, 'soccer'))}`;
