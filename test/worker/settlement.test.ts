// Persisting predictions and settling them on a replayed round: matchday 33 of the 2023/24 Premier League
// (13–15 April 2024), which global-setup imported with results and closing odds. Predictions are written
// through PredictionStore.persist, the daily cron runs through the real scheduled code path, and every
// outcome, profit and CLV is checked against values computed here straight from the CSV file.
/// <reference types="vite/client" />
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import csvText from '../../data/football-data/E0_2324.csv?raw';
import nbaCsvText from '../../data/nba/nba_2012-13.csv?raw';
import { runScheduled } from '../../src/jobs/scheduled';
import { SCHEDULES } from '../../src/jobs/schedules';
import worker from '../../src/index';
import { createLogger } from '../../src/lib/logging';
import { BEHIND_MARKET_CODE, type LivePerformance, type MarketOnlyLivePerformance } from '../../src/services/predictions/live-performance';
import { ensureMonthPartitions, isMissingPartition } from '../../src/services/partitions';
import { NOT_GRADABLE_CODE } from '../../src/services/predictions/settlement';
import { PredictionStore } from '../../src/services/predictions/store';
import type { MatchPrediction, OutcomePrediction, PredictedOutcome, PredictionAnchor } from '../../src/services/predictions/types';
import { predictions as predictionsTable } from '../../src/db/schema';
import type { PredictionListItem } from '../../src/schemas/prediction-list';
import { api, promote, registerUser, type TestUser } from './support/auth';
import { insertModelRun, withDb } from './support/models';

/** The anchor these hand-made predictions say they started from. */
const ANCHOR: PredictionAnchor = { source: 'pinnacle', bookmakers: ['pinnacle'], marginMethod: 'multiplicative', lastUpdate: '2023-08-11T12:00:00.000Z', hoursToKickoff: 7 };

const silent = createLogger({}, () => undefined);

// ---- The round, read from the CSV by hand (deliberately not through the importer's parser) ----

interface CsvMatch {
  date: string;
  time: string;
  home: string;
  away: string;
  homeGoals: number;
  awayGoals: number;
  row: Record<string, string>;
}

function readRound(from: string, to: string): CsvMatch[] {
  const [header, ...lines] = csvText.trim().split(/\r?\n/);
  const columns = header!.split(',');
  const out: CsvMatch[] = [];
  for (const line of lines) {
    const fields = line.split(',');
    const row = Object.fromEntries(columns.map((c, i) => [c, fields[i] ?? '']));
    const [d, m, y] = row.Date!.split('/');
    const iso = `${y}-${m}-${d}`;
    if (iso < from || iso > to) continue;
    out.push({ date: iso, time: row.Time!, home: row.HomeTeam!, away: row.AwayTeam!, homeGoals: Number(row.FTHG), awayGoals: Number(row.FTAG), row });
  }
  return out;
}

// Real bookmakers of the 2023/24 file (market Max/Avg are aggregates and never a price one can take).
const H2H_BOOKMAKERS = ['B365', 'BW', 'IW', 'PS', 'WH', 'VC'];
const TOTALS_BOOKMAKERS = [
  { pre: 'B365', closing: 'B365C' },
  { pre: 'P', closing: 'PC' },
];
const H2H_SUFFIX: Record<string, string> = { home: 'H', draw: 'D', away: 'A' };
const TOTALS_SUFFIX: Record<string, string> = { over: '>2.5', under: '<2.5' };

const price = (row: Record<string, string>, column: string): number | null => {
  const v = Number(row[column]);
  return row[column] && v > 1 ? v : null;
};
const maxOf = (values: Array<number | null>): number | null => {
  const present = values.filter((v): v is number => v !== null);
  return present.length ? Math.max(...present) : null;
};

/** The best pre-match price of an outcome: what a prediction made before kick-off was offered. */
function preMatchBest(m: CsvMatch, market: 'h2h' | 'totals', outcome: string): number | null {
  if (market === 'h2h') return maxOf(H2H_BOOKMAKERS.map((b) => price(m.row, `${b}${H2H_SUFFIX[outcome]}`)));
  return maxOf(TOTALS_BOOKMAKERS.map((b) => price(m.row, `${b.pre}${TOTALS_SUFFIX[outcome]}`)));
}

/** Each bookmaker's last price at or before kick-off (its closing price, else its pre-match one), best of them. */
function closingBest(m: CsvMatch, market: 'h2h' | 'totals', outcome: string): number | null {
  if (market === 'h2h') {
    return maxOf(H2H_BOOKMAKERS.map((b) => price(m.row, `${b}C${H2H_SUFFIX[outcome]}`) ?? price(m.row, `${b}${H2H_SUFFIX[outcome]}`)));
  }
  return maxOf(TOTALS_BOOKMAKERS.map((b) => price(m.row, `${b.closing}${TOTALS_SUFFIX[outcome]}`) ?? price(m.row, `${b.pre}${TOTALS_SUFFIX[outcome]}`)));
}

function wonOf(m: CsvMatch, outcome: PredictedOutcome): boolean {
  const goals = m.homeGoals + m.awayGoals;
  switch (outcome) {
    case 'home':
      return m.homeGoals > m.awayGoals;
    case 'draw':
      return m.homeGoals === m.awayGoals;
    case 'away':
      return m.homeGoals < m.awayGoals;
    case 'over':
      return goals > 2.5;
    case 'under':
      return goals < 2.5;
  }
}

/** Multiplicative margin removal of the market average, as the stored `marketProbability`. */
function marketProbabilities(m: CsvMatch, market: 'h2h' | 'totals'): Record<string, number> {
  const suffixes = market === 'h2h' ? H2H_SUFFIX : TOTALS_SUFFIX;
  const inverse = Object.fromEntries(Object.entries(suffixes).map(([o, s]) => [o, 1 / Number(m.row[`Avg${s}`])]));
  const total = Object.values(inverse).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(inverse).map(([o, v]) => [o, v / total]));
}

/** A "model" that leans on the home side: the market's view tilted, so EV is positive on some outcomes. */
function modelProbabilities(m: CsvMatch, market: 'h2h' | 'totals', tilt: number): Record<string, number> {
  const base = marketProbabilities(m, market);
  const lean = market === 'h2h' ? { home: 1 + tilt, draw: 1, away: 1 - tilt } : { over: 1 + tilt, under: 1 - tilt };
  const raw = Object.fromEntries(Object.entries(base).map(([o, p]) => [o, p * lean[o as keyof typeof lean]!]));
  const total = Object.values(raw).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(raw).map(([o, p]) => [o, p / total]));
}

function outcomePrediction<O extends PredictedOutcome>(m: CsvMatch, market: 'h2h' | 'totals', outcome: O, tilt: number): OutcomePrediction<O> {
  const p = modelProbabilities(m, market, tilt)[outcome]!;
  const best = preMatchBest(m, market, outcome);
  const ev = best === null ? null : p * best - 1;
  const kelly = ev === null || best === null ? null : ev > 0 ? ev / (best - 1) : 0;
  return {
    outcome,
    probability: p,
    fairOdds: 1 / p,
    bestPrice: best,
    bestBookmaker: best === null ? null : 'replay',
    bestPriceNet: best,
    marketProbability: marketProbabilities(m, market)[outcome]!,
    expectedValue: ev,
    kellyFraction: kelly,
    kellyStake: kelly === null ? null : kelly * 0.25,
  };
}

function predictionOf(matchId: number, m: CsvMatch, modelRunId: string, kickoff: Date, predictedAt: Date, tilt: number, runName = 'settlement-test'): MatchPrediction {
  return {
    matchId,
    model: { runId: modelRunId, name: runName, featureVersion: 'v1' },
    modelRunId,
    featureVersion: 'v1',
    predictedAt: predictedAt.toISOString(),
    kickoff: kickoff.toISOString(),
    kellyMultiplier: 0.25,
    exchangeCommission: 0.05,
    markets: [
      { kind: '1x2', market: 'h2h', point: null, anchor: ANCHOR, outcomes: (['home', 'draw', 'away'] as const).map((o) => outcomePrediction(m, 'h2h', o, tilt)) },
      { kind: 'total', market: 'totals', point: 2.5, anchor: ANCHOR, outcomes: (['over', 'under'] as const).map((o) => outcomePrediction(m, 'totals', o, tilt)) },
    ],
  };
}

