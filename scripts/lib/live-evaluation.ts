// `npm run evaluate -- --live`: the predictions the Worker actually served, scored against the results.
//
// The live path is not the training path: its prices come from other books, at other times (the latest poll
// before the request, not football-data's collection a few days before kick-off), through ingestion, the
// MatchOdds object and the Worker. So the figure that matters is measured on what was stored: for each
// finished match, the model run's prediction of record (its last one before kick-off) beside the Pinnacle
// price that was live at the same moment, with the margin removed by the prediction's own method. "Live at the
// moment" means known to us then: captured (the provider's last update) and ingested at or before predicted_at.
// A provider stamps a price with its own last update, which can precede our poll by minutes, so the capture
// time alone would credit Pinnacle with prices that reached us only after the prediction was made. The market average at that moment is the fixed list
// of bookmakers' mean price, as the live features take it.
import type pg from 'pg';
import { marketAggregates, median, type MarginMethod } from '../../src/domain/odds';
import { buildReport, type EvaluationReport, type EvaluationRow, type RollingGate } from '../../src/services/evaluation';

export interface LiveEvaluationOptions {
  /** A model run id or name; default the active run. */
  model?: string;
  /** Kick-off days, inclusive. */
  from?: string;
  to?: string;
  /** One margin method for every baseline instead of each prediction's own. */
  marginMethod?: MarginMethod;
}

export interface LiveEvaluation {
  model: { id: string; name: string };
  window: { from: string | null; to: string | null };
  /** Finished matches with a prediction of record in at least one market. */
  matches: number;
  /**
   * Per market, the anchors the predictions of record used. `behindRecord`: Pinnacle-anchored predictions made
   * while the record already held a newer Pinnacle capture than the live state they were made from (the seconds
   * between a poll's commit and its MatchOdds update).
   */
  anchors: Record<'1x2' | 'ou25', { pinnacle: number; consensus: number; notRecorded: number; behindRecord: number; medianHoursToKickoff: number | null }>;
  report: EvaluationReport;
  /** What the run's rolling evaluation measured (pooled), to compare the live figure with. */
  expected: Record<'1x2' | 'ou25', { logLossDelta: number; lower: number; upper: number; matches: number }> | null;
}

interface RecordRow {
  match_id: number;
  market: 'h2h' | 'totals';
  outcome: string;
  probability: number;
  predicted_at: Date;
  kickoff: Date;
  margin_method: MarginMethod;
  best_price: number | null;
  anchor_source: 'pinnacle' | 'consensus' | null;
  anchor_last_update: Date | null;
  anchor_hours_to_kickoff: number | null;
  home_score: number;
  away_score: number;
}

interface QuoteRow {
  match_id: number;
  bookmaker: string;
  market: 'h2h' | 'totals';
  outcome: string;
  price: number;
  captured_at: Date;
  /** When the price reached us: the later of our ingestion and the provider's stamp. */
  known_at: Date;
}

const OUTCOMES = { '1x2': ['home', 'draw', 'away'], ou25: ['over', 'under'] } as const;
type Market = keyof typeof OUTCOMES;
const marketOf = (m: 'h2h' | 'totals'): Market => (m === 'h2h' ? '1x2' : 'ou25');


