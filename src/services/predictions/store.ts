// Persisted predictions: one `predictions` row per outcome of a MatchPrediction (migrations 0001 and 0009).
// The hot path writes here in waitUntil and reads back the last pre-kick-off prediction once a match has
// started; the value finder and the settled list read the same rows.
import { and, asc, desc, eq, getTableColumns, getTableName, inArray, isNotNull, isNull, lt, max, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { alias } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { Database } from '../../db/client';
import { competitions, matches, MARKETS, modelRuns, predictions, servedFeatureVectors, teams } from '../../db/schema';
import type { PredictionListItem } from '../../schemas/prediction-list';
import { cursorCodec, MICROSECOND_INSTANT_FORMAT, MicrosecondInstant, type DecodedCursor, type Page } from '../pagination';
import { ensureMonthPartitions, isMissingPartition } from '../partitions';
import { livePerformance, marketOnlyLivePerformance, type LivePerformance, type MarketOnlyLivePerformance, type SportRef } from './live-performance';
import { PREDICTION_MARKETS, type MarketPrediction, type MatchPrediction, type OutcomePrediction, type PredictedOutcome, type PredictionAnchor } from './types';
import { bookPoint } from '../../domain/odds';

/** `ev`: highest EV first (rows without a price have no EV and are left out); `kickoff` / `-kickoff`: by kick-off. */
export const PREDICTION_SORTS = ['ev', 'kickoff', '-kickoff'] as const;
export type PredictionSort = (typeof PREDICTION_SORTS)[number];

export interface PredictionListFilters {
  /** false: not settled yet (the value finder); true: settled, with outcome, profit and CLV. */
  settled: boolean;
  /** Inclusive lower bound on expected_value. */
  minEv?: number;
  /** Any stored market, line markets (spreads, totals at any line) included. */
  market?: (typeof MARKETS)[number];
  /** Kick-off range, [from, to). */
  from?: Date;
  to?: Date;
  competitionId?: number;
  sportId?: number;
  /**
   * A model run; absent means what GET /matches/{id}/predictions serves: the active run's predictions, and the
   * market-only ones (model_run_id NULL) written for a sport no model covers.
   */
  modelId?: string;
}

type PredictionPosition = ['ev', number, number] | ['kickoff' | '-kickoff', string, number];

export interface PredictionListQuery extends PredictionListFilters {
  /** Absent: the cursor's sort, else `ev`. */
  sort?: PredictionSort;
  limit: number;
  cursor?: DecodedCursor<PredictionPosition>;
}

const RowId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** Position = the sort and the (sort key, id) of the last row served. */
export const predictionCursor = cursorCodec<PredictionPosition>(
  'predictions',
  z.union([z.tuple([z.literal('ev'), z.number().finite(), RowId]), z.tuple([z.enum(['kickoff', '-kickoff']), MicrosecondInstant, RowId])]),
);

/** The part of a list query a cursor is bound to (the sort travels in the cursor itself). */
export const predictionFiltersOf = (q: PredictionListFilters) => ({
  settled: q.settled,
  minEv: q.minEv,
  market: q.market,
  from: q.from,
  to: q.to,
  competitionId: q.competitionId,
  sportId: q.sportId,
  modelId: q.modelId,
});

export const effectivePredictionSort = (q: Pick<PredictionListQuery, 'sort' | 'cursor'>): PredictionSort =>
  q.sort ?? q.cursor?.position[0] ?? 'ev';

type PredictionRow = typeof predictions.$inferSelect;

/** Display order of markets and outcomes when rows are grouped back into a MatchPrediction. */
const OUTCOME_ORDER: PredictedOutcome[] = ['home', 'draw', 'away', 'over', 'under'];

/** A prediction as the writer hands it over: with the vector it was served from (NaN as null), when known. */
export type ServedPrediction = MatchPrediction & { features?: readonly (number | null)[] };

export class PredictionStore {
  constructor(private readonly db: () => Database) {}

  /**
   * Writes one row per outcome. Idempotent: a retry of the same prediction (same match, run and
   * predictedAt) hits predictions_natural_key and inserts nothing, so a redelivered message cannot double rows.
   */
  persist(prediction: ServedPrediction): Promise<void> {
    return this.persistMany([prediction]);
  }

  /**
   * Writes many predictions in one statement: the prediction write queue's consumer persists a whole batch of
   * cache misses this way, and the warm-up its batch. The predictions and the vectors they were served from are
   * inserted together, all or nothing, so a caller that falls back to one prediction at a time never finds half a
   * batch written. A prediction without a stored market stores no vector either.
   */
  async persistMany(batch: readonly ServedPrediction[]): Promise<void> {
    const rows = batch.flatMap(toRows);
    if (rows.length === 0) return;
    const stored = new Set(rows.map((r) => `${r.matchId}|${r.modelRunId}|${new Date(r.predictedAt!).toISOString()}`));
    // Only a model's prediction has a vector (a market-only one, model null, is made from no features).
    const vectors: Array<typeof servedFeatureVectors.$inferInsert> = batch
      .filter((p): p is ServedPrediction & { modelRunId: string; featureVersion: string } => p.modelRunId !== null && p.featureVersion !== null)
      .filter((p) => p.features && stored.has(`${p.matchId}|${p.modelRunId}|${new Date(p.predictedAt).toISOString()}`))
      .map((p) => ({
        matchId: p.matchId,
        modelRunId: p.modelRunId,
        predictedAt: new Date(p.predictedAt),
        featureVersion: p.featureVersion,
        values: p.features!.map((v) => (v === null ? NaN : v)),
      }));
    const instants = batch.map((p) => Date.parse(p.predictedAt));
    const db = this.db();
    // The builder's insert binds every value as a parameter of its own: a batch of misses is thousands of rows of
    // 23 columns, and building that statement was the largest part of the Worker's CPU over warm misses
    // (docs/benchmarks.md), besides needing a statement per 2,849 rows (Postgres takes 65,535 parameters). Here
    // each table's rows are one JSON parameter that Postgres unpacks into the table's row type
    // (json_populate_recordset), and the vectors' insert rides in the same statement (a data-modifying WITH).
    const predictionsInsert = sql`insert into ${predictions} ${recordsetInsert(predictions, rows)} on conflict do nothing`;
    const statement =
      vectors.length === 0
        ? predictionsInsert
        : sql`with stored as (${predictionsInsert}) insert into ${servedFeatureVectors} ${recordsetInsert(servedFeatureVectors, vectors)} on conflict do nothing`;
    const insert = () => /* the builder's insert is slower: see above */ db.execute(statement);
    try {
      await insert();
    } catch (error) {
      // The daily job creates months ahead, so the partition nearly always exists. Creating it only when
      // Postgres says it is missing (a first write into a month the job has not reached, a historical replay)
      // keeps the write to one statement: the ensure call first cost a round trip per write.
      if (!isMissingPartition(error)) throw error;
      await ensureMonthPartitions(db, 'predictions', new Date(Math.min(...instants)), new Date(Math.max(...instants)));
      await insert();
    }
  }

  /**
   * The latest prediction of a match made strictly before `instant` (for a started match: its kick-off),
   * of one model run or, without `modelRunId`, of whichever run predicted last. Null when none was made.
   */
  async latestBefore(matchId: number, instant: Date, modelRunId?: string): Promise<MatchPrediction | null> {
    const db = this.db();
    const runCondition = modelRunId === undefined ? undefined : eq(predictions.modelRunId, modelRunId);
    const [latest] = await db
      .select({ predictedAt: predictions.predictedAt, modelRunId: predictions.modelRunId, modelName: modelRuns.name })
      .from(predictions)
      .leftJoin(modelRuns, eq(modelRuns.id, predictions.modelRunId))
      .where(and(sql`${predictions.matchId} = ${matchId}::bigint`, sql`${predictions.predictedAt} < ${instant.toISOString()}::timestamptz`, runCondition))
      .orderBy(desc(predictions.predictedAt), asc(predictions.modelRunId))
      .limit(1);
    if (!latest) return null;
    const rows = await db
      .select()
      .from(predictions)
      .where(
        and(
          sql`${predictions.matchId} = ${matchId}::bigint`,
          eq(predictions.predictedAt, latest.predictedAt),
          // A market-only prediction's rows have no model run.
          latest.modelRunId === null ? isNull(predictions.modelRunId) : eq(predictions.modelRunId, latest.modelRunId),
        ),
      );
    return fromRows(rows, latest.modelName ?? undefined);
  }

  /** Rolling log loss against the market, ROI and CLV of a model run's settled predictions of record. */
  livePerformance(modelRunId: string, window?: number): Promise<LivePerformance> {
    return livePerformance(this.db(), modelRunId, window);
  }

  /** The same report on a sport's market-only predictions (no model run). */
  marketOnlyLivePerformance(sport: SportRef, window?: number): Promise<MarketOnlyLivePerformance> {
    return marketOnlyLivePerformance(this.db(), sport, window);
  }

  /**
   * The value finder and the settled list: one item per outcome of each match's prediction of record (the
   * model run's last prediction before kick-off; for an upcoming match, its latest so far), filtered, then
   * keyset-paginated on (expected_value, id) or (kickoff, id). Unsettled means still bettable: a match that has
   * kicked off (or was postponed past its kick-off) is not offered as value.
   */
  async list(query: PredictionListQuery): Promise<Page<PredictionListItem>> {
    const sort = effectivePredictionSort(query);
    const db = this.db();
    const p = predictions;
    const inner: Array<SQL | undefined> = [
      lt(p.predictedAt, p.kickoff),
      query.settled ? isNotNull(p.settledAt) : and(isNull(p.settledAt), sql`${p.kickoff} > now()`),
      query.modelId === undefined
        ? or(
            // Each sport's active run (one per sport), as an array computed once (an InitPlan): an IN (subquery) is a
            // semi-join the planner may reorder around a scan of matches. A literal, not a parameter, so that a
            // generic plan still uses the partial index model_runs_one_active_per_sport.
            sql`${p.modelRunId} = any(array(select ${modelRuns.id} from ${modelRuns} where ${modelRuns.status} = 'active'))`,
            // Market-only rows only of sports with no active run: once a sport has one, its predictions are the run's.
            and(
              isNull(p.modelRunId),
              // The match's sport by its primary key (a correlated lookup per row, not a join the planner could
              // turn into a scan of matches).
              sql`not exists (select 1 from ${modelRuns} ar where ar.status = 'active' and ar.sport_id = (select mm.sport_id from ${matches} mm where mm.id = ${p.matchId}))`,
            ),
          )
        : sql`${p.modelRunId} = ${query.modelId}::uuid`,
    ];
    if (query.market) inner.push(eq(p.market, query.market));
    if (query.from) inner.push(sql`${p.kickoff} >= ${query.from.toISOString()}::timestamptz`);
    if (query.to) inner.push(sql`${p.kickoff} < ${query.to.toISOString()}::timestamptz`);
    if (query.competitionId !== undefined) {
      inner.push(inArray(p.matchId, db.select({ id: matches.id }).from(matches).where(sql`${matches.competitionId} = ${query.competitionId}::bigint`)));
    }
    if (query.sportId !== undefined) {
      inner.push(inArray(p.matchId, db.select({ id: matches.id }).from(matches).where(sql`${matches.sportId} = ${query.sportId}::bigint`)));
    }
    // The prediction of record is a whole prediction: its latest instant per match, run and market (an index
    // lookup). Latest per line would keep a spread or total line the books no longer quote (−4.5 after the market
    // moved to −5.5), priced by an older prediction, as if it were still bettable.
    const latest = alias(predictions, 'latest');
    inner.push(
      eq(
        p.predictedAt,
        db
          .select({ at: max(latest.predictedAt) })
          .from(latest)
          .where(
            and(
              eq(latest.matchId, p.matchId),
              sql`${latest.modelRunId} is not distinct from ${p.modelRunId}`,
              eq(latest.market, p.market),
              lt(latest.predictedAt, latest.kickoff),
            ),
          ),
      ),
    );
    const r = db.$with('of_record').as(db.select().from(p).where(and(...inner)));
    // Filters on EV apply to the prediction of record, after it was chosen: an older, since-revised EV must
    // not make a match show up.
    const outer: SQL[] = [];
    if (query.minEv !== undefined) outer.push(sql`${r.expectedValue} >= ${query.minEv}::float8`);
    if (sort === 'ev') outer.push(isNotNull(r.expectedValue));
    const after = query.cursor?.position;
    if (after) {
      if (after[0] === 'ev') outer.push(sql`(${r.expectedValue}, ${r.id}) < (${after[1]}::float8, ${after[2]}::bigint)`);
      else if (after[0] === 'kickoff') outer.push(sql`(${r.kickoff}, ${r.id}) > (${after[1]}::timestamptz, ${after[2]}::bigint)`);
      else outer.push(sql`(${r.kickoff}, ${r.id}) < (${after[1]}::timestamptz, ${after[2]}::bigint)`);
    }
    const orderBy =
      sort === 'ev' ? [desc(r.expectedValue), desc(r.id)] : sort === 'kickoff' ? [asc(r.kickoff), asc(r.id)] : [desc(r.kickoff), desc(r.id)];
    const home = alias(teams, 'h');
    const away = alias(teams, 'a');
    const rows = await db
      .with(r)
      .select({
        row: r._.selectedFields,
        kickoffKey: sql<string>`to_char(${r.kickoff} at time zone 'UTC', ${MICROSECOND_INSTANT_FORMAT})`,
        sportId: matches.sportId,
        competition: { id: competitions.id, key: competitions.key, name: competitions.name },
        homeTeam: { id: home.id, name: home.name },
        awayTeam: { id: away.id, name: away.name },
      })
      .from(r)
      .innerJoin(matches, eq(matches.id, r.matchId))
      .innerJoin(competitions, eq(competitions.id, matches.competitionId))
      .innerJoin(home, eq(home.id, matches.homeTeamId))
      .innerJoin(away, eq(away.id, matches.awayTeamId))
      .where(and(...outer))
      .orderBy(...orderBy)
      .limit(query.limit + 1);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    let nextCursor: string | null = null;
    if (rows.length > query.limit && last) {
      const position: PredictionPosition = sort === 'ev' ? ['ev', last.row.expectedValue!, last.row.id] : [sort, last.kickoffKey, last.row.id];
      nextCursor = predictionCursor.encode(position, predictionFiltersOf(query));
    }
    return { data: page.map(toListItem), nextCursor };
  }
}

type ListedRow = {
  row: PredictionRow;
  sportId: number;
  competition: PredictionListItem['competition'];
  homeTeam: PredictionListItem['homeTeam'];
  awayTeam: PredictionListItem['awayTeam'];
};

function toListItem({ row: r, sportId, competition, homeTeam, awayTeam }: ListedRow): PredictionListItem {
  return {
    id: r.id,
    matchId: r.matchId,
    sportId,
    kickoff: r.kickoff.toISOString(),
    competition,
    homeTeam,
    awayTeam,
    modelRunId: r.modelRunId,
    predictedAt: r.predictedAt.toISOString(),
    market: r.market,
    point: r.point,
    outcome: r.outcome as PredictedOutcome,
    probability: r.probability,
    fairOdds: 1 / r.probability,
    marketProbability: r.marketProbability,
    bestPrice: r.bestPrice,
    bestBookmaker: r.bestBookmaker,
    bestPriceNet: r.bestPriceNet ?? r.bestPrice,
    expectedValue: r.expectedValue,
    kellyFraction: r.kellyFraction,
    kellyStake: r.kellyStake,
    settlement:
      r.settledAt === null
        ? null
        : { settledAt: r.settledAt.toISOString(), won: r.won, profit: r.profit, closingPrice: r.closingPrice, clv: r.clv },
  };
}

function toRows(p: MatchPrediction): Array<typeof predictions.$inferInsert> {
  const predictedAt = new Date(p.predictedAt);
  const kickoff = new Date(p.kickoff);
  if (Number.isNaN(predictedAt.getTime()) || Number.isNaN(kickoff.getTime())) {
    throw new RangeError(`prediction of match ${p.matchId} has an invalid predictedAt or kickoff`);
  }
  // A market without an anchor has no probability: nothing to settle or to serve after kick-off, so no rows.
  return p.markets.flatMap((market) => {
    const { anchor } = market;
    const source = anchor.source;
    if (source === 'none') return [];
    return market.outcomes.flatMap((o) =>
      o.probability === null
        ? []
        : [
            {
              matchId: p.matchId,
              modelRunId: p.modelRunId,
              featureVersion: p.featureVersion,
              marginMethod: anchor.marginMethod,
              kellyMultiplier: p.kellyMultiplier,
              exchangeCommission: p.exchangeCommission,
              market: market.market,
              // A spread row carries its side's handicap (odds_snapshots' convention: home −4.5, away +4.5).
              point: 'point' in o && typeof o.point === 'number' ? o.point : market.point,
              outcome: o.outcome,
              probability: o.probability,
              marketProbability: o.marketProbability,
              bestPrice: o.bestPrice,
              bestBookmaker: o.bestBookmaker,
              bestPriceNet: o.bestPriceNet,
              expectedValue: o.expectedValue,
              kellyFraction: o.kellyFraction,
              kellyStake: o.kellyStake,
              anchorSource: source,
              anchorBookmakers: anchor.bookmakers,
              anchorLastUpdate: anchor.lastUpdate === null ? null : new Date(anchor.lastUpdate),
              anchorHoursToKickoff: anchor.hoursToKickoff,
              predictedAt,
              kickoff,
            },
          ],
    );
  });
}

/**
 * Rows of one prediction (same match, run and predicted_at) back into the MatchPrediction they came from: one
 * market per (market, line), a spread's line being its home side's handicap. An h2h with a draw row is a 1X2,
 * without one a moneyline (a 1X2 with an anchor stores all three outcomes; one without stores no rows).
 * The model run's name is not on the rows: the caller passes it (empty when it does not).
 */
export function fromRows(rows: PredictionRow[], modelName = ''): MatchPrediction | null {
  const first = rows[0];
  if (!first) return null;
  const lineOf = (row: PredictionRow): number | null => bookPoint(row.market, row.outcome, row.point);
  const groups = new Map<string, PredictionRow[]>();
  for (const row of rows) {
    const key = `${row.market}|${lineOf(row) ?? ''}`;
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  const markets = [...groups.values()]
    .sort(([a], [b]) => PREDICTION_MARKETS.indexOf(a!.market) - PREDICTION_MARKETS.indexOf(b!.market) || (lineOf(a!) ?? 0) - (lineOf(b!) ?? 0))
    .map((group) => marketOf(group.sort((a, b) => OUTCOME_ORDER.indexOf(a.outcome as PredictedOutcome) - OUTCOME_ORDER.indexOf(b.outcome as PredictedOutcome)), lineOf(group[0]!)));
  return {
    matchId: first.matchId,
    model: first.modelRunId === null ? null : { runId: first.modelRunId, name: modelName, featureVersion: first.featureVersion ?? '' },
    modelRunId: first.modelRunId,
    featureVersion: first.featureVersion,
    predictedAt: first.predictedAt.toISOString(),
    kickoff: first.kickoff.toISOString(),
    kellyMultiplier: first.kellyMultiplier,
    exchangeCommission: first.exchangeCommission ?? 0,
    markets,
  };
}

function marketOf(rows: PredictionRow[], line: number | null): MarketPrediction {
  const anchor = anchorOf(rows[0]!);
  const outcomes = rows.map(toOutcome);
  switch (rows[0]!.market) {
    case 'h2h':
      return rows.some((r) => r.outcome === 'draw')
        ? { kind: '1x2', market: 'h2h', point: null, anchor, outcomes: outcomes as OutcomePrediction<'home' | 'draw' | 'away'>[] }
        : { kind: 'moneyline', market: 'h2h', point: null, anchor, outcomes: outcomes as OutcomePrediction<'home' | 'away'>[] };
    case 'spreads':
      return {
        kind: 'spread',
        market: 'spreads',
        point: line!,
        anchor,
        outcomes: rows.map((r, i) => ({ ...(outcomes[i] as OutcomePrediction<'home' | 'away'>), point: r.point! })),
      };
    case 'totals':
      return { kind: 'total', market: 'totals', point: line!, anchor, outcomes: outcomes as OutcomePrediction<'over' | 'under'>[] };
  }
}

/**
 * The anchor on record. A row from before anchors were recorded (migration 0010) says `consensus` of no named
 * books: its market probability was the median of every book's price, which is what that was.
 */
function anchorOf(row: PredictionRow): PredictionAnchor {
  return {
    source: row.anchorSource ?? 'consensus',
    bookmakers: row.anchorBookmakers ?? [],
    marginMethod: row.marginMethod,
    lastUpdate: row.anchorLastUpdate?.toISOString() ?? null,
    hoursToKickoff: row.anchorHoursToKickoff,
  };
}

function toOutcome(row: PredictionRow): OutcomePrediction {
  return {
    outcome: row.outcome as PredictedOutcome,
    probability: row.probability,
    // Derived rather than stored: it is 1 / probability by definition.
    fairOdds: 1 / row.probability,
    bestPrice: row.bestPrice,
    bestBookmaker: row.bestBookmaker,
    bestPriceNet: row.bestPriceNet ?? row.bestPrice,
    marketProbability: row.marketProbability,
    expectedValue: row.expectedValue,
    kellyFraction: row.kellyFraction,
    kellyStake: row.kellyStake,
  };
}

/**
 * `(columns) select columns from json_populate_recordset(null::table, $json)`: rows of a table's insert type, as one
 * JSON parameter keyed by column name. The columns are every field some row gives; a row without one gives NULL.
 * JSON has no NaN or infinities: those numbers go as the text Postgres reads for them ('NaN', 'Infinity'), so a
 * vector's missing feature (NaN) is stored as NaN, as the builder's insert stored it.
 */
function recordsetInsert<T extends PgTable>(table: T, rows: readonly T['$inferInsert'][]): SQL {
  const byKey = getTableColumns(table) as Record<string, PgColumn>;
  const keys = [...new Set(rows.flatMap((row) => Object.keys(row).filter((key) => row[key as keyof T['$inferInsert']] !== undefined)))];
  const names = keys.map((key) => {
    const column = byKey[key];
    if (!column) throw new TypeError(`${getTableName(table)} has no column for the field ${key}`);
    return column.name;
  });
  const json = JSON.stringify(
    rows.map((row) => Object.fromEntries(keys.map((key, i) => [names[i], row[key as keyof T['$inferInsert']] ?? null]))),
    (_, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value),
  );
  const columns = sql.join(names.map((name) => sql.identifier(name)), sql`, `);
  return sql`(${columns}) select ${columns} from json_populate_recordset(null::${table}, ${json}::json)`;
}
