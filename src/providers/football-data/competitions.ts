// football-data.co.uk division codes → canonical competitions: the competition of data/sports/soccer.json that
// lists the code under its `football-data` aliases. Its key is The Odds API's sport key, so the live provider's
// fixtures land in the same competitions as the history.
import { SPORT_DEFINITIONS } from '../../domain/sports/catalog';
import { FOOTBALL_DATA_PROVIDER } from './parse';

/** The archive is football only: every division of it, declared or not, is a competition of this sport. */
export const FOOTBALL_DATA_SPORT = 'soccer';

export interface CompetitionInfo {
  key: string;
  name: string;
  country: string | null;
}

const BY_DIVISION = new Map<string, CompetitionInfo>(
  SPORT_DEFINITIONS.filter((def) => def.key === FOOTBALL_DATA_SPORT).flatMap((def) =>
    def.competitions.flatMap((c) => (c.aliases?.[FOOTBALL_DATA_PROVIDER] ?? []).map((division) => [division, { key: c.key, name: c.name, country: c.country ?? null }] as const)),
  ),
);

/** A division the data file does not list still imports, under a key derived from its code. */
export function competitionForDivision(division: string): CompetitionInfo {
  return BY_DIVISION.get(division) ?? { key: `football_data_${division.toLowerCase()}`, name: `football-data.co.uk ${division}`, country: null };
}
