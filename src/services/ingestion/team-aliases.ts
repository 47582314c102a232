// Seeds team_aliases for every team in the repo's data under both providers' spellings (football-data.co.uk's
// and The Odds API's, from src/providers/team-names.ts), so the same club from either provider is one team.
// Teams are keyed by their football-data name, as the importer creates them: seeding before or after the
// history import gives the same teams. Idempotent; a few statements, whatever the table sizes.
import { FOOTBALL_DATA_PROVIDER } from '../../providers/football-data/parse';
import { THE_ODDS_API_PROVIDER } from '../../providers/the-odds-api/client';
import { ODDS_API_TEAM_NAMES } from '../../providers/team-names';
import type { SqlQuery } from './sql';

export interface AliasSeedCounts {
  teamsCreated: number;
  footballDataAliasesCreated: number;
  oddsApiAliasesCreated: number;
}

export async function seedOddsApiAliases(
  query: SqlQuery,
  names: Readonly<Record<string, string>> = ODDS_API_TEAM_NAMES,
): Promise<AliasSeedCounts> {
  const footballData = Object.keys(names);
  const oddsApi = footballData.map((n) => names[n]!);
  await query(`insert into sports (key, name) values ('soccer', 'Soccer') on conflict (key) do nothing`, []);
  // A club already known under its football-data alias keeps its team, even if that team was since renamed.
  const teams = await query(
    `insert into teams (sport_id, name)
     select s.id, p.fd from unnest($1::text[]) as p(fd) cross join sports s
     where s.key = 'soccer' and not exists (select 1 from team_aliases a where a.provider = $2 and a.alias = p.fd)
     on conflict (sport_id, name) do nothing`,
    [footballData, FOOTBALL_DATA_PROVIDER],
  );
  const fdAliases = await query(
    `insert into team_aliases (team_id, provider, alias)
     select t.id, $2, p.fd from unnest($1::text[]) as p(fd)
     join sports s on s.key = 'soccer' join teams t on t.sport_id = s.id and t.name = p.fd
     on conflict (provider, alias) do nothing`,
    [footballData, FOOTBALL_DATA_PROVIDER],
  );
  const oaAliases = await query(
    `insert into team_aliases (team_id, provider, alias)
     select a.team_id, $3, p.oa from unnest($1::text[], $2::text[]) as p(fd, oa)
     join team_aliases a on a.provider = $4 and a.alias = p.fd
     on conflict (provider, alias) do nothing`,
    [footballData, oddsApi, THE_ODDS_API_PROVIDER, FOOTBALL_DATA_PROVIDER],
  );
  return {
    teamsCreated: teams.rowCount ?? 0,
    footballDataAliasesCreated: fdAliases.rowCount ?? 0,
    oddsApiAliasesCreated: oaAliases.rowCount ?? 0,
  };
}
