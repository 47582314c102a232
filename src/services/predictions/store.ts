// Persisted predictions: one `predictions` row per outcome of a MatchPrediction (migrations 0001 and 0009).
// The hot path writes here in waitUntil and reads back the last pre-kick-off prediction once a match has
// started; the value finder and the settled list read the same rows.
import { and, asc, desc, eq, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../../db/client';
import { predictions, servedFeatureVectors } from '../../db/schema';
import type { PredictionListItem } from '../../schemas/prediction-list';
import { cursorCodec, MICROSECOND_INSTANT_FORMAT, MicrosecondInstant, type DecodedCursor, type Page } from '../pagination';
import { ensureMonthPartitions, isMissingPartition } from '../partitions';
import { livePerformance, type LivePerformance } from './live-performance';
import type { MarketPrediction, MatchPrediction, OutcomePrediction, PredictedMarket, PredictedOutcome, PredictionAnchor } from './types';

/** `ev`: highest EV first (rows without a price have no EV and are left out); `kickoff` / `-kickoff`: by kick-off. */
export const PREDICTION_SORTS = ['ev', 'kickoff', '-kickoff'] as const;
export type PredictionSort = (typeof PREDICTION_SORTS)[number];

export interface PredictionListFilters {
  /** false: not settled yet (the value finder); true: settled, with outcome, profit and CLV. */
  settled: boolean;
  /** Inclusive lower bound on expected_value. */
  minEv?: number;
  market?: PredictedMarket;
  /** Kick-off range, [from, to). */
  from?: Date;
  to?: Date;
  competitionId?: number;
  /** A model run; absent means the active one. */
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
  modelId: q.modelId,
});

export const effectivePredictionSort = (q: Pick<PredictionListQuery, 'sort' | 'cursor'>): PredictionSort =>
  q.sort ?? q.cursor?.position[0] ?? 'ev';

type ListedRow = {
  id: number;
  match_id: number;
  kickoff: Date | string;
  kickoff_key: string;
  competition_id: number;
  competition_key: string;
  competition_name: string;
  home_team_id: number;
  home_team_name: string;
  away_team_id: number;
  away_team_name: string;
  model_run_id: string;
  predicted_at: Date | string;
  market: PredictedMarket;
  point: string | null;
  outcome: PredictedOutcome;
  probability: number;
  market_probability: number | null;
  best_price: string | null;
  best_bookmaker: string | null;
  best_price_net: string | null;
  expected_value: number | null;
  kelly_fraction: number | null;
  kelly_stake: number | null;
  settled_at: Date | string | null;
  won: boolean | null;
  profit: number | null;
  closing_price: string | null;
  clv: number | null;
};

type PredictionRow = typeof predictions.$inferSelect;

