// Keeps the feature stores current: one per sport (its feature version's), each applying the results that have
// become known since its last advance, in the order results become known, exactly as the full replay would.
// Football's (v1) touches two team states, one pair and one league per result (timeline.ts); basketball's
// (nba-v1) the two teams' states (basketball.ts). Runs in the ingestion jobs after they commit results, in the
// feature queue's consumer and hourly; never on a request. One implementation for the Worker and Node (a drizzle
// PgDb).
import {
  FEATURE_SPORT,
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
import { and, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { anyOf, pgArray, type PgDb } from '../../db/pg';
import { featureLeagueStates, featurePairStates, featureStoreProgress, featureTeamStates, matches, sports } from '../../db/schema';

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
/** What the advance needs of a result to order it: when it becomes known, its kick-off and its id. */
export interface PendingResult {
  matchId: number;
  startAt: number;
  startTimeKnown: boolean;
}
const orderKey = (m: PendingResult): OrderKey => [resultKnownAt(m), m.startAt, m.matchId];
const compareKeys = (a: OrderKey, b: OrderKey) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** The columns of matches the timeline needs, for a typed select. */
export const timelineColumns = {
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
};

export interface TimelineRow {
  id: number;
  competitionId: number;
  season: string | null;
  homeTeamId: number;
  awayTeamId: number;
  startAt: Date;
  startTimeKnown: boolean;
  status: string;
  homeScore: number | null;
  awayScore: number | null;
  stats: TimelineMatch['stats'];
}

export function timelineMatchOf(r: TimelineRow): TimelineMatch {
  return {
    matchId: r.id,
    competitionId: r.competitionId,
    season: r.season,
    homeTeamId: r.homeTeamId,
    awayTeamId: r.awayTeamId,
    startAt: r.startAt.getTime(),
    startTimeKnown: r.startTimeKnown,
    status: r.status,
    homeScore: r.homeScore,
    awayScore: r.awayScore,
    stats: r.stats ?? null,
  };
}

/** Matches of one sport only: another sport's results never enter its store's states. */
export const ofSport = (db: PgDb, sport: string) => inArray(matches.sportId, db.select({ id: sports.id }).from(sports).where(eq(sports.key, sport)));
/** Matches of football's features (FEATURE_SPORT). */
export const ofFeatureSport = (db: PgDb) => ofSport(db, FEATURE_SPORT);

/** Every match of the timeline, as the full replay (featureStateAt) takes them. */
export async function timelineMatches(db: PgDb): Promise<TimelineMatch[]> {
  return (await db.select(timelineColumns).from(matches).where(ofFeatureSport(db))).map(timelineMatchOf);
}

/**
 * One sport's feature store, as the advance drives it: which results it learns, how it loads the states they
 * touch, applies them and writes them back. The order, the watermark, the rebuild and the bookkeeping are the
 * advance's, the same for every sport.
 */
export interface SportFeatureStore<R extends PendingResult, S> {
  featureVersion: string;
  /** sports.key: only this sport's results enter the store. */
  sport: string;
  /** Its finished results not learnt yet (matches_features_pending_idx holds exactly these, of every sport). */
  pending(db: PgDb): Promise<R[]>;
  load(db: PgDb, results: readonly R[]): Promise<S>;
  apply(states: S, result: R): void;
  write(db: PgDb, states: S, results: readonly R[]): Promise<void>;
  /** Deletes every stored state of the version. */
  clear(db: PgDb): Promise<void>;
}

async function lockProgress(db: PgDb, store: SportFeatureStore<PendingResult, unknown>) {
  await db.insert(featureStoreProgress).values({ featureVersion: store.featureVersion, sport: store.sport, rebuildRequired: true }).onConflictDoNothing();
  const [progress] = await db.select().from(featureStoreProgress).where(eq(featureStoreProgress.featureVersion, store.featureVersion)).for('update');
  return progress!;
}

/** Empties a store: every result of its sport becomes pending again, and the next step applies them all from scratch. */
async function reset(db: PgDb, store: SportFeatureStore<PendingResult, unknown>): Promise<void> {
  await store.clear(db);
  await db
    .update(matches)
    .set({ featuresAppliedAt: null })
    .where(and(isNotNull(matches.featuresAppliedAt), ofSport(db, store.sport)));
  await db
    .update(featureStoreProgress)
    .set({ appliedKnownAt: null, appliedStartAt: null, appliedMatchId: null, appliedResults: 0, rebuildRequired: false })
    .where(eq(featureStoreProgress.featureVersion, store.featureVersion));
}

/** Finished results the store has not learnt yet: the partial index matches_features_pending_idx holds exactly these. */
async function footballPending(db: PgDb): Promise<TimelineMatch[]> {
  const rows = await db
    .select(timelineColumns)
    .from(matches)
    .where(and(eq(matches.status, 'finished'), isNull(matches.featuresAppliedAt), isNotNull(matches.homeScore), isNotNull(matches.awayScore), ofFeatureSport(db)));
  return rows.map(timelineMatchOf).filter(hasResult);
}

/** The stored states the results touch, loaded into a FeatureStateStore. */
async function footballLoad(db: PgDb, results: readonly TimelineMatch[]): Promise<FeatureStateStore> {
  const teamIds = [...new Set(results.flatMap((m) => [m.homeTeamId, m.awayTeamId]))];
  const pairs = [...new Set(results.map((m) => headToHeadKey(m.homeTeamId, m.awayTeamId)))].map((k) => k.split('-').map(Number) as [number, number]);
  const competitionIds = [...new Set(results.map((m) => m.competitionId))];
  const p = featurePairStates;
  const [teams, pairRows, leagues] = await Promise.all([
    db
      .select({ state: featureTeamStates.state })
      .from(featureTeamStates)
      .where(and(eq(featureTeamStates.featureVersion, FEATURE_VERSION), anyOf(featureTeamStates.teamId, teamIds))),
    // Keyed by (low, high) pairs: a join to unnest of the two lists, which the builder cannot select from.
    db.execute<{ state: unknown }>(sql`
      select ${p.state} from ${p} join unnest(${pgArray(pairs.map((k) => k[0]), 'int')}, ${pgArray(pairs.map((k) => k[1]), 'int')}) as k(low, high)
        on ${p.teamLow} = k.low and ${p.teamHigh} = k.high
      where ${p.featureVersion} = ${FEATURE_VERSION}`),
    db
      .select({ state: featureLeagueStates.state })
      .from(featureLeagueStates)
      .where(and(eq(featureLeagueStates.featureVersion, FEATURE_VERSION), anyOf(featureLeagueStates.competitionId, competitionIds))),
  ]);
  return FeatureStateStore.fromJSON({
    teams: teams.map((r) => r.state as TeamState),
    pairs: pairRows.rows.map((r) => parsed<HeadToHeadState>(r.state)),
    leagues: leagues.map((r) => r.state as LeagueState),
  });
}

/** A `json` value read by `execute` (no column to decode it) is parsed by pg and the Neon driver alike; text is parsed just in case. */
export const parsed = <T>(value: unknown): T => (typeof value === 'string' ? (JSON.parse(value) as T) : (value as T));

export const STATE_BATCH = 1000;

/** The states as they are written: `json` text of the object, read back byte for byte. */
async function footballWrite(db: PgDb, store: FeatureStateStore, results: readonly TimelineMatch[]): Promise<void> {
  const teamIds = [...new Set(results.flatMap((m) => [m.homeTeamId, m.awayTeamId]))];
  const pairKeys = [...new Set(results.map((m) => headToHeadKey(m.homeTeamId, m.awayTeamId)))];
  const competitionIds = [...new Set(results.map((m) => m.competitionId))];
  const replaceState = { state: sql`excluded.state`, updatedAt: sql`now()` };
  for (let i = 0; i < teamIds.length; i += STATE_BATCH) {
    const ids = teamIds.slice(i, i + STATE_BATCH);
    await db
      .insert(featureTeamStates)
      .values(ids.map((teamId) => ({ featureVersion: FEATURE_VERSION, teamId, state: store.teams.get(teamId) })))
      .onConflictDoUpdate({ target: [featureTeamStates.featureVersion, featureTeamStates.teamId], set: replaceState });
  }
  for (let i = 0; i < pairKeys.length; i += STATE_BATCH) {
    const states = pairKeys.slice(i, i + STATE_BATCH).map((k) => store.pairs.get(k)!);
    await db
      .insert(featurePairStates)
      .values(states.map((state) => ({ featureVersion: FEATURE_VERSION, teamLow: state.teamIds[0], teamHigh: state.teamIds[1], state })))
      .onConflictDoUpdate({ target: [featurePairStates.featureVersion, featurePairStates.teamLow, featurePairStates.teamHigh], set: replaceState });
  }
  for (let i = 0; i < competitionIds.length; i += STATE_BATCH) {
    const ids = competitionIds.slice(i, i + STATE_BATCH);
    await db
      .insert(featureLeagueStates)
      .values(ids.map((competitionId) => ({ featureVersion: FEATURE_VERSION, competitionId, state: store.leagues.get(competitionId) })))
      .onConflictDoUpdate({ target: [featureLeagueStates.featureVersion, featureLeagueStates.competitionId], set: replaceState });
  }
}

/** Football's store (v1): team, pair and league states. */
export const FOOTBALL_FEATURE_STORE: SportFeatureStore<TimelineMatch, FeatureStateStore> = {
  featureVersion: FEATURE_VERSION,
  sport: FEATURE_SPORT,
  pending: footballPending,
  load: footballLoad,
  apply: (store, m) => store.apply(m),
  write: footballWrite,
  async clear(db) {
    for (const table of [featureTeamStates, featurePairStates, featureLeagueStates]) {
      await db.delete(table).where(eq(table.featureVersion, FEATURE_VERSION));
    }
  },
};

/**
 * Applies every stored result of the store's sport known by `now` (ms) that it has not learnt yet. Concurrent
 * advances queue on the store's progress row. A result that sorts before one already applied (it arrived late),
 * or a change to an applied result, empties the store first: a rating carries every result into all later ones,
 * so only a replay from the start is exact, and this is the one place that replays (a job, not a request).
 */
export async function advanceSportFeatureStore<R extends PendingResult, S>(db: PgDb, store: SportFeatureStore<R, S>, now: number): Promise<AdvanceSummary> {
  return db.transaction(async (tx) => {
    const progress = await lockProgress(tx, store);
    let rebuilt = false;
    if (progress.rebuildRequired) {
      await reset(tx, store);
      rebuilt = true;
    }
    let pending = await store.pending(tx);
    let known = pending.filter((m) => resultKnownAt(m) <= now).sort((a, b) => compareKeys(orderKey(a), orderKey(b)));
    const watermark: OrderKey | null =
      !rebuilt && progress.appliedKnownAt != null
        ? [progress.appliedKnownAt.getTime(), progress.appliedStartAt!.getTime(), Number(progress.appliedMatchId)]
        : null;
    if (watermark && known.length > 0 && compareKeys(orderKey(known[0]!), watermark) < 0) {
      await reset(tx, store);
      rebuilt = true;
      pending = await store.pending(tx);
      known = pending.filter((m) => resultKnownAt(m) <= now).sort((a, b) => compareKeys(orderKey(a), orderKey(b)));
    }
    const later = pending.filter((m) => resultKnownAt(m) > now).map(resultKnownAt);
    const nextKnownAt = later.length > 0 ? Math.min(...later) : null;

    if (known.length > 0) {
      const states = await store.load(tx, known);
      for (const m of known) store.apply(states, m);
      await store.write(tx, states, known);
      await tx.update(matches).set({ featuresAppliedAt: new Date(now) }).where(anyOf(matches.id, known.map((m) => m.matchId)));
    }
    const last = known[known.length - 1];
    await tx
      .update(featureStoreProgress)
      .set({
        // The watermark moves only when something was applied.
        ...(last ? { appliedKnownAt: new Date(resultKnownAt(last)), appliedStartAt: new Date(last.startAt), appliedMatchId: last.matchId } : {}),
        appliedResults: sql`${featureStoreProgress.appliedResults} + ${known.length}`,
        nextKnownAt: nextKnownAt === null ? null : new Date(nextKnownAt),
        advancedAt: new Date(now),
      })
      .where(eq(featureStoreProgress.featureVersion, store.featureVersion));
    return { applied: known.length, rebuilt, matchIds: known.map((m) => m.matchId), nextKnownAt };
  });
}
