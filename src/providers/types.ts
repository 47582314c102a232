// The one interface every fixture/odds/results provider implements (The Odds API live, football-data.co.uk
// historical), and the provider-neutral shapes the ingestion jobs consume. Pure TypeScript: it runs in the
// Worker and in Node alike.

export type OddsMarket = 'h2h' | 'spreads' | 'totals';
/** Outcomes are resolved by name (team names, "Draw", "Over", "Under"), never by their position. */
export type OddsOutcome = 'home' | 'draw' | 'away' | 'over' | 'under';

export interface ProviderFixture {
  /** The provider's own event id (The Odds API: 32 hex characters). */
  eventId: string;
  /** Sport/competition key, e.g. `soccer_epl` (The Odds API's sport keys are the canonical competition keys). */
  competitionKey: string;
  commenceTime: Date;
  /** Team names exactly as the provider spells them; resolving them to teams is the alias table's job. */
  homeTeam: string;
  awayTeam: string;
}

export interface ProviderOddsRow {
  eventId: string;
  bookmaker: string;
  market: OddsMarket;
  outcome: OddsOutcome;
  /** Handicap or total line; null for h2h. Spreads carry the sign relative to the named team. */
  point: number | null;
  /** Decimal odds, always > 1. */
  price: number;
  /** When the bookmaker last changed this market, by the provider's account. */
  lastUpdate: Date;
  /** When we fetched it (the caller's clock): part of the odds natural key. */
  capturedAt: Date;
}

export interface ProviderTeamScore {
  name: string;
  score: number;
}

export interface ProviderResult {
  eventId: string;
  competitionKey: string;
  commenceTime: Date;
  homeTeam: string;
  awayTeam: string;
  completed: boolean;
  /** Scores by team name as the provider sends them; null before kick-off. */
  scores: ProviderTeamScore[] | null;
  /** The scores resolved to the two sides by name; null while unknown. */
  homeScore: number | null;
  awayScore: number | null;
  lastUpdate: Date | null;
}

/** What one HTTP call cost, as the provider's usage headers reported it (null when a header was absent). */
export interface ProviderCall {
  endpoint: string;
  status: number;
  at: Date;
  attempt: number;
  requestsRemaining: number | null;
  requestsUsed: number | null;
  requestsLast: number | null;
}

export interface FetchWindow {
  competitionKey: string;
  /** Only events starting at or after this instant. */
  commenceTimeFrom?: Date;
  /** Only events starting at or before this instant. */
  commenceTimeTo?: Date;
  eventIds?: string[];
  /** /odds only: the markets and comma-separated regions of this call, instead of the client's defaults. */
  markets?: readonly OddsMarket[];
  regions?: string;
}

export interface FixturesResult {
  fixtures: ProviderFixture[];
  calls: ProviderCall[];
}

export interface OddsResult {
  /** The events the odds belong to (the odds endpoint returns them anyway, so fixtures come for free). */
  fixtures: ProviderFixture[];
  odds: ProviderOddsRow[];
  calls: ProviderCall[];
}

export interface ResultsResult {
  results: ProviderResult[];
  calls: ProviderCall[];
}

export interface OddsProvider {
  /** The `provider` value stored on matches, odds and jobs. */
  readonly name: string;
  fetchFixtures(window: FetchWindow): Promise<FixturesResult>;
  fetchOdds(window: FetchWindow): Promise<OddsResult>;
  fetchResults(options: { competitionKey: string; daysFrom?: number; eventIds?: string[] }): Promise<ResultsResult>;
}

export type ProviderErrorKind =
  /** 401: missing, invalid or deactivated key. */
  | 'unauthorized'
  /** 401 OUT_OF_USAGE_CREDITS: the monthly quota is used up. */
  | 'out_of_credits'
  /** 422 (or another 4xx): our request is wrong; retrying cannot help. */
  | 'invalid_request'
  | 'not_found'
  /** 429 after every attempt (or a Retry-After too long to wait for). */
  | 'rate_limited'
  /** 5xx after every attempt. */
  | 'server_error'
  | 'timeout'
  | 'network'
  /** A 200 whose body is not what the provider's format promises (malformed, truncated, invalid). */
  | 'invalid_payload';

/** Every provider failure, typed so a job can record a clear reason and decide whether a later run may help. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    readonly details: {
      provider: string;
      endpoint: string;
      status?: number;
      errorCode?: string;
      attempts: number;
      calls: ProviderCall[];
      /** Where in the payload validation failed, e.g. `[0].bookmakers[1].markets[0].outcomes`. */
      path?: string;
    },
  ) {
    super(message);
  }
}
