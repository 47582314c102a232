// buildFeatures: one match's 72-feature vector from the states known at its prediction time and its
// pre-match prices. Pure and deterministic; the formulas are those of docs/feature-engineering-spec.md.
import { FEATURE_COUNT, FEATURE_INDEX, type FeatureName } from './names';
import { marginFreeProbabilities, overround, type PreMatchOdds } from './odds';
import {
  LEAGUE_MIN_MATCHES,
  LEAGUE_WINDOW_MS,
  eloExpectedHome,
  headToHeadKey,
  points,
  previousSeasonTeams,
  xgProxy,
  type HeadToHeadState,
  type LeagueState,
  type TeamMatchMemo,
  type TeamState,
} from './state';

const DAY_MS = 86_400_000;

/** What is known about the match itself at its prediction time. Times are ms since the epoch (UTC). */
export interface MatchContext {
  homeTeamId: number;
  awayTeamId: number;
  competitionId: number;
  /** Season label, e.g. '2023-24'. */
  season: string;
  startAt: number;
  /** False when only the date is known: startAt is then 00:00 UTC of the match day. */
  startTimeKnown: boolean;
  /** When the prediction is made: the pre-match odds capture for history, the request time live. */
  predictionTime: number;
  /** The competition's state at the prediction time; null when nothing of it is known. */
  league: LeagueState | null;
}

export class FeatureInputError extends Error {}

function mean<T>(items: readonly T[], value: (item: T) => number | null): number {
  let sum = 0;
  let n = 0;
  for (const item of items) {
    const v = value(item);
    if (v === null) continue;
    sum += v;
    n++;
  }
  return n === 0 ? NaN : sum / n;
}

const last = <T>(items: readonly T[], n: number): readonly T[] => (items.length <= n ? items : items.slice(items.length - n));

const share = (own: number, other: number) => (own + other === 0 ? 0.5 : own / (own + other));

/** Possession proxy of one match: the mean of the team's shot share and corner share (of those reported). */
function territory(m: TeamMatchMemo): number | null {
  const shots = m.shotsFor !== null && m.shotsAgainst !== null ? share(m.shotsFor, m.shotsAgainst) : null;
  const corners = m.cornersFor !== null && m.cornersAgainst !== null ? share(m.cornersFor, m.cornersAgainst) : null;
  if (shots === null) return corners;
  return corners === null ? shots : (shots + corners) / 2;
}

function assertKnownBefore<T>(what: string, items: readonly T[], time: (item: T) => number, startAt: number): void {
  for (const item of items) {
    if (time(item) >= startAt) throw new FeatureInputError(`${what} holds a match at or after this kick-off: it is not the state at the prediction time`);
  }
}

/** Home wins, draws and goals of the league's known results in the window before the prediction time. */
function leagueWindow(league: LeagueState | null, ctx: MatchContext) {
  const totals = { matches: 0, homeWins: 0, draws: 0, goals: 0 };
  if (!league) return totals;
  const since = ctx.predictionTime - LEAGUE_WINDOW_MS;
  for (const [startAt, homeGoals, awayGoals] of league.recent) {
    if (startAt >= ctx.startAt) throw new FeatureInputError('the league state holds a match at or after this kick-off: it is not the state at the prediction time');
    if (startAt < since) continue;
    totals.matches++;
    if (homeGoals > awayGoals) totals.homeWins++;
    else if (homeGoals === awayGoals) totals.draws++;
    totals.goals += homeGoals + awayGoals;
  }
  return totals;
}

/**
 * The feature vector of one match, in FEATURE_NAMES order. `home`, `away`, `pair` and `ctx.league` must be
 * the states as of `ctx.predictionTime` (results known by then, nothing else); `odds` the prices selected by
 * selectPreMatchOdds for the same time. Missing values are NaN.
 */
