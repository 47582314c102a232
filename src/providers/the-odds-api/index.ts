export { TheOddsApiClient, THE_ODDS_API_BASE_URL, THE_ODDS_API_PROVIDER, parseRetryAfter, type QuotaState, type TheOddsApiOptions } from './client';
export type { OddsApiEvent, OddsApiOddsEvent, OddsApiScoreEvent, OddsApiSport } from './schemas';
