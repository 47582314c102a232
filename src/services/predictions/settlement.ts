// Settles persisted predictions once their match has a result: whether the outcome won, the profit of a
// 1-unit stake at the recommended price, the closing price and the closing line value (CLV).
//
// - Outcome: graded by domain/odds/grading.ts, the one place that knows how a bet is graded. h2h is 1X2 where
//   the competition's sport has draws (football: a draw is an outcome of its own) and a 2-way moneyline where it
//   has none (basketball: a tie would return the stake); spreads home/away at the row's point, the side's own
//   handicap; totals over/under at any line. A push (a spread or a total exactly on an integer line) is a void
//   bet: won NULL, profit 0, and still settled (settled_at set), so it is not graded again.
// - A row grading.ts refuses (an Asian quarter line, ±0.25 or ±0.75, is two half-stake bets at the neighbouring
//   lines; an outcome the market lacks, such as a draw on a 2-way moneyline) is left unsettled and logged with
//   NOT_GRADABLE_CODE, rather than failing the whole run or being settled as something it is not. None is
//   written today: nothing predicts Asian handicaps.
// - Profit: per unit staked at best_price, so price − 1, −1 or 0, where the price is what the bettor is paid:
//   best_price_net, after an exchange's commission (rows from before it was recorded have best_price only). A
//   Kelly-staked result is kelly_stake × profit, so storing the unit profit keeps both.
// - Closing price: the best (domain/odds, bestPriceByOutcome) across real bookmakers (not the market_max/market_avg
//   /consensus aggregates) of each bookmaker's last price at or before kick-off, for the same market, outcome and
//   line (a spread: the same side at the same handicap). "At or before" and
//   "not live": football-data stamps its closing prices at kick-off exactly, while a live poll at or after
//   kick-off is phase 'live'. The best, not the recommended bookmaker's own price, because best_price was
//   itself the best across bookmakers: CLV then compares like with like (the best price we pointed at vs
//   the best price at the close) and exists whenever any bookmaker quoted the close.
// - CLV = best_price / closing_price − 1; NULL without either price.
//
// Every prediction row of a finished match is settled (there may be several per match, one per
// predicted_at); which of them count for live performance is decided there. Market-only rows (no model run:
// a sport without a model) settle like the others. Postponed or cancelled matches stay unsettled. The job's
// transaction holds every statement (the due rows, the closing quotes, then the update), so a job that fails
// settles nothing.
import { and, desc, eq, isNotNull, isNull, ne, or, sql } from 'drizzle-orm';
import { anyOf } from '../../db/pg';
import { competitions, matches, oddsSnapshots, predictions } from '../../db/schema';
import { AGGREGATE_BOOKMAKERS, bestPriceByOutcome, gradeBet, type LineGrade } from '../../domain/odds';
import { h2hOutcomesOf } from '../../domain/sports/catalog';
import type { Logger } from '../../lib/logging';
import type { Transaction } from '../jobs';

/** The stable code of the warning logged for a due row grading.ts refuses (it stays unsettled). */
export const NOT_GRADABLE_CODE = 'prediction_not_gradable';

export interface SettlementStats {
  /** Prediction rows settled by this run, and among them the pushes (void bets: won NULL, profit 0). */
  settled: number;
  pushes: number;
  /** Distinct matches and model runs among them (market-only rows have no run and add none). */
  matches: number;
  modelRunIds: string[];
  /** Settled rows that had no closing price (so no CLV). */
  withoutClosingPrice: number;
  /** Due rows left unsettled because they cannot be graded as one bet (each logged with NOT_GRADABLE_CODE). */
  notGradable: number;
}