interface RoundMatch {
  csv: CsvMatch;
  id: number;
  kickoff: Date;
}

/** The round's matches as imported, found through the football-data aliases of both teams. */
async function importedRound(round: CsvMatch[]): Promise<RoundMatch[]> {
  const rows = await withDb(
    async (db) =>
      (
        await db.execute<{ id: number; start_at: string; home: string; away: string; status: string }>(sql`
          select m.id::int as id, m.start_at, ha.alias as home, aa.alias as away, m.status
          from matches m
          join team_aliases ha on ha.team_id = m.home_team_id and ha.provider = 'football-data'
          join team_aliases aa on aa.team_id = m.away_team_id and aa.provider = 'football-data'
          where m.start_at >= '2024-04-13' and m.start_at < '2024-04-16'`)
      ).rows,
  );
  return round.map((csv) => {
    const row = rows.find((r) => r.home === csv.home && r.away === csv.away);
    if (!row) throw new Error(`${csv.home} v ${csv.away} was not imported`);
    expect(row.status).toBe('finished');
    return { csv, id: row.id, kickoff: new Date(row.start_at) };
  });
}

type SettledRow = {
  match_id: number;
  predicted_at: string;
  market: 'h2h' | 'totals';
  outcome: PredictedOutcome;
  best_price: number | null;
  settled_at: string | null;
  won: boolean | null;
  profit: number | null;
  closing_price: number | null;
  clv: number | null;
};

const HOUR = 3_600_000;
const EARLY_TILT = 0.05;
const RECORD_TILT = 0.5;
const LATE_TILT = 0.3;
/** A time no other test schedules the daily cron at, so settled_at tells whose run settled a row. */
const SCHEDULED_TIME = Date.UTC(2024, 3, 16, 3, 30, 7, 77);

describe('settlement of a replayed round (2023/24 matchday 33)', () => {
  let runId: string;
  let matches: RoundMatch[];
  let jobLines: Array<Record<string, unknown>>;
  let jobIds: string[];

  beforeAll(async () => {
    runId = (await insertModelRun({ name: `settlement-replay-${crypto.randomUUID()}` })).id;
    matches = await importedRound(readRound('2024-04-13', '2024-04-15'));
    await withStore(async (store) => {
      for (const m of matches) {
        // Two days out, the prediction of record an hour before kick-off, and one made after kick-off: all
        // three are settled, only the second counts for live performance.
        await store.persist(predictionOf(m.id, m.csv, runId, m.kickoff, new Date(m.kickoff.getTime() - 48 * HOUR), EARLY_TILT));
        await store.persist(predictionOf(m.id, m.csv, runId, m.kickoff, new Date(m.kickoff.getTime() - HOUR), RECORD_TILT));
        await store.persist(predictionOf(m.id, m.csv, runId, m.kickoff, new Date(m.kickoff.getTime() + 10 * 60_000), LATE_TILT));
      }
    });
    // The job logs through the scheduler's logger, or its own (console) one when it is not handed one.
    const logged: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void logged.push(String(line)));
    try {
      const capturing = createLogger({}, (line) => void logged.push(line));
      const results = await runScheduled(createScheduledController({ scheduledTime: SCHEDULED_TIME, cron: SCHEDULES.daily }), env, capturing);
      jobIds = results.map((r) => r.id);
    } finally {
      spy.mockRestore();
    }
    jobLines = logged.map((l) => JSON.parse(l) as Record<string, unknown>);
  });

  const settledRows = () =>
    withDb(
      async (db) =>
        (
          await db.execute<SettledRow>(sql`
            select match_id::int as match_id, predicted_at, market, outcome, best_price::float8 as best_price, settled_at, won, profit,
                   closing_price::float8 as closing_price, clv
            from predictions where model_run_id = ${runId}`)
        ).rows,
    );

  it('runs as a daily job recorded in ingestion_jobs', async () => {
    expect(matches).toHaveLength(10);
    const [job] = await withDb(
      async (db) =>
        (await db.execute<{ status: string }>(sql`select status from ingestion_jobs where kind = 'settlement' and id = any(${`{${jobIds.join(',')}}`}::uuid[])`)).rows,
    );
    expect(job).toEqual({ status: 'succeeded' });
  });

  it('settles every prediction row with the outcome, the unit profit at the recommended price and CLV against the close', async () => {
    const rows = await settledRows();
    expect(rows).toHaveLength(matches.length * 3 * 5);
    let withPositiveClv = 0;
    for (const row of rows) {
      const m = matches.find((x) => x.id === row.match_id)!.csv;
      const won = wonOf(m, row.outcome);
      const best = preMatchBest(m, row.market, row.outcome);
      const closing = closingBest(m, row.market, row.outcome);
      expect(row.settled_at, `${m.home} v ${m.away} ${row.outcome}`).not.toBeNull();
      expect(row.won).toBe(won);
      expect(row.best_price).toBe(best);
      expect(row.closing_price).toBe(closing);
      expect(row.profit).toBe(best === null ? null : won ? best - 1 : -1);
      expect(row.clv).toBe(best === null || closing === null ? null : best / closing - 1);
      if (row.clv !== null && row.clv > 0) withPositiveClv++;
    }
    // The best pre-match price beats the best closing price on some outcomes and not on others.
    expect(withPositiveClv).toBeGreaterThan(0);
    expect(withPositiveClv).toBeLessThan(rows.length);
  });

  it('serves rolling log loss, ROI and CLV of the predictions of record, and says when the model is behind the market', async () => {
    const premium = await promote(await registerUser('live-perf'), { tier: 'premium' });
    const logged: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void logged.push(String(line)));
    let res: Response;
    try {
      const ctx = createExecutionContext();
      res = await worker.fetch(
        new Request(`http://api.test/models/${runId}/live-performance`, { headers: { authorization: `Bearer ${premium.accessToken}` } }) as never,
        env,
        ctx,
      );
      await waitOnExecutionContext(ctx);
    } finally {
      spy.mockRestore();
    }
    expect(res.status).toBe(200);
    const body = await res.json<LivePerformance>();

    for (const market of ['h2h', 'totals'] as const) {
      const outcomes = market === 'h2h' ? (['home', 'draw', 'away'] as const) : (['over', 'under'] as const);
      let modelLoss = 0;
      let marketLoss = 0;
      let bets = 0;
      let profit = 0;
      let kellyStaked = 0;
      let kellyProfit = 0;
      const clvs: number[] = [];
      for (const { csv } of matches) {
        const actual = outcomes.find((o) => wonOf(csv, o))!;
        modelLoss += -Math.log(modelProbabilities(csv, market, RECORD_TILT)[actual]!);
        marketLoss += -Math.log(marketProbabilities(csv, market)[actual]!);
        for (const o of outcomes) {
          const prediction = outcomePrediction(csv, market, o, RECORD_TILT);
          if (prediction.expectedValue === null || prediction.expectedValue <= 0) continue;
          const unit = wonOf(csv, o) ? prediction.bestPrice! - 1 : -1;
          bets++;
          profit += unit;
          kellyStaked += prediction.kellyStake!;
          kellyProfit += prediction.kellyStake! * unit;
          const closing = closingBest(csv, market, o);
          if (closing !== null) clvs.push(prediction.bestPrice! / closing - 1);
        }
      }
      const report = body.markets.find((m) => m.market === market)!;
      expect(report.matches).toBe(matches.length);
      expect(report.logLoss.matches).toBe(matches.length);
      expect(report.logLoss.model).toBeCloseTo(modelLoss / matches.length, 9);
      expect(report.logLoss.market).toBeCloseTo(marketLoss / matches.length, 9);
      expect(bets).toBeGreaterThan(0);
      expect(report.betting.bets).toBe(bets);
      expect(report.betting.profit).toBeCloseTo(profit, 9);
      expect(report.betting.roi).toBeCloseTo(profit / bets, 9);
      expect(report.betting.kellyRoi).toBeCloseTo(kellyProfit / kellyStaked, 9);
      expect(report.clv.bets).toBe(clvs.length);
      expect(report.clv.mean).toBeCloseTo(clvs.reduce((a, b) => a + b, 0) / clvs.length, 9);
      // A model leaning this hard on the home side and on goals is worse than the market on this round.
      expect(modelLoss).toBeGreaterThan(marketLoss);
      expect(report.behindMarket).toBe(true);
    }

    // Reading the report logs no warning: the monitor on it is fed by the settlement job alone (tested below),
    // so user traffic on this route cannot page anyone.
    const warnings = logged.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.code === BEHIND_MARKET_CODE);
    expect(warnings).toEqual([]);
  });

  it('serves the settled predictions of record through GET /predictions?settled=true', async () => {
    const premium = await promote(await registerUser('settled-list'), { tier: 'premium' });
    const res = await api(`/predictions?settled=true&modelId=${runId}&sort=kickoff&limit=100`, { token: premium.accessToken });
    expect(res.status).toBe(200);
    const page = await res.json<{ data: PredictionListItem[]; nextCursor: string | null }>();
    // One item per outcome of the prediction made an hour before kick-off; neither the earlier nor the later one.
    expect(page.data).toHaveLength(matches.length * 5);
    for (const item of page.data) {
      const m = matches.find((x) => x.id === item.matchId)!;
      expect(item.predictedAt).toBe(new Date(m.kickoff.getTime() - HOUR).toISOString());
      expect(item.market).not.toBe('spreads');
      const market = item.market as 'h2h' | 'totals';
      const won = wonOf(m.csv, item.outcome);
      const best = preMatchBest(m.csv, market, item.outcome);
      const closing = closingBest(m.csv, market, item.outcome);
      expect(item.probability).toBe(modelProbabilities(m.csv, market, RECORD_TILT)[item.outcome]);
      expect(item.settlement).toMatchObject({
        won,
        profit: best === null ? null : won ? best - 1 : -1,
        closingPrice: closing,
        clv: best === null || closing === null ? null : best / closing - 1,
      });
    }
  });

  it('answers problems for an unknown model and a bad window, and honours the window', async () => {
    const premium = await promote(await registerUser('live-perf-errors'), { tier: 'premium' });
    const unknown = await api(`/models/${crypto.randomUUID()}/live-performance`, { token: premium.accessToken });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
    for (const window of ['0', '5001', 'ten', '1.5']) {
      const res = await api(`/models/${runId}/live-performance?window=${window}`, { token: premium.accessToken });
      expect(res.status, window).toBe(400);
    }
    const res = await api(`/models/${runId}/live-performance?window=3`, { token: premium.accessToken });
    const body = await res.json<LivePerformance>();
    const newest = [...matches].sort((a, b) => b.kickoff.getTime() - a.kickoff.getTime() || b.id - a.id).slice(0, 3);
    for (const m of body.markets) {
      expect(m.matches).toBe(3);
      expect(m.to).toBe(newest[0]!.kickoff.toISOString());
      expect(m.from).toBe(newest[2]!.kickoff.toISOString());
    }
  });

  it('the settlement job that settled the round warned that the model is behind the market, per market', async () => {
    // This file has a database of its own (vitest.config.ts), so no other file's daily cron settles the round.
    const rows = await settledRows();
    expect(rows.map((r) => new Date(r.settled_at!).getTime())).toEqual(rows.map(() => SCHEDULED_TIME));
    const warned = jobLines.filter((l) => l.code === BEHIND_MARKET_CODE && l.modelRunId === runId).map((l) => l.market);
    expect(warned.sort()).toEqual(['h2h', 'totals']);
  });

  it('settles nothing twice: a second run leaves settled rows as they are', async () => {
    const before = await settledRows();
    await runScheduled(createScheduledController({ scheduledTime: SCHEDULED_TIME + 86_400_000, cron: SCHEDULES.daily }), env, silent);
    const after = await settledRows();
    expect(after).toEqual(before);
  });
});

