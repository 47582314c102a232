// nba-v1: Elo with a margin-of-victory multiplier, rest, back-to-backs and travel, beside the closing market.
//
// Time: the archive has no tip-off times, only the US game date, so a game on date D may use the results of
// games on dates before D and nothing else: not its own result, nor that of another game the same day (which
// may have tipped off earlier, but nothing says so). The walker below predicts a whole date from the state
// before it and only then learns that date's results.
//
// Elo (FiveThirtyEight's NBA Elo): K = 20, home advantage 100 points (none at a neutral site), the update
// scaled by the margin of victory, mov = (|margin| + 3)^0.8 / (7.5 + 0.006 · d), where d is the winner's rating
// minus the loser's (home advantage included) before the game: a favourite's blowout moves less than an
// underdog's. Between seasons every rating is pulled a quarter of the way back to 1505.
import { marginFreeProbabilities, overround } from '../odds';
import { NBA_FEATURE_COUNT, NBA_FEATURE_INDEX, type NbaFeatureName } from './names';
import { greatCircleKm, type Venue, type VenueBook } from './venues';

export const NBA_ELO_INITIAL = 1500;
export const NBA_ELO_K = 20;
export const NBA_ELO_HOME_ADVANTAGE = 100;
export const NBA_ELO_SEASON_MEAN = 1505;
/** Share of a rating kept over the summer; the rest regresses to NBA_ELO_SEASON_MEAN. */
export const NBA_ELO_SEASON_CARRY = 0.75;
/**
 * A previous game more than this many days back is not where the team travels from: after a break (the
 * All-Star week, the 2020 suspension, a new season) it sets out from its own arena.
 */
export const NBA_TRAVEL_BREAK_DAYS = 7;
/** rest_advantage compares rest days capped here: a fourth day off is no fresher than a third. */
export const NBA_REST_CAP_DAYS = 3;

const DAY_MS = 86_400_000;

/** One game as the builder needs it. Team and competition keys are those of data/sports/basketball.json. */
export interface NbaGameInput {
  matchId: number;
  competition: string;
  /** Season label, `2019-20`. */
  season: string;
  /** The US game date, `YYYY-MM-DD`. */
  date: string;
  homeTeam: string;
  awayTeam: string;
  /** Both null until the game is finished. */
  homeScore: number | null;
  awayScore: number | null;
  /** The closing consensus moneyline (decimal odds), when complete. */
  moneyline: { home: number; away: number } | null;
  /** The home side's closing spread point (−6.5: the home side gives 6.5). */
  spreadHome: number | null;
  /** The closing total points line. */
  total: number | null;
}

/** What a team's feature state holds: a plain JSON value, so a Worker could read it from KV later. */
export interface NbaTeamState {
  team: string;
  /** Rating after the last known game, before any carry-over into a later season. */
  elo: number;
  /** Season of the last known game; null before the first. */
  season: string | null;
  seasonGames: number;
  lastDate: string | null;
  lastVenue: Venue | null;
}

export const createNbaTeamState = (team: string): NbaTeamState => ({ team, elo: NBA_ELO_INITIAL, season: null, seasonGames: 0, lastDate: null, lastVenue: null });

/** The team's rating going into a game of `season`: regressed to the mean once when a new season starts. */
export function eloEntering(state: NbaTeamState, season: string): number {
  if (state.season === null || state.season === season) return state.elo;
  return NBA_ELO_SEASON_CARRY * state.elo + (1 - NBA_ELO_SEASON_CARRY) * NBA_ELO_SEASON_MEAN;
}

export const eloWinProbability = (difference: number) => 1 / (1 + 10 ** (-difference / 400));

/** The margin-of-victory multiplier; `winnerEdge` is the winner's pre-game rating minus the loser's, home advantage included. */
export const movMultiplier = (margin: number, winnerEdge: number) => (Math.abs(margin) + 3) ** 0.8 / (7.5 + 0.006 * winnerEdge);

const dayNumber = (date: string) => Date.parse(`${date}T00:00:00Z`) / DAY_MS;

function isDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));
}

export class NbaFeatureInputError extends Error {}

/** All teams' states as of the results applied so far. */
export class NbaFeatureState {
  readonly teams = new Map<string, NbaTeamState>();
  /** The last date whose results were applied: a game may only be predicted on a later date. */
  appliedThrough: string | null = null;

  constructor(readonly venues: VenueBook) {}

  private team(key: string): NbaTeamState {
    return this.teams.get(key) ?? createNbaTeamState(key);
  }

  /** Where the game is played, and whether that is a neutral site. */
  venue(game: Pick<NbaGameInput, 'competition' | 'date' | 'homeTeam'>): { venue: Venue | null; neutral: boolean } {
    return gameVenue(game, this.venues);
  }