/** The prediction rows to settle: of a finished match with its score, on a market and outcome this job grades. */
const due = (tx: Transaction) =>
  tx
    .select({
      id: predictions.id,
      // As text: a JS Date would drop the microseconds the row's key (id, predicted_at) is matched on.
      predictedAt: sql<string>`${predictions.predictedAt}::text`.as('predicted_at'),
      matchId: predictions.matchId,
      market: predictions.market,
      outcome: predictions.outcome,
      point: predictions.point,
      startAt: matches.startAt,
      homeScore: matches.homeScore,
      awayScore: matches.awayScore,
      competitionKey: competitions.key,
    })
    .from(predictions)
    .innerJoin(matches, eq(matches.id, predictions.matchId))
    .innerJoin(competitions, eq(competitions.id, matches.competitionId))
    .where(
      and(
        isNull(predictions.settledAt),
        sql`${matches.status} = 'finished'`,
        isNotNull(matches.homeScore),
        isNotNull(matches.awayScore),
        or(
          and(eq(predictions.market, 'h2h'), anyOf(predictions.outcome, ['home', 'draw', 'away'])),
          and(eq(predictions.market, 'spreads'), anyOf(predictions.outcome, ['home', 'away']), isNotNull(predictions.point)),
          and(eq(predictions.market, 'totals'), anyOf(predictions.outcome, ['over', 'under']), isNotNull(predictions.point)),
        ),
      ),
    );

type DueRow = Awaited<ReturnType<ReturnType<typeof due>['execute']>>[number];

/** grading.ts's verdict on a due row, in the h2h book of its competition's sport. */
const gradeOf = (row: DueRow): LineGrade =>
  gradeBet({ market: row.market, outcome: row.outcome, point: row.point }, { home: row.homeScore!, away: row.awayScore! }, h2hOutcomesOf(row.competitionKey));

/** How a line is keyed between the closing quotes and the due rows (a numeric point reads back as "-5.00"). */
const lineKey = (matchId: number, market: string, outcome: string, point: number | string | null) =>
  `${matchId}|${market}|${outcome}|${point === null ? '' : Number(point)}`;

type ClosingLine = {
  match_id: number;
  market: string;
  outcome: string;
  /** numeric as text, as Postgres prints it; lineKey reads it as a number to match the due rows. */
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
    const key = lineKey(r.match_id, r.market, r.outcome, r.point);
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

export async function settlePredictions(tx: Transaction, now: Date, logger?: Logger): Promise<SettlementStats> {
  const closing = new Map((await closingLines(tx)).map((c) => [lineKey(c.match_id, c.market, c.outcome, c.point), c.price]));
  const graded: Array<{ id: number; predicted_at: string; won: boolean | null; closing_price: string | null }> = [];
  let notGradable = 0;
  for (const row of await due(tx)) {
    const key = lineKey(row.matchId, row.market, row.outcome, row.point);
    // Only the lines whose closing price was looked up above: a row that became due in between waits for the
    // next run rather than being settled without its closing price.
    if (!closing.has(key)) continue;
    let grade: LineGrade;
    try {
      grade = gradeOf(row);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      notGradable++;
      logger?.warn('prediction left unsettled: it cannot be graded as one bet', {
        code: NOT_GRADABLE_CODE,
        predictionId: row.id,
        matchId: row.matchId,
        market: row.market,
        outcome: row.outcome,
        point: row.point,
        reason: error.message,
      });
      continue;
    }
    graded.push({ id: row.id, predicted_at: row.predictedAt, won: grade === 'push' ? null : grade === 'win', closing_price: closing.get(key) ?? null });
  }
  if (graded.length === 0) return { settled: 0, pushes: 0, matches: 0, modelRunIds: [], withoutClosingPrice: 0, notGradable };
  // `sql`: an UPDATE … FROM the graded rows as jsonb_to_recordset (graded in JS by grading.ts), which the builder
  // cannot say.
  const { rows } = await tx.execute<{ match_id: number; model_run_id: string | null; won: boolean | null; closing_price: string | null }>(sql`
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
    from jsonb_to_recordset(${JSON.stringify(graded)}::jsonb) as g(id bigint, predicted_at timestamptz, won boolean, closing_price numeric)
    -- Re-checked under the row lock, so two overlapping runs cannot settle a row twice.
    where p.id = g.id and p.predicted_at = g.predicted_at and p.settled_at is null
    returning p.match_id::int as match_id, p.model_run_id, p.won, p.closing_price::text as closing_price
  `);
  return {
    settled: rows.length,
    pushes: rows.filter((r) => r.won === null).length,
    matches: new Set(rows.map((r) => r.match_id)).size,
    modelRunIds: [...new Set(rows.flatMap((r) => (r.model_run_id === null ? [] : [r.model_run_id])))].sort(),
    withoutClosingPrice: rows.filter((r) => r.closing_price === null).length,
    notGradable,
  };
}