// ---- A 2-way sport: one real NBA game, settled with pushes ----

/** The archive's row of a game, read by hand; by default 2012-11-14, Utah at Boston: Boston won 98–93 as 5-point favourites, total 191. */
function nbaGame(date = '2012-11-14', away = 'utah', home = 'bos') {
  const [header, ...lines] = nbaCsvText.trim().split(/\r?\n/);
  const columns = header!.split(',');
  const rows = lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [columns[i]!, v])));
  const row = rows.find((r) => r.date === date && r.away === away && r.home === home)!;
  return {
    homeScore: Number(row.score_home),
    awayScore: Number(row.score_away),
    favourite: row.whos_favored,
    spread: Number(row.spread),
    total: Number(row.total),
    moneylineHome: Number(row.moneyline_home),
    moneylineAway: Number(row.moneyline_away),
    idSpread: row.id_spread,
    idTotal: row.id_total,
  };
}

/** American odds to decimal, by hand (−230 → 1 + 100/230, +190 → 2.9), to the 3 places best_price keeps. */
const decimal = (american: number) => Math.round((american > 0 ? 1 + american / 100 : 1 + 100 / -american) * 1000) / 1000;

interface NbaRow {
  market: 'h2h' | 'spreads' | 'totals';
  outcome: 'home' | 'away' | 'over' | 'under';
  point: number | null;
  bestPrice: number;
  probability: number;
  marketProbability: number;
  expectedValue: number;
  /** What the game made of it: worked out by hand from 98–93 (margin 5, total 191), not by grading.ts. */
  expected: { won: boolean | null; closingPrice: number | null } | 'not gradable';
}

/** A time of its own for the daily cron, so settled_at tells this run's settlement from the round's. */
const NBA_SCHEDULED_TIME = Date.UTC(2024, 3, 20, 3, 30, 9, 99);

