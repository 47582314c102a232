// Incremental state behind the features: one TeamState per team, one HeadToHeadState per pair of teams and
// one LeagueState per competition. Each is a plain JSON value (numbers, strings, booleans, arrays, null;
// never NaN or undefined), so the Worker can read a precomputed state from KV and get exactly the
// features the training export computed. A state only ever holds results that were known at the time it
// was updated; which results those are is the timeline's business (timeline.ts), not the state's.
import type { MatchStats } from '../../db/schema';

export const STATE_VERSION = 1;

/** Matches kept per team: the longest team window (10). */
export const RECENT_LIMIT = 10;
/** Home (away) matches kept per team for the venue windows. */
export const VENUE_LIMIT = 5;
/** Meetings kept per pair of teams: the longest head-to-head window (6) plus room. */
export const H2H_LIMIT = 10;
/** League rates are over the competition's matches that kicked off in the 365 days before the prediction. */
export const LEAGUE_WINDOW_MS = 365 * 86_400_000;
/** Below this many matches in the window the league rates are NaN rather than noise. */
export const LEAGUE_MIN_MATCHES = 30;
/** League results older than this before the newest one can no longer fall in any later window. */
const LEAGUE_KEEP_MS = LEAGUE_WINDOW_MS + 2 * 86_400_000;
/** Seasons of team membership kept per league (the current one, the previous one and one more). */
const LEAGUE_SEASONS_KEPT = 3;

export const ELO_INITIAL = 1500;
/** A team first seen in a competition that already has a known previous season came up from outside the data. */
export const ELO_NEWCOMER = 1400;
export const ELO_K = 20;
export const ELO_HOME_ADVANTAGE = 60;

/** The xG proxy, from shots on target and the rest of the shots. */
export const XGP_PER_SHOT_ON_TARGET = 0.3;
export const XGP_PER_OTHER_SHOT = 0.02;

/** One played match as a team remembers it. Statistics are null when the source did not have them. */
export interface TeamMatchMemo {
  startAt: number;
  competitionId: number;
  season: string;
  atHome: boolean;
  goalsFor: number;
  goalsAgainst: number;
  shotsFor: number | null;
  shotsAgainst: number | null;
  shotsOnTargetFor: number | null;
  shotsOnTargetAgainst: number | null;
  cornersFor: number | null;
  cornersAgainst: number | null;
  /** Yellow cards + 2 × red cards of this team. */
  cardPoints: number | null;
  /** The opponent's Elo rating before the match. */
  opponentElo: number;
}

export interface VenueMemo {
  startAt: number;
  goalsFor: number;
  goalsAgainst: number;
}

export interface TeamState {
  v: number;
  teamId: number;
  /** Elo rating after the last known match; null until the team has played one. */
  elo: number | null;
  /** Known matches, all competitions and seasons. */
  games: number;
  /** The last RECENT_LIMIT known matches, oldest first. */
  recent: TeamMatchMemo[];
  /** The last VENUE_LIMIT known home matches, oldest first. */
  recentHome: VenueMemo[];
  /** The last VENUE_LIMIT known away matches, oldest first. */
  recentAway: VenueMemo[];
  /** Season label of the last known match, and the team's totals in that season (all competitions). */
  season: string | null;
  seasonGames: number;
  seasonPoints: number;
  seasonGoalsFor: number;
  seasonGoalsAgainst: number;
}

export interface HeadToHeadMeeting {
  startAt: number;
  homeTeamId: number;
  homeGoals: number;
  awayGoals: number;
}

export interface HeadToHeadState {
  v: number;
  /** The pair, lower team id first; meetings record which of them was at home. */
  teamIds: [number, number];
  /** Every known meeting, any venue and competition. */
  meetings: number;
  /** The last H2H_LIMIT known meetings, oldest first. */
  recent: HeadToHeadMeeting[];
}

export interface LeagueSeason {
  season: string;
  /** Team ids with a known match in this competition and season, ascending. */
  teamIds: number[];
}

