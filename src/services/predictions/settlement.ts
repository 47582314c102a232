// Settles persisted predictions once their match has a result: whether the outcome won, the profit of a
// 1-unit stake at the recommended price, the closing price and the closing line value (CLV).
//
// - Outcome: h2h home/draw/away from the full-time score; totals over/under against the line. A total
//   exactly on the line is a push (won NULL, profit 0); the 2.5 line never pushes.
// - Profit: per unit staked at best_price, so price − 1, −1 or 0, where the price is what the bettor is paid:
//   best_price_net, after an exchange's commission (rows from before it was recorded have best_price only). A
//   Kelly-staked result is kelly_stake × profit, so storing the unit profit keeps both.
// - Closing price: the best across real bookmakers (not the market_max/market_avg aggregates) of each
//   bookmaker's last price at or before kick-off, for the same market, outcome and line. "At or before" and
//   "not live": football-data stamps its closing prices at kick-off exactly, while a live poll at or after
//   kick-off is phase 'live'. The best, not the recommended bookmaker's own price, because best_price was
//   itself the best across bookmakers: CLV then compares like with like (the best price we pointed at vs
//   the best price at the close) and exists whenever any bookmaker quoted the close.
// - CLV = best_price / closing_price − 1; NULL without either price.
//
// Every prediction row of a finished match is settled (there may be several per match, one per
// predicted_at); which of them count for live performance is decided there. Postponed or cancelled matches
// stay unsettled. One statement, so a job that fails settles nothing.
import { sql } from 'drizzle-orm';
import type { Transaction } from '../jobs';

export const AGGREGATE_BOOKMAKERS = ['market_max', 'market_avg'] as const;

export interface SettlementStats {
  /** Prediction rows settled by this run. */
  settled: number;
  /** Distinct matches and model runs among them. */
  matches: number;
  modelRunIds: string[];
  /** Settled rows that had no closing price (so no CLV). */
  withoutClosingPrice: number;
}

export async function settlePredictions(tx: Pick<Transaction, 'execute'>, now: Date): Promise<SettlementStats> {
  const { rows } = await tx.execute<{ match_id: number; model_run_id: string; closing_price: string | null }>(sql`
    with due as (
      select p.id, p.predicted_at, p.match_id, p.market, p.outcome, p.point, m.start_at, m.home_score, m.away_score
      from predictions p
      join matches m on m.id = p.match_id
      where p.settled_at is null
        and m.status = 'finished' and m.home_score is not null and m.away_score is not null
        and ((p.market = 'h2h' and p.outcome in ('home', 'draw', 'away'))
          or (p.market = 'totals' and p.outcome in ('over', 'under') and p.point is not null))
    ),
    lines as (
      select distinct match_id, market, outcome, point, start_at from due
    ),
    closing as (
      select l.match_id, l.market, l.outcome, l.point, max(latest.price) as price
      from lines l
      cross join lateral (
        select distinct on (s.bookmaker) s.price
        from odds_snapshots s
        where s.match_id = l.match_id and s.market = l.market and s.outcome = l.outcome
          and s.point is not distinct from l.point
          and s.captured_at <= l.start_at and s.phase <> 'live'
          and s.bookmaker not in ('market_max', 'market_avg')
        order by s.bookmaker, s.captured_at desc
      ) latest
      group by l.match_id, l.market, l.outcome, l.point
    ),
    graded as (
      select d.id, d.predicted_at, c.price as closing_price,
        case
          when d.market = 'h2h' and d.outcome = 'home' then d.home_score > d.away_score
          when d.market = 'h2h' and d.outcome = 'draw' then d.home_score = d.away_score
          when d.market = 'h2h' and d.outcome = 'away' then d.home_score < d.away_score
          when d.home_score + d.away_score = d.point then null
          when d.outcome = 'over' then d.home_score + d.away_score > d.point
          else d.home_score + d.away_score < d.point
        end as won
      from due d
      left join closing c
        on c.match_id = d.match_id and c.market = d.market and c.outcome = d.outcome and c.point is not distinct from d.point
    )
    update predictions p
    set settled_at = ${now.toISOString()}::timestamptz,
        won = g.won,
        closing_price = g.closing_price,
        profit = case
          when p.best_price is null then null
          when g.won is null then 0
          when g.won then coalesce(p.best_price_net, p.best_price)::float8 - 1
          else -1
        end,
        clv = case
          when p.best_price is null or g.closing_price is null then null
          -- In float8, as a client computing it from the two prices would.
          else p.best_price::float8 / g.closing_price::float8 - 1
        end
    from graded g
    -- Re-checked under the row lock, so two overlapping runs cannot settle a row twice.
    where p.id = g.id and p.predicted_at = g.predicted_at and p.settled_at is null
    returning p.match_id::int as match_id, p.model_run_id, p.closing_price::text as closing_price
  `);
  return {
    settled: rows.length,
    matches: new Set(rows.map((r) => r.match_id)).size,
    modelRunIds: [...new Set(rows.map((r) => r.model_run_id))].sort(),
    withoutClosingPrice: rows.filter((r) => r.closing_price === null).length,
  };
}
