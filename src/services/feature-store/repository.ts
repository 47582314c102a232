// The feature store as serving reads it: for a match, its own row, the two teams' states, the pair's and the
// league's, in one statement of primary-key lookups. Its cost does not grow with the history.
import { FEATURE_SPORT, FEATURE_VERSION, createHeadToHeadState, createTeamState, seasonLabel, type HeadToHeadState, type LeagueState, type TeamState } from '../features';
import { and, eq, gt, lte, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { anyOf, type PgDb } from '../../db/pg';
import { featureLeagueStates, featurePairStates, featureStoreProgress, featureTeamStates, matches, sports } from '../../db/schema';
import { timelineColumns, timelineMatchOf } from './advance';
import { UnavailableError } from '../../lib/errors';

/** A match's feature state as the prediction path uses it (and as the per-match KV entry holds it). */
export interface MatchFeatureState {
  featureVersion: string;
  matchId: number;
  /** When the entry was read from the store (ms). */
  computedAt: number;
  /** The states stop being current at this instant (a stored result becomes known, or kick-off). */
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

/** Usable for a prediction at `now`: current feature version, and no result has become known since. */
export const isFresh = (state: MatchFeatureState, now: number): boolean => state.featureVersion === FEATURE_VERSION && now < state.staleAfter;

export type StoredMatch =
  /** Not started: the states to predict it from. */
  | { kind: 'upcoming'; state: MatchFeatureState }
  /**
   * Kicked off, finished or otherwise no longer open, of any sport: only its stored pre-kick-off prediction may be
   * served.
   */
  | { kind: 'started'; sport: string; startAt: number }
  /**
   * Open, of another sport than the features' (FEATURE_SPORT): the store holds no state for it, and its prediction
   * is made from its live odds alone.
   */
  | { kind: 'market-only'; sport: string; startAt: number };

/** The store of this Worker's feature version was never set up (its migration or first advance): a 503. */
export class FeatureStoreNotBuiltError extends UnavailableError {}

const homeStates = alias(featureTeamStates, 'h');
const awayStates = alias(featureTeamStates, 'a');

export class FeatureStateRepository {
  constructor(private readonly db: () => PgDb) {}

  /** The matches' stored states as of the store's last advance; an unknown id has no entry. */
  async forMatches(matchIds: readonly number[], now: number): Promise<Map<number, StoredMatch>> {
    const out = new Map<number, StoredMatch>();
    if (matchIds.length === 0) return out;
    const [h, a, p, l, g] = [homeStates, awayStates, featurePairStates, featureLeagueStates, featureStoreProgress];
    const rows = await this.db()
      .select({
        ...timelineColumns,
        storeVersion: g.featureVersion,
        nextKnownAt: g.nextKnownAt,
        homeState: h.state,
        awayState: a.state,
        pairState: p.state,
        leagueState: l.state,
        sport: sports.key,
      })
      .from(matches)
      .innerJoin(sports, eq(sports.id, matches.sportId))
      .leftJoin(g, eq(g.featureVersion, FEATURE_VERSION))
      .leftJoin(h, and(eq(h.featureVersion, FEATURE_VERSION), eq(h.teamId, matches.homeTeamId)))
      .leftJoin(a, and(eq(a.featureVersion, FEATURE_VERSION), eq(a.teamId, matches.awayTeamId)))
      .leftJoin(
        p,
        and(
          eq(p.featureVersion, FEATURE_VERSION),
          eq(p.teamLow, sql`least(${matches.homeTeamId}, ${matches.awayTeamId})`),
          eq(p.teamHigh, sql`greatest(${matches.homeTeamId}, ${matches.awayTeamId})`),
        ),
      )
      .leftJoin(l, and(eq(l.featureVersion, FEATURE_VERSION), eq(l.competitionId, matches.competitionId)))
      .where(anyOf(matches.id, [...new Set(matchIds)]));
    for (const r of rows) {
      const m = timelineMatchOf(r);
      // Whether a match is still open is answered here, once, for every sport.
      if (m.status !== 'scheduled' || now >= m.startAt) {
        out.set(m.matchId, { kind: 'started', sport: r.sport, startAt: m.startAt });
        continue;
      }
      if (r.sport !== FEATURE_SPORT) {
        out.set(m.matchId, { kind: 'market-only', sport: r.sport, startAt: m.startAt });
        continue;
      }
      if (r.storeVersion === null) throw new FeatureStoreNotBuiltError(`the feature store of ${FEATURE_VERSION} has not been built yet`);
      const nextKnownAt = r.nextKnownAt === null ? Infinity : r.nextKnownAt.getTime();
      out.set(m.matchId, {
        kind: 'upcoming',
        state: {
          featureVersion: FEATURE_VERSION,
          matchId: m.matchId,
          computedAt: now,
          staleAfter: Math.min(nextKnownAt, m.startAt),
          match: {
            competitionId: m.competitionId,
            season: seasonLabel(m),
            homeTeamId: m.homeTeamId,
            awayTeamId: m.awayTeamId,
            startAt: m.startAt,
            startTimeKnown: m.startTimeKnown,
            status: m.status,
          },
          home: (r.homeState as TeamState | null) ?? createTeamState(m.homeTeamId),
          away: (r.awayState as TeamState | null) ?? createTeamState(m.awayTeamId),
          pair: (r.pairState as HeadToHeadState | null) ?? createHeadToHeadState(m.homeTeamId, m.awayTeamId),
          league: (r.leagueState as LeagueState | null) ?? null,
        },
      });
    }
    return out;
  }

  async forMatch(matchId: number, now: number): Promise<StoredMatch | null> {
    return (await this.forMatches([matchId], now)).get(matchId) ?? null;
  }

  /** Ids of scheduled matches kicking off in (now, now + horizon]: what a new result makes stale. */
  async upcomingMatchIds(now: number, horizonMs: number): Promise<number[]> {
    const rows = await this.db()
      .select({ id: matches.id })
      .from(matches)
      .where(and(eq(matches.status, 'scheduled'), gt(matches.startAt, new Date(now)), lte(matches.startAt, new Date(now + horizonMs))));
    return rows.map((r) => r.id);
  }
}
