// Keeps the feature store current: applies the results that have become known since the last advance, each
// touching two team states, one pair and one league, in the order results become known, exactly as the full
// replay (timeline.ts) would. Runs in the ingestion jobs after they commit results, in the feature queue's
// consumer and hourly; never on a request. One implementation for the Worker and Node (SqlTransactor).
import {
  FEATURE_VERSION,
  FeatureStateStore,
  hasResult,
  headToHeadKey,
  resultKnownAt,
  type HeadToHeadState,
  type LeagueState,
  type TeamState,
  type TimelineMatch,
} from '../features';
import type { SqlQuery, SqlResult, SqlTransactor } from '../ingestion/sql';

export interface AdvanceSummary {
  /** Results applied by this advance. */
  applied: number;
  /** True when the store was emptied first (a late or corrected result). */
  rebuilt: boolean;
  /** The applied results' match ids, in the order applied. */
  matchIds: number[];
  /** The earliest instant a stored result not yet applied becomes known (ms), or null. */
  nextKnownAt: number | null;
}

/** A result's place in the order results become known; timeline.ts sorts by the same three keys. */
type OrderKey = readonly [knownAt: number, startAt: number, matchId: number];
const orderKey = (m: TimelineMatch): OrderKey => [resultKnownAt(m), m.startAt, m.matchId];
const compareKeys = (a: OrderKey, b: OrderKey) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

const ms = (value: unknown): number => (value instanceof Date ? value.getTime() : Date.parse(String(value)));
/** A `json` column comes back parsed from pg and the Neon driver alike; text is parsed here just in case. */
const parsed = <T>(value: unknown): T => (typeof value === 'string' ? (JSON.parse(value) as T) : (value as T));

/** The columns the timeline needs, as `$alias.` columns of matches. */
export const TIMELINE_COLUMNS = (alias: string) =>
  ['id::text as id', 'competition_id', 'season', 'home_team_id', 'away_team_id', 'start_at', 'start_time_known', 'status', 'home_score', 'away_score', 'stats']
    .map((c) => `${alias}.${c}`)
    .join(', ');

export function timelineMatchFromRow(r: Record<string, unknown>): TimelineMatch {
  return {
    matchId: Number(r.id),
    competitionId: Number(r.competition_id),
    season: (r.season as string | null) ?? null,
    homeTeamId: Number(r.home_team_id),
    awayTeamId: Number(r.away_team_id),
    startAt: ms(r.start_at),
    startTimeKnown: Boolean(r.start_time_known),
    status: String(r.status),
    homeScore: r.home_score === null ? null : Number(r.home_score),
    awayScore: r.away_score === null ? null : Number(r.away_score),
    stats: parsed<TimelineMatch['stats']>(r.stats ?? null),
  };
}

async function lockProgress(query: SqlQuery): Promise<Record<string, unknown>> {
  await query(`insert into feature_store_progress (feature_version, rebuild_required) values ($1, true) on conflict do nothing`, [FEATURE_VERSION]);
  const { rows } = await query(`select * from feature_store_progress where feature_version = $1 for update`, [FEATURE_VERSION]);
  return rows[0]!;
}

/** Empties the store: every result becomes pending again, and the next step applies them all from scratch. */
async function reset(query: SqlQuery): Promise<void> {
  for (const table of ['feature_team_states', 'feature_pair_states', 'feature_league_states']) {
    await query(`delete from ${table} where feature_version = $1`, [FEATURE_VERSION]);
  }
  await query(`update matches set features_applied_at = null where features_applied_at is not null`, []);
  await query(
    `update feature_store_progress set applied_known_at = null, applied_start_at = null, applied_match_id = null, applied_results = 0,
       rebuild_required = false where feature_version = $1`,
    [FEATURE_VERSION],
  );
}

/** Finished results the store has not learnt yet: the partial index matches_features_pending_idx holds exactly these. */
async function pendingResults(query: SqlQuery): Promise<TimelineMatch[]> {
  const { rows } = await query(
    `select ${TIMELINE_COLUMNS('m')} from matches m
     where m.status = 'finished' and m.features_applied_at is null and m.home_score is not null and m.away_score is not null`,
    [],
  );
  return rows.map(timelineMatchFromRow).filter(hasResult);
}

/** The stored states the results touch, loaded into a FeatureStateStore. */
async function loadTouched(query: SqlQuery, results: readonly TimelineMatch[]): Promise<FeatureStateStore> {
  const teamIds = [...new Set(results.flatMap((m) => [m.homeTeamId, m.awayTeamId]))];
  const pairs = [...new Set(results.map((m) => headToHeadKey(m.homeTeamId, m.awayTeamId)))].map((k) => k.split('-').map(Number) as [number, number]);
  const competitionIds = [...new Set(results.map((m) => m.competitionId))];
  const [teams, pairRows, leagues] = await Promise.all([
    query(`select state from feature_team_states where feature_version = $1 and team_id = any($2::int[])`, [FEATURE_VERSION, teamIds]),
    query(
      `select s.state from feature_pair_states s join unnest($2::int[], $3::int[]) as p(low, high) on s.team_low = p.low and s.team_high = p.high
       where s.feature_version = $1`,
      [FEATURE_VERSION, pairs.map((p) => p[0]), pairs.map((p) => p[1])],
    ),
    query(`select state from feature_league_states where feature_version = $1 and competition_id = any($2::int[])`, [FEATURE_VERSION, competitionIds]),
  ]);
  const states = (result: SqlResult) => result.rows.map((r) => parsed<never>(r.state));
  return FeatureStateStore.fromJSON({ teams: states(teams) as TeamState[], pairs: states(pairRows) as HeadToHeadState[], leagues: states(leagues) as LeagueState[] });
}