export interface LeagueState {
  v: number;
  competitionId: number;
  /** Known results still inside any future window, as [startAt, homeGoals, awayGoals], in the order applied. */
  recent: Array<[number, number, number]>;
  /** The latest LEAGUE_SEASONS_KEPT seasons seen, oldest first. */
  seasons: LeagueSeason[];
}

/** A finished match with its result, as the states learn it. */
export interface MatchResult {
  competitionId: number;
  season: string;
  homeTeamId: number;
  awayTeamId: number;
  startAt: number;
  homeScore: number;
  awayScore: number;
  stats: MatchStats | null;
}

export const createTeamState = (teamId: number): TeamState => ({
  v: STATE_VERSION,
  teamId,
  elo: null,
  games: 0,
  recent: [],
  recentHome: [],
  recentAway: [],
  season: null,
  seasonGames: 0,
  seasonPoints: 0,
  seasonGoalsFor: 0,
  seasonGoalsAgainst: 0,
});

export const headToHeadKey = (teamA: number, teamB: number): string => (teamA < teamB ? `${teamA}-${teamB}` : `${teamB}-${teamA}`);

export const createHeadToHeadState = (teamA: number, teamB: number): HeadToHeadState => ({
  v: STATE_VERSION,
  teamIds: teamA < teamB ? [teamA, teamB] : [teamB, teamA],
  meetings: 0,
  recent: [],
});

export const createLeagueState = (competitionId: number): LeagueState => ({ v: STATE_VERSION, competitionId, recent: [], seasons: [] });

/** '2018-19' → '2017-18'; null for a label of another shape. */
export function previousSeason(season: string): string | null {
  const m = season.match(/^(\d{4})-(\d{2})$/);
  if (!m) return null;
  const start = Number(m[1]) - 1;
  return `${start}-${String((start + 1) % 100).padStart(2, '0')}`;
}

/** The league's known teams of the season before `season`, or null when that season is not known at all. */
export function previousSeasonTeams(league: LeagueState | null, season: string): number[] | null {
  const previous = previousSeason(season);
  if (!league || previous === null) return null;
  return league.seasons.find((s) => s.season === previous)?.teamIds ?? null;
}

export const points = (goalsFor: number, goalsAgainst: number): number => (goalsFor > goalsAgainst ? 3 : goalsFor === goalsAgainst ? 1 : 0);

/** Expected Elo score of the home side (a draw counts one half), home advantage included. */
export const eloExpectedHome = (homeElo: number, awayElo: number): number => 1 / (1 + 10 ** ((awayElo - homeElo - ELO_HOME_ADVANTAGE) / 400));

/** The goal-difference multiplier of the World Football Elo ratings. */
function eloMargin(goalDifference: number): number {
  const d = Math.abs(goalDifference);
  return d <= 1 ? 1 : d === 2 ? 1.5 : (11 + d) / 8;
}

export function xgProxy(shots: number | null, shotsOnTarget: number | null): number | null {
  if (shots === null || shotsOnTarget === null) return null;
  return XGP_PER_SHOT_ON_TARGET * shotsOnTarget + XGP_PER_OTHER_SHOT * Math.max(shots - shotsOnTarget, 0);
}

const stat = (value: number | null | undefined): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

function cardPoints(yellow: number | null, red: number | null): number | null {
  return yellow === null || red === null ? null : yellow + 2 * red;
}

function pushLimited<T>(list: T[], item: T, limit: number): void {
  list.push(item);
  if (list.length > limit) list.splice(0, list.length - limit);
}

function rememberMatch(team: TeamState, memo: TeamMatchMemo, eloAfter: number): void {
  team.elo = eloAfter;
  team.games += 1;
  pushLimited(team.recent, memo, RECENT_LIMIT);
  pushLimited(memo.atHome ? team.recentHome : team.recentAway, { startAt: memo.startAt, goalsFor: memo.goalsFor, goalsAgainst: memo.goalsAgainst }, VENUE_LIMIT);
  if (team.season !== memo.season) {
    team.season = memo.season;
    team.seasonGames = 0;
    team.seasonPoints = 0;
    team.seasonGoalsFor = 0;
    team.seasonGoalsAgainst = 0;
  }
  team.seasonGames += 1;
  team.seasonPoints += points(memo.goalsFor, memo.goalsAgainst);
  team.seasonGoalsFor += memo.goalsFor;
  team.seasonGoalsAgainst += memo.goalsAgainst;
}

