// The NBA evaluation behind `npm run evaluate -- --sport basketball`: every test season predicted by a moneyline
// model that never saw it (models/train_nba.py, the football recipe: train on the seasons before the one before
// the test season, tune and check the evidence on that one, refit through it), scored in TypeScript beside the
// margin-free closing consensus line on the same games. Spreads and totals have no model yet: they are reported
// with the margin-free close as their predictor, which is what a sport without a model serves.
//
// --rolling: per test season and pooled, with the activation gate's verdict (gate.ts, the same conditions as
// football's). A window (--from/--to): the seasons the window touches, each by its own fold, one report.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { gradeMoneyline, gradeSpread, gradeTotal, type LineGrade, type MarginMethod } from '../../../src/domain/odds';
import {
  buildTwoWayReport,
  closingAsPredictor,
  gateDecision,
  ROUNDING,
  twoWayRollingGate,
  type GateDecision,
  type RollingGateOf,
  type TwoWayMarket,
  type TwoWayOptions,
  type TwoWayReport,
  type TwoWayRow,
} from '../../../src/services/evaluation';
import { NBA_FEATURE_VERSION } from '../../../src/services/features/basketball';
import { trainFold, validationSeasonOf } from '../models/rolling';
import { buildNbaFeatureMatrix, writeNbaFeatureCsv, type NbaFeatureRow } from './features';

export const TRAIN_NBA_PY = new URL('../../../models/train_nba.py', import.meta.url).pathname;
/** The later ten seasons: each keeps at least four earlier ones to train on and one to validate on. */
export const DEFAULT_NBA_ROLLING_SEASONS = ['2012-13', '2013-14', '2014-15', '2015-16', '2016-17', '2017-18', '2018-19', '2019-20', '2020-21', '2021-22'];
export const NBA_ROLLING_RECIPE =
  'per test season T: train on the seasons before the one before T (V), tune and check the evidence on V, refit on every season up to V, predict T';
export const NBA_ROLLING_SCHEMA_VERSION = 1;

export interface NbaFoldModel {
  trees: number;
  marginMethod: MarginMethod;
  /** The evidence rule's figures on the validation season's second half (train_nba.py's model.json). */
  evidence: { supported: boolean; kept: boolean; confirmation: { estimate: number; lower: number; upper: number; rows: number } };
}

interface Fold {
  season: string;
  validationSeason: string;
  model: NbaFoldModel;
  rows: Record<TwoWayMarket, TwoWayRow[]>;
}

export interface NbaRollingSeason {
  season: string;
  validationSeason: string;
  model: NbaFoldModel;
  matches: number;
  report: TwoWayReport;
}

export interface NbaRollingEvaluation {
  schemaVersion: typeof NBA_ROLLING_SCHEMA_VERSION;
  kind: 'rolling';
  sport: 'basketball';
  featureVersion: typeof NBA_FEATURE_VERSION;
  recipe: string;
  smoke: boolean;
  seasons: NbaRollingSeason[];
  pooled: { matches: number; report: TwoWayReport };
  gate: RollingGateOf<TwoWayMarket> | null;
  decision: GateDecision;
}

export interface NbaFoldOptions {
  seasons: readonly string[];
  workDir: string;
  smoke?: boolean;
  /** Smoke only: keep the trees whatever the evidence says. */
  forceTrees?: boolean;
  evaluation?: TwoWayOptions;
  log?: (message: string) => void;
}

/** The label of each market from the final score (grading.ts, as settlement grades): outcome index, null for a push (void). */
export function nbaLabels(row: Pick<NbaFeatureRow, 'homeScore' | 'awayScore' | 'closing'>): Record<TwoWayMarket, 0 | 1 | null> | null {
  if (row.homeScore === null || row.awayScore === null) return null;
  const score = { home: row.homeScore, away: row.awayScore };
  // Index 0 is the first outcome of each market: home, home covering, over.
  const label = (grade: LineGrade): 0 | 1 | null => (grade === 'push' ? null : grade === 'win' ? 0 : 1);
  const spread = row.closing.spreads?.point;
  const total = row.closing.totals?.point;
  return {
    h2h: label(gradeMoneyline('home', score)),
    spreads: spread === null || spread === undefined ? null : label(gradeSpread('home', spread, score)),
    totals: total === null || total === undefined ? null : label(gradeTotal('over', total, score)),
  };
}