describe('settlement of a 2-way sport: a real NBA game (2012-11-14, Utah at Boston, 98–93) with pushes', () => {
  const game = nbaGame();
  const startAt = new Date('2012-11-14T00:00:00Z');
  const predictedAt = new Date(startAt.getTime() - 3 * HOUR);
  const PRICE = 1.95;
  // Boston (home) won by 5 as 5-point favourites: −4.5 covers, −5 pushes, −5.5 loses; 191 on the total line pushes.
  const rows: NbaRow[] = [
    { market: 'h2h', outcome: 'home', point: null, bestPrice: decimal(game.moneylineHome), probability: 0.68, marketProbability: 0.67, expectedValue: -0.02, expected: { won: true, closingPrice: null } },
    { market: 'h2h', outcome: 'away', point: null, bestPrice: decimal(game.moneylineAway), probability: 0.36, marketProbability: 0.33, expectedValue: 0.044, expected: { won: false, closingPrice: 3.1 } },
    { market: 'spreads', outcome: 'home', point: -4.5, bestPrice: PRICE, probability: 0.52, marketProbability: 0.53, expectedValue: -0.01, expected: { won: true, closingPrice: null } },
    { market: 'spreads', outcome: 'away', point: 4.5, bestPrice: PRICE, probability: 0.48, marketProbability: 0.47, expectedValue: -0.06, expected: { won: false, closingPrice: null } },
    { market: 'spreads', outcome: 'home', point: -5, bestPrice: 2.0, probability: 0.53, marketProbability: 0.5, expectedValue: 0.06, expected: { won: null, closingPrice: 1.91 } },
    { market: 'spreads', outcome: 'away', point: 5, bestPrice: PRICE, probability: 0.47, marketProbability: 0.5, expectedValue: -0.08, expected: { won: null, closingPrice: 1.93 } },
    { market: 'spreads', outcome: 'home', point: -5.5, bestPrice: 2.1, probability: 0.5, marketProbability: 0.47, expectedValue: 0.05, expected: { won: false, closingPrice: null } },
    { market: 'spreads', outcome: 'away', point: 5.5, bestPrice: 2.0, probability: 0.54, marketProbability: 0.53, expectedValue: 0.08, expected: { won: true, closingPrice: null } },
    { market: 'spreads', outcome: 'home', point: -4.75, bestPrice: 2.0, probability: 0.51, marketProbability: 0.5, expectedValue: 0.02, expected: 'not gradable' },
    { market: 'totals', outcome: 'over', point: 191, bestPrice: 2.05, probability: 0.5, marketProbability: 0.5, expectedValue: 0.025, expected: { won: null, closingPrice: null } },
    { market: 'totals', outcome: 'under', point: 191, bestPrice: PRICE, probability: 0.5, marketProbability: 0.5, expectedValue: -0.025, expected: { won: null, closingPrice: null } },
    { market: 'totals', outcome: 'over', point: 190.5, bestPrice: PRICE, probability: 0.51, marketProbability: 0.52, expectedValue: -0.005, expected: { won: true, closingPrice: null } },
  ];
  let runId: string;
  let matchId: number;
  let footballKickoff: string;
  let basketball: { id: number; key: string; name: string };
  let jobLines: Array<Record<string, unknown>>;
  let jobStats: Record<string, unknown>;

  beforeAll(async () => {
    // The game as the archive has it, and as the importer files a date-only tip-off.
    expect(game).toMatchObject({ homeScore: 98, awayScore: 93, favourite: 'home', spread: 5, total: 191, idSpread: '2', idTotal: '2' });
    runId = (await insertModelRun({ name: `settlement-nba-${crypto.randomUUID()}` })).id;
    ({ matchId, basketball } = await withDb(async (db) => {
      const [sport] = (await db.execute<{ id: number; key: string; name: string }>(sql`select id::int as id, key, name from sports where key = 'basketball'`)).rows;
      const inserted = await db.execute<{ id: number }>(sql`
        insert into matches (sport_id, competition_id, season, home_team_id, away_team_id, start_at, start_time_known, status, home_score, away_score, provider, external_match_id)
        select c.sport_id, c.id, '2012-13',
               (select id from teams t where t.sport_id = c.sport_id and t.key = 'bos'),
               (select id from teams t where t.sport_id = c.sport_id and t.key = 'utah'),
               ${startAt.toISOString()}::timestamptz, false, 'finished', ${game.homeScore}, ${game.awayScore}, 'settlement-nba-test', '2012-11-14:utah@bos'
        from competitions c where c.key = 'basketball_nba'
        returning id::int as id`);
      const id = inserted.rows[0]!.id;
      // Bookmakers' quotes before tip-off: each one's last counts, at the row's own side and point. The
      // archive's consensus line is an aggregate, never a closing price; a quote after tip-off is live.
      const quote = (bookmaker: string, market: string, outcome: string, point: number | null, price: number, capturedAt: Date, phase = 'pre_match') =>
        sql`(${id}, 'the-odds-api', ${bookmaker}, ${market}, ${outcome}, ${point}, ${price}, ${phase}, ${capturedAt.toISOString()}::timestamptz)`;
      const before = (hours: number) => new Date(startAt.getTime() - hours * HOUR);
      await ensureMonthPartitions(db, 'odds_snapshots', before(2), startAt);
      await db.execute(sql`
        insert into odds_snapshots (match_id, provider, bookmaker, market, outcome, point, price, phase, captured_at) values
        ${sql.join(
          [
            quote('draftkings', 'spreads', 'home', -5, 1.95, before(2)),
            quote('draftkings', 'spreads', 'home', -5, 1.87, before(1)),
            quote('fanduel', 'spreads', 'home', -5, 1.91, before(1)),
            quote('consensus', 'spreads', 'home', -5, 2.5, before(1)),
            quote('fanduel', 'spreads', 'home', -6, 1.99, before(1)),
            quote('draftkings', 'spreads', 'away', 5, 1.93, before(1)),
            quote('draftkings', 'spreads', 'away', 5, 2.6, new Date(startAt.getTime() + 10 * 60_000), 'live'),
            quote('draftkings', 'h2h', 'away', null, 3.1, before(1)),
            quote('draftkings', 'totals', 'over', 192, 1.9, before(1)),
          ],
          sql`, `,
        )}`);
      return { matchId: id, basketball: sport! };
    }));
    await withDb(async (db) => {
      await ensureMonthPartitions(db, 'predictions', predictedAt, predictedAt);
      await db.insert(predictionsTable).values(
        rows.map((r) => ({
          matchId,
          modelRunId: runId,
          market: r.market,
          outcome: r.outcome,
          point: r.point,
          probability: r.probability,
          marketProbability: r.marketProbability,
          bestPrice: r.bestPrice,
          bestBookmaker: 'draftkings',
          bestPriceNet: r.bestPrice,
          expectedValue: r.expectedValue,
          kellyFraction: r.expectedValue > 0 ? r.expectedValue / (r.bestPrice - 1) : 0,
          kellyStake: r.expectedValue > 0 ? r.expectedValue / (r.bestPrice - 1) / 4 : 0,
          predictedAt,
          kickoff: startAt,
          featureVersion: 'v1',
          marginMethod: 'multiplicative' as const,
          kellyMultiplier: 0.25,
        })),
      );
    });
    // The same run also predicted a football match of the round: its report must keep the two sports apart.
    const [football] = await importedRound(readRound('2024-04-13', '2024-04-13'));
    footballKickoff = football!.kickoff.toISOString();
    await withStore((store) =>
      store.persist(predictionOf(football!.id, football!.csv, runId, football!.kickoff, new Date(football!.kickoff.getTime() - HOUR), RECORD_TILT)),
    );
    const logged: string[] = [];
    const results = await runScheduled(
      createScheduledController({ scheduledTime: NBA_SCHEDULED_TIME, cron: SCHEDULES.daily }),
      env,
      createLogger({}, (line) => void logged.push(line)),
    );
    jobLines = logged.map((l) => JSON.parse(l) as Record<string, unknown>);
    const job = await withDb(
      async (db) =>
        (
          await db.execute<{ status: string; stats: Record<string, unknown> }>(
            sql`select status, stats from ingestion_jobs where kind = 'settlement' and id = any(${`{${results.map((r) => r.id).join(',')}}`}::uuid[])`,
          )
        ).rows[0]!,
    );
    expect(job.status).toBe('succeeded');
    jobStats = job.stats;
  });

  const storedRows = () =>
    withDb(
      async (db) =>
        (
          await db.execute<{ market: string; outcome: string; point: number | null; settled_at: string | null; won: boolean | null; profit: number | null; closing_price: number | null; clv: number | null }>(sql`
            select market, outcome, point::float8 as point, settled_at, won, profit, closing_price::float8 as closing_price, clv
            from predictions where model_run_id = ${runId} and match_id = ${matchId}`)
        ).rows,
    );

  it('grades the moneyline, each spread side at its own point and the total at its line, a push as void', async () => {
    const stored = await storedRows();
    expect(stored).toHaveLength(rows.length);
    for (const r of rows) {
      const row = stored.find((s) => s.market === r.market && s.outcome === r.outcome && s.point === r.point)!;
      const label = `${r.market} ${r.outcome} ${r.point ?? ''}`;
      if (r.expected === 'not gradable') continue;
      const { won, closingPrice } = r.expected;
      expect(row.settled_at && new Date(row.settled_at).getTime(), label).toBe(NBA_SCHEDULED_TIME);
      expect(row.won, label).toBe(won);
      expect(row.profit, label).toBe(won === null ? 0 : won ? r.bestPrice - 1 : -1);
      expect(row.closing_price, label).toBe(closingPrice);
      expect(row.clv, label).toBe(closingPrice === null ? null : r.bestPrice / closingPrice - 1);
    }
    // Four pushes: both sides of the spread at 5 and both of the total at 191.
    expect(stored.filter((s) => s.settled_at !== null && s.won === null).map((s) => `${s.market} ${s.outcome} ${s.point}`).sort()).toEqual([
      'spreads away 5',
      'spreads home -5',
      'totals over 191',
      'totals under 191',
    ]);
  });

  it('leaves a quarter line unsettled with a logged reason, and the run still settles the rest', async () => {
    const quarter = (await storedRows()).find((s) => s.point === -4.75)!;
    expect(quarter).toMatchObject({ settled_at: null, won: null, profit: null });
    const warning = jobLines.find((l) => l.code === NOT_GRADABLE_CODE);
    expect(warning).toMatchObject({ level: 'warn', matchId, market: 'spreads', outcome: 'home', point: -4.75 });
    expect(String(warning!.reason)).toMatch(/quarter line/);
    // The NBA rows but the quarter line, and the football match's five.
    expect(jobStats).toMatchObject({ settled: rows.length - 1 + 5, matches: 2, pushes: 4, notGradable: 1, modelRunIds: [runId] });
  });

  it('reports live performance per sport and market, a push as void: neither won nor lost, no stake, profit 0', async () => {
    const premium = await promote(await registerUser('live-perf-nba'), { tier: 'premium' });
    const res = await api(`/models/${runId}/live-performance`, { token: premium.accessToken });
    expect(res.status).toBe(200);
    const body = await res.json<LivePerformance>();
    // Per sport, then per market: football's h2h is not pooled with the NBA moneyline.
    const bySport = (key: string) => body.markets.filter((m) => m.sport.key === key);
    expect(body.markets).toHaveLength(5);
    expect(bySport('basketball').map((m) => m.market)).toEqual(['h2h', 'spreads', 'totals']);
    expect(bySport('soccer').map((m) => m.market)).toEqual(['h2h', 'totals']);
    for (const m of bySport('soccer')) expect([m.matches, m.logLoss.events, m.to]).toEqual([1, 1, footballKickoff]);
    expect(bySport('basketball').every((m) => m.sport.id === basketball.id && m.matches === 1 && m.to === '2012-11-14T00:00:00.000Z')).toBe(true);
    const [h2h, spreads, totals] = bySport('basketball');
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

    // h2h: Boston won. One bet (Utah, EV > 0), lost.
    expect(h2h!.logLoss).toMatchObject({ events: 1, matches: 1 });
    expect(h2h!.logLoss.model).toBeCloseTo(-Math.log(0.68), 12);
    expect(h2h!.betting).toMatchObject({ bets: 1, won: 0, lost: 1, pushes: 0, hitRate: 0, profit: -1, roi: -1 });

    // spreads: the 4.5 and 5.5 lines had a winner (home −4.5, away +5.5); the 5 line pushed and is no event.
    expect(spreads!.logLoss).toMatchObject({ events: 2, matches: 1 });
    expect(spreads!.logLoss.model).toBeCloseTo(mean([-Math.log(0.52), -Math.log(0.54)]), 12);
    expect(spreads!.logLoss.market).toBeCloseTo(mean([-Math.log(0.53), -Math.log(0.53)]), 12);
    // Bets with EV > 0: home −5 (push), home −5.5 (lost), away +5.5 (won at 2.0); the quarter line is unsettled.
    expect(spreads!.betting).toMatchObject({ bets: 3, won: 1, lost: 1, pushes: 1, hitRate: 0.5 });
    expect(spreads!.betting.profit).toBeCloseTo(1 - 1, 12);
    expect(spreads!.betting.roi).toBeCloseTo(0 / 2, 12);
    const kelly = (ev: number, price: number) => ev / (price - 1) / 4;
    expect(spreads!.betting.kellyStaked).toBeCloseTo(kelly(0.05, 2.1) + kelly(0.08, 2.0), 12);
    expect(spreads!.betting.kellyProfit).toBeCloseTo(-kelly(0.05, 2.1) + kelly(0.08, 2.0) * 1, 12);
    // CLV: the push's price still had a close (2.0 against 1.91); the others had no quote at their line.
    expect(spreads!.clv).toMatchObject({ bets: 1, positiveShare: 1 });
    expect(spreads!.clv.mean).toBeCloseTo(2.0 / 1.91 - 1, 12);

    // totals: 191 pushed, so the 190.5 over is the only event; the one bet (over 191) is void.
    expect(totals!.logLoss).toMatchObject({ events: 1, matches: 1 });
    expect(totals!.logLoss.model).toBeCloseTo(-Math.log(0.51), 12);
    expect(totals!.betting).toMatchObject({ bets: 1, won: 0, lost: 0, pushes: 1, hitRate: null, profit: 0, roi: null, kellyStaked: 0, kellyRoi: null });
  });

  it('lists the settled spreads of the sport with their points through GET /predictions', async () => {
    const premium = await promote(await registerUser('settled-nba'), { tier: 'premium' });
    const res = await api(`/predictions?settled=true&modelId=${runId}&sportId=${basketball.id}&market=spreads&sort=kickoff&limit=100`, {
      token: premium.accessToken,
    });
    expect(res.status).toBe(200);
    const page = await res.json<{ data: PredictionListItem[] }>();
    const listed = page.data.map((i) => [i.outcome, i.point, i.settlement?.won ?? null, i.settlement?.profit ?? null]);
    expect(listed.sort((a, b) => Number(a[1]) - Number(b[1]))).toEqual([
      ['home', -5.5, false, -1],
      ['home', -5, null, 0],
      ['home', -4.5, true, PRICE - 1],
      ['away', 4.5, false, -1],
      ['away', 5, null, 0],
      ['away', 5.5, true, 1],
    ]);
    expect(page.data.every((i) => i.sportId === basketball.id && i.market === 'spreads')).toBe(true);
    // An unknown sport lists nothing, as an unknown competition does.
    const unknown = await api(`/predictions?settled=true&modelId=${runId}&sportId=${basketball.id + 1000}&limit=100`, { token: premium.accessToken });
    expect(unknown.status).toBe(200);
    expect((await unknown.json<{ data: unknown[] }>()).data).toEqual([]);
  });
});