export function buildFeatures(ctx: MatchContext, home: TeamState, away: TeamState, pair: HeadToHeadState, odds: PreMatchOdds): Float64Array {
  if (home.teamId !== ctx.homeTeamId || away.teamId !== ctx.awayTeamId) throw new FeatureInputError('team states do not belong to this match');
  if (pair.teamIds.join('-') !== headToHeadKey(ctx.homeTeamId, ctx.awayTeamId)) throw new FeatureInputError('head-to-head state of another pair');
  if (ctx.league && ctx.league.competitionId !== ctx.competitionId) throw new FeatureInputError('league state of another competition');
  if (!(ctx.predictionTime < ctx.startAt)) throw new FeatureInputError('the prediction time must be before kick-off');
  assertKnownBefore('the home team state', home.recent, (m) => m.startAt, ctx.startAt);
  assertKnownBefore('the away team state', away.recent, (m) => m.startAt, ctx.startAt);
  assertKnownBefore('the head-to-head state', pair.recent, (m) => m.startAt, ctx.startAt);

  const out = new Float64Array(FEATURE_COUNT).fill(NaN);
  // Any non-finite result (there should be none) is reported as missing rather than as a value.
  const set = (name: FeatureName, value: number) => {
    out[FEATURE_INDEX[name]] = Number.isFinite(value) ? value : NaN;
  };

  // Team form.
  for (const [side, team] of [
    ['home', home],
    ['away', away],
  ] as const) {
    const r5 = last(team.recent, 5);
    const r10 = last(team.recent, 10);
    const venue = last(side === 'home' ? team.recentHome : team.recentAway, 5);
    const inSeason = team.season === ctx.season && team.seasonGames > 0;
    set(`form_${side}_ppg_5`, mean(r5, (m) => points(m.goalsFor, m.goalsAgainst)));
    set(`form_${side}_ppg_10`, mean(r10, (m) => points(m.goalsFor, m.goalsAgainst)));
    set(`form_${side}_gf_5`, mean(r5, (m) => m.goalsFor));
    set(`form_${side}_ga_5`, mean(r5, (m) => m.goalsAgainst));
    set(`form_${side}_venue_ppg_5`, mean(venue, (m) => points(m.goalsFor, m.goalsAgainst)));
    set(`form_${side}_venue_gd_5`, mean(venue, (m) => m.goalsFor - m.goalsAgainst));
    set(`form_${side}_season_ppg`, inSeason ? team.seasonPoints / team.seasonGames : NaN);
    set(`form_${side}_season_gd`, inSeason ? (team.seasonGoalsFor - team.seasonGoalsAgainst) / team.seasonGames : NaN);
    set(`form_${side}_over25_rate_10`, mean(r10, (m) => (m.goalsFor + m.goalsAgainst > 2.5 ? 1 : 0)));
    set(`form_${side}_clean_sheet_rate_10`, mean(r10, (m) => (m.goalsAgainst === 0 ? 1 : 0)));
  }

  // Head to head, from the current home team's side.
  const meetings = pair.recent.map((m) => {
    const homeSide = m.homeTeamId === ctx.homeTeamId;
    return { startAt: m.startAt, sameVenue: homeSide, gf: homeSide ? m.homeGoals : m.awayGoals, ga: homeSide ? m.awayGoals : m.homeGoals };
  });
  const m6 = last(meetings, 6);
  const lastMeeting = meetings[meetings.length - 1];
  set('h2h_meetings', pair.meetings);
  set('h2h_home_ppg_6', mean(m6, (m) => points(m.gf, m.ga)));
  set('h2h_home_win_rate_6', mean(m6, (m) => (m.gf > m.ga ? 1 : 0)));
  set('h2h_draw_rate_6', mean(m6, (m) => (m.gf === m.ga ? 1 : 0)));
  set('h2h_gd_6', mean(m6, (m) => m.gf - m.ga));
  set('h2h_goals_6', mean(m6, (m) => m.gf + m.ga));
  set('h2h_over25_rate_6', mean(m6, (m) => (m.gf + m.ga > 2.5 ? 1 : 0)));
  set('h2h_venue_ppg_3', mean(last(meetings.filter((m) => m.sameVenue), 3), (m) => points(m.gf, m.ga)));
  set('h2h_days_since_last', lastMeeting ? (ctx.startAt - lastMeeting.startAt) / DAY_MS : NaN);
  set('h2h_last_gd', lastMeeting ? lastMeeting.gf - lastMeeting.ga : NaN);

  // Market odds.
  const pin = odds.pinnacle.h2h;
  const avg = odds.market_avg.h2h;
  const max = odds.market_max.h2h;
  const pinP = pin ? marginFreeProbabilities([pin.home, pin.draw, pin.away]) : [NaN, NaN, NaN];
  const avgP = avg ? marginFreeProbabilities([avg.home, avg.draw, avg.away]) : [NaN, NaN, NaN];
  set('mkt_pin_p_home', pinP[0]!);
  set('mkt_pin_p_draw', pinP[1]!);
  set('mkt_pin_p_away', pinP[2]!);
  set('mkt_avg_p_home', avgP[0]!);
  set('mkt_avg_p_draw', avgP[1]!);
  set('mkt_avg_p_away', avgP[2]!);
  set('mkt_pin_overround_1x2', pin ? overround([pin.home, pin.draw, pin.away]) : NaN);
  set('mkt_avg_overround_1x2', avg ? overround([avg.home, avg.draw, avg.away]) : NaN);
  set('mkt_max_overround_1x2', max ? overround([max.home, max.draw, max.away]) : NaN);
  set('mkt_pin_avg_diff_home', pinP[0]! - avgP[0]!);
  set('mkt_pin_avg_diff_away', pinP[2]! - avgP[2]!);
  const pinOu = odds.pinnacle.overUnder25;
  const avgOu = odds.market_avg.overUnder25;
  const maxOu = odds.market_max.overUnder25;
  const pinOver = pinOu ? marginFreeProbabilities([pinOu.over, pinOu.under])[0]! : NaN;
  const avgOver = avgOu ? marginFreeProbabilities([avgOu.over, avgOu.under])[0]! : NaN;
  set('mkt_pin_p_over25', pinOver);
  set('mkt_avg_p_over25', avgOver);
  set('mkt_max_overround_ou25', maxOu ? overround([maxOu.over, maxOu.under]) : NaN);
  set('mkt_pin_avg_diff_over25', pinOver - avgOver);

  // Context.
  const previousTeams = previousSeasonTeams(ctx.league, ctx.season);
  const seasonGames = (t: TeamState) => (t.season === ctx.season ? t.seasonGames : 0);
  for (const [side, team] of [
    ['home', home],
    ['away', away],
  ] as const) {
    const lastMatch = team.recent[team.recent.length - 1];
    set(`ctx_${side}_days_since_last`, lastMatch ? (ctx.startAt - lastMatch.startAt) / DAY_MS : NaN);
    set(`ctx_${side}_matches_14d`, team.games === 0 ? NaN : team.recent.filter((m) => m.startAt >= ctx.startAt - 14 * DAY_MS).length);
    set(`ctx_${side}_promoted`, previousTeams === null ? NaN : previousTeams.includes(team.teamId) ? 0 : 1);
  }
  set('ctx_season_round', 1 + (seasonGames(home) + seasonGames(away)) / 2);
  const kickoff = new Date(ctx.startAt);
  const weekday = kickoff.getUTCDay();
  set('ctx_is_midweek', weekday >= 2 && weekday <= 4 ? 1 : 0);
  set('ctx_kickoff_hour_utc', ctx.startTimeKnown ? kickoff.getUTCHours() + kickoff.getUTCMinutes() / 60 : NaN);
  const league = leagueWindow(ctx.league, ctx);
  const enough = league.matches >= LEAGUE_MIN_MATCHES;
  set('ctx_league_home_win_rate', enough ? league.homeWins / league.matches : NaN);
  set('ctx_league_draw_rate', enough ? league.draws / league.matches : NaN);
  set('ctx_league_goals_pg', enough ? league.goals / league.matches : NaN);

  // Advanced statistics.
  for (const [side, team] of [
    ['home', home],
    ['away', away],
  ] as const) {
    const r10 = last(team.recent, 10);
    set(`adv_${side}_xgp_for_10`, mean(r10, (m) => xgProxy(m.shotsFor, m.shotsOnTargetFor)));
    set(`adv_${side}_xgp_against_10`, mean(r10, (m) => xgProxy(m.shotsAgainst, m.shotsOnTargetAgainst)));
    set(`adv_${side}_territory_10`, mean(r10, territory));
    set(`adv_${side}_finishing_10`, mean(r10, (m) => {
      const xg = xgProxy(m.shotsFor, m.shotsOnTargetFor);
      return xg === null ? null : m.goalsFor - xg;
    }));
    set(`adv_${side}_elo`, team.elo ?? NaN);
    set(`adv_${side}_sos_10`, mean(r10, (m) => m.opponentElo));
    set(`adv_${side}_cards_10`, mean(r10, (m) => m.cardPoints));
  }
  set('adv_elo_p_home', home.elo !== null && away.elo !== null ? eloExpectedHome(home.elo, away.elo) : NaN);
  return out;
}
