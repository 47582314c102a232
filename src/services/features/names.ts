// The 72 features of version v1, in their stable order. docs/feature-engineering-spec.md defines each one;
// the training export writes them as CSV columns in this order and a model bundle lists them in its
// manifest, so reordering or renaming any of them is a new FEATURE_VERSION.

export const FEATURE_VERSION = 'v1';
/**
 * The sport these features describe (`sports.key`). The feature store learns only its results and serves only
 * its matches: a basketball result must not move football Elo, and no football model may price an NBA game.
 */
export const FEATURE_SPORT = 'soccer';

export const TEAM_FORM_FEATURES = [
  'form_home_ppg_5',
  'form_away_ppg_5',
  'form_home_ppg_10',
  'form_away_ppg_10',
  'form_home_gf_5',
  'form_away_gf_5',
  'form_home_ga_5',
  'form_away_ga_5',
  'form_home_venue_ppg_5',
  'form_away_venue_ppg_5',
  'form_home_venue_gd_5',
  'form_away_venue_gd_5',
  'form_home_season_ppg',
  'form_away_season_ppg',
  'form_home_season_gd',
  'form_away_season_gd',
  'form_home_over25_rate_10',
  'form_away_over25_rate_10',
  'form_home_clean_sheet_rate_10',
  'form_away_clean_sheet_rate_10',
] as const;

export const HEAD_TO_HEAD_FEATURES = [
  'h2h_meetings',
  'h2h_home_ppg_6',
  'h2h_home_win_rate_6',
  'h2h_draw_rate_6',
  'h2h_gd_6',
  'h2h_goals_6',
  'h2h_over25_rate_6',
  'h2h_venue_ppg_3',
  'h2h_days_since_last',
  'h2h_last_gd',
] as const;

export const MARKET_FEATURES = [
  'mkt_pin_p_home',
  'mkt_pin_p_draw',
  'mkt_pin_p_away',
  'mkt_avg_p_home',
  'mkt_avg_p_draw',
  'mkt_avg_p_away',
  'mkt_pin_overround_1x2',
  'mkt_avg_overround_1x2',
  'mkt_max_overround_1x2',
  'mkt_pin_avg_diff_home',
  'mkt_pin_avg_diff_away',
  'mkt_pin_p_over25',
  'mkt_avg_p_over25',
  'mkt_max_overround_ou25',
  'mkt_pin_avg_diff_over25',
] as const;

export const CONTEXTUAL_FEATURES = [
  'ctx_home_days_since_last',
  'ctx_away_days_since_last',
  'ctx_home_matches_14d',
  'ctx_away_matches_14d',
  'ctx_home_promoted',
  'ctx_away_promoted',
  'ctx_season_round',
  'ctx_is_midweek',
  'ctx_kickoff_hour_utc',
  'ctx_league_home_win_rate',
  'ctx_league_draw_rate',
  'ctx_league_goals_pg',
] as const;

export const ADVANCED_STATS_FEATURES = [
  'adv_home_xgp_for_10',
  'adv_away_xgp_for_10',
  'adv_home_xgp_against_10',
  'adv_away_xgp_against_10',
  'adv_home_territory_10',
  'adv_away_territory_10',
  'adv_home_finishing_10',
  'adv_away_finishing_10',
  'adv_home_elo',
  'adv_away_elo',
  'adv_home_sos_10',
  'adv_away_sos_10',
  'adv_home_cards_10',
  'adv_away_cards_10',
  'adv_elo_p_home',
] as const;

export const FEATURE_NAMES = [
  ...TEAM_FORM_FEATURES,
  ...HEAD_TO_HEAD_FEATURES,
  ...MARKET_FEATURES,
  ...CONTEXTUAL_FEATURES,
  ...ADVANCED_STATS_FEATURES,
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];

export const FEATURE_COUNT = 72;
if (FEATURE_NAMES.length !== FEATURE_COUNT) throw new Error(`FEATURE_NAMES has ${FEATURE_NAMES.length} names, expected ${FEATURE_COUNT}`);

/** Column index of each feature in a vector. */
export const FEATURE_INDEX: Readonly<Record<FeatureName, number>> = Object.freeze(
  Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, i])) as Record<FeatureName, number>,
);
