// Keeps the feature store current: applies the results that have become known since the last advance, each
// touching two team states, one pair and one league, in the order results become known, exactly as the full
// replay (timeline.ts) would. Runs in the ingestion jobs after they commit results, in the feature queue's
// consumer and hourly; never on a request. One implementation for the Worker and Node (a drizzle PgDb).
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
const orderKey = (m: TimelineMatch): OrderKey => [resultKnownAt(m), m.startAt, m.matchId];
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

/** Matches of the features' sport only (FEATURE_SPORT): another sport's results never enter these states. */
export const ofFeatureSport = (db: PgDb) => inArray(matches.sportId, db.select({ id: sports.id }).from(sports).where(eq(sports.key, FEATURE_SPORT)));

/** Every match of the timeline, as the full replay (featureStateAt) takes them. */
export async function timelineMatches(db: PgDb): Promise<TimelineMatch[]> {
  return (await db.select(timelineColumns).from(matches).where(ofFeatureSport(db))).map(timelineMatchOf);
}

async function lockProgress(db: PgDb) {
  await db.insert(featureStoreProgress).values({ featureVersion: FEATURE_VERSION, sport: FEATURE_SPORT, rebuildRequired: true }).onConflictDoNothing();
  const [progress] = await db.select().from(featureStoreProgress).where(eq(featureStoreProgress.featureVersion, FEATURE_VERSION)).for('update');
  return progress!;
}

/** Empties the store: every result becomes pending again, and the next step applies them all from scratch. */
async function reset(db: PgDb): Promise<void> {
  for (const table of [featureTeamStates, featurePairStates, featureLeagueStates]) {
    await db.delete(table).where(eq(table.featureVersion, FEATURE_VERSION));
  }
  await db.update(matches).set({ featuresAppliedAt: null }).where(isNotNull(matches.featuresAppliedAt));
  await db
    .update(featureStoreProgress)
    .set({ appliedKnownAt: null, appliedStartAt: null, appliedMatchId: null, appliedResults: 0, rebuildRequired: false })
    .where(eq(featureStoreProgress.featureVersion, FEATURE_VERSION));
}

/** Finished results the store has not learnt yet: the partial index matches_features_pending_idx holds exactly these. */
async function pendingResults(db: PgDb): Promise<TimelineMatch[]> {
  const rows = await db
    .select(timelineColumns)
    .from(matches)
    .where(and(eq(matches.status, 'finished'), isNull(matches.featuresAppliedAt), isNotNull(matches.homeScore), isNotNull(matches.awayScore), ofFeatureSport(db)));
  return rows.map(timelineMatchOf).filter(hasResult);
}

/** The stored states the results touch, loaded into a FeatureStateStore. */
async function loadTouched(db: PgDb, results: readonly TimelineMatch[]): Promise<FeatureStateStore> {
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
const parsed = <T>(value: unknown): T => (typeof value === 'string' ? (JSON.parse(value) as T) : (value as T));

const STATE_BATCH = 1000;

/** The states as they are written: `json` text of the object, read back byte for byte. */
async function writeStates(db: PgDb, store: FeatureStateStore, results: readonly TimelineMatch[]): Promise<void> {
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

/**
 * Applies every stored result known by `now` (ms) that the store has not learnt yet. Concurrent advances
 * queue on the progress row. A result that sorts before one already applied (it arrived late), or a change to
 * an applied result, empties the store first: Elo carries every result into all later ones, so only a replay
 * from the start is exact, and this is the one place that replays (a job, not a request).
 */
export async function advanceFeatureStore(db: PgDb, now: number): Promise<AdvanceSummary> {
  return db.transaction(async (tx) => {
    const progress = await lockProgress(tx);
    let rebuilt = false;
    if (progress.rebuildRequired) {
      await reset(tx);
      rebuilt = true;
    }
    let pending = await pendingResults(tx);
    let known = pending.filter((m) => resultKnownAt(m) <= now).sort((a, b) => compareKeys(orderKey(a), orderKey(b)));
    const watermark: OrderKey | null =
      !rebuilt && progress.appliedKnownAt != null
        ? [progress.appliedKnownAt.getTime(), progress.appliedStartAt!.getTime(), Number(progress.appliedMatchId)]
        : null;
    if (watermark && known.length > 0 && compareKeys(orderKey(known[0]!), watermark) < 0) {
      await reset(tx);
      rebuilt = true;
      pending = await pendingResults(tx);
      known = pending.filter((m) => resultKnownAt(m) <= now).sort((a, b) => compareKeys(orderKey(a), orderKey(b)));
    }
    const later = pending.filter((m) => resultKnownAt(m) > now).map(resultKnownAt);
    const nextKnownAt = later.length > 0 ? Math.min(...later) : null;

    if (known.length > 0) {
      const store = await loadTouched(tx, known);
      for (const m of known) store.apply(m);
      await writeStates(tx, store, known);
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
      .where(eq(featureStoreProgress.featureVersion, FEATURE_VERSION));
    return { applied: known.length, rebuilt, matchIds: known.map((m) => m.matchId), nextKnownAt };
  });
}
