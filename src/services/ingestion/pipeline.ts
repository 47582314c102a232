// The three live-provider ingestion jobs (fixtures hourly, odds every 5 minutes, results daily). Each one:
// asks the provider first, with no transaction open across the network; then resolves the provider's events
// to matches and writes everything of the run in ONE transaction, so a failure midway leaves nothing partial
// and the next run, fetching the same state again, completes it; and only after the commit fans out to the
// edge: the match's MatchOdds DO gets the new prices, the match's cached predictions are deleted, and one
// message per changed match goes on the feature queue.
import { and, desc, eq, gte, isNotNull, lte, sql } from 'drizzle-orm';
import { anyOf, bare, pgArray, type PgDb } from '../../db/pg';
import { competitions, ingestionJobs, matches } from '../../db/schema';
import { resolveFixtures, type ResolveFixturesResult } from './match-resolver';
import { writeOddsInTransaction, phaseAt, type ResolvedOddsRow } from './odds-writer';
import { advanceFeatureStore, type AdvanceSummary } from '../feature-store';
import { h2hOutcomesOf } from '../../domain/sports/catalog';
import { checkBudget, decidePoll, monthStart, type OddsRequest, type PollTier } from './budget';
import type { Database } from '../../db/client';
import type { Logger } from '../../lib/logging';
import type { OddsProvider, ProviderFixture, ProviderOddsRow, ProviderResult } from '../../providers/types';
import type { JobContext, JobOutcome } from '../jobs';
import type { FeatureRecomputeMessage } from '../../env';
import type { ApplyResult, LiveState, MatchMeta, OddsRowInput } from '../../../durable-objects/match-odds';

/** MatchOdds objects updated at once after a poll's commit (each is its own object, so they do not contend). */
const LIVE_STATE_CONCURRENCY = 8;

/** The edge side of a changed match; in the Worker: MatchOdds DO, KV and the feature queue. */
export interface IngestionFanOut {
  applyOdds(matchId: number, rows: OddsRowInput[], meta: MatchMeta): Promise<ApplyResult>;
  /**
   * Deletes the cached predictions of `matchIds`. Beside them, publishes to KV each state in `liveStates` (what
   * the matches' MatchOdds stored; a match may have a new state and no moved price), and deletes the published
   * live odds of every match of `matchIds` without one, so that a miss asks its object.
   */
  invalidatePredictions(matchIds: number[], liveStates?: ReadonlyMap<number, LiveState>): Promise<void>;
  enqueueFeatureRecompute(messages: FeatureRecomputeMessage[]): Promise<void>;
}

export interface IngestionSettings {
  sports: readonly string[];
  monthlyCredits: number;
  /** Per competition key: its sport's markets and regions (the sport data file's, else the configuration's). */
  oddsRequest(competitionKey: string): OddsRequest;
  pollTiers: readonly PollTier[];
  /** How far ahead the fixtures job looks (the /events endpoint is free). */
  fixturesHorizonDays: number;
}

export interface IngestionDeps {
  db: () => Database;
  provider: OddsProvider;
  fanOut: IngestionFanOut;
  settings: IngestionSettings;
  logger: Logger;
  now: Date;
}

const DAY_MS = 86_400_000;

// --- fixtures ------------------------------------------------------------------------------------------

export async function ingestFixtures(job: JobContext, deps: IngestionDeps): Promise<JobOutcome> {
  const { provider, settings, now } = deps;
  const fixtures: ProviderFixture[] = [];
  for (const competitionKey of settings.sports) {
    const result = await provider.fetchFixtures({
      competitionKey,
      commenceTimeFrom: now,
      commenceTimeTo: new Date(now.getTime() + settings.fixturesHorizonDays * DAY_MS),
    });
    job.recordCalls(result.calls);
    fixtures.push(...result.fixtures);
  }
  const written = await deps.db().transaction(async (tx) => {
    const resolved = await resolveFixtures(tx, fixtures, { provider: provider.name });
    const rescheduled = await applyKickoffChanges(tx, provider.name, fixtures, resolved);
    return { resolved, rescheduled };
  });
  const changed = [...new Set(written.resolved.resolutions.filter((r) => r.status === 'created').map((r) => Number(r.matchId)))].concat(written.rescheduled);
  const fanOutFailures = await fanOutChanged(deps, changed, 'fixture');
  return {
    stats: {
      fanOutFailures,
      sports: settings.sports.length,
      fixtures: fixtures.length,
      created: written.resolved.created,
      matched: countStatus(written.resolved, 'matched'),
      existing: countStatus(written.resolved, 'existing'),
      unresolved: written.resolved.unresolved,
      rescheduled: written.rescheduled.length,
    },
  };
}

