// The feature store as serving reads it: for a match, its own row, the two teams' states, the pair's and the
// league's, in one statement of primary-key lookups. Its cost does not grow with the history.
import { FEATURE_VERSION, createHeadToHeadState, createTeamState, seasonLabel, type HeadToHeadState, type LeagueState, type TeamState } from '../features';
import type { SqlQuery } from '../ingestion/sql';
import { TIMELINE_COLUMNS, timelineMatchFromRow } from './advance';
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
  /** Kicked off, finished or otherwise no longer open: only its stored pre-kick-off prediction may be served. */
  | { kind: 'started'; startAt: number };

/** The store of this Worker's feature version was never set up (its migration or first advance): a 503. */
export class FeatureStoreNotBuiltError extends UnavailableError {}

const parsed = <T>(value: unknown): T | null => (value === null || value === undefined ? null : typeof value === 'string' ? (JSON.parse(value) as T) : (value as T));

export class FeatureStateRepository {
  constructor(private readonly query: () => SqlQuery) {}

  /** The matches' stored states as of the store's last advance; an unknown id has no entry. */
  async forMatches(matchIds: readonly number[], now: number): Promise<Map<number, StoredMatch>> {
    const out = new Map<number, StoredMatch>();
    if (matchIds.length === 0) return out;
    const { rows } = await this.query()(
      `select ${TIMELINE_COLUMNS('m')}, g.feature_version as store_version, g.next_known_at,
              h.state as home_state, a.state as away_state, p.state as pair_state, l.state as league_state
       from matches m
       left join feature_store_progress g on g.feature_version = $2
       left join feature_team_states h on h.feature_version = $2 and h.team_id = m.home_team_id
       left join feature_team_states a on a.feature_version = $2 and a.team_id = m.away_team_id
       left join feature_pair_states p on p.feature_version = $2
         and p.team_low = least(m.home_team_id, m.away_team_id) and p.team_high = greatest(m.home_team_id, m.away_team_id)
       left join feature_league_states l on l.feature_version = $2 and l.competition_id = m.competition_id
       where m.id = any($1::bigint[])`,
      [[...new Set(matchIds)], FEATURE_VERSION],
    );
    for (const r of rows) {
      const m = timelineMatchFromRow(r);
      if (m.status !== 'scheduled' || now >= m.startAt) {
        out.set(m.matchId, { kind: 'started', startAt: m.startAt });
        continue;
      }
      if (r.store_version === null) throw new FeatureStoreNotBuiltError(`the feature store of ${FEATURE_VERSION} has not been built yet`);
      const nextKnownAt = r.next_known_at === null ? Infinity : new Date(r.next_known_at as string).getTime();
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
          home: parsed<TeamState>(r.home_state) ?? createTeamState(m.homeTeamId),
          away: parsed<TeamState>(r.away_state) ?? createTeamState(m.awayTeamId),
          pair: parsed<HeadToHeadState>(r.pair_state) ?? createHeadToHeadState(m.homeTeamId, m.awayTeamId),
          league: parsed<LeagueState>(r.league_state),
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
    const { rows } = await this.query()(
      `select id::text as id from matches where status = 'scheduled' and start_at > $1::timestamptz and start_at <= $2::timestamptz`,
      [new Date(now).toISOString(), new Date(now + horizonMs).toISOString()],
    );
    return rows.map((r) => Number(r.id));
  }
}