  /** The game's nba-v1 vector (NBA_FEATURE_NAMES order, NaN for missing), from the results of earlier dates only. */
  features(game: NbaGameInput): Float64Array {
    if (!isDate(game.date)) throw new NbaFeatureInputError(`match ${game.matchId}: date ${JSON.stringify(game.date)} is not YYYY-MM-DD`);
    if (game.homeTeam === game.awayTeam) throw new NbaFeatureInputError(`match ${game.matchId}: a team cannot play itself`);
    if (this.appliedThrough !== null && !(this.appliedThrough < game.date)) {
      throw new NbaFeatureInputError(`match ${game.matchId} on ${game.date}: the state already holds results of ${this.appliedThrough}, not the state before its date`);
    }
    return nbaGameFeatures(game, this.team(game.homeTeam), this.team(game.awayTeam), this.venues);
  }

  /** Learn the results of one date: every finished game on it, none of which may be predicted afterwards. */
  applyDate(date: string, games: readonly NbaGameInput[]): void {
    if (this.appliedThrough !== null && !(this.appliedThrough < date)) throw new NbaFeatureInputError(`results of ${date} applied after those of ${this.appliedThrough}`);
    // Each game's update uses the ratings from before the date: on one date a team plays at most once, so the
    // order of a date's games cannot matter, and this makes sure of it.
    const updates: Array<[NbaTeamState, NbaTeamState]> = [];
    for (const g of games) {
      if (g.date !== date) throw new NbaFeatureInputError(`match ${g.matchId} is on ${g.date}, not ${date}`);
      if (g.homeScore === null || g.awayScore === null) continue;
      updates.push(applyNbaResult(g, this.team(g.homeTeam), this.team(g.awayTeam), this.venues));
    }
    const seen = new Set<string>();
    for (const [home, away] of updates) {
      for (const t of [home.team, away.team]) {
        if (seen.has(t)) throw new NbaFeatureInputError(`${t} plays twice on ${date}`);
        seen.add(t);
      }
    }
    for (const [home, away] of updates) {
      this.teams.set(home.team, home);
      this.teams.set(away.team, away);
    }
    this.appliedThrough = date;
  }
}

/** Where the game is played, and whether that is a neutral site. */
export function gameVenue(game: Pick<NbaGameInput, 'competition' | 'date' | 'homeTeam'>, venues: VenueBook): { venue: Venue | null; neutral: boolean } {
  const site = venues.neutralSite(game.competition, game.date);
  return site ? { venue: site, neutral: true } : { venue: venues.arena(game.homeTeam, game.date), neutral: false };
}

/** The two sides' ratings entering a game, and the home side's edge (home advantage unless neutral). */
function preGame(game: NbaGameInput, home: NbaTeamState, away: NbaTeamState, venues: VenueBook) {
  const { venue, neutral } = gameVenue(game, venues);
  const homeElo = eloEntering(home, game.season);
  const awayElo = eloEntering(away, game.season);
  return { venue, neutral, homeElo, awayElo, edge: homeElo + (neutral ? 0 : NBA_ELO_HOME_ADVANTAGE) - awayElo };
}

/**
 * The game's nba-v1 vector (NBA_FEATURE_NAMES order, NaN for missing) from the two teams' states before its date.
 * Pure: the offline walker (NbaFeatureState) and the Worker, which reads the two states from the feature store,
 * both make the vector here.
 */