/** Display order of markets and outcomes when rows are grouped back into a MatchPrediction. */
const MARKET_ORDER: PredictedMarket[] = ['h2h', 'totals'];
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
   * Writes many predictions over one connection: the prediction write queue's consumer persists a whole batch of
   * cache misses this way. A queue batch is at most 100 predictions (Cloudflare's limit), 500 rows of 23
   * parameters, far below Postgres's 65,535 per statement. The predictions are one statement, and with the
   * vectors they were served from one transaction: all or nothing, so a caller that falls back to one prediction
   * at a time never finds half a batch written. A prediction without a stored market stores no vector either.
   */
  async persistMany(batch: readonly ServedPrediction[]): Promise<void> {
    const rows = batch.flatMap(toRows);
    if (rows.length === 0) return;
    const stored = new Set(rows.map((r) => `${r.matchId}|${r.modelRunId}|${new Date(r.predictedAt!).toISOString()}`));
    const vectors = batch
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
    const insert = () =>
      vectors.length === 0
        ? db.insert(predictions).values(rows).onConflictDoNothing()
        : db.transaction(async (tx) => {
            await tx.insert(predictions).values(rows).onConflictDoNothing();
            await tx.insert(servedFeatureVectors).values(vectors).onConflictDoNothing();
          });
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
      .select({ predictedAt: predictions.predictedAt, modelRunId: predictions.modelRunId })
      .from(predictions)
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
          eq(predictions.modelRunId, latest.modelRunId),
        ),
      );
    return fromRows(rows);
  }

  /** Rolling log loss against the market, ROI and CLV of a model run's settled predictions of record. */
  livePerformance(modelRunId: string, window?: number): Promise<LivePerformance> {
    return livePerformance(this.db(), modelRunId, window);
  }

  /**
   * The value finder and the settled list: one item per outcome of each match's prediction of record (the
   * model run's last prediction before kick-off; for an upcoming match, its latest so far), filtered, then
   * keyset-paginated on (expected_value, id) or (kickoff, id). Unsettled means still bettable: a match that has
   * kicked off (or was postponed past its kick-off) is not offered as value.
   */
  async list(query: PredictionListQuery): Promise<Page<PredictionListItem>> {
    const sort = effectivePredictionSort(query);
    const inner: SQL[] = [sql`p.predicted_at < p.kickoff`, query.settled ? sql`p.settled_at is not null` : sql`p.settled_at is null and p.kickoff > now()`];
    inner.push(
      query.modelId === undefined
        ? sql`p.model_run_id = (select id from model_runs where status = 'active')`
        : sql`p.model_run_id = ${query.modelId}::uuid`,
    );
    if (query.market) inner.push(sql`p.market = ${query.market}`);
    if (query.from) inner.push(sql`p.kickoff >= ${query.from.toISOString()}::timestamptz`);
    if (query.to) inner.push(sql`p.kickoff < ${query.to.toISOString()}::timestamptz`);
    if (query.competitionId !== undefined) {
      inner.push(sql`p.match_id in (select id from matches where competition_id = ${query.competitionId}::bigint)`);
    }
    // Filters on EV apply to the prediction of record, after it was chosen: an older, since-revised EV must
    // not make a match show up.
    const outer: SQL[] = [];
    if (query.minEv !== undefined) outer.push(sql`r.expected_value >= ${query.minEv}::float8`);
    if (sort === 'ev') outer.push(sql`r.expected_value is not null`);
    const after = query.cursor?.position;
    if (after) {
      if (after[0] === 'ev') outer.push(sql`(r.expected_value, r.id) < (${after[1]}::float8, ${after[2]}::bigint)`);
      else if (after[0] === 'kickoff') outer.push(sql`(r.kickoff, r.id) > (${after[1]}::timestamptz, ${after[2]}::bigint)`);
      else outer.push(sql`(r.kickoff, r.id) < (${after[1]}::timestamptz, ${after[2]}::bigint)`);
    }
    const orderBy =
      sort === 'ev' ? sql`r.expected_value desc, r.id desc` : sort === 'kickoff' ? sql`r.kickoff asc, r.id asc` : sql`r.kickoff desc, r.id desc`;
    const { rows } = await this.db().execute<ListedRow>(sql`
      with of_record as (
        select distinct on (p.match_id, p.model_run_id, p.market, p.outcome, p.point) p.*
        from predictions p
        where ${sql.join(inner, sql` and `)}
        order by p.match_id, p.model_run_id, p.market, p.outcome, p.point, p.predicted_at desc
      )
      select r.id::float8 as id, r.match_id::float8 as match_id, r.kickoff,
             to_char(r.kickoff at time zone 'UTC', ${MICROSECOND_INSTANT_FORMAT}) as kickoff_key,
             c.id as competition_id, c.key as competition_key, c.name as competition_name,
             h.id as home_team_id, h.name as home_team_name, a.id as away_team_id, a.name as away_team_name,
             r.model_run_id, r.predicted_at, r.market, r.point::text as point, r.outcome, r.probability, r.market_probability,
             r.best_price::text as best_price, r.best_bookmaker, coalesce(r.best_price_net, r.best_price)::text as best_price_net, r.expected_value, r.kelly_fraction, r.kelly_stake,
             r.settled_at, r.won, r.profit, r.closing_price::text as closing_price, r.clv
      from of_record r
      join matches m on m.id = r.match_id
      join competitions c on c.id = m.competition_id
      join teams h on h.id = m.home_team_id
      join teams a on a.id = m.away_team_id
      ${outer.length ? sql`where ${sql.join(outer, sql` and `)}` : sql``}
      order by ${orderBy}
      limit ${query.limit + 1}
    `);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    let nextCursor: string | null = null;
    if (rows.length > query.limit && last) {
      const position: PredictionPosition = sort === 'ev' ? ['ev', last.expected_value!, last.id] : [sort, last.kickoff_key, last.id];
      nextCursor = predictionCursor.encode(position, predictionFiltersOf(query));
    }
    return { data: page.map(toListItem), nextCursor };
  }
}

const iso = (value: Date | string) => new Date(value).toISOString();
const numberOrNull = (value: string | null) => (value === null ? null : Number(value));

function toListItem(r: ListedRow): PredictionListItem {
  return {
    id: r.id,
    matchId: r.match_id,
    kickoff: iso(r.kickoff),
    competition: { id: r.competition_id, key: r.competition_key, name: r.competition_name },
    homeTeam: { id: r.home_team_id, name: r.home_team_name },
    awayTeam: { id: r.away_team_id, name: r.away_team_name },
    modelRunId: r.model_run_id,
    predictedAt: iso(r.predicted_at),
    market: r.market,
    point: numberOrNull(r.point),
    outcome: r.outcome,
    probability: r.probability,
    fairOdds: 1 / r.probability,
    marketProbability: r.market_probability,
    bestPrice: numberOrNull(r.best_price),
    bestBookmaker: r.best_bookmaker,
    bestPriceNet: numberOrNull(r.best_price_net),
    expectedValue: r.expected_value,
    kellyFraction: r.kelly_fraction,
    kellyStake: r.kelly_stake,
    settlement:
      r.settled_at === null
        ? null
        : { settledAt: iso(r.settled_at), won: r.won, profit: r.profit, closingPrice: numberOrNull(r.closing_price), clv: r.clv },
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
              point: market.point,
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

/** Rows of one prediction (same match, run and predicted_at) back into the MatchPrediction they came from. */
export function fromRows(rows: PredictionRow[]): MatchPrediction | null {
  const first = rows[0];
  if (!first) return null;
  const markets = new Map<PredictedMarket, MarketPrediction>();
  const sorted = [...rows].sort(
    (a, b) =>
      MARKET_ORDER.indexOf(a.market as PredictedMarket) - MARKET_ORDER.indexOf(b.market as PredictedMarket) ||
      OUTCOME_ORDER.indexOf(a.outcome as PredictedOutcome) - OUTCOME_ORDER.indexOf(b.outcome as PredictedOutcome),
  );
  for (const row of sorted) {
    const market = row.market as PredictedMarket;
    let entry = markets.get(market);
    if (!entry) markets.set(market, (entry = { market, point: row.point, anchor: anchorOf(row), outcomes: [] }));
    entry.outcomes.push(toOutcome(row));
  }
  return {
    matchId: first.matchId,
    modelRunId: first.modelRunId,
    featureVersion: first.featureVersion,
    predictedAt: first.predictedAt.toISOString(),
    kickoff: first.kickoff.toISOString(),
    kellyMultiplier: first.kellyMultiplier,
    exchangeCommission: first.exchangeCommission ?? 0,
    markets: [...markets.values()],
  };
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