/**
 * Teaches every state involved the result of one match. Call it only once the result is known, in the order
 * results became known (timeline.ts does both). The states are updated in place.
 */
export function applyMatchResult(result: MatchResult, home: TeamState, away: TeamState, pair: HeadToHeadState, league: LeagueState): void {
  if (home.teamId !== result.homeTeamId || away.teamId !== result.awayTeamId) throw new Error('applyMatchResult: team states do not match the result');
  if (pair.teamIds.join('-') !== headToHeadKey(result.homeTeamId, result.awayTeamId)) throw new Error('applyMatchResult: head-to-head state of another pair');
  if (league.competitionId !== result.competitionId) throw new Error('applyMatchResult: league state of another competition');

  const newcomerElo = previousSeasonTeams(league, result.season) === null ? ELO_INITIAL : ELO_NEWCOMER;
  const homeElo = home.elo ?? newcomerElo;
  const awayElo = away.elo ?? newcomerElo;
  const hg = result.homeScore;
  const ag = result.awayScore;
  const score = hg > ag ? 1 : hg === ag ? 0.5 : 0;
  const delta = ELO_K * eloMargin(hg - ag) * (score - eloExpectedHome(homeElo, awayElo));

  const s = result.stats;
  const side = (own: 'home' | 'away') => {
    const other = own === 'home' ? 'away' : 'home';
    return {
      shotsFor: stat(s?.[own]?.shots),
      shotsAgainst: stat(s?.[other]?.shots),
      shotsOnTargetFor: stat(s?.[own]?.shotsOnTarget),
      shotsOnTargetAgainst: stat(s?.[other]?.shotsOnTarget),
      cornersFor: stat(s?.[own]?.corners),
      cornersAgainst: stat(s?.[other]?.corners),
      cardPoints: cardPoints(stat(s?.[own]?.yellowCards), stat(s?.[own]?.redCards)),
    };
  };
  const common = { startAt: result.startAt, competitionId: result.competitionId, season: result.season };
  rememberMatch(home, { ...common, atHome: true, goalsFor: hg, goalsAgainst: ag, ...side('home'), opponentElo: awayElo }, homeElo + delta);
  rememberMatch(away, { ...common, atHome: false, goalsFor: ag, goalsAgainst: hg, ...side('away'), opponentElo: homeElo }, awayElo - delta);

  pair.meetings += 1;
  pushLimited(pair.recent, { startAt: result.startAt, homeTeamId: result.homeTeamId, homeGoals: hg, awayGoals: ag }, H2H_LIMIT);

  league.recent.push([result.startAt, hg, ag]);
  let newest = -Infinity;
  for (const r of league.recent) if (r[0] > newest) newest = r[0];
  if (league.recent[0]![0] < newest - LEAGUE_KEEP_MS) league.recent = league.recent.filter((r) => r[0] >= newest - LEAGUE_KEEP_MS);
  let season = league.seasons.find((x) => x.season === result.season);
  if (!season) {
    season = { season: result.season, teamIds: [] };
    league.seasons.push(season);
    league.seasons.sort((a, b) => (a.season < b.season ? -1 : a.season > b.season ? 1 : 0));
    if (league.seasons.length > LEAGUE_SEASONS_KEPT) league.seasons.splice(0, league.seasons.length - LEAGUE_SEASONS_KEPT);
  }
  for (const id of [result.homeTeamId, result.awayTeamId]) {
    if (!season.teamIds.includes(id)) {
      season.teamIds.push(id);
      season.teamIds.sort((a, b) => a - b);
    }
  }
}