// Market-only rows (no model run: a sport without a model; migration 0015 lets model_run_id and feature_version be
// NULL): three real NBA games of 14–15 November 2012 as the value finder priced them, settled by the daily cron,
// then reported by GET /sports/{sportId}/live-performance.
interface MarketOnlyRow {
  /** The game, by its home team. */
  game: 'okc' | 'mil' | 'bkn';
  market: 'h2h' | 'spreads' | 'totals';
  outcome: 'home' | 'away' | 'over' | 'under';
  point: number | null;
  /** The margin-free market price, which is the prediction's probability too. */
  probability: number;
  bestPrice: number;
  /** Predicted this many hours before tip-off: 4 is the prediction of record; 30 is older, −1 was made in play. */
  hoursBefore: number;
  /** Worked out by hand from the final score (null: a push), not by grading.ts. */
  won: boolean | null;
}

const MARKET_ONLY_GAMES = {
  // Memphis won 107–97 at Oklahoma City (OKC −5.5, total 194): OKC lost by 10, 204 points.
  okc: { date: '2012-11-14', away: 'mem', homeScore: 97, awayScore: 107 },
  // Milwaukee beat Indiana 99–85 (MIL −4.5, total 189.5): by 14, 184 points.
  mil: { date: '2012-11-14', away: 'ind', homeScore: 99, awayScore: 85 },
  // Brooklyn beat Boston 102–97 (BKN −5.5, total 190) the next night: by 5, 199 points, so −5 and 199 push.
  bkn: { date: '2012-11-15', away: 'bos', homeScore: 102, awayScore: 97 },
} as const;