const STATE_BATCH = 1000;

async function writeStates(query: SqlQuery, store: FeatureStateStore, results: readonly TimelineMatch[]): Promise<void> {
  const teamIds = [...new Set(results.flatMap((m) => [m.homeTeamId, m.awayTeamId]))];
  const pairKeys = [...new Set(results.map((m) => headToHeadKey(m.homeTeamId, m.awayTeamId)))];
  const competitionIds = [...new Set(results.map((m) => m.competitionId))];
  for (let i = 0; i < teamIds.length; i += STATE_BATCH) {
    const ids = teamIds.slice(i, i + STATE_BATCH);
    await query(
      `insert into feature_team_states (feature_version, team_id, state)
       select $1, t.id, t.state::json from unnest($2::int[], $3::text[]) as t(id, state)
       on conflict (feature_version, team_id) do update set state = excluded.state, updated_at = now()`,
      [FEATURE_VERSION, ids, ids.map((id) => JSON.stringify(store.teams.get(id)))],
    );
  }
  for (let i = 0; i < pairKeys.length; i += STATE_BATCH) {
    const states = pairKeys.slice(i, i + STATE_BATCH).map((k) => store.pairs.get(k)!);
    await query(
      `insert into feature_pair_states (feature_version, team_low, team_high, state)
       select $1, p.low, p.high, p.state::json from unnest($2::int[], $3::int[], $4::text[]) as p(low, high, state)
       on conflict (feature_version, team_low, team_high) do update set state = excluded.state, updated_at = now()`,
      [FEATURE_VERSION, states.map((s) => s.teamIds[0]), states.map((s) => s.teamIds[1]), states.map((s) => JSON.stringify(s))],
    );
  }
  await query(
    `insert into feature_league_states (feature_version, competition_id, state)
     select $1, l.id, l.state::json from unnest($2::int[], $3::text[]) as l(id, state)
     on conflict (feature_version, competition_id) do update set state = excluded.state, updated_at = now()`,
    [FEATURE_VERSION, competitionIds, competitionIds.map((id) => JSON.stringify(store.leagues.get(id)))],
  );
}

/**
 * Applies every stored result known by `now` (ms) that the store has not learnt yet. Concurrent advances
 * queue on the progress row. A result that sorts before one already applied (it arrived late), or a change to
 * an applied result, empties the store first: Elo carries every result into all later ones, so only a replay
 * from the start is exact, and this is the one place that replays (a job, not a request).
 */
export async function advanceFeatureStore(db: SqlTransactor, now: number): Promise<AdvanceSummary> {
  return db.transaction(async (query) => {
    const progress = await lockProgress(query);
    let rebuilt = false;
    if (progress.rebuild_required) {
      await reset(query);
      rebuilt = true;
    }
    let pending = await pendingResults(query);
    let known = pending.filter((m) => resultKnownAt(m) <= now).sort((a, b) => compareKeys(orderKey(a), orderKey(b)));
    const watermark: OrderKey | null =
      !rebuilt && progress.applied_known_at != null
        ? [ms(progress.applied_known_at), ms(progress.applied_start_at), Number(progress.applied_match_id)]
        : null;
    if (watermark && known.length > 0 && compareKeys(orderKey(known[0]!), watermark) < 0) {
      await reset(query);
      rebuilt = true;
      pending = await pendingResults(query);
      known = pending.filter((m) => resultKnownAt(m) <= now).sort((a, b) => compareKeys(orderKey(a), orderKey(b)));
    }
    const later = pending.filter((m) => resultKnownAt(m) > now).map(resultKnownAt);
    const nextKnownAt = later.length > 0 ? Math.min(...later) : null;

    if (known.length > 0) {
      const store = await loadTouched(query, known);
      for (const m of known) store.apply(m);
      await writeStates(query, store, known);
      await query(`update matches set features_applied_at = $2::timestamptz where id = any($1::bigint[])`, [known.map((m) => m.matchId), new Date(now).toISOString()]);
    }
    const last = known[known.length - 1];
    await query(
      `update feature_store_progress set
         applied_known_at = coalesce($2::timestamptz, applied_known_at), applied_start_at = coalesce($3::timestamptz, applied_start_at),
         applied_match_id = coalesce($4::bigint, applied_match_id), applied_results = applied_results + $5::int,
         next_known_at = $6::timestamptz, advanced_at = $7::timestamptz
       where feature_version = $1`,
      [
        FEATURE_VERSION,
        last ? new Date(resultKnownAt(last)).toISOString() : null,
        last ? new Date(last.startAt).toISOString() : null,
        last ? last.matchId : null,
        known.length,
        nextKnownAt === null ? null : new Date(nextKnownAt).toISOString(),
        new Date(now).toISOString(),
      ],
    );
    return { applied: known.length, rebuilt, matchIds: known.map((m) => m.matchId), nextKnownAt };
  });
}