export async function evaluateLive(db: Pick<pg.Pool, 'query'>, options: LiveEvaluationOptions = {}): Promise<LiveEvaluation> {
  const runs = await db.query<{ id: string; name: string }>(
    options.model ? `select id::text, name from model_runs where id::text = $1 or name = $1` : `select r.id::text, r.name from model_runs r join sports s on s.id = r.sport_id where r.status = 'active' and s.key = 'soccer'`,
    options.model ? [options.model] : [],
  );
  const run = runs.rows[0];
  if (!run) throw new Error(options.model ? `no model run "${options.model}"` : 'no model run is active; name one with --model');

  const bounds: string[] = [];
  const values: unknown[] = [run.id];
  if (options.from) bounds.push(`and p.kickoff >= $${values.push(`${options.from}T00:00:00Z`)}::timestamptz`);
  if (options.to) bounds.push(`and p.kickoff < ($${values.push(`${options.to}T00:00:00Z`)}::timestamptz + interval '1 day')`);
  // The prediction of record: per match and market, the run's last prediction made before kick-off.
  const records = await db.query<RecordRow>(
    `with of_record as (
       select distinct on (p.match_id, p.market, p.outcome) p.*
       from predictions p
       where p.model_run_id = $1::uuid and p.predicted_at < p.kickoff and (p.market = 'h2h' or (p.market = 'totals' and p.point = 2.5))
         ${bounds.join(' ')}
       order by p.match_id, p.market, p.outcome, p.predicted_at desc
     )
     select r.match_id::float8 as match_id, r.market, r.outcome, r.probability, r.predicted_at, r.kickoff, r.margin_method,
            r.best_price::float8 as best_price, r.anchor_source, r.anchor_last_update, r.anchor_hours_to_kickoff, m.home_score, m.away_score
     from of_record r join matches m on m.id = r.match_id
     where m.status = 'finished' and m.home_score is not null and m.away_score is not null`,
    values,
  );
  const matchIds = [...new Set(records.rows.map((r) => r.match_id))];
  // Every pre-kick-off capture of these matches' lines: at most a poll's worth per book per few minutes.
  const quotes = matchIds.length
    ? await db.query<QuoteRow>(
        `select o.match_id::float8 as match_id, o.bookmaker, o.market, o.outcome, o.price::float8 as price, o.captured_at,
                greatest(o.captured_at, o.ingested_at) as known_at
         from odds_snapshots o join matches m on m.id = o.match_id
         where o.match_id = any($1::bigint[]) and o.captured_at < m.start_at and o.phase in ('opening', 'pre_match')
           and (o.market = 'h2h' or (o.market = 'totals' and o.point = 2.5))`,
        [matchIds],
      )
    : { rows: [] as QuoteRow[] };
  const byMatch = new Map<number, QuoteRow[]>();
  for (const q of quotes.rows) {
    const list = byMatch.get(q.match_id) ?? [];
    list.push(q);
    byMatch.set(q.match_id, list);
  }

  /** Per bookmaker, its latest price of each outcome known at `at`. */
  const latestAt = (matchId: number, market: Market, at: number) => {
    const latest = new Map<string, QuoteRow>();
    for (const q of byMatch.get(matchId) ?? []) {
      if (marketOf(q.market) !== market || q.known_at.getTime() > at) continue;
      const key = `${q.bookmaker}|${q.outcome}`;
      const seen = latest.get(key);
      if (!seen || q.captured_at > seen.captured_at) latest.set(key, q);
    }
    return latest;
  };

  const grouped = new Map<string, RecordRow[]>();
  for (const r of records.rows) {
    const key = `${r.match_id}|${marketOf(r.market)}`;
    const list = grouped.get(key) ?? [];
    list.push(r);
    grouped.set(key, list);
  }
  const rows: Record<Market, EvaluationRow[]> = { '1x2': [], ou25: [] };
  const anchors = {
    '1x2': { pinnacle: 0, consensus: 0, notRecorded: 0, behindRecord: 0, hours: [] as number[] },
    ou25: { pinnacle: 0, consensus: 0, notRecorded: 0, behindRecord: 0, hours: [] as number[] },
  };
  for (const [key, list] of grouped) {
    const market = key.split('|')[1] as Market;
    const outcomes = OUTCOMES[market];
    const byOutcome = new Map(list.map((r) => [r.outcome, r]));
    if (!outcomes.every((o) => byOutcome.has(o))) continue;
    const first = list[0]!;
    const at = first.predicted_at.getTime();
    const latest = latestAt(first.match_id, market, at);
    const priceOf = (bookmaker: string) => {
      const prices = outcomes.map((o) => latest.get(`${bookmaker}|${o}`)?.price);
      return prices.every((p): p is number => p !== undefined) ? prices : null;
    };
    const aggregates = marketAggregates([...latest.values()].map((q) => ({ ...q, capturedAt: q.captured_at.getTime() })));
    const average = outcomes.map((o) => aggregates[o]?.average);
    const goals = first.home_score + first.away_score;
    const label = market === '1x2' ? (first.home_score > first.away_score ? 0 : first.home_score === first.away_score ? 1 : 2) : goals > 2.5 ? 0 : 1;
    const best = outcomes.map((o) => byOutcome.get(o)!.best_price);
    rows[market].push({
      matchId: first.match_id,
      kickoff: first.kickoff.toISOString(),
      label,
      model: outcomes.map((o) => byOutcome.get(o)!.probability),
      prices: {
        pinnaclePreMatch: priceOf('pinnacle'),
        marketAverage: average.every((p): p is number => p !== undefined) ? average : null,
        bestPrice: best.every((p): p is number => p !== null) ? best : null,
      },
      marginMethod: options.marginMethod ?? first.margin_method,
    });
    const a = anchors[market];
    const newestPinnacle = Math.max(...outcomes.map((o) => latest.get(`pinnacle|${o}`)?.captured_at.getTime() ?? -Infinity));
    if (first.anchor_source === 'pinnacle' && first.anchor_last_update !== null && first.anchor_last_update.getTime() < newestPinnacle) a.behindRecord++;
    if (first.anchor_source === 'pinnacle') a.pinnacle++;
    else if (first.anchor_source === 'consensus') a.consensus++;
    else a.notRecorded++;
    if (first.anchor_hours_to_kickoff !== null) a.hours.push(first.anchor_hours_to_kickoff);
  }

  const gate = await db.query<{ gate: RollingGate | null }>(
    `select metrics -> 'gate' as gate from model_evaluations where model_run_id = $1::uuid and split = 'rolling' order by id desc limit 1`,
    [run.id],
  );
  const g = gate.rows[0]?.gate;
  const expected =
    g && g.kind === 'rolling'
      ? {
          '1x2': { ...pick(g.markets['1x2'].pooled) },
          ou25: { ...pick(g.markets.ou25.pooled) },
        }
      : null;
  const summary = (m: Market) => ({
    pinnacle: anchors[m].pinnacle,
    consensus: anchors[m].consensus,
    notRecorded: anchors[m].notRecorded,
    behindRecord: anchors[m].behindRecord,
    medianHoursToKickoff: anchors[m].hours.length ? median(anchors[m].hours) : null,
  });
  return {
    model: run,
    window: { from: options.from ?? null, to: options.to ?? null },
    matches: new Set([...rows['1x2'], ...rows.ou25].map((r) => r.matchId)).size,
    anchors: { '1x2': summary('1x2'), ou25: summary('ou25') },
    report: buildReport(rows, { marginMethod: options.marginMethod, marginMethods: options.marginMethod ? undefined : { '1x2': onlyMethod(rows['1x2']), ou25: onlyMethod(rows.ou25) } }),
    expected,
  };
}