const MARKET_ONLY_ROWS: MarketOnlyRow[] = [
  { game: 'okc', market: 'h2h', outcome: 'home', point: null, probability: 0.72, bestPrice: 1.42, hoursBefore: 4, won: false },
  { game: 'okc', market: 'h2h', outcome: 'away', point: null, probability: 0.28, bestPrice: 3.8, hoursBefore: 4, won: true },
  { game: 'okc', market: 'spreads', outcome: 'home', point: -5.5, probability: 0.5, bestPrice: 1.95, hoursBefore: 4, won: false },
  { game: 'okc', market: 'spreads', outcome: 'away', point: 5.5, probability: 0.5, bestPrice: 2.02, hoursBefore: 4, won: true },
  { game: 'okc', market: 'totals', outcome: 'over', point: 194, probability: 0.5, bestPrice: 1.91, hoursBefore: 4, won: true },
  { game: 'okc', market: 'totals', outcome: 'under', point: 194, probability: 0.5, bestPrice: 2.05, hoursBefore: 4, won: false },
  // An older prediction of the same market (EV > 0, lost): settled, but not the one of record.
  { game: 'okc', market: 'h2h', outcome: 'home', point: null, probability: 0.6, bestPrice: 1.8, hoursBefore: 30, won: false },
  { game: 'mil', market: 'h2h', outcome: 'home', point: null, probability: 0.64, bestPrice: 1.6, hoursBefore: 4, won: true },
  { game: 'mil', market: 'h2h', outcome: 'away', point: null, probability: 0.36, bestPrice: 2.7, hoursBefore: 4, won: false },
  { game: 'mil', market: 'spreads', outcome: 'home', point: -4.5, probability: 0.5, bestPrice: 1.95, hoursBefore: 4, won: true },
  { game: 'mil', market: 'spreads', outcome: 'away', point: 4.5, probability: 0.5, bestPrice: 1.95, hoursBefore: 4, won: false },
  { game: 'mil', market: 'totals', outcome: 'over', point: 189.5, probability: 0.5, bestPrice: 2.04, hoursBefore: 4, won: false },
  { game: 'mil', market: 'totals', outcome: 'under', point: 189.5, probability: 0.5, bestPrice: 1.9, hoursBefore: 4, won: true },
  // Made in play (EV > 0, lost): settled, never counted.
  { game: 'mil', market: 'totals', outcome: 'over', point: 189.5, probability: 0.3, bestPrice: 5, hoursBefore: -1, won: false },
  { game: 'bkn', market: 'h2h', outcome: 'home', point: null, probability: 0.7, bestPrice: 1.45, hoursBefore: 4, won: true },
  { game: 'bkn', market: 'h2h', outcome: 'away', point: null, probability: 0.3, bestPrice: 3.2, hoursBefore: 4, won: false },
  { game: 'bkn', market: 'spreads', outcome: 'home', point: -5, probability: 0.5, bestPrice: 2.06, hoursBefore: 4, won: null },
  { game: 'bkn', market: 'spreads', outcome: 'away', point: 5, probability: 0.5, bestPrice: 1.9, hoursBefore: 4, won: null },
  { game: 'bkn', market: 'spreads', outcome: 'home', point: -5.5, probability: 0.48, bestPrice: 2.1, hoursBefore: 4, won: false },
  { game: 'bkn', market: 'spreads', outcome: 'away', point: 5.5, probability: 0.52, bestPrice: 1.9, hoursBefore: 4, won: true },
  { game: 'bkn', market: 'totals', outcome: 'over', point: 199, probability: 0.5, bestPrice: 2.02, hoursBefore: 4, won: null },
  { game: 'bkn', market: 'totals', outcome: 'under', point: 199, probability: 0.5, bestPrice: 1.9, hoursBefore: 4, won: null },
];

/** EV against the market's own price, and the quarter-Kelly stake, as market-only.ts makes them. */
const marketOnlyEv = (probability: number, price: number) => probability * price - 1;
const quarterKelly = (probability: number, price: number) => Math.max(marketOnlyEv(probability, price), 0) / (price - 1) / 4;

