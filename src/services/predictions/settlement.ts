// Settles persisted predictions once their match has a result: whether the outcome won, the profit of a
// 1-unit stake at the recommended price, the closing price and the closing line value (CLV).
//
// - Outcome: h2h home/draw/away from the full-time score; totals over/under against the line. A total
//   exactly on the line is a push (won NULL, profit 0); the 2.5 line never pushes.
// - Profit: per unit staked at best_price, so price − 1, −1 or 0, where the price is what the bettor is paid:
//   best_price_net, after an exchange's commission (rows from before it was recorded have best_price only). A
//   Kelly-staked result is kelly_stake × profit, so storing the unit profit keeps both.
// - Closing price: the best (domain/odds, bestPriceByOutcome) across real bookmakers (not the market_max/market_avg
//   aggregates) of each bookmaker's last price at or before kick-off, for the same market, outcome and line. "At or before" and
//   "not live": football-data stamps its closing prices at kick-off exactly, while a live poll at or after
//   kick-off is phase 'live'. The best, not the recommended bookmaker's own price, because best_price was
//   itself the best across bookmakers: CLV then compares like with like (the best price we pointed at vs
//   the best price at the close) and exists whenever any bookmaker quoted the close.
// - CLV = best_price / closing_price − 1; NULL without either price.
//
// Every prediction row of a finished match is settled (there may be several per match, one per
// predicted_at); which of them count for live performance is decided there. Postponed or cancelled matches
// stay unsettled. The job's transaction holds both statements (the closing quotes, then the update), so a job
// that fails settles nothing.
import { and, desc, eq, inArray, isNotNull, isNull, ne, or, sql } from 'drizzle-orm';
import { matches, oddsSnapshots, predictions } from '../../db/schema';
import { AGGREGATE_BOOKMAKERS, bestPriceByOutcome } from '../../domain/odds';
import type { Transaction } from '../jobs';

export interface SettlementStats {
  /** Prediction rows settled by this run. */
  settled: number;
  /** Distinct matches and model runs among them. */
  matches: number;
  modelRunIds: string[];
  /** Settled rows that had no closing price (so no CLV). */
  withoutClosingPrice: number;
}

/** The prediction rows to settle: of a finished match with its score, on a market and outcome this job grades. */
const due = (tx: Transaction) =>
  tx
    .select({
      id: predictions.id,
      predictedAt: predictions.predictedAt,
      matchId: predictions.matchId,
      market: predictions.market,
      outcome: predictions.outcome,
      point: predictions.point,
      startAt: matches.startAt,
      homeScore: matches.homeScore,
      awayScore: matches.awayScore,
    })
    .from(predictions)
    .innerJoin(matches, eq(matches.id, predictions.matchId))
    .where(
      and(
        isNull(predictions.settledAt),
        sql`${matches.status} = 'finished'`,
        isNotNull(matches.homeScore),
        isNotNull(matches.awayScore),
        or(
          and(sql`${predictions.market} = 'h2h'`, sql`${predictions.outcome} in ('home', 'draw', 'away')`),
          and(sql`${predictions.market} = 'totals'`, sql`${predictions.outcome} in ('over', 'under')`, isNotNull(predictions.point)),
        ),
      ),
    );

type ClosingLine = {
  match_id: number;
  market: string;
  outcome: string;
  /** numeric as text, so the line is matched exactly in the update. */
  point: string | null;
  price: string | null;
};

/** Per due line, the best of each bookmaker's last pre-kick-off price (null without any). */
async function closingLines(tx: Transaction): Promise<ClosingLine[]> {
  const dueRows = tx.$with('due').as(due(tx));
  const lines = tx.$with('lines').as(
    tx
      .selectDistinct({ matchId: dueRows.matchId, market: dueRows.market, outcome: dueRows.outcome, point: dueRows.point, startAt: dueRows.startAt })
      .from(dueRows),
  );
  const s = oddsSnapshots;
  const latest = tx
    .selectDistinctOn([s.bookmaker], { bookmaker: s.bookmaker, price: s.price })
    .from(s)
    .where(
      and(
        eq(s.matchId, lines.matchId),
        eq(s.market, lines.market),
        eq(s.outcome, lines.outcome),
        sql`${s.point} is not distinct from ${lines.point}`,
        sql`${s.capturedAt} <= ${lines.startAt}`,
        ne(s.phase, 'live'),
        sql`${s.bookmaker} <> all(${`{${AGGREGATE_BOOKMAKERS.join(',')}}`}::text[])`,
      ),
    )
    .orderBy(s.bookmaker, desc(s.capturedAt))
    .as('latest');
  const rows = await tx
    .with(dueRows, lines)
    .select({
      match_id: lines.matchId,
      market: lines.market,
      outcome: lines.outcome,
      // numeric as text: the line is matched exactly in the update, and the winning price stored as quoted.
      point: sql<string | null>`${lines.point}::text`,
      // null: a due line nobody quoted before kick-off.
      bookmaker: latest.bookmaker,
      price: sql<string | null>`${latest.price}::text`,
    })
    .from(lines)
    .leftJoinLateral(latest, sql`true`);
  const byLine = new Map<string, { line: ClosingLine; quotes: Array<{ bookmaker: string; outcome: string; price: number; text: string }> }>();
  for (const r of rows) {
    const key = `${r.match_id}|${r.market}|${r.outcome}|${r.point ?? ''}`;
    let entry = byLine.get(key);
    if (!entry) byLine.set(key, (entry = { line: { match_id: r.match_id, market: r.market, outcome: r.outcome, point: r.point, price: null }, quotes: [] }));
    if (r.bookmaker !== null && r.price !== null) entry.quotes.push({ bookmaker: r.bookmaker, outcome: r.outcome, price: Number(r.price), text: r.price });
  }
  return [...byLine.values()].map(({ line, quotes }) => {
    const best = bestPriceByOutcome(quotes)[line.outcome];
    // The stored text of the winning quote, not the float: the column is numeric.
    const price = best ? quotes.find((q) => q.bookmaker === best.bookmaker)!.text : null;
    return { ...line, price };
  });
}

export async function settlePredictions(tx: Transaction, now: Date): Promise<SettlementStats> {
  const closing = await closingLines(tx);
  if (closing.length === 0) return { settled: 0, matches: 0, modelRunIds: [], withoutClosingPrice: 0 };
  // `sql`: an UPDATE … FROM graded rows joined to jsonb_to_recordset (the closing prices picked in JS), which the
  // builder cannot say: it renders the columns of a `$with` over `sql` unqualified, ambiguous beside predictions'.
  const { rows } = await tx.execute<{ match_id: number; model_run_id: string; closing_price: string | null }>(sql`
    with due as (${due(tx)}),
    closing as (
      select * from jsonb_to_recordset(${JSON.stringify(closing)}::jsonb)
        as c(match_id bigint, market text, outcome text, point numeric, price numeric)
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
      -- Only the lines whose closing price was looked up above: a row that became due in between waits for the
      -- next run rather than being settled without its closing price.
      join closing c
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
