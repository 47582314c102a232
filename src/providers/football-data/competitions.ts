// football-data.co.uk division codes → canonical competitions. Keys follow The Odds API's sport keys, so
// the live provider's fixtures land in the same competitions as the history.
export interface CompetitionInfo {
  key: string;
  name: string;
  country: string | null;
}

const KNOWN: Record<string, CompetitionInfo> = {
  E0: { key: 'soccer_epl', name: 'Premier League', country: 'England' },
  E1: { key: 'soccer_efl_champ', name: 'Championship', country: 'England' },
  E2: { key: 'soccer_england_league1', name: 'League One', country: 'England' },
  E3: { key: 'soccer_england_league2', name: 'League Two', country: 'England' },
  SC0: { key: 'soccer_spl', name: 'Scottish Premiership', country: 'Scotland' },
  D1: { key: 'soccer_germany_bundesliga', name: 'Bundesliga', country: 'Germany' },
  D2: { key: 'soccer_germany_bundesliga2', name: '2. Bundesliga', country: 'Germany' },
  I1: { key: 'soccer_italy_serie_a', name: 'Serie A', country: 'Italy' },
  I2: { key: 'soccer_italy_serie_b', name: 'Serie B', country: 'Italy' },
  SP1: { key: 'soccer_spain_la_liga', name: 'La Liga', country: 'Spain' },
  SP2: { key: 'soccer_spain_segunda_division', name: 'La Liga 2', country: 'Spain' },
  F1: { key: 'soccer_france_ligue_one', name: 'Ligue 1', country: 'France' },
  F2: { key: 'soccer_france_ligue_two', name: 'Ligue 2', country: 'France' },
  N1: { key: 'soccer_netherlands_eredivisie', name: 'Eredivisie', country: 'Netherlands' },
  B1: { key: 'soccer_belgium_first_div', name: 'Belgian Pro League', country: 'Belgium' },
  P1: { key: 'soccer_portugal_primeira_liga', name: 'Primeira Liga', country: 'Portugal' },
  T1: { key: 'soccer_turkey_super_league', name: 'Süper Lig', country: 'Turkey' },
  G1: { key: 'soccer_greece_super_league', name: 'Super League Greece', country: 'Greece' },
};

/** A division the table does not know still imports, under a key derived from its code. */
export function competitionForDivision(division: string): CompetitionInfo {
  return KNOWN[division] ?? { key: `football_data_${division.toLowerCase()}`, name: `football-data.co.uk ${division}`, country: null };
}