describe('settlement and live performance of market-only rows (no model run)', () => {
  const MARKET_ONLY_TIME = Date.UTC(2024, 3, 22, 3, 30, 1, 11);
  const gameIds = {} as Record<MarketOnlyRow['game'], number>;
  const kickoffOf = (game: MarketOnlyRow['game']) => new Date(`${MARKET_ONLY_GAMES[game].date}T00:00:00Z`);
  let basketball: number;
  let soccer: number;
  let football: RoundMatch;
  let stats: Record<string, unknown>;
  let jobLines: Array<Record<string, unknown>>;
  let premium: TestUser;

  beforeAll(async () => {
    for (const [home, g] of Object.entries(MARKET_ONLY_GAMES)) {
      const archived = nbaGame(g.date, g.away, home);
      expect([archived.homeScore, archived.awayScore], `${g.away} at ${home}`).toEqual([g.homeScore, g.awayScore]);
    }
    football = (await importedRound(readRound('2024-04-13', '2024-04-13')))[0]!;
    await withDb(async (db) => {
      const sportIds = (await db.execute<{ key: string; id: number }>(sql`select key, id::int as id from sports`)).rows;
      basketball = sportIds.find((s) => s.key === 'basketball')!.id;
      soccer = sportIds.find((s) => s.key === 'soccer')!.id;
      await ensureMonthPartitions(db, 'predictions', new Date('2012-11-12T00:00:00Z'), new Date('2012-11-15T00:00:00Z'));
      await ensureMonthPartitions(db, 'odds_snapshots', new Date('2012-11-12T00:00:00Z'), new Date('2012-11-15T00:00:00Z'));
      for (const [home, g] of Object.entries(MARKET_ONLY_GAMES)) {
        const inserted = await db.execute<{ id: number }>(sql`
          insert into matches (sport_id, competition_id, season, home_team_id, away_team_id, start_at, start_time_known, status, home_score, away_score, provider, external_match_id)
          select c.sport_id, c.id, '2012-13',
                 (select id from teams t where t.sport_id = c.sport_id and t.key = ${home}),
                 (select id from teams t where t.sport_id = c.sport_id and t.key = ${g.away}),
                 ${kickoffOf(home as MarketOnlyRow['game']).toISOString()}::timestamptz, false, 'finished', ${g.homeScore}, ${g.awayScore},
                 'settlement-nba-test', ${`${g.date}:${g.away}@${home}`}
          from competitions c where c.key = 'basketball_nba'
          returning id::int as id`);
        gameIds[home as MarketOnlyRow['game']] = inserted.rows[0]!.id;
      }
      // The closes the report's CLV is made of: a book's last quote an hour before tip-off at the row's own line.
      const close = (game: MarketOnlyRow['game'], market: string, outcome: string, point: number | null, price: number) =>
        sql`(${gameIds[game]}, 'the-odds-api', 'fanduel', ${market}, ${outcome}, ${point}, ${price}, 'pre_match', ${new Date(kickoffOf(game).getTime() - HOUR).toISOString()}::timestamptz)`;
      await db.execute(sql`
        insert into odds_snapshots (match_id, provider, bookmaker, market, outcome, point, price, phase, captured_at) values
        ${sql.join([close('okc', 'h2h', 'away', null, 3.0), close('mil', 'h2h', 'home', null, 1.65), close('bkn', 'spreads', 'home', -5, 2.0)], sql`, `)}`);
      type RowFields = Pick<MarketOnlyRow, 'market' | 'point' | 'probability' | 'bestPrice' | 'hoursBefore'> & { outcome: PredictedOutcome };
      const marketOnly = (matchId: number, kickoff: Date, r: RowFields) => ({
        matchId,
        modelRunId: null,
        featureVersion: null,
        market: r.market,
        outcome: r.outcome,
        point: r.point,
        probability: r.probability,
        marketProbability: r.probability,
        bestPrice: r.bestPrice,
        bestBookmaker: 'draftkings',
        bestPriceNet: r.bestPrice,
        expectedValue: marketOnlyEv(r.probability, r.bestPrice),
        kellyFraction: quarterKelly(r.probability, r.bestPrice) * 4,
        kellyStake: quarterKelly(r.probability, r.bestPrice),
        predictedAt: new Date(kickoff.getTime() - r.hoursBefore * HOUR),
        kickoff,
        marginMethod: 'multiplicative' as const,
        kellyMultiplier: 0.25,
      });
      await db.insert(predictionsTable).values([
        ...MARKET_ONLY_ROWS.map((r) => marketOnly(gameIds[r.game], kickoffOf(r.game), r)),
        // A football match's market-only 1X2 (as before its model was served): another sport's report, not the NBA's.
        ...(['home', 'draw', 'away'] as const).map((outcome, i) =>
          marketOnly(football.id, football.kickoff, { market: 'h2h', outcome, point: null, probability: [0.45, 0.27, 0.28][i]!, bestPrice: [2.4, 3.6, 3.5][i]!, hoursBefore: 1 }),
        ),
      ]);
    });
    const logged: string[] = [];
    const results = await runScheduled(
      createScheduledController({ scheduledTime: MARKET_ONLY_TIME, cron: SCHEDULES.daily }),
      env,
      createLogger({}, (line) => void logged.push(line)),
    );
    jobLines = logged.map((l) => JSON.parse(l) as Record<string, unknown>);
    stats = await withDb(
      async (db) =>
        (
          await db.execute<{ stats: Record<string, unknown> }>(
            sql`select stats from ingestion_jobs where kind = 'settlement' and status = 'succeeded' and id = any(${`{${results.map((r) => r.id).join(',')}}`}::uuid[])`,
          )
        ).rows[0]!.stats,
    );
    premium = await promote(await registerUser('live-perf-market-only'), { tier: 'premium' });
  });

  it("settles them like a model's, and adds no run to the live-performance check, so nothing warns", async () => {
    const rows = await withDb(
      async (db) =>
        (
          await db.execute<{ match_id: number; market: string; outcome: string; point: number | null; predicted_at: string; settled_at: string; won: boolean | null; profit: number | null }>(
            sql`select match_id::int as match_id, market, outcome, point::float8 as point, predicted_at, settled_at, won, profit
                from predictions where model_run_id is null and match_id = any(${`{${Object.values(gameIds).join(',')}}`}::bigint[])`,
          )
        ).rows,
    );
    expect(rows).toHaveLength(MARKET_ONLY_ROWS.length);
    for (const r of MARKET_ONLY_ROWS) {
      const predictedAt = kickoffOf(r.game).getTime() - r.hoursBefore * HOUR;
      const row = rows.find(
        (s) => s.match_id === gameIds[r.game] && s.market === r.market && s.outcome === r.outcome && s.point === r.point && new Date(s.predicted_at).getTime() === predictedAt,
      )!;
      const label = `${r.game} ${r.market} ${r.outcome} ${r.point ?? ''} ${r.hoursBefore}h`;
      expect(new Date(row.settled_at).getTime(), label).toBe(MARKET_ONLY_TIME);
      expect([row.won, row.profit], label).toEqual([r.won, r.won === null ? 0 : r.won ? r.bestPrice - 1 : -1]);
    }
    // The NBA rows and the football match's three; the four pushes are Brooklyn's −5 spread and its 199 total.
    expect(stats).toMatchObject({ settled: MARKET_ONLY_ROWS.length + 3, matches: 4, pushes: 4, modelRunIds: [], behindMarket: [] });
    expect(jobLines.filter((l) => l.code === BEHIND_MARKET_CODE)).toEqual([]);
  });

  it('reports the value finder\'s bets per market: won, lost, pushes, ROI, Kelly ROI and CLV, and no model log loss', async () => {
    const res = await api(`/sports/${basketball}/live-performance`, { token: premium.accessToken });
    expect(res.status).toBe(200);
    const body = await res.json<MarketOnlyLivePerformance>();
    expect(body.sport).toEqual({ id: basketball, key: 'basketball', name: expect.any(String) });
    expect(body.window).toBe(200);
    // Only the three market-only games: not the soccer row, not the model run's Utah at Boston of the same night.
    expect(body.markets.map((m) => [m.sport.id, m.market, m.matches, m.from, m.to])).toEqual(
      (['h2h', 'spreads', 'totals'] as const).map((market) => [basketball, market, 3, '2012-11-14T00:00:00.000Z', '2012-11-15T00:00:00.000Z']),
    );
    const [h2h, spreads, totals] = body.markets;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const k = quarterKelly;
    // No model: the market's log loss alone, and never behind a market it is.
    for (const m of body.markets) {
      expect([m.logLoss.model, m.logLoss.difference, m.behindMarket], m.market).toEqual([null, null, false]);
    }

    // h2h: Memphis, Milwaukee and Brooklyn won. Bets (EV > 0): OKC 1.42 lost, Memphis 3.8 won, Milwaukee 1.6 won,
    // Brooklyn 1.45 won; OKC's older 1.8 and nothing else.
    expect(h2h!.logLoss).toMatchObject({ events: 3, matches: 3 });
    expect(h2h!.logLoss.market).toBeCloseTo(mean([-Math.log(0.28), -Math.log(0.64), -Math.log(0.7)]), 12);
    expect(h2h!.betting).toMatchObject({ bets: 4, won: 3, lost: 1, pushes: 0, hitRate: 0.75 });
    expect(h2h!.betting.profit).toBeCloseTo(-1 + 2.8 + 0.6 + 0.45, 12);
    expect(h2h!.betting.roi).toBeCloseTo(2.85 / 4, 12);
    const h2hStakes = [k(0.72, 1.42), k(0.28, 3.8), k(0.64, 1.6), k(0.7, 1.45)];
    const h2hKellyProfit = -h2hStakes[0]! + h2hStakes[1]! * 2.8 + h2hStakes[2]! * 0.6 + h2hStakes[3]! * 0.45;
    expect(h2h!.betting.kellyStaked).toBeCloseTo(h2hStakes.reduce((a, b) => a + b, 0), 12);
    expect(h2h!.betting.kellyProfit).toBeCloseTo(h2hKellyProfit, 12);
    expect(h2h!.betting.kellyRoi).toBeCloseTo(h2hKellyProfit / h2hStakes.reduce((a, b) => a + b, 0), 12);
    // CLV: Memphis 3.8 against a 3.0 close, Milwaukee 1.6 against 1.65; the others had no close at their line.
    expect(h2h!.clv).toMatchObject({ bets: 2, positiveShare: 0.5 });
    expect(h2h!.clv.mean).toBeCloseTo(mean([3.8 / 3.0 - 1, 1.6 / 1.65 - 1]), 12);

    // spreads: one event per game with a winner (Memphis +5.5, Milwaukee −4.5, Boston +5.5); Brooklyn −5 pushed.
    expect(spreads!.logLoss).toMatchObject({ events: 3, matches: 3 });
    expect(spreads!.logLoss.market).toBeCloseTo(mean([-Math.log(0.5), -Math.log(0.5), -Math.log(0.52)]), 12);
    // Bets: Memphis +5.5 at 2.02 won, Brooklyn −5 at 2.06 void, Brooklyn −5.5 at 2.1 lost.
    expect(spreads!.betting).toMatchObject({ bets: 3, won: 1, lost: 1, pushes: 1, hitRate: 0.5 });
    expect(spreads!.betting.profit).toBeCloseTo(1.02 - 1, 12);
    expect(spreads!.betting.roi).toBeCloseTo(0.02 / 2, 12);
    expect(spreads!.betting.kellyStaked).toBeCloseTo(k(0.5, 2.02) + k(0.48, 2.1), 12);
    expect(spreads!.betting.kellyProfit).toBeCloseTo(k(0.5, 2.02) * 1.02 - k(0.48, 2.1), 12);
    // The push's price still had its close: 2.06 against 2.0.
    expect(spreads!.clv).toMatchObject({ bets: 1, positiveShare: 1 });
    expect(spreads!.clv.mean).toBeCloseTo(2.06 / 2.0 - 1, 12);

    // totals: OKC's 204 went over 194, Milwaukee's 184 under 189.5; Brooklyn's 199 pushed and is no event.
    // Bets: under 194 lost, over 189.5 lost (the in-play 5.0 is not counted), over 199 void.
    expect(totals!.logLoss).toMatchObject({ events: 2, matches: 2 });
    expect(totals!.logLoss.market).toBeCloseTo(-Math.log(0.5), 12);
    expect(totals!.betting).toMatchObject({ bets: 3, won: 0, lost: 2, pushes: 1, hitRate: 0, profit: -2, roi: -1 });
    expect(totals!.betting.kellyStaked).toBeCloseTo(k(0.5, 2.05) + k(0.5, 2.04), 12);
    expect(totals!.betting.kellyRoi).toBeCloseTo(-1, 12);
    expect(totals!.clv).toEqual({ bets: 0, mean: null, positiveShare: null });
  });

  it('keeps each sport to its own report, and honours the window', async () => {
    const res = await api(`/sports/${soccer}/live-performance`, { token: premium.accessToken });
    expect(res.status).toBe(200);
    const body = await res.json<MarketOnlyLivePerformance>();
    // The football match's market-only 1X2 only: the model runs' football predictions are not market-only.
    const actual = (['home', 'draw', 'away'] as const).findIndex((o) => wonOf(football.csv, o));
    expect(body.markets).toHaveLength(1);
    const [h2h] = body.markets;
    expect([h2h!.sport.key, h2h!.market, h2h!.matches, h2h!.to, h2h!.logLoss.events, h2h!.logLoss.model]).toEqual(['soccer', 'h2h', 1, football.kickoff.toISOString(), 1, null]);
    expect(h2h!.logLoss.market).toBeCloseTo(-Math.log([0.45, 0.27, 0.28][actual]!), 12);
    // The one bet: home at 2.4 (EV 0.08).
    expect(h2h!.betting).toMatchObject({ bets: 1, won: actual === 0 ? 1 : 0, lost: actual === 0 ? 0 : 1 });

    // window=1: the newest game of each market, Brooklyn's.
    const windowed = await (await api(`/sports/${basketball}/live-performance?window=1`, { token: premium.accessToken })).json<MarketOnlyLivePerformance>();
    expect(windowed.window).toBe(1);
    expect(windowed.markets.map((m) => [m.market, m.matches, m.from, m.to, m.betting.bets, m.betting.pushes])).toEqual([
      ['h2h', 1, '2012-11-15T00:00:00.000Z', '2012-11-15T00:00:00.000Z', 1, 0],
      ['spreads', 1, '2012-11-15T00:00:00.000Z', '2012-11-15T00:00:00.000Z', 2, 1],
      ['totals', 1, '2012-11-15T00:00:00.000Z', '2012-11-15T00:00:00.000Z', 1, 1],
    ]);
    expect(windowed.markets[0]!.betting.profit).toBeCloseTo(0.45, 12);
  });

  it('answers problems: 404 for an unknown sport, 400 for a bad sport id or window, 401 and 403 below premium', async () => {
    const unknown = await api(`/sports/${basketball + soccer + 1000}/live-performance`, { token: premium.accessToken });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
    for (const url of [`/sports/abc/live-performance`, `/sports/0/live-performance`, ...['0', '5001', 'ten', '1.5'].map((w) => `/sports/${basketball}/live-performance?window=${w}`)]) {
      const res = await api(url, { token: premium.accessToken });
      expect(res.status, url).toBe(400);
      expect(res.headers.get('content-type'), url).toBe('application/problem+json');
    }
    expect((await api(`/sports/${basketball}/live-performance`)).status).toBe(401);
    const free = await registerUser('live-perf-market-only-free');
    expect((await api(`/sports/${basketball}/live-performance`, { token: free.accessToken })).status).toBe(403);
  });
});

