// `npm run evaluate -- --live` on hand-made live history over a real match: the prediction of record is the run's
// last one before kick-off, it is scored against the result beside the Pinnacle price that was live at that same
// moment (not an earlier or a later capture, not the close), and the anchors it recorded are summarised.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { importFootballData } from '../../scripts/lib/football-data/import';
import { REPO_DATA_DIR } from '../../scripts/lib/football-data/seed';
import { evaluateLive } from '../../scripts/lib/live-evaluation';
import { removeMargin } from '../../src/domain/odds';
import { isolatedDatabase } from './support/isolated-database';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const db = isolatedDatabase();
const HOUR = 3_600_000;

let match: { id: number; kickoff: Date; label: number };
let runId: string;

/** A poll's prices: stamped by the provider at `capturedAt`, reaching us at `ingestedAt` (by default at once). */
async function snapshot(capturedAt: Date, bookmaker: string, prices: [number, number, number], ingestedAt = capturedAt) {
  const outcomes = ['home', 'draw', 'away'];
  for (let i = 0; i < 3; i++) {
    await db.pool.query(
      `insert into odds_snapshots (match_id, provider, bookmaker, market, outcome, point, price, phase, captured_at, ingested_at)
       values ($1, 'the-odds-api', $2, 'h2h', $3, null, $4, 'pre_match', $5, $6)`,
      [match.id, bookmaker, outcomes[i], prices[i], capturedAt, ingestedAt],
    );
  }
}

async function prediction(predictedAt: Date, probabilities: [number, number, number], anchor: 'pinnacle' | 'consensus') {
  const outcomes = ['home', 'draw', 'away'];
  for (let i = 0; i < 3; i++) {
    await db.pool.query(
      `insert into predictions (match_id, model_run_id, market, outcome, point, probability, market_probability, best_price, best_bookmaker,
                                expected_value, kelly_fraction, predicted_at, kickoff, feature_version, margin_method, kelly_multiplier,
                                anchor_source, anchor_bookmakers, anchor_last_update, anchor_hours_to_kickoff, best_price_net, exchange_commission)
       values ($1, $2, 'h2h', $3, null, $4, $4, 2.5, 'bet365', 0, 0, $5, $6, 'v1', 'shin', 0.25, $7, $8, $5, $9, 2.5, 0.05)`,
      [match.id, runId, outcomes[i], probabilities[i], predictedAt, match.kickoff, anchor, [anchor === 'pinnacle' ? 'pinnacle' : 'bet365'], (match.kickoff.getTime() - predictedAt.getTime()) / HOUR],
    );
  }
}

beforeAll(async () => {
  const summary = await importFootballData(db.pool, [`${REPO_DATA_DIR}/E0_2324.csv`]);
  expect(summary.failedFiles).toBe(0);
  const { rows } = await db.pool.query<{ id: string; start_at: Date; home_score: number; away_score: number }>(
    `select id, start_at, home_score, away_score from matches where status = 'finished' order by start_at, id limit 1`,
  );
  const m = rows[0]!;
  match = { id: Number(m.id), kickoff: m.start_at, label: m.home_score > m.away_score ? 0 : m.home_score === m.away_score ? 1 : 2 };
  runId = (
    await db.pool.query<{ id: string }>(
      `insert into model_runs (name, sport_id, feature_version, artifact_key, artifact_sha256, metadata, status) values ('live-test', (select id from sports where key = 'soccer'), 'v1', 'models/live-test/', $1, '{}', 'active') returning id`,
      ['1'.repeat(64)],
    )
  ).rows[0]!.id;
  // Of the history's prices only Pinnacle's are kept (its Friday price and its close), known from the start; the
  // market average at the prediction's moment is then the books below and nothing else.
  await db.pool.query(`delete from odds_snapshots where match_id = $1 and bookmaker <> 'pinnacle'`, [match.id]);
  await db.pool.query(`update odds_snapshots set ingested_at = captured_at where match_id = $1`, [match.id]);
  const k = match.kickoff.getTime();
  await db.pool.query(`select ensure_month_partitions('predictions'::regclass, $1::date, $1::date)`, [match.kickoff]);
  // Live Pinnacle prices three and one hour before kick-off, and two books of the fixed list at the first moment.
  await snapshot(new Date(k - 3 * HOUR), 'pinnacle', [2.0, 3.6, 4.0]);
  await snapshot(new Date(k - 1 * HOUR), 'pinnacle', [1.5, 4.5, 7.0]);
  // Stamped before the prediction of record by the provider, but it reached us only after it: not known then.
  await snapshot(new Date(k - 2.5 * HOUR), 'pinnacle', [3.0, 3.3, 2.4], new Date(k - 1.5 * HOUR));
  await snapshot(new Date(k - 3 * HOUR), 'bet365', [1.95, 3.5, 3.9]);
  await snapshot(new Date(k - 3 * HOUR), 'williamhill', [2.05, 3.4, 3.8]);
  // An older prediction, the prediction of record (two hours before), and one made after kick-off.
  await prediction(new Date(k - 5 * HOUR), [0.2, 0.3, 0.5], 'consensus');
  await prediction(new Date(k - 2 * HOUR), [0.45, 0.3, 0.25], 'pinnacle');
  await prediction(new Date(k + HOUR), [0.9, 0.05, 0.05], 'pinnacle');
}, 120_000);

describe('the live evaluation', () => {
  it('scores the prediction of record beside the Pinnacle price live at that moment', async () => {
    const live = await evaluateLive(db.pool, {});
    expect(live.model).toEqual({ id: runId, name: 'live-test' });
    expect(live.matches).toBe(1);
    const market = live.report.markets['1x2']!;
    expect(market.rows.evaluated).toBe(1);
    expect(market.marginMethod).toBe('shin');
    expect(live.report.settings.marginMethods['1x2']).toBe('shin');
    const p = [0.45, 0.3, 0.25][match.label]!;
    expect(market.metrics!.model.logLoss).toBeCloseTo(-Math.log(p), 12);
    // Pinnacle at two hours before is the capture of three hours before: the one stamped 2.5 h before reached us
    // later, the one of an hour before did not exist yet, the Friday's prices are older, and the close is never
    // the baseline.
    const pinnacle = removeMargin([2.0, 3.6, 4.0], 'shin').probabilities[match.label]!;
    expect(market.metrics!.pinnacle.logLoss).toBeCloseTo(-Math.log(pinnacle), 12);
    const average = removeMargin([(2.0 + 1.95 + 2.05) / 3, (3.6 + 3.5 + 3.4) / 3, (4.0 + 3.9 + 3.8) / 3], 'shin').probabilities[match.label]!;
    expect(market.metrics!.marketAverage.logLoss).toBeCloseTo(-Math.log(average), 12);
    expect(live.anchors['1x2']).toEqual({ pinnacle: 1, consensus: 0, notRecorded: 0, behindRecord: 0, medianHoursToKickoff: 2 });
    expect(live.report.markets.ou25).toBeNull();
    expect(live.expected).toBeNull();
  });

  it('is what npm run evaluate -- --live prints, and refuses options that do not apply', async () => {
    const { stdout } = await run('npx', ['tsx', 'scripts/evaluate.ts', '--live', '--json'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: db.url } });
    expect(JSON.parse(stdout).report.markets['1x2'].rows.evaluated).toBe(1);
    const refused = await run('npx', ['tsx', 'scripts/evaluate.ts', '--live', '--data', 'data/football-data'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: db.url } }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(refused?.code).toBe(2);
    expect(refused?.stderr).toMatch(/--live scores stored predictions: --data does not apply/);
  });
});
