// How a model does on real, settled matches: rolling log loss beside the market's, the ROI of the bets the
// value finder recommended, and their closing line value.
//
// A match counts once per market, through its prediction of record: the model run's LAST prediction made
// before kick-off (predicted_at < kickoff). Earlier predictions of the same match are settled too but would
// weight busy matches more; later ones were made with the result in sight.
// - Log loss: −ln of the probability given to the outcome that happened (floored at 1e-15, as in offline
//   evaluation), for the model and for the stored margin-free market probability, over the matches where
//   both exist (a push has no outcome and is left out), so the two are compared on the same matches.
// - Bets: the outcomes of record with EV > 0 and a price, 1 unit each (and Kelly-staked: kelly_stake × profit).
// - "Rolling": the `window` most recent matches of record per market, by kick-off.
import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import type { Logger } from '../../lib/logging';
import { LOG_LOSS_EPSILON } from '../evaluation/metrics';
import type { Transaction } from '../jobs';
import type { PredictedMarket } from './types';

export const LIVE_PERFORMANCE_WINDOW = { default: 200, max: 5000 } as const;

/** The stable code of the warning logged when a model's rolling log loss is worse than the market's. */
export const BEHIND_MARKET_CODE = 'model_behind_market';

export interface MarketLivePerformance {
  market: PredictedMarket;
  /** Matches of record in the window, and their kick-off range. */
  matches: number;
  from: string | null;
  to: string | null;
  logLoss: {
    /** Matches where both the model's and the market's probability of the result are known. */
    matches: number;
    model: number | null;
    market: number | null;
    /** model − market: positive means the model is behind the market. */
    difference: number | null;
  };
  betting: {
    bets: number;
    profit: number;
    /** profit / bets (1 unit each); null without bets. */
    roi: number | null;
    kellyStaked: number;
    kellyProfit: number;
    kellyRoi: number | null;
  };
  clv: {
    /** Bets with a closing price. */
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

type RecordRow = {
  market: PredictedMarket;
  match_id: number;
  kickoff: string;
  probability: number;
  market_probability: number | null;
  won: boolean | null;
  profit: number | null;
  clv: number | null;
  expected_value: number | null;
  kelly_stake: number | null;
};

type Executor = Pick<Database, 'execute'> | Pick<Transaction, 'execute'>;

export async function livePerformance(db: Executor, modelRunId: string, window: number = LIVE_PERFORMANCE_WINDOW.default): Promise<LivePerformance> {
  const { rows } = await db.execute<RecordRow>(sql`
    with of_record as (
      select distinct on (p.match_id, p.market) p.match_id, p.market, p.predicted_at, p.kickoff
      from predictions p
      where p.model_run_id = ${modelRunId}::uuid and p.settled_at is not null and p.predicted_at < p.kickoff
        and p.market in ('h2h', 'totals')
      order by p.match_id, p.market, p.predicted_at desc
    ),
    windowed as (
      select * from (
        select r.*, row_number() over (partition by r.market order by r.kickoff desc, r.match_id desc) as rank
        from of_record r
      ) ranked
      where rank <= ${window}
    )
    select p.market, p.match_id::int as match_id, to_char(p.kickoff at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as kickoff,
           p.probability, p.market_probability, p.won, p.profit, p.clv, p.expected_value, p.kelly_stake
    from windowed w
    join predictions p
      on p.match_id = w.match_id and p.market = w.market and p.predicted_at = w.predicted_at and p.model_run_id = ${modelRunId}::uuid
    order by p.market, p.kickoff, p.match_id
  `);
  const markets: MarketLivePerformance[] = [];
  for (const market of ['h2h', 'totals'] as const) {
    const marketRows = rows.filter((r) => r.market === market);
    if (marketRows.length > 0) markets.push(summarise(market, marketRows));
  }
  return { modelRunId, window, markets };
}

function summarise(market: PredictedMarket, rows: RecordRow[]): MarketLivePerformance {
  const matchIds = new Set(rows.map((r) => r.match_id));
  const kickoffs = rows.map((r) => r.kickoff).sort();

  let modelLoss = 0;
  let marketLoss = 0;
  let compared = 0;
  for (const r of rows) {
    if (r.won !== true || r.market_probability === null) continue;
    modelLoss += -Math.log(Math.max(r.probability, LOG_LOSS_EPSILON));
    marketLoss += -Math.log(Math.max(r.market_probability, LOG_LOSS_EPSILON));
    compared++;
  }
  const modelLogLoss = compared ? modelLoss / compared : null;
  const marketLogLoss = compared ? marketLoss / compared : null;

  const bets = rows.filter((r) => r.expected_value !== null && r.expected_value > 0 && r.profit !== null);
  const profit = sum(bets.map((b) => b.profit!));
  const kellyBets = bets.filter((b) => b.kelly_stake !== null);
  const kellyStaked = sum(kellyBets.map((b) => b.kelly_stake!));
  const kellyProfit = sum(kellyBets.map((b) => b.kelly_stake! * b.profit!));
  const withClv = bets.filter((b) => b.clv !== null);

  return {
    market,
    matches: matchIds.size,
    from: kickoffs[0] ?? null,
    to: kickoffs[kickoffs.length - 1] ?? null,
    logLoss: {
      matches: compared,
      model: modelLogLoss,
      market: marketLogLoss,
      difference: modelLogLoss !== null && marketLogLoss !== null ? modelLogLoss - marketLogLoss : null,
    },
    betting: {
      bets: bets.length,
      profit,
      roi: bets.length ? profit / bets.length : null,
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

/** Logs one warning per market where the model's rolling log loss is worse than the market's. */
export function warnIfBehindMarket(report: LivePerformance, logger: Logger): void {
  for (const m of report.markets) {
    if (!m.behindMarket) continue;
    logger.warn('model log loss is behind the market', {
      code: BEHIND_MARKET_CODE,
      modelRunId: report.modelRunId,
      market: m.market,
      matches: m.logLoss.matches,
      modelLogLoss: m.logLoss.model,
      marketLogLoss: m.logLoss.market,
      window: report.window,
    });
  }
}