describe('PredictionStore', () => {
  it('persists one row per outcome, idempotently, and reads back the last prediction before an instant', async () => {
    // Read back with the run's registered name, which the rows do not hold (the store joins it).
    const runName = `store-${crypto.randomUUID()}`;
    const runId = (await insertModelRun({ name: runName })).id;
    const [m] = await importedRound(readRound('2024-04-13', '2024-04-13'));
    const { id: matchId, kickoff, csv } = m!;
    const early = predictionOf(matchId, csv, runId, kickoff, new Date(kickoff.getTime() - 48 * HOUR), EARLY_TILT, runName);
    const late = predictionOf(matchId, csv, runId, kickoff, new Date(kickoff.getTime() - HOUR), RECORD_TILT, runName);
    const after = predictionOf(matchId, csv, runId, kickoff, new Date(kickoff.getTime() + 600_000), LATE_TILT, runName);
    await withStore(async (s) => {
      await s.persist(early);
      await s.persist(late);
      await s.persist(late); // a retried waitUntil
      await s.persist(after);
    });
    const count = await withDb(
      async (db) => (await db.execute<{ n: number }>(sql`select count(*)::int as n from predictions where model_run_id = ${runId}`)).rows[0]!.n,
    );
    expect(count).toBe(15);
    expect(await withStore((s) => s.latestBefore(matchId, kickoff, runId))).toEqual(late);
    expect(await withStore((s) => s.latestBefore(matchId, new Date(kickoff.getTime() - 2 * HOUR), runId))).toEqual(early);
    expect(await withStore((s) => s.latestBefore(matchId, new Date(kickoff.getTime() - 72 * HOUR), runId))).toBeNull();
  });

  it('creates the month\'s partition when a write lands in a month that has none, and only then', async () => {
    const runId = (await insertModelRun({ name: `store-partition-${crypto.randomUUID()}` })).id;
    const [m] = await importedRound(readRound('2024-04-13', '2024-04-13'));
    // No job creates partitions this far ahead, so the first write finds none.
    const predictedAt = new Date('2033-05-10T12:00:00Z');
    const partitionOf = () =>
      withDb(async (db) => (await db.execute<{ name: string | null }>(sql`select to_regclass('predictions_y2033m05')::text as name`)).rows[0]!.name);
    expect(await partitionOf()).toBeNull();
    await withStore((s) => s.persist(predictionOf(m!.id, m!.csv, runId, m!.kickoff, predictedAt, LATE_TILT)));
    expect(await partitionOf()).toBe('predictions_y2033m05');
    const rows = await withDb(
      async (db) => (await db.execute<{ n: number }>(sql`select count(*)::int as n from predictions_y2033m05 where model_run_id = ${runId}`)).rows[0]!.n,
    );
    expect(rows).toBe(5);
    // Only that refusal creates a partition: the same code (23514) for a CHECK violation, or a foreign key, is
    // the caller's error and comes back as it was raised.
    const refusal = (statement: ReturnType<typeof sql>) =>
      withDb((db) => db.execute(statement).then(() => undefined, (error: unknown) => error));
    const missing = await refusal(
      sql`insert into predictions (match_id, model_run_id, market, outcome, probability, predicted_at, kickoff, feature_version, margin_method, kelly_multiplier)
          values (${m!.id}, ${runId}, 'h2h', 'home', 0.5, '2034-02-01T00:00:00Z', ${m!.kickoff.toISOString()}, 'v1', 'shin', 0.25)`,
    );
    const check = await refusal(
      sql`insert into predictions (match_id, model_run_id, market, outcome, probability, predicted_at, kickoff, feature_version, margin_method, kelly_multiplier)
          values (${m!.id}, ${runId}, 'h2h', 'home', 1.5, ${predictedAt.toISOString()}, ${m!.kickoff.toISOString()}, 'v1', 'shin', 0.25)`,
    );
    const orphan = predictionOf(m!.id, m!.csv, crypto.randomUUID(), m!.kickoff, predictedAt, LATE_TILT);
    const foreignKey = await withStore((s) => s.persist(orphan)).then(() => undefined, (error: unknown) => error);
    expect(isMissingPartition(missing), String(missing)).toBe(true);
    expect((check as { cause?: { code?: string } }).cause?.code, 'a CHECK violation: SQLSTATE 23514 too').toBe('23514');
    expect(isMissingPartition(check)).toBe(false);
    expect((foreignKey as { cause?: Error }).cause?.message).toMatch(/violates foreign key constraint/);
    expect(isMissingPartition(foreignKey)).toBe(false);
  });
});

async function withStore<T>(work: (store: PredictionStore) => Promise<T>): Promise<T> {
  return withDb((db) => work(new PredictionStore(() => db)));
}
