// The feature stores as serving reads them: for a match, its own row, its sport's store, the two teams' states and
// (football) the pair's and the league's, in one statement of primary-key lookups. Its cost does not grow with
// the history.
import { builtVersion, builtVersionOfSport } from '../features/versions';
import { FEATURE_VERSION, createHeadToHeadState, createTeamState, seasonLabel, type HeadToHeadState, type LeagueState, type TeamState } from '../features';
import { createNbaTeamState, NBA_FEATURE_VERSION, type NbaGameInput, type NbaTeamState } from '../features/basketball';
import { and, eq, gt, lte, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { anyOf, type PgDb } from '../../db/pg';
import { competitions, featureLeagueStates, featurePairStates, featureStoreProgress, featureTeamStates, matches, sports, teams } from '../../db/schema';
import { timelineColumns, timelineMatchOf } from './advance';
import { nbaGameOf } from './basketball';
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

/**
 * A basketball game's feature state (nba-v1): the builder's input for the game (its lines come from the live odds
 * at prediction time) and its two teams' states, as of the basketball store's last advance.
 */
export interface NbaMatchFeatureState {
  featureVersion: typeof NBA_FEATURE_VERSION;
  matchId: number;
  computedAt: number;
  staleAfter: number;
  match: { startAt: number; startTimeKnown: boolean; status: string; homeTeamId: number; awayTeamId: number };
  game: NbaGameInput;
  home: NbaTeamState;
  away: NbaTeamState;
}

/** The feature state of a match of any sport with a store; `featureVersion` says which. */
export type SportMatchFeatureState = MatchFeatureState | NbaMatchFeatureState;

export const isNbaState = (state: SportMatchFeatureState): state is NbaMatchFeatureState => state.featureVersion === NBA_FEATURE_VERSION;

/** Usable for a prediction at `now`: a feature version this Worker builds, and no result has become known since. */
export const isFresh = (state: SportMatchFeatureState, now: number): boolean => builtVersion(state.featureVersion) !== undefined && now < state.staleAfter;

/** The sport a feature state describes; undefined for a version this Worker does not build. */
export const sportOfState = (state: SportMatchFeatureState): string | undefined => builtVersion(state.featureVersion)?.sport;

export type StoredMatch =
  /** Not started: the states to predict it from. */
  | { kind: 'upcoming'; sport: string; state: SportMatchFeatureState }
  /**
   * Kicked off, finished or otherwise no longer open, of any sport: only its stored pre-kick-off prediction may be
   * served.
   */
  | { kind: 'started'; sport: string; startAt: number }
  /**
   * Open, of a sport without a feature store: there is no state for it, and its prediction is made from its live
   * odds alone.
   */
  | { kind: 'market-only'; sport: string; startAt: number };

/** The store of this Worker's feature version was never set up (its migration or first advance): a 503. */
export class FeatureStoreNotBuiltError extends UnavailableError {}

const homeStates = alias(featureTeamStates, 'h');
const awayStates = alias(featureTeamStates, 'a');
const homeTeams = alias(teams, 'home');
const awayTeams = alias(teams, 'away');
/** A feature store's table of states, keyed by its feature version and an entity (a team, a pair, a league). */
type StateTable = typeof homeStates | typeof awayStates | typeof featurePairStates | typeof featureLeagueStates;

/**
 * The statement behind forMatches, built once per database and executed with the ids bound: drizzle building this
 * select (six subqueries, five joins) on every call was about 4% of the Worker's CPU in a round of cold misses
 * (docs/benchmarks.md). The read path's HTTP database lives as long as the isolate, so its statement does too.
 * The statement is unnamed (prepare('')): Postgres parses and plans it on every execution as before, so no named
 * prepared statement meets a transaction-mode connection pooler.
 */
function buildStatesQuery(db: PgDb) {
  const [h, a, p, l, g] = [homeStates, awayStates, featurePairStates, featureLeagueStates, featureStoreProgress];
  // Each state is a correlated scalar subquery, one primary-key lookup of the match's sport's store, not a left
  // join: Postgres then orders six relations instead of ten. Joined, planning took about 3 ms of the cold miss's
  // ~4 ms statement (EXPLAIN ANALYZE; it is planned on every call); as subqueries about 0.5 ms.
  const stateOf = (table: StateTable, key: SQL | undefined) =>
    sql`(${db.select({ state: table.state }).from(table).where(and(eq(table.featureVersion, g.featureVersion), key))})`.mapWith(table.state);
  return db
    .select({
      ...timelineColumns,
      storeVersion: g.featureVersion,
      nextKnownAt: g.nextKnownAt,
      homeState: stateOf(h, eq(h.teamId, matches.homeTeamId)),
      awayState: stateOf(a, eq(a.teamId, matches.awayTeamId)),
      pairState: stateOf(
        p,
        and(eq(p.teamLow, sql`least(${matches.homeTeamId}, ${matches.awayTeamId})`), eq(p.teamHigh, sql`greatest(${matches.homeTeamId}, ${matches.awayTeamId})`)),
      ),
      leagueState: stateOf(l, eq(l.competitionId, matches.competitionId)),
      sport: sports.key,
      competition: competitions.key,
      homeTeam: homeTeams.key,
      awayTeam: awayTeams.key,
    })
    .from(matches)
    .innerJoin(sports, eq(sports.id, matches.sportId))
    .innerJoin(competitions, eq(competitions.id, matches.competitionId))
    .innerJoin(homeTeams, eq(homeTeams.id, matches.homeTeamId))
    .innerJoin(awayTeams, eq(awayTeams.id, matches.awayTeamId))
    // The match's sport's store (one per sport, migration 0016), whose states the subqueries read.
    .leftJoin(g, eq(g.sport, sports.key))
    .where(anyOf(matches.id, sql.placeholder('matchIds')))
    .prepare('');
}

const statesQueries = new WeakMap<PgDb, ReturnType<typeof buildStatesQuery>>();

function statesQuery(db: PgDb): ReturnType<typeof buildStatesQuery> {
  let query = statesQueries.get(db);
  if (!query) statesQueries.set(db, (query = buildStatesQuery(db)));
  return query;
}

export class FeatureStateRepository {
  constructor(private readonly db: () => PgDb) {}

  /** The matches' stored states as of the store's last advance; an unknown id has no entry. */
  async forMatches(matchIds: readonly number[], now: number): Promise<Map<number, StoredMatch>> {
    const out = new Map<number, StoredMatch>();
    if (matchIds.length === 0) return out;
    const rows = await statesQuery(this.db()).execute({ matchIds: [...new Set(matchIds)] });
    for (const r of rows) {
      const m = timelineMatchOf(r);
      // Whether a match is still open is answered here, once, for every sport.
      if (m.status !== 'scheduled' || now >= m.startAt) {
        out.set(m.matchId, { kind: 'started', sport: r.sport, startAt: m.startAt });
        continue;
      }
      const built = builtVersionOfSport(r.sport)?.version;
      if (built === undefined) {
        out.set(m.matchId, { kind: 'market-only', sport: r.sport, startAt: m.startAt });
        continue;
      }
      if (r.storeVersion !== built) throw new FeatureStoreNotBuiltError(`the feature store of ${built} has not been built yet`);
      const nextKnownAt = r.nextKnownAt === null ? Infinity : r.nextKnownAt.getTime();
      const common = { matchId: m.matchId, computedAt: now, staleAfter: Math.min(nextKnownAt, m.startAt) };
      if (built === NBA_FEATURE_VERSION) {
        const game = nbaGameOf({ ...r, id: m.matchId, competition: r.competition, startAt: r.startAt });
        // A team the data file does not declare has no arenas or rating history: no features, so market-only.
        if (!game) {
          out.set(m.matchId, { kind: 'market-only', sport: r.sport, startAt: m.startAt });
          continue;
        }
        out.set(m.matchId, {
          kind: 'upcoming',
          sport: r.sport,
          state: {
            featureVersion: NBA_FEATURE_VERSION,
            ...common,
            match: { startAt: m.startAt, startTimeKnown: m.startTimeKnown, status: m.status, homeTeamId: m.homeTeamId, awayTeamId: m.awayTeamId },
            game,
            home: (r.homeState as NbaTeamState | null) ?? createNbaTeamState(game.homeTeam),
            away: (r.awayState as NbaTeamState | null) ?? createNbaTeamState(game.awayTeam),
          },
        });
        continue;
      }
      out.set(m.matchId, {
        kind: 'upcoming',
        sport: r.sport,
        state: {
          featureVersion: FEATURE_VERSION,
          ...common,
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