async function readPredictions(path: string): Promise<Map<number, number>> {
  const [header, ...lines] = (await readFile(path, 'utf8')).trim().split(/\r?\n/);
  if (header !== 'match_id,p_home') throw new Error(`${path}: unexpected header ${header}`);
  return new Map(lines.map((l) => l.split(',')).map(([id, p]) => [Number(id), Number(p)]));
}

/** One fold per test season: train_nba.py, then the season's rows for every market. */
async function folds(rows: readonly NbaFeatureRow[], csv: string, options: NbaFoldOptions): Promise<Fold[]> {
  const log = options.log ?? (() => undefined);
  const finished = rows.filter((r) => r.labelHomeWin !== null && r.closing.h2h !== null);
  const present = [...new Set(finished.map((r) => r.season))].sort();
  const out: Fold[] = [];
  for (const season of options.seasons) {
    const validationSeason = validationSeasonOf(season, present, 'finished games with a moneyline', ' (load the archive with npm run import:nba -- data/nba, or pass --data data/nba)');
    const dir = join(options.workDir, `nba-fold-${season}`);
    log(`${season}: training on the seasons before ${validationSeason}, tuning on ${validationSeason}, refit up to ${validationSeason}`);
    await trainFold(TRAIN_NBA_PY, { csv, out: dir, validationSeason, testSeason: season, smoke: options.smoke, forceTrees: options.forceTrees });
    const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as {
      trees: number;
      marginMethod: { chosen: MarginMethod };
      evidence: NbaFoldModel['evidence'];
    };
    const predictions = await readPredictions(join(dir, 'predictions.csv'));
    const method = manifest.marginMethod.chosen;
    const fold: Fold = {
      season,
      validationSeason,
      model: { trees: manifest.trees, marginMethod: method, evidence: manifest.evidence },
      rows: { h2h: [], spreads: [], totals: [] },
    };
    for (const r of rows) {
      if (r.season !== season) continue;
      const labels = nbaLabels(r);
      if (!labels) continue;
      const kickoff = r.startAt.toISOString();
      const p = predictions.get(r.matchId);
      if (r.closing.h2h) {
        // train_nba.py predicts every finished game with a moneyline: a missing one is a broken contract.
        if (p === undefined) throw new Error(`train_nba.py gave no prediction for match ${r.matchId} (${season})`);
        fold.rows.h2h.push({ matchId: r.matchId, kickoff, label: labels.h2h, model: [p, 1 - p], closing: r.closing.h2h.prices, marginMethod: method });
      }
      for (const market of ['spreads', 'totals'] as const) {
        const line = r.closing[market];
        if (!line) continue;
        fold.rows[market].push({ matchId: r.matchId, kickoff, label: labels[market], model: closingAsPredictor(line.prices, method), closing: line.prices, marginMethod: method });
      }
    }
    out.push(fold);
    log(`${season}: ${fold.rows.h2h.length} games, ${fold.model.trees} trees (${method})`);
  }
  return out;
}

const pool3 = (fs: readonly Fold[], keep: (r: TwoWayRow) => boolean = () => true) => ({
  h2h: fs.flatMap((f) => f.rows.h2h.filter(keep)),
  spreads: fs.flatMap((f) => f.rows.spreads.filter(keep)),
  totals: fs.flatMap((f) => f.rows.totals.filter(keep)),
});

