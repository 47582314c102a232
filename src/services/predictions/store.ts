// Persisted predictions: one `predictions` row per outcome of a MatchPrediction (migrations 0001 and 0009).
// The hot path writes here in waitUntil and reads back the last pre-kick-off prediction once a match has
// started; the value finder and the settled list read the same rows.
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { predictions } from '../../db/schema';
import { ensureMonthPartitions } from '../partitions';
import type { MarketPrediction, MatchPrediction, OutcomePrediction, PredictedMarket, PredictedOutcome } from './types';

type PredictionRow = typeof predictions.$inferSelect;

/** Display order of markets and outcomes when rows are grouped back into a MatchPrediction. */
const MARKET_ORDER: PredictedMarket[] = ['h2h', 'totals'];
const OUTCOME_ORDER: PredictedOutcome[] = ['home', 'draw', 'away', 'over', 'under'];

export class PredictionStore {
  constructor(private readonly db: () => Database) {}

  /**
   * Writes one row per outcome. Idempotent: a retry of the same prediction (same match, run and
   * predictedAt) hits predictions_natural_key and inserts nothing, so a re-run waitUntil cannot double rows.
   */
  async persist(prediction: MatchPrediction): Promise<void> {
    const rows = toRows(prediction);
    if (rows.length === 0) return;
    const predictedAt = new Date(prediction.predictedAt);
    const db = this.db();
    // The daily job creates months ahead; this covers a first write into a month it has not reached yet
    // (and historical replays). It is a catalog lookup when the partition exists.
    await ensureMonthPartitions(db, 'predictions', predictedAt, predictedAt);
    await db.insert(predictions).values(rows).onConflictDoNothing();
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
}

function toRows(p: MatchPrediction): Array<typeof predictions.$inferInsert> {
  const predictedAt = new Date(p.predictedAt);
  const kickoff = new Date(p.kickoff);
  if (Number.isNaN(predictedAt.getTime()) || Number.isNaN(kickoff.getTime())) {
    throw new RangeError(`prediction of match ${p.matchId} has an invalid predictedAt or kickoff`);
  }
  return p.markets.flatMap((market) =>
    market.outcomes.map((o) => ({
      matchId: p.matchId,
      modelRunId: p.modelRunId,
      featureVersion: p.featureVersion,
      marginMethod: p.marginMethod,
      kellyMultiplier: p.kellyMultiplier,
      market: market.market,
      point: market.point,
      outcome: o.outcome,
      probability: o.probability,
      marketProbability: o.marketProbability,
      bestPrice: o.bestPrice,
      bestBookmaker: o.bestBookmaker,
      expectedValue: o.expectedValue,
      kellyFraction: o.kellyFraction,
      kellyStake: o.kellyStake,
      predictedAt,
      kickoff,
    })),
  );
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
    if (!entry) markets.set(market, (entry = { market, point: row.point, outcomes: [] }));
    entry.outcomes.push(toOutcome(row));
  }
  return {
    matchId: first.matchId,
    modelRunId: first.modelRunId,
    featureVersion: first.featureVersion,
    predictedAt: first.predictedAt.toISOString(),
    kickoff: first.kickoff.toISOString(),
    marginMethod: first.marginMethod,
    kellyMultiplier: first.kellyMultiplier,
    markets: [...markets.values()],
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
    marketProbability: row.marketProbability,
    expectedValue: row.expectedValue,
    kellyFraction: row.kellyFraction,
    kellyStake: row.kellyStake,
  };
}