export function nbaGameFeatures(game: NbaGameInput, home: NbaTeamState, away: NbaTeamState, venues: VenueBook): Float64Array {
  if (!isDate(game.date)) throw new NbaFeatureInputError(`match ${game.matchId}: date ${JSON.stringify(game.date)} is not YYYY-MM-DD`);
  for (const t of [home, away]) {
    if (t.lastDate !== null && !(t.lastDate < game.date)) {
      throw new NbaFeatureInputError(`match ${game.matchId} on ${game.date}: ${t.team}'s state already holds its game of ${t.lastDate}, not the state before the date`);
    }
  }
  const out = new Float64Array(NBA_FEATURE_COUNT).fill(NaN);
  const set = (name: NbaFeatureName, value: number) => {
    out[NBA_FEATURE_INDEX[name]] = Number.isFinite(value) ? value : NaN;
  };
  const { venue, neutral, homeElo, awayElo, edge: difference } = preGame(game, home, away, venues);
  set('elo_home', homeElo);
  set('elo_away', awayElo);
  set('elo_diff', difference);
  set('elo_p_home', eloWinProbability(difference));
  set('neutral_site', neutral ? 1 : 0);

  const today = dayNumber(game.date);
  const rest = (t: NbaTeamState) => (t.season === game.season && t.lastDate !== null ? today - dayNumber(t.lastDate) - 1 : NaN);
  const restHome = rest(home);
  const restAway = rest(away);
  set('rest_home', restHome);
  set('rest_away', restAway);
  set('b2b_home', restHome === 0 ? 1 : 0);
  set('b2b_away', restAway === 0 ? 1 : 0);
  const capped = (r: number) => (Number.isNaN(r) ? NBA_REST_CAP_DAYS : Math.min(r, NBA_REST_CAP_DAYS));
  set('rest_advantage', capped(restHome) - capped(restAway));

  const travel = (t: NbaTeamState) => {
    if (!venue) return NaN;
    const recent = t.lastDate !== null && t.lastVenue !== null && today - dayNumber(t.lastDate) <= NBA_TRAVEL_BREAK_DAYS;
    const origin = recent ? t.lastVenue : venues.arena(t.team, game.date);
    return origin ? greatCircleKm(origin, venue) : NaN;
  };
  set('travel_home_km', travel(home));
  set('travel_away_km', travel(away));
  set('season_games_home', home.season === game.season ? home.seasonGames : 0);
  set('season_games_away', away.season === game.season ? away.seasonGames : 0);

  const ml = game.moneyline;
  const valid = ml !== null && ml.home > 1 && ml.away > 1 && Number.isFinite(ml.home) && Number.isFinite(ml.away);
  set('mkt_p_home', valid ? marginFreeProbabilities([ml.home, ml.away])[0]! : NaN);
  set('mkt_overround', valid ? overround([ml.home, ml.away]) : NaN);
  set('mkt_spread_home', game.spreadHome ?? NaN);
  set('mkt_total', game.total ?? NaN);
  return out;
}

/**
 * One finished game's update of its two teams' states, from their states before its date: Elo with the margin
 * of victory, and where and when each last played. A team plays at most once a date, so applying a date's results
 * one by one, in any order, is the same as applying them together (applyDate), which is what lets the feature
 * store apply results as they become known.
 */
export function applyNbaResult(g: NbaGameInput, home: NbaTeamState, away: NbaTeamState, venues: VenueBook): [NbaTeamState, NbaTeamState] {
  if (g.homeScore === null || g.awayScore === null) throw new NbaFeatureInputError(`match ${g.matchId} has no result`);
  if (g.homeScore === g.awayScore) throw new NbaFeatureInputError(`match ${g.matchId}: a basketball game cannot end level`);
  for (const t of [home, away]) {
    if (t.lastDate !== null && !(t.lastDate < g.date)) throw new NbaFeatureInputError(`${t.team} plays on ${g.date} after its game of ${t.lastDate}`);
  }
  const { venue, homeElo, awayElo, edge } = preGame(g, home, away, venues);
  const expected = eloWinProbability(edge);
  const homeWon = g.homeScore > g.awayScore;
  const shift = NBA_ELO_K * movMultiplier(g.homeScore - g.awayScore, homeWon ? edge : -edge) * ((homeWon ? 1 : 0) - expected);
  const played = (t: NbaTeamState, elo: number): NbaTeamState => ({
    team: t.team,
    elo,
    season: g.season,
    seasonGames: (t.season === g.season ? t.seasonGames : 0) + 1,
    lastDate: g.date,
    lastVenue: venue,
  });
  return [played(home, homeElo + shift), played(away, awayElo - shift)];
}

export interface NbaFeatureVector {
  matchId: number;
  values: Float64Array;
}

/**
 * The vectors of the games `include` accepts (default all), in date then match id order. Walks all of `games`
 * (any order: every earlier result is needed) date by date: a date's games are predicted from the state of the
 * dates before it, then its results are learnt.
 */
export function computeNbaFeatureVectors(
  games: readonly NbaGameInput[],
  venues: VenueBook,
  options: { include?: (g: NbaGameInput) => boolean } = {},
): NbaFeatureVector[] {
  const include = options.include ?? (() => true);
  const byDate = new Map<string, NbaGameInput[]>();
  for (const g of games) {
    if (!isDate(g.date)) throw new NbaFeatureInputError(`match ${g.matchId}: date ${JSON.stringify(g.date)} is not YYYY-MM-DD`);
    const list = byDate.get(g.date);
    if (list) list.push(g);
    else byDate.set(g.date, [g]);
  }
  const state = new NbaFeatureState(venues);
  const out: NbaFeatureVector[] = [];
  for (const date of [...byDate.keys()].sort()) {
    const day = byDate.get(date)!.sort((a, b) => a.matchId - b.matchId);
    for (const g of day) if (include(g)) out.push({ matchId: g.matchId, values: state.features(g) });
    state.applyDate(date, day);
  }
  return out;
}
