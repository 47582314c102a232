// The rolling-origin evaluation behind `npm run evaluate -- --rolling` and `npm run model:train`: each test
// season is predicted by a model that never saw it, trained by the same recipe as the shipped one.
//
// For each test season T (2020-21 … 2023-24 by default), with V the season before it:
//   models/train.py trains on the seasons before V, tunes and checks its evidence on V, refits on every season
//   up to V, and writes a bundle; the TypeScript runtime (the Worker's) predicts T with it, and the one
//   TypeScript evaluation scores it beside Pinnacle (under that bundle's margin methods) and the market average.
// The seasons' rows are then pooled, each keeping its own model's margin method, into one report whose paired
// bootstrap resamples matches across all of them; the activation gate reads the pooled and per-season figures.
import { join } from 'node:path';
import type pg from 'pg';
import { buildReport, gateDecision, rollingGate, type EvaluationOptions, type EvaluationReport, type EvaluationRow, type GateDecision, type RollingGate } from '../../../src/services/evaluation';
import type { MarginMethod } from '../../../src/domain/odds';
import { evaluateRows } from '../evaluate';
import { buildFeatureMatrix, writeFeatureCsv, type FeatureRow } from '../features';
import { readBundle } from './bundle-files';
import { nodeRuntime } from './load-runtime';
import { PYTHON, runCommand, TRAIN_PY } from './python';

export const DEFAULT_ROLLING_SEASONS = ['2020-21', '2021-22', '2022-23', '2023-24'];
export const ROLLING_SCHEMA_VERSION = 1;
export const ROLLING_RECIPE =
  'per test season T: train on the seasons before the one before T (V), tune and early-stop on V, refit on every season up to V, predict T';

export interface RollingSeason {
  season: string;
  validationSeason: string;
  model: { id: string; trees: { '1x2': number; ou25: number }; marginMethods: { '1x2': MarginMethod; ou25: MarginMethod } };
  matches: number;
  report: EvaluationReport;
}

export interface RollingEvaluation {
  schemaVersion: typeof ROLLING_SCHEMA_VERSION;
  kind: 'rolling';
  recipe: string;
  smoke: boolean;
  seasons: RollingSeason[];
  /** Every season's rows together; each row keeps its own season's margin method for the Pinnacle baseline. */
  pooled: { matches: number; report: EvaluationReport };
  gate: RollingGate | null;
  decision: GateDecision;
}

export interface RollingOptions {
  seasons?: readonly string[];
  /** Where the feature CSV and the seasons' bundles go. */
  workDir: string;
  /** Tiny models (train.py --smoke), for the test suite. */
  smoke?: boolean;
  /** Smoke only: keep the trees whatever the evidence says (train.py --trees force). */
  forceTrees?: boolean;
  /** Feature rows of every match, if already built (model:train builds them once for both uses). */
  rows?: readonly FeatureRow[];
  /** The CSV of `rows`, if already written. */
  featuresCsv?: string;
  evaluation?: EvaluationOptions;
  log?: (message: string) => void;
}

/**
 * A season's report without its betting equity curves (one point per bet): the pooled report keeps them, and
 * four seasons' worth more than doubled the size of the evaluation a bundle carries.
 */
function withoutEquityCurves(report: EvaluationReport): EvaluationReport {
  const copy = structuredClone(report);
  for (const market of Object.values(copy.markets)) {
    if (!market) continue;
    const results = [...Object.values(market.betting.model), market.betting.marketValueRule] as Array<Partial<{ equityCurve: unknown }>>;
    for (const result of results) delete result.equityCurve;
  }
  return copy;
}

/**
 * A rolling fold's validation season: the one before the test season, which itself needs one more before it to
 * train on. `what` names the rows counted, `hint` how to load more.
 */
export function validationSeasonOf(testSeason: string, seasonsPresent: readonly string[], what: string, hint: string): string {
  const at = seasonsPresent.indexOf(testSeason);
  if (at < 2) {
    throw new Error(
      `test season ${testSeason}: needs ${what} in it and in two seasons before it (train, validation); the database has ${seasonsPresent.join(', ') || 'none'}${hint}`,
    );
  }
  return seasonsPresent[at - 1]!;
}

/** One fold's training run of a models/ script (train.py, train_nba.py: the same command line). */
export function trainFold(
  script: string,
  fold: { csv: string; out: string; validationSeason: string; testSeason: string; smoke?: boolean; forceTrees?: boolean },
): Promise<unknown> {
  return runCommand(PYTHON, [
    script,
    '--features', fold.csv,
    '--out', fold.out,
    '--validation-season', fold.validationSeason,
    '--test-season', fold.testSeason,
    ...(fold.smoke ? ['--smoke'] : []),
    ...(fold.forceTrees ? ['--trees', 'force'] : []),
  ], { quiet: true });
}

export async function rollingEvaluation(db: pg.Pool, options: RollingOptions): Promise<RollingEvaluation> {
  const log = options.log ?? (() => undefined);
  const testSeasons = [...(options.seasons ?? DEFAULT_ROLLING_SEASONS)];
  const rows = options.rows ?? (await buildFeatureMatrix(db));
  const csv = options.featuresCsv ?? join(options.workDir, 'features.csv');
  if (!options.featuresCsv) await writeFeatureCsv(rows, csv);

  const finished = rows.filter((r) => r.label1x2 !== null && r.labelOu25 !== null && r.season);
  const seasonsPresent = [...new Set(finished.map((r) => r.season!))].sort();
  const seasons: RollingSeason[] = [];
  const pooledRows = { '1x2': [] as EvaluationRow[], ou25: [] as EvaluationRow[] };
  for (const season of testSeasons) {
    const validationSeason = validationSeasonOf(season, seasonsPresent, 'finished matches', '');
    const out = join(options.workDir, `fold-${season}`);
    log(`${season}: training on the seasons before ${validationSeason}, tuning on ${validationSeason}, refit up to ${validationSeason}`);
    await trainFold(TRAIN_PY, { csv, out, validationSeason, testSeason: season, smoke: options.smoke, forceTrees: options.forceTrees });
    const bundle = await readBundle(out);
    const runtime = await nodeRuntime(bundle);
    const run = await evaluateRows(db, runtime, finished.filter((r) => r.season === season), options.evaluation);
    const models = (bundle.manifest as { models?: Record<'1x2' | 'ou25', { trees?: number }> }).models;
    seasons.push({
      season,
      validationSeason,
      model: {
        id: bundle.manifest.id,
        trees: { '1x2': models?.['1x2']?.trees ?? NaN, ou25: models?.ou25?.trees ?? NaN },
        marginMethods: { '1x2': runtime.marginMethods.h2h, ou25: runtime.marginMethods.ou25 },
      },
      matches: run.matches,
      report: withoutEquityCurves(run.report),
    });
    pooledRows['1x2'].push(...run.evaluationRows['1x2']);
    pooledRows.ou25.push(...run.evaluationRows.ou25);
    const d = run.report.markets['1x2']?.logLossDifference;
    log(`${season}: ${run.matches} matches; 1X2 model − Pinnacle ${d ? d.estimate.toFixed(5) : 'n/a'}`);
  }
  const pooled = buildReport(pooledRows, options.evaluation);
  const gate = rollingGate(seasons, pooled);
  return {
    schemaVersion: ROLLING_SCHEMA_VERSION,
    kind: 'rolling',
    recipe: ROLLING_RECIPE,
    smoke: Boolean(options.smoke),
    seasons,
    pooled: { matches: seasons.reduce((n, s) => n + s.matches, 0), report: pooled },
    gate,
    decision: gateDecision(gate),
  };
}