async function featureCsv(pool: pg.Pool, workDir: string) {
  const rows = await buildNbaFeatureMatrix(pool);
  const csv = join(workDir, `features_${NBA_FEATURE_VERSION}.csv`);
  await writeNbaFeatureCsv(rows, csv);
  return { rows, csv };
}

export async function nbaRollingEvaluation(pool: pg.Pool, options: NbaFoldOptions): Promise<NbaRollingEvaluation> {
  const { rows, csv } = await featureCsv(pool, options.workDir);
  const fs = await folds(rows, csv, options);
  const seasons = fs.map((f) => ({
    season: f.season,
    validationSeason: f.validationSeason,
    model: f.model,
    matches: f.rows.h2h.length,
    report: buildTwoWayReport(f.rows, options.evaluation),
  }));
  const pooled = buildTwoWayReport(pool3(fs), options.evaluation);
  const gate = twoWayRollingGate(seasons, pooled, ['h2h']);
  return {
    schemaVersion: NBA_ROLLING_SCHEMA_VERSION,
    kind: 'rolling',
    sport: 'basketball',
    featureVersion: NBA_FEATURE_VERSION,
    recipe: NBA_ROLLING_RECIPE,
    smoke: Boolean(options.smoke),
    seasons,
    pooled: { matches: seasons.reduce((n, s) => n + s.matches, 0), report: pooled },
    gate,
    decision: gateDecision(gate, ['h2h']),
  };
}

export interface NbaWindowEvaluation {
  model: { featureVersion: typeof NBA_FEATURE_VERSION; recipe: string; smoke: boolean; folds: Array<{ season: string; validationSeason: string } & NbaFoldModel> };
  window: { from: string; to: string };
  matches: number;
  report: TwoWayReport;
}

/** The games of a window of US dates (both inclusive), each season's by the fold that never saw it. */
export async function nbaWindowEvaluation(pool: pg.Pool, window: { from: string; to: string }, options: Omit<NbaFoldOptions, 'seasons'>): Promise<NbaWindowEvaluation> {
  const { rows, csv } = await featureCsv(pool, options.workDir);
  const inWindow = (date: string) => date >= window.from && date <= window.to;
  const seasons = [...new Set(rows.filter((r) => inWindow(r.date) && r.labelHomeWin !== null).map((r) => r.season))].sort();
  if (seasons.length === 0) throw new Error(`no finished NBA games between ${window.from} and ${window.to}`);
  const fs = await folds(rows, csv, { ...options, seasons });
  const dateOf = new Map(rows.map((r) => [r.matchId, r.date]));
  const report = buildTwoWayReport(pool3(fs, (r) => inWindow(dateOf.get(Number(r.matchId))!)), options.evaluation);
  return {
    model: { featureVersion: NBA_FEATURE_VERSION, recipe: NBA_ROLLING_RECIPE, smoke: Boolean(options.smoke), folds: fs.map((f) => ({ season: f.season, validationSeason: f.validationSeason, ...f.model })) },
    window,
    matches: report.markets.h2h?.rows.input ?? 0,
    report,
  };
}

const f4 = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(4));
// A no-tree model differs from the close by float rounding (~1e-17 a game): printed as the 0 it is.
const signed = (x: number) => (Math.abs(x) <= ROUNDING ? ' 0.00000' : (x >= 0 ? '+' : '') + x.toFixed(5));

function marketLine(label: string, m: TwoWayReport['markets'][TwoWayMarket], extra = ''): string {
  if (!m?.metrics || !m.logLossDifference) return `${label.padEnd(9)} no games with a closing line`;
  const d = m.logLossDifference;
  return (
    `${label.padEnd(9)} ${String(m.rows.evaluated).padStart(6)} ${extra}${f4(m.metrics.model.logLoss)}  ${f4(m.metrics.closing.logLoss)}  ` +
    `${signed(d.estimate)} [${signed(d.lower)}, ${signed(d.upper)}]  ${f4(m.metrics.model.brier)} / ${f4(m.metrics.closing.brier)}  ${f4(m.metrics.model.ece)} / ${f4(m.metrics.closing.ece)}`
  );
}

