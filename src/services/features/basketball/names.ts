// The basketball features of version nba-v1, in their stable order: the training export writes them as CSV
// columns in this order, so reordering, renaming or changing the meaning of any of them is a new version.
// docs/sports.md "Basketball features" defines each one.

export const NBA_FEATURE_VERSION = 'nba-v1' as const;
/** The sport these features describe (`sports.key`): only its games and results ever enter them. */
export const NBA_FEATURE_SPORT = 'basketball';

export const NBA_FEATURE_NAMES = [
  'elo_home',
  'elo_away',
  'elo_diff',
  'elo_p_home',
  'neutral_site',
  'rest_home',
  'rest_away',
  'b2b_home',
  'b2b_away',
  'rest_advantage',
  'travel_home_km',
  'travel_away_km',
  'season_games_home',
  'season_games_away',
  'mkt_p_home',
  'mkt_overround',
  'mkt_spread_home',
  'mkt_total',
] as const;

export type NbaFeatureName = (typeof NBA_FEATURE_NAMES)[number];

export const NBA_FEATURE_COUNT = NBA_FEATURE_NAMES.length;

export const NBA_FEATURE_INDEX: Readonly<Record<NbaFeatureName, number>> = Object.freeze(
  Object.fromEntries(NBA_FEATURE_NAMES.map((name, i) => [name, i])) as Record<NbaFeatureName, number>,
);
