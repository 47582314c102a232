// Time for features: when a prediction is made, when a result becomes known, and the one loop that walks
// history in that order so that every vector sees exactly the results known at its prediction time.
// The training export and the Worker's state precomputation both go through here.
import type { MatchStats } from '../../db/schema';
import { preMatchCaptureTime, seasonOf } from '../../domain/calendar';
import { buildFeatures, type MatchContext } from './build';
import { selectPreMatchOdds, type OddsQuote } from './odds';
import {
  applyMatchResult,
  createHeadToHeadState,
  createLeagueState,
  createTeamState,
  headToHeadKey,
  type HeadToHeadState,
  type LeagueState,
  type TeamState,
} from './state';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * A result is taken as known 3 hours after the latest possible kick-off: the kick-off itself when the time
 * is known, otherwise the end of the match day (UTC). So matches of the same day with date-only kick-offs
 * never see each other's results, and a match kicking off at 15:00 does not see one that kicked off at 12:30.
 */
export const RESULT_DELAY_MS = 3 * HOUR_MS;

/** One match as the timeline needs it; times in ms since the epoch. */
export interface TimelineMatch {
  matchId: number;
  competitionId: number;
  season: string | null;
  homeTeamId: number;
  awayTeamId: number;
  startAt: number;
  startTimeKnown: boolean;
  status: string;
  homeScore: number | null;
  awayScore: number | null;
  stats: MatchStats | null;
}

export const hasResult = (m: TimelineMatch): boolean => m.status === 'finished' && m.homeScore !== null && m.awayScore !== null;

export const resultKnownAt = (m: Pick<TimelineMatch, 'startAt' | 'startTimeKnown'>): number =>
  (m.startTimeKnown ? m.startAt : m.startAt + DAY_MS) + RESULT_DELAY_MS;

/** The match's season label; a provider without seasons gets the European July–June season of its kick-off. */
export const seasonLabel = (m: Pick<TimelineMatch, 'season' | 'startAt'>): string => m.season ?? seasonOf(new Date(m.startAt));

/**
 * The prediction time of a historical match: its pre-match odds capture (the latest `pre_match` snapshot
 * before kick-off). Without one, the football-data.co.uk convention the importer uses: 12:00 UTC on the last
 * Tuesday or Friday strictly before the match day. Live predictions pass the request time instead.
 */
export function predictionTimeFor(startAt: number, quotes: Iterable<OddsQuote> = []): number {
  let latest = -Infinity;
  for (const q of quotes) if (q.phase === 'pre_match' && q.capturedAt < startAt && q.capturedAt > latest) latest = q.capturedAt;
  if (latest > -Infinity) return latest;
  const day = new Date(startAt);
  return preMatchCaptureTime(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()).getTime();
}

export interface FeatureStateSnapshot {
  teams: TeamState[];
  pairs: HeadToHeadState[];
  leagues: LeagueState[];
}

/** All team, pair and league states, as of the results applied so far. */
export class FeatureStateStore {
  readonly teams = new Map<number, TeamState>();
  readonly pairs = new Map<string, HeadToHeadState>();
  readonly leagues = new Map<number, LeagueState>();

  /** Learn one result. Only for a finished match, and only once its result is known (see resultKnownAt). */
  apply(m: TimelineMatch): void {
    if (!hasResult(m)) throw new Error(`match ${m.matchId} has no result to apply`);
    const home = this.teams.get(m.homeTeamId) ?? createTeamState(m.homeTeamId);
    const away = this.teams.get(m.awayTeamId) ?? createTeamState(m.awayTeamId);
    const key = headToHeadKey(m.homeTeamId, m.awayTeamId);
    const pair = this.pairs.get(key) ?? createHeadToHeadState(m.homeTeamId, m.awayTeamId);
    const league = this.leagues.get(m.competitionId) ?? createLeagueState(m.competitionId);
    applyMatchResult(
      {
        competitionId: m.competitionId,
        season: seasonLabel(m),
        homeTeamId: m.homeTeamId,
        awayTeamId: m.awayTeamId,
        startAt: m.startAt,
        homeScore: m.homeScore!,
        awayScore: m.awayScore!,
        stats: m.stats,
      },
      home,
      away,
      pair,
      league,
    );
    this.teams.set(home.teamId, home);
    this.teams.set(away.teamId, away);
    this.pairs.set(key, pair);
    this.leagues.set(league.competitionId, league);
  }