/** The method a market's rows share (a run's anchor method), so the report names it; undefined when they differ. */
function onlyMethod(rows: readonly EvaluationRow[]): MarginMethod | undefined {
  const methods = new Set(rows.map((r) => r.marginMethod));
  return methods.size === 1 ? [...methods][0] : undefined;
}

const pick = (p: { logLossDelta: number; lower: number; upper: number; matches: number }) => ({
  logLossDelta: p.logLossDelta,
  lower: p.lower,
  upper: p.upper,
  matches: p.matches,
});

export function summarizeLive(r: LiveEvaluation): string {
  const lines = [
    `live predictions of model ${r.model.name} (${r.model.id}): ${r.matches} finished matches with a prediction of record` +
      (r.window.from || r.window.to ? `, kick-offs ${r.window.from ?? '…'} to ${r.window.to ?? '…'}` : ''),
  ];
  for (const market of ['1x2', 'ou25'] as const) {
    const m = r.report.markets[market];
    const a = r.anchors[market];
    lines.push(
      `${market}: anchors pinnacle ${a.pinnacle} (${a.behindRecord} made while the record held a newer Pinnacle price), consensus ${a.consensus}, not recorded ${a.notRecorded}; ` +
        `median ${a.medianHoursToKickoff === null ? 'n/a' : a.medianHoursToKickoff.toFixed(2)} h before kick-off`,
    );
    if (!m?.metrics || !m.logLossDifference) {
      lines.push(`  no predictions with both baselines at their moment`);
      continue;
    }
    const d = m.logLossDifference;
    lines.push(
      `  ${m.rows.evaluated} matches: log loss model ${m.metrics.model.logLoss.toFixed(4)}, Pinnacle at the same moment ${m.metrics.pinnacle.logLoss.toFixed(4)}, ` +
        `average ${m.metrics.marketAverage.logLoss.toFixed(4)}; model − Pinnacle ${d.estimate.toFixed(5)} [${d.lower.toFixed(5)}, ${d.upper.toFixed(5)}]; ` +
        `ECE model ${m.metrics.model.ece.toFixed(4)}, Pinnacle ${m.metrics.pinnacle.ece.toFixed(4)}`,
    );
    const e = r.expected?.[market];
    if (e) lines.push(`  the rolling evaluation expected ${e.logLossDelta.toFixed(5)} [${e.lower.toFixed(5)}, ${e.upper.toFixed(5)}] over ${e.matches} matches`);
  }
  return lines.join('\n');
}