/** Whether the moneyline model beats the close, in words: the pooled paired interval decides. */
export function nbaVerdict(report: TwoWayReport): string {
  const d = report.markets.h2h?.logLossDifference;
  if (!d) return 'no moneyline games to judge';
  if (d.upper < -ROUNDING) return `the model beats the margin-free closing moneyline beyond noise (Δ log loss ${signed(d.estimate)}, 95% interval [${signed(d.lower)}, ${signed(d.upper)}])`;
  if (d.lower > ROUNDING) return `the model is worse than the margin-free closing moneyline beyond noise (Δ log loss ${signed(d.estimate)}, 95% interval [${signed(d.lower)}, ${signed(d.upper)}])`;
  return `the model does not beat the margin-free closing moneyline beyond noise (Δ log loss ${signed(d.estimate)}, 95% interval [${signed(d.lower)}, ${signed(d.upper)}] spans 0)`;
}

function otherMarkets(report: TwoWayReport): string[] {
  return (['spreads', 'totals'] as const).map((market) => {
    const m = report.markets[market];
    if (!m?.metrics) return `${market}: no games with a closing line`;
    return `${market}: no model yet, the margin-free close is served (${m.rows.evaluated} games, ${m.rows.voidPush} pushes void): log loss ${f4(m.metrics.closing.logLoss)}, Brier ${f4(m.metrics.closing.brier)}, ECE ${f4(m.metrics.closing.ece)}`;
  });
}

export function summarizeNbaRolling(r: NbaRollingEvaluation): string {
  const lines = [`NBA rolling-origin evaluation (${r.featureVersion}; ${r.recipe})${r.smoke ? ' [smoke models]' : ''}`, ''];
  lines.push('moneyline: the model beside the margin-free closing consensus on the same games');
  lines.push('season     games  trees method          log loss: model  close   Δ model−close [95% paired bootstrap]   Brier m / c        ECE m / c');
  for (const s of r.seasons) lines.push(marketLine(s.season, s.report.markets.h2h, `${String(s.model.trees).padStart(6)} ${s.model.marginMethod.padEnd(15)} `));
  lines.push(marketLine('pooled', r.pooled.report.markets.h2h, `${''.padStart(6)} ${"each season's".padEnd(15)} `));
  lines.push('', 'the evidence rule (tuned trees − close on the second half of the validation season; trees kept only if the upper end < 0):');
  for (const s of r.seasons) {
    const c = s.model.evidence.confirmation;
    lines.push(`  ${s.season} (validated on ${s.validationSeason}, ${c.rows} games): ${signed(c.estimate)} [${signed(c.lower)}, ${signed(c.upper)}] → ${s.model.evidence.kept ? 'trees kept' : 'no trees'}`);
  }
  lines.push('', ...otherMarkets(r.pooled.report));
  lines.push('', `activation gate: ${r.decision.passes ? 'PASSES' : 'REFUSES'}${r.decision.reasons.length ? `\n  ${r.decision.reasons.join('\n  ')}` : ''}`);
  lines.push(nbaVerdict(r.pooled.report));
  return lines.join('\n');
}

export function summarizeNbaWindow(w: NbaWindowEvaluation): string {
  const folds = w.model.folds.map((f) => `${f.season}: ${f.trees} trees, ${f.marginMethod}`).join('; ');
  const lines = [`NBA ${w.model.featureVersion} from ${w.window.from} to ${w.window.to}: ${w.matches} finished games (${folds})`, ''];
  lines.push('market     games  log loss: model  close   Δ model−close [95% paired bootstrap]   Brier m / c        ECE m / c');
  lines.push(marketLine('h2h', w.report.markets.h2h));
  lines.push(...otherMarkets(w.report), '', nbaVerdict(w.report));
  return lines.join('\n');
}