  /** The match's feature vector from the current states (which must be those of `predictionTime`). */
  features(m: Omit<TimelineMatch, 'status' | 'homeScore' | 'awayScore' | 'stats'>, predictionTime: number, quotes: Iterable<OddsQuote>): Float64Array {
    const ctx: MatchContext = {
      homeTeamId: m.homeTeamId,
      awayTeamId: m.awayTeamId,
      competitionId: m.competitionId,
      season: seasonLabel(m),
      startAt: m.startAt,
      startTimeKnown: m.startTimeKnown,
      predictionTime,
      league: this.leagues.get(m.competitionId) ?? null,
    };
    return buildFeatures(
      ctx,
      this.teams.get(m.homeTeamId) ?? createTeamState(m.homeTeamId),
      this.teams.get(m.awayTeamId) ?? createTeamState(m.awayTeamId),
      this.pairs.get(headToHeadKey(m.homeTeamId, m.awayTeamId)) ?? createHeadToHeadState(m.homeTeamId, m.awayTeamId),
      selectPreMatchOdds(quotes, predictionTime, m.startAt),
    );
  }

  toJSON(): FeatureStateSnapshot {
    return { teams: [...this.teams.values()], pairs: [...this.pairs.values()], leagues: [...this.leagues.values()] };
  }

  static fromJSON(snapshot: FeatureStateSnapshot): FeatureStateStore {
    const store = new FeatureStateStore();
    for (const t of snapshot.teams) store.teams.set(t.teamId, t);
    for (const p of snapshot.pairs) store.pairs.set(headToHeadKey(p.teamIds[0], p.teamIds[1]), p);
    for (const l of snapshot.leagues) store.leagues.set(l.competitionId, l);
    return store;
  }
}

export interface FeatureVectorResult {
  matchId: number;
  predictionTime: number;
  values: Float64Array;
}

const byTime = (time: (m: TimelineMatch) => number) => (a: TimelineMatch, b: TimelineMatch) =>
  time(a) - time(b) || a.startAt - b.startAt || a.matchId - b.matchId;

/** Finished matches in the order their results became known. */
export function resultsInKnownOrder(matches: readonly TimelineMatch[]): TimelineMatch[] {
  return matches.filter(hasResult).sort(byTime(resultKnownAt));
}

/**
 * Walks all of `matches` (any order, all history: a vector needs every earlier result) and returns the
 * vector of each match that `include` accepts, sorted by kick-off then id. Before each prediction, exactly
 * the results known at its prediction time have been applied: a match never sees its own result, one
 * played later, or one of the same day that had not finished by then.
 */
export function computeFeatureVectors(
  matches: readonly TimelineMatch[],
  quotesByMatch: ReadonlyMap<number, readonly OddsQuote[]>,
  options: { include?: (m: TimelineMatch) => boolean } = {},
): FeatureVectorResult[] {
  const include = options.include ?? (() => true);
  const predictionTimes = new Map<number, number>();
  for (const m of matches) predictionTimes.set(m.matchId, predictionTimeFor(m.startAt, quotesByMatch.get(m.matchId)));
  const predictions = matches.filter(include).sort(byTime((m) => predictionTimes.get(m.matchId)!));
  const results = resultsInKnownOrder(matches);

  const store = new FeatureStateStore();
  const out: FeatureVectorResult[] = [];
  let next = 0;
  for (const m of predictions) {
    const predictionTime = predictionTimes.get(m.matchId)!;
    while (next < results.length && resultKnownAt(results[next]!) <= predictionTime) store.apply(results[next++]!);
    out.push({ matchId: m.matchId, predictionTime, values: store.features(m, predictionTime, quotesByMatch.get(m.matchId) ?? []) });
  }
  const startAt = new Map(matches.map((m) => [m.matchId, m.startAt]));
  return out.sort((a, b) => startAt.get(a.matchId)! - startAt.get(b.matchId)! || a.matchId - b.matchId);
}

/** The states as of `asOf`: every result known by then applied. What the Worker reads from KV. */
export function featureStateAt(matches: readonly TimelineMatch[], asOf: number): FeatureStateStore {
  const store = new FeatureStateStore();
  for (const m of resultsInKnownOrder(matches)) {
    if (resultKnownAt(m) > asOf) break;
    store.apply(m);
  }
  return store;
}
