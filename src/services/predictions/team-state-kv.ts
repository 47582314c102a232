// Precomputed feature state in KV: for each upcoming match, the team, head-to-head and league states as of
// the latest known result (the same FeatureStateStore the training export walks), with the match's own
// context. The queue consumer writes it; the hot path reads one key and adds the live odds.
//
// A state goes stale when a result that was not yet "known" (see resultKnownAt) becomes known: the entry
// carries that instant as `staleAfter`, and a reader treats a stale entry like a missing one.
import { and, eq, gt, lte } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { matches } from '../../db/schema';
import {
  FEATURE_VERSION,
  createHeadToHeadState,
  createTeamState,
  hasResult,
  headToHeadKey,
  resultKnownAt,
  resultsInKnownOrder,
  seasonLabel,
  FeatureStateStore,
  type HeadToHeadState,
  type LeagueState,
  type TeamState,
  type TimelineMatch,
} from '../features';

export interface MatchFeatureState {
  featureVersion: string;
  matchId: number;
  /** When the states were computed (ms); every result known by then is applied. */
  computedAt: number;
  /** The states stop being current at this instant (the next result becomes known, or kick-off). */
  staleAfter: number;
  match: {
    competitionId: number;
    season: string;
    homeTeamId: number;
    awayTeamId: number;
    startAt: number;
    startTimeKnown: boolean;
    status: string;
  };
  home: TeamState;
  away: TeamState;
  pair: HeadToHeadState;
  league: LeagueState | null;
}

export const featureStateKey = (matchId: number) => `feat:${FEATURE_VERSION}:${matchId}`;
/** Entries outlive their freshness only as a safety net; `staleAfter` decides whether they are used. */
export const FEATURE_STATE_TTL_SECONDS = 14 * 86_400;

/** Every match the timeline needs (all history: Elo and league state depend on every earlier result). */
export async function loadTimeline(db: Database): Promise<TimelineMatch[]> {
  const rows = await db
    .select({
      id: matches.id,
      competitionId: matches.competitionId,
      season: matches.season,
      homeTeamId: matches.homeTeamId,
      awayTeamId: matches.awayTeamId,
      startAt: matches.startAt,
      startTimeKnown: matches.startTimeKnown,
      status: matches.status,
      homeScore: matches.homeScore,
      awayScore: matches.awayScore,
      stats: matches.stats,
    })
    .from(matches);
  return rows.map((r) => ({
    matchId: Number(r.id),
    competitionId: Number(r.competitionId),
    season: r.season,
    homeTeamId: Number(r.homeTeamId),
    awayTeamId: Number(r.awayTeamId),
    startAt: r.startAt.getTime(),
    startTimeKnown: r.startTimeKnown,
    status: r.status,
    homeScore: r.homeScore,
    awayScore: r.awayScore,
    stats: r.stats ?? null,
  }));
}

export async function matchExists(db: Database, matchId: number): Promise<boolean> {
  const rows = await db.select({ id: matches.id }).from(matches).where(eq(matches.id, matchId)).limit(1);
  return rows.length > 0;
}

/** Ids of scheduled matches kicking off in (now, now + horizon]: what a new result makes stale. */
export async function upcomingMatchIds(db: Database, now: Date, horizonMs: number): Promise<number[]> {
  const rows = await db
    .select({ id: matches.id })
    .from(matches)
    .where(and(eq(matches.status, 'scheduled'), gt(matches.startAt, now), lte(matches.startAt, new Date(now.getTime() + horizonMs))));
  return rows.map((r) => Number(r.id));
}

/**
 * The feature states of `matchIds` as of `asOf`, from one pass over the timeline. Matches that are unknown
 * or have already kicked off get no entry (their prediction is the stored pre-kick-off one).
 */
export function computeMatchFeatureStates(timeline: readonly TimelineMatch[], matchIds: readonly number[], asOf: number): MatchFeatureState[] {
  const store = new FeatureStateStore();
  let nextResultKnownAt = Infinity;
  for (const m of resultsInKnownOrder(timeline)) {
    const knownAt = resultKnownAt(m);
    if (knownAt > asOf) {
      nextResultKnownAt = knownAt;
      break;
    }
    store.apply(m);
  }
  const byId = new Map(timeline.map((m) => [m.matchId, m]));
  const out: MatchFeatureState[] = [];
  for (const id of new Set(matchIds)) {
    const m = byId.get(id);
    if (!m || hasResult(m) || m.startAt <= asOf) continue;
    // JSON round trip: the entry must not share objects with the store (and is what KV will hold).
    const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
    out.push({
      featureVersion: FEATURE_VERSION,
      matchId: id,
      computedAt: asOf,
      staleAfter: Math.min(nextResultKnownAt, m.startAt),
      match: {
        competitionId: m.competitionId,
        season: seasonLabel(m),
        homeTeamId: m.homeTeamId,
        awayTeamId: m.awayTeamId,
        startAt: m.startAt,
        startTimeKnown: m.startTimeKnown,
        status: m.status,
      },
      home: clone(store.teams.get(m.homeTeamId) ?? createTeamState(m.homeTeamId)),
      away: clone(store.teams.get(m.awayTeamId) ?? createTeamState(m.awayTeamId)),
      pair: clone(store.pairs.get(headToHeadKey(m.homeTeamId, m.awayTeamId)) ?? createHeadToHeadState(m.homeTeamId, m.awayTeamId)),
      league: clone(store.leagues.get(m.competitionId) ?? null),
    });
  }
  return out;
}

export async function readMatchFeatureState(kv: KVNamespace, matchId: number): Promise<MatchFeatureState | null> {
  return kv.get<MatchFeatureState>(featureStateKey(matchId), 'json');
}

export async function writeMatchFeatureState(kv: KVNamespace, state: MatchFeatureState): Promise<void> {
  await kv.put(featureStateKey(state.matchId), JSON.stringify(state), { expirationTtl: FEATURE_STATE_TTL_SECONDS });
}

/** Usable for a prediction at `now`: current feature version, computed for this state of the world. */
export const isFresh = (state: MatchFeatureState, now: number): boolean => state.featureVersion === FEATURE_VERSION && now < state.staleAfter;