/** A provider's own event moved (postponed, re-timed): the match follows, while it has not been played. */
async function applyKickoffChanges(db: PgDb, provider: string, fixtures: readonly ProviderFixture[], resolved: ResolveFixturesResult): Promise<number[]> {
  const existing = fixtures.filter((f) => resolved.resolutions.some((r) => r.eventId === f.eventId && r.status === 'existing'));
  if (existing.length === 0) return [];
  // Each event moves to its own kick-off: UPDATE ... FROM unnest of the events, which the builder's update (one
  // value for every row it touches) cannot say.
  const { rows } = await db.execute<{ id: string }>(sql`
    update ${matches} set ${bare(matches.startAt)} = f.at, ${bare(matches.updatedAt)} = now()
    from unnest(${pgArray(existing.map((f) => f.eventId), 'text')}, ${pgArray(existing.map((f) => f.commenceTime.toISOString()), 'timestamptz')}) as f(event_id, at)
    where ${matches.provider} = ${provider} and ${matches.externalMatchId} = f.event_id and ${matches.startAt} <> f.at and ${matches.status} = 'scheduled'
    returning ${matches.id}::text as id`);
  return rows.map((r) => Number(r.id));
}

// --- odds ----------------------------------------------------------------------------------------------

export async function ingestOdds(job: JobContext, deps: IngestionDeps): Promise<JobOutcome> {
  const { provider, settings, now } = deps;
  // Everything the fixtures job knows about, so a skip can say how far away the next kick-off is.
  const horizon = settings.fixturesHorizonDays * 1440;
  const db = deps.db();
  const upcoming = await db
    .select({ competition: competitions.key, startAt: matches.startAt })
    .from(matches)
    .innerJoin(competitions, eq(competitions.id, matches.competitionId))
    .where(
      and(
        anyOf(competitions.key, settings.sports),
        eq(matches.status, 'scheduled'),
        gte(matches.startAt, now),
        lte(matches.startAt, new Date(now.getTime() + horizon * 60_000)),
      ),
    );
  const plans: Array<{ competitionKey: string; windowMinutes: number }> = [];
  const notDue: string[] = [];
  for (const competitionKey of settings.sports) {
    const kickoffs = upcoming.filter((r) => r.competition === competitionKey).map((r) => r.startAt);
    const decision = decidePoll(now, kickoffs, settings.pollTiers);
    if (decision.due) plans.push({ competitionKey, windowMinutes: decision.windowMinutes });
    else notDue.push(`${competitionKey}: ${decision.reason}`);
  }
  if (plans.length === 0) return { status: 'skipped', reason: notDue.join('; ') };

  // Each sport's call costs its own markets × regions (NBA: 3 markets in `us`; football: the configured regions).
  const cost = plans.reduce((sum, plan) => sum + settings.oddsRequest(plan.competitionKey).cost, 0);
  const lastRemaining = db
    .select({ remaining: ingestionJobs.creditsRemaining })
    .from(ingestionJobs)
    .where(and(eq(ingestionJobs.provider, provider.name), isNotNull(ingestionJobs.creditsRemaining)))
    .orderBy(desc(ingestionJobs.startedAt))
    .limit(1);
  const [spent] = await db
    .select({ spent: sql<number>`coalesce(sum(${ingestionJobs.creditsUsed}), 0)::int`.mapWith(Number), remaining: sql<number | null>`${lastRemaining}`.mapWith(Number) })
    .from(ingestionJobs)
    .where(and(eq(ingestionJobs.provider, provider.name), gte(ingestionJobs.startedAt, monthStart(now))));
  const budget = checkBudget({
    monthlyCredits: settings.monthlyCredits,
    spentThisMonth: spent?.spent ?? 0,
    cost,
    now,
    providerRemaining: spent?.remaining ?? null,
  });
  if (!budget.allowed) return { status: 'skipped', reason: budget.reason, stats: { budgetAllowance: budget.allowance, cost } };

  const fixtures: ProviderFixture[] = [];
  const odds: ProviderOddsRow[] = [];
  for (const plan of plans) {
    const request = settings.oddsRequest(plan.competitionKey);
    const result = await provider.fetchOdds({
      competitionKey: plan.competitionKey,
      markets: request.markets,
      regions: request.regions,
      commenceTimeFrom: now,
      commenceTimeTo: new Date(now.getTime() + plan.windowMinutes * 60_000),
    });
    job.recordCalls(result.calls);
    fixtures.push(...result.fixtures);
    odds.push(...result.odds);
  }

  const fixtureByEvent = new Map(fixtures.map((f) => [f.eventId, f]));
  const written = await deps.db().transaction(async (tx) => {
    const resolved = await resolveFixtures(tx, fixtures, { provider: provider.name });
    const rows: ResolvedOddsRow[] = [];
    for (const row of odds) {
      const matchId = resolved.matchIds.get(row.eventId);
      const fixture = fixtureByEvent.get(row.eventId);
      if (!matchId || !fixture) continue;
      rows.push(toResolvedRow(row, matchId, fixture));
    }
    const counts = await writeOddsInTransaction(tx, provider.name, rows);
    return { resolved, rows, counts };
  });

  // Committed: now the edge. The DO is the judge of what changed (it keeps the latest price per line).
  const byMatch = new Map<number, ResolvedOddsRow[]>();
  for (const row of written.rows) {
    const id = Number(row.matchId);
    const list = byMatch.get(id);
    if (list) list.push(row);
    else byMatch.set(id, [row]);
  }
  const fixtureOf = new Map<number, ProviderFixture>();
  for (const [eventId, matchId] of written.resolved.matchIds) fixtureOf.set(Number(matchId), fixtureByEvent.get(eventId)!);
  const changed: number[] = [];
  const liveStates = new Map<number, LiveState>();
  let liveStateFailures = 0;
  // Several objects at a time: until a match's object has the new prices the Worker anchors its predictions on
  // the old ones while the record (and the odds routes) already show the new, so the window is kept short. One
  // by one, a poll of a hundred matches left the last of them seconds behind (seen by npm run evaluate -- --live).
  const pending = [...byMatch];
  const applyNext = async (): Promise<void> => {
    for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
      const [matchId, rows] = next;
      try {
        const applied = await deps.fanOut.applyOdds(
          matchId,
          rows.map((r) => ({ bookmaker: r.bookmaker, market: r.market, outcome: r.outcome, point: r.point, price: r.price, capturedAt: r.capturedAt.toISOString() })),
          // The sport's h2h book (a moneyline without a draw is complete with home and away), so the object's
          // consensus does not guess it from the prices.
          { matchId, startAt: fixtureOf.get(matchId)!.commenceTime.toISOString(), h2hOutcomes: h2hOutcomesOf(fixtureOf.get(matchId)!.competitionKey) },
        );
        if (applied.changed.length > 0) changed.push(matchId);
        if (applied.state) liveStates.set(matchId, applied.state);
      } catch (error) {
        // The rows are stored; the next run sends them again and the DO catches up. Treat as changed so the
        // cache and features do not keep serving the old prices meanwhile.
        liveStateFailures++;
        changed.push(matchId);
        deps.logger.warn('live odds state update failed', { matchId, errorCode: 'match-odds-apply-failed', error: (error as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(LIVE_STATE_CONCURRENCY, pending.length) }, applyNext));
  const fanOutFailures = await fanOutChanged(deps, changed, 'odds', liveStates);
  return {
    stats: {
      fanOutFailures,
      sports: plans.length,
      window: plans.map((p) => `${p.competitionKey}:${p.windowMinutes}m`).join(','),
      events: fixtures.length,
      unresolved: written.resolved.unresolved,
      created: written.resolved.created,
      rows: written.counts.rows,
      inserted: written.counts.inserted,
      duplicates: written.counts.duplicates,
      matchesChanged: changed.length,
      liveStateFailures,
    },
  };
}

/**
 * The bookmaker's own last-update time is the capture instant (never later than our fetch): polling an
 * unchanged price again then hits the natural key and stores nothing, so the same payload twice is one row.
 */
function toResolvedRow(row: ProviderOddsRow, matchId: string, fixture: ProviderFixture): ResolvedOddsRow {
  const capturedAt = row.lastUpdate.getTime() <= row.capturedAt.getTime() ? row.lastUpdate : row.capturedAt;
  return {
    matchId,
    bookmaker: row.bookmaker,
    market: row.market,
    outcome: row.outcome,
    point: row.point,
    price: row.price,
    capturedAt,
    phase: phaseAt(capturedAt, fixture.commenceTime),
  };
}

// --- results -------------------------------------------------------------------------------------------

export async function ingestResults(job: JobContext, deps: IngestionDeps): Promise<JobOutcome> {
  const { provider, settings } = deps;
  const results: ProviderResult[] = [];
  for (const competitionKey of settings.sports) {
    const result = await provider.fetchResults({ competitionKey, daysFrom: 3 });
    job.recordCalls(result.calls);
    results.push(...result.results);
  }
  const completed = results.filter((r) => r.completed && r.homeScore !== null && r.awayScore !== null);
  const written = await deps.db().transaction(async (tx) => {
    const resolved = await resolveFixtures(
      tx,
      completed.map((r) => ({ eventId: r.eventId, competitionKey: r.competitionKey, commenceTime: r.commenceTime, homeTeam: r.homeTeam, awayTeam: r.awayTeam })),
      { provider: provider.name },
    );
    const ids: string[] = [];
    const home: number[] = [];
    const away: number[] = [];
    for (const r of completed) {
      const matchId = resolved.matchIds.get(r.eventId);
      if (!matchId) continue;
      ids.push(matchId);
      home.push(r.homeScore!);
      away.push(r.awayScore!);
    }
    // Only a change counts: a result already stored (from an earlier run or the CSV import) is not news.
    // Each match gets its own score: UPDATE ... FROM unnest of the results (the builder's update sets one value on
    // every row it touches).
    const { rows } = ids.length
      ? await tx.execute<{ id: string }>(sql`
          update ${matches} set ${bare(matches.homeScore)} = r.home, ${bare(matches.awayScore)} = r.away, ${bare(matches.status)} = 'finished',
                 ${bare(matches.updatedAt)} = now()
          from unnest(${pgArray(ids, 'bigint')}, ${pgArray(home, 'int')}, ${pgArray(away, 'int')}) as r(id, home, away)
          where ${matches.id} = r.id
            and (${matches.status} <> 'finished' or ${matches.homeScore} is distinct from r.home or ${matches.awayScore} is distinct from r.away)
          returning ${matches.id}::text as id`)
      : { rows: [] };
    return { resolved, settled: rows.map((r) => Number(r.id)) };
  });
  const featureStore = written.settled.length > 0 ? await advanceAfterResults(deps.db(), deps.now.getTime(), deps.logger) : null;
  const fanOutFailures = await fanOutChanged(deps, written.settled, 'result');
  return {
    stats: {
      fanOutFailures,
      sports: settings.sports.length,
      events: results.length,
      completed: completed.length,
      unresolved: written.resolved.unresolved,
      updated: written.settled.length,
      resultsApplied: featureStore?.applied ?? 0,
    },
  };
}

// --- shared --------------------------------------------------------------------------------------------

/**
 * Teaches the feature store the results just committed. Like the fan-out it must not fail the job (the results
 * are stored either way): the feature queue's consumer and the hourly job advance it again.
 */
export async function advanceAfterResults(db: PgDb, now: number, logger: Logger): Promise<AdvanceSummary | null> {
  try {
    return await advanceFeatureStore(db, now);
  } catch (error) {
    logger.warn('feature store advance failed', { errorCode: 'feature-store-advance-failed', error: (error as Error).message });
    return null;
  }
}

/**
 * Runs after the commit, so it must not fail the job: the rows are stored either way. A failure is logged and
 * counted in the job's stats (the cached prediction still expires on its TTL; the feature state on its
 * staleAfter), and the job stays a success.
 */
export async function fanOutChanged(
  deps: { fanOut: Pick<IngestionFanOut, 'invalidatePredictions' | 'enqueueFeatureRecompute'>; logger: Logger },
  matchIds: number[],
  reason: FeatureRecomputeMessage['reason'],
  liveStates: ReadonlyMap<number, LiveState> = new Map(),
): Promise<number> {
  const unique = [...new Set(matchIds)];
  if (unique.length === 0 && liveStates.size === 0) return 0;
  let failures = 0;
  try {
    await deps.fanOut.invalidatePredictions(unique, liveStates);
  } catch (error) {
    failures++;
    deps.logger.warn('prediction cache invalidation failed', { errorCode: 'cache-invalidation-failed', matches: unique.length, error: (error as Error).message });
  }
  if (unique.length === 0) return failures;
  try {
    await deps.fanOut.enqueueFeatureRecompute(unique.map((matchId) => ({ matchId, reason })));
  } catch (error) {
    failures++;
    deps.logger.warn('feature recompute enqueue failed', { errorCode: 'feature-enqueue-failed', matches: unique.length, error: (error as Error).message });
  }
  return failures;
}

function countStatus(resolved: ResolveFixturesResult, status: string): number {
  return resolved.resolutions.filter((r) => r.status === status).length;
}
