// How a model does on real, settled matches: rolling log loss beside the market's, the ROI of the bets the
// value finder recommended, and their closing line value, per sport and market (h2h, spreads, totals).
// The same report covers a sport's market-only predictions (no model run: a sport no model prices), whose
// probability is the margin-free market price itself: their bets are the value finder's too (EV > 0 at the
// best price against the consensus), but a model-vs-market log loss would compare the market with itself, so
// the model's side and the difference are null there rather than a difference of 0 that says nothing.
//
// A match counts once per sport and market, through its prediction of record: the model run's (or, market-only,
// the run-less) LAST prediction made before kick-off (predicted_at < kickoff). Earlier predictions of the same
// match are settled too but would weight busy matches more; later ones were made with the result in sight. A prediction of record may price
// several lines of a line market (spread −4.5 and −5): each line is one event, all of the market's lines pooled.
// - Log loss: −ln of the probability given to the outcome that happened (floored at 1e-15, as in offline
//   evaluation), for the model and for the stored margin-free market probability, over the events where
//   both exist, so the two are compared on the same events. A push (a line landed on exactly) has no outcome
//   that happened and is left out.
// - Bets: the outcomes of record with EV > 0 and a price, 1 unit each (and Kelly-staked: kelly_stake × profit).
//   A push is a void bet: the stake comes back, so it is neither won nor lost, is left out of the hit rate,
//   adds 0 to the profit and nothing to the stakes ROI divides by. Its price still had a close, so it counts
//   for CLV.
// - "Rolling": the `window` most recent matches of record per sport and market, by kick-off.
import { and, asc, desc, eq, isNotNull, isNull, lt, lte, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { anyOf } from '../../db/pg';
import { matches, predictions, sports } from '../../db/schema';
import type { Logger } from '../../lib/logging';
import { LOG_LOSS_EPSILON } from '../evaluation/metrics';
import type { Transaction } from '../jobs';
import { PREDICTION_MARKETS, type PredictionMarket } from './types';

export const LIVE_PERFORMANCE_WINDOW = { default: 200, max: 5000 } as const;

/** The stable code of the warning logged when a model's rolling log loss is worse than the market's. */
export const BEHIND_MARKET_CODE = 'model_behind_market';


export interface SportRef {
  id: number;
  key: string;
  name: string;
}

export interface MarketLivePerformance {
  sport: SportRef;
  market: PredictionMarket;
  /** Matches of record in the window, and their kick-off range. */
  matches: number;
  from: string | null;
  to: string | null;
  logLoss: {
    /** Events (one per match and line) where both the model's and the market's probability of the result are known. */
    events: number;
    /** Distinct matches among those events. */
    matches: number;
    /** Null for market-only predictions: their probability is the market's, so there is no model to score. */
    model: number | null;
    market: number | null;
    /** model − market: positive means the model is behind the market. Null without a model's log loss. */
    difference: number | null;
  };
  betting: {
    bets: number;
    /** Of those bets: won, lost, and pushed (void: stake returned). */
    won: number;
    lost: number;
    pushes: number;
    /** won / (won + lost): a push is neither; null without a decided bet. */
    hitRate: number | null;
    profit: number;
    /** profit / (won + lost), the units staked on bets that were not void; null without one. */
    roi: number | null;
    /** Kelly stakes of the bets that were not void, and their profit. */
    kellyStaked: number;
    kellyProfit: number;
    kellyRoi: number | null;
  };
  clv: {
    /** Bets with a closing price (pushes included: their price had a close all the same). */
    bets: number;
    mean: number | null;
    /** Share of those bets that beat the closing price. */
    positiveShare: number | null;
  };
  behindMarket: boolean;
}

export interface LivePerformance {
  modelRunId: string;
  window: number;
  markets: MarketLivePerformance[];
}

/** The report on one sport's market-only predictions (no model run). */
export interface MarketOnlyLivePerformance {
  sport: SportRef;
  window: number;
  markets: MarketLivePerformance[];
}

/** Whose predictions a report is on: one model run's, or one sport's market-only ones (model_run_id NULL). */
type Subject = { modelRunId: string } | { marketOnlySportId: number };

/** The outcomes of the subject's predictions of record in the window, by sport, market, kick-off and match. */
function records(db: Database | Transaction, subject: Subject, window: number) {
  const p = predictions;
  const ofRun = 'modelRunId' in subject ? sql`${p.modelRunId} = ${subject.modelRunId}::uuid` : isNull(p.modelRunId);
  const ofSport = 'marketOnlySportId' in subject ? sql`${matches.sportId} = ${subject.marketOnlySportId}::bigint` : undefined;
  const ofRecord = db.$with('of_record').as(
    db
      .selectDistinctOn([p.matchId, p.market], {
        matchId: p.matchId,
        market: p.market,
        predictedAt: p.predictedAt,
        kickoff: p.kickoff,
        sportId: matches.sportId,
      })
      .from(p)
      .innerJoin(matches, eq(matches.id, p.matchId))
      .where(and(ofRun, ofSport, isNotNull(p.settledAt), lt(p.predictedAt, p.kickoff), anyOf(p.market, PREDICTION_MARKETS)))
      .orderBy(p.matchId, p.market, desc(p.predictedAt)),
  );
  const ranked = db
    .select({
      matchId: ofRecord.matchId,
      market: ofRecord.market,
      predictedAt: ofRecord.predictedAt,
      sportId: ofRecord.sportId,
      rank: sql<number>`row_number() over (partition by ${ofRecord.sportId}, ${ofRecord.market} order by ${ofRecord.kickoff} desc, ${ofRecord.matchId} desc)`.as(
        'rank',
      ),
    })
    .from(ofRecord)
    .as('ranked');
  const windowed = db.$with('windowed').as(db.select().from(ranked).where(lte(ranked.rank, window)));
  return db
    .with(ofRecord, windowed)
    .select({
      sport: { id: sports.id, key: sports.key, name: sports.name },
      market: p.market,
      match_id: p.matchId,
      point: p.point,
      kickoff: sql<string>`to_char(${p.kickoff} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
      probability: p.probability,
      market_probability: p.marketProbability,
      won: p.won,
      profit: p.profit,
      clv: p.clv,
      expected_value: p.expectedValue,
      kelly_stake: p.kellyStake,
    })
    .from(windowed)
    .innerJoin(p, and(eq(p.matchId, windowed.matchId), eq(p.market, windowed.market), eq(p.predictedAt, windowed.predictedAt), ofRun))
    .innerJoin(sports, eq(sports.id, windowed.sportId))
    .orderBy(asc(sports.id), p.market, p.kickoff, p.matchId);
}

type RecordRow = Awaited<ReturnType<typeof records>>[number];

export async function livePerformance(
  db: Database | Transaction,
  modelRunId: string,
  window: number = LIVE_PERFORMANCE_WINDOW.default,
): Promise<LivePerformance> {
  return { modelRunId, window, markets: await marketsOf(db, { modelRunId }, window) };
}

/** The same report on a sport's market-only predictions: no model, so no model log loss and never behind the market. */
export async function marketOnlyLivePerformance(
  db: Database | Transaction,
  sport: SportRef,
  window: number = LIVE_PERFORMANCE_WINDOW.default,
): Promise<MarketOnlyLivePerformance> {
  return { sport, window, markets: await marketsOf(db, { marketOnlySportId: sport.id }, window) };
}

async function marketsOf(db: Database | Transaction, subject: Subject, window: number): Promise<MarketLivePerformance[]> {
  const rows = await records(db, subject, window);
  const hasModel = 'modelRunId' in subject;
  const markets: MarketLivePerformance[] = [];
  const sportIds = [...new Set(rows.map((r) => r.sport.id))];
  for (const sportId of sportIds) {
    for (const market of PREDICTION_MARKETS) {
      const marketRows = rows.filter((r) => r.sport.id === sportId && r.market === market);
      if (marketRows.length > 0) markets.push(summarise(marketRows[0]!.sport, market, marketRows, hasModel));
    }
  }
  return markets;
}

function summarise(sport: SportRef, market: PredictionMarket, rows: RecordRow[], hasModel: boolean): MarketLivePerformance {
  const matchIds = new Set(rows.map((r) => r.match_id));
  const kickoffs = rows.map((r) => r.kickoff).sort();

  let modelLoss = 0;
  let marketLoss = 0;
  let compared = 0;
  const comparedMatches = new Set<number>();
  // One winning outcome per event (match and line); a push has none, so it is not counted.
  for (const r of rows) {
    if (r.won !== true || r.market_probability === null) continue;
    modelLoss += -Math.log(Math.max(r.probability, LOG_LOSS_EPSILON));
    marketLoss += -Math.log(Math.max(r.market_probability, LOG_LOSS_EPSILON));
    compared++;
    comparedMatches.add(r.match_id);
  }
  const modelLogLoss = hasModel && compared ? modelLoss / compared : null;
  const marketLogLoss = compared ? marketLoss / compared : null;

  const bets = rows.filter((r) => r.expected_value !== null && r.expected_value > 0 && r.profit !== null);
  const decided = bets.filter((b) => b.won !== null);
  const won = decided.filter((b) => b.won === true).length;
  const profit = sum(decided.map((b) => b.profit!));
  const kellyBets = decided.filter((b) => b.kelly_stake !== null);
  const kellyStaked = sum(kellyBets.map((b) => b.kelly_stake!));
  const kellyProfit = sum(kellyBets.map((b) => b.kelly_stake! * b.profit!));
  const withClv = bets.filter((b) => b.clv !== null);

  return {
    sport,
    market,
    matches: matchIds.size,
    from: kickoffs[0] ?? null,
    to: kickoffs[kickoffs.length - 1] ?? null,
    logLoss: {
      events: compared,
      matches: comparedMatches.size,
      model: modelLogLoss,
      market: marketLogLoss,
      difference: modelLogLoss !== null && marketLogLoss !== null ? modelLogLoss - marketLogLoss : null,
    },
    betting: {
      bets: bets.length,
      won,
      lost: decided.length - won,
      pushes: bets.length - decided.length,
      hitRate: decided.length ? won / decided.length : null,
      profit,
      roi: decided.length ? profit / decided.length : null,
      kellyStaked,
      kellyProfit,
      kellyRoi: kellyStaked > 0 ? kellyProfit / kellyStaked : null,
    },
    clv: {
      bets: withClv.length,
      mean: withClv.length ? sum(withClv.map((b) => b.clv!)) / withClv.length : null,
      positiveShare: withClv.length ? withClv.filter((b) => b.clv! > 0).length / withClv.length : null,
    },
    behindMarket: modelLogLoss !== null && marketLogLoss !== null && modelLogLoss > marketLogLoss,
  };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** Logs one warning per sport and market where the model's rolling log loss is worse than the market's. */
export function warnIfBehindMarket(report: LivePerformance, logger: Logger): void {
  for (const m of report.markets) {
    if (!m.behindMarket) continue;
    logger.warn('model log loss is behind the market', {
      code: BEHIND_MARKET_CODE,
      modelRunId: report.modelRunId,
      sport: m.sport.key,
      market: m.market,
      events: m.logLoss.events,
      matches: m.logLoss.matches,
      modelLogLoss: m.logLoss.model,
      marketLogLoss: m.logLoss.market,
      window: report.window,
    });
  }
}
