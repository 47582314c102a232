// The whole training pipeline on tiny models, in seconds: real history (three Premier League seasons, so the
// rolling evaluation has a train, a validation and a test season) → the TypeScript feature matrix → the
// rolling-origin evaluation and models/train.py --smoke → a bundle that the shared TypeScript runtime loads and
// reproduces. Training a real model is not part of npm test; the smoke run is.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFootballData } from '../../scripts/lib/football-data/import';
import { REPO_DATA_DIR } from '../../scripts/lib/football-data/seed';
import { ort } from '../../scripts/lib/ort-node';
import { ANCHOR_COLUMNS } from '../../scripts/lib/features/csv';
import { gateDecision } from '../../src/services/evaluation/gate';
import { FEATURE_NAMES, FEATURE_VERSION } from '../../src/services/features';
import { MARGIN_METHODS } from '../../src/domain/odds';
import { parseManifest } from '../../src/services/inference/bundle';
import { createModelRuntime } from '../../src/services/inference/runtime';
import { isolatedDatabase } from './support/isolated-database';
import { hasSystemPackages, pythonCanImport } from './support/system-packages';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const ROOT = new URL('../../', import.meta.url).pathname;
const RUN_ID = 'smoke-test-run';
const SEASON_FILES = ['E0_2122.csv', 'E0_2223.csv', 'E0_2324.csv'];

const trainable = hasSystemPackages({
  testFile: import.meta.url,
  what: "Debian's Python with xgboost, scikit-learn and onnx (models/train.py)",
  packages: ['python3-xgboost', 'python3-sklearn', 'python3-onnx', 'python3-numpy'],
  isAvailable: () => pythonCanImport(PYTHON, ['xgboost', 'sklearn', 'onnx', 'numpy', 'scipy']),
});

const db = isolatedDatabase();
let scratch: string;
let bundleDir: string;

interface ParityRow {
  matchId: number | string;
  features: (number | null)[];
  anchors: { '1x2': number[] | null; ou25: number[] | null };
  expected: { '1x2': number[] | null; ou25: number[] | null };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'));

beforeAll(async () => {
  if (!trainable) return;
  scratch = await mkdtemp(join(tmpdir(), 'senzu-train-smoke-'));
  const summary = await importFootballData(db.pool, SEASON_FILES.map((f) => join(REPO_DATA_DIR, f)));
  expect(summary.failedFiles).toBe(0);
  // The npm script end to end: features from this database, the rolling evaluation of 2023-24 (a model trained
  // on 2021-22, tuned on 2022-23), then the bundle trained through 2023-24, all with tiny smoke models whose
  // trees are kept whatever the evidence says, so that the tree path is what gets checked.
  await run('npx', ['tsx', 'scripts/model-train.ts', '--smoke', '--force-trees', '--skip-import', '--bundles-dir', scratch, '--run-id', RUN_ID], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: db.url },
    maxBuffer: 64 << 20,
  });
  bundleDir = join(scratch, RUN_ID);
}, 300_000);
afterAll(() => (scratch ? rm(scratch, { recursive: true, force: true }) : undefined));

describe.runIf(trainable)('model training smoke run', () => {
  it('passes the Python unit tests of the anchor, the metrics and the ONNX conversion', async () => {
    const { stderr } = await run(PYTHON, ['-m', 'unittest', 'discover', '-s', 'models/tests'], { cwd: ROOT });
    expect(stderr).toMatch(/\nOK\s*$/);
  });

  it('writes a complete market-anchored bundle whose manifest the runtime accepts', async () => {
    expect((await readdir(bundleDir)).sort()).toEqual(['bundle.json', 'evaluation.json', 'model-1x2.onnx', 'model-ou25.onnx', 'parity.json']);
    const bundle = await readJson(join(bundleDir, 'bundle.json'));
    parseManifest(bundle);
    expect(bundle).toMatchObject({ id: RUN_ID, format: 2, featureVersion: FEATURE_VERSION });
    expect(new Date(bundle.createdAt).toISOString()).toBe(bundle.createdAt.replace('Z', '.000Z'));
    // The input is the union of the markets' own features, in the feature version's order.
    const union = [...new Set([...bundle.models['1x2'].features, ...bundle.models.ou25.features])];
    expect(bundle.featureNames).toEqual(FEATURE_NAMES.filter((n) => union.includes(n)));
    expect(bundle.windows).toEqual({ train: ['2021-22', '2022-23'], validation: '2023-24', refit: ['2021-22', '2023-24'], test: null });
    expect(bundle.trainedOn).toEqual({ from: '2021-08-13', to: '2024-05-19' });
    for (const market of ['1x2', 'ou25'] as const) {
      expect(MARGIN_METHODS).toContain(bundle.anchor[market].marginMethod);
      expect(bundle.anchor[market].marginMethod).toBe(bundle.training.marginMethodSelection[market].chosen);
      expect(bundle.models[market].trees).toBeGreaterThan(0);
      expect(bundle.training.evidence[market]).toMatchObject({ trees: 'force', kept: true, tuningRows: 190, confirmationRows: 190 });
    }
    expect(bundle.hyperParameters['1x2']).toMatchObject({ objective: 'multi:softprob', num_class: 3 });
    expect(bundle.hyperParameters.ou25).toMatchObject({ objective: 'binary:logistic' });
    expect(bundle.training.smoke).toBe(true);
  });

  it('carries the rolling-origin evaluation of its recipe, each season beside Pinnacle on the same matches', async () => {
    const evaluation = await readJson(join(bundleDir, 'evaluation.json'));
    expect(evaluation).toMatchObject({ kind: 'rolling', smoke: true });
    expect(evaluation.seasons.map((s: { season: string; validationSeason: string }) => [s.season, s.validationSeason])).toEqual([['2023-24', '2022-23']]);
    const season = evaluation.seasons[0];
    expect(season.matches).toBe(380);
    for (const market of ['1x2', 'ou25'] as const) {
      const r = season.report.markets[market];
      expect(r.rows.evaluated).toBeGreaterThan(370);
      expect(r.marginMethod).toBe(season.model.marginMethods[market]);
      expect(r.logLossDifference.estimate).toBeCloseTo(r.metrics.model.logLoss - r.metrics.pinnacle.logLoss, 12);
      // One season: the pooled figures are that season's.
      expect(evaluation.pooled.report.markets[market].logLossDifference.estimate).toBeCloseTo(r.logLossDifference.estimate, 12);
      expect(evaluation.gate.markets[market].seasons).toEqual([
        { season: '2023-24', matches: r.rows.evaluated, logLossDelta: r.logLossDifference.estimate, lower: r.logLossDifference.lower, upper: r.logLossDifference.upper },
      ]);
    }
    expect(evaluation.decision).toEqual(gateDecision(evaluation.gate));
  });

  it('lists the sha256 of every file', async () => {
    const bundle = await readJson(join(bundleDir, 'bundle.json'));
    expect(Object.keys(bundle.files).sort()).toEqual(['evaluation.json', 'model-1x2.onnx', 'model-ou25.onnx', 'parity.json']);
    for (const [name, digest] of Object.entries(bundle.files)) {
      expect(sha256(await readFile(join(bundleDir, name))), name).toBe(digest);
    }
  });

  it('the ONNX models give the trees\' margins, and the shared runtime on top of the anchor reproduces the Python probabilities', async () => {
    const manifest = parseManifest(await readJson(join(bundleDir, 'bundle.json')));
    const parity = await readJson(join(bundleDir, 'parity.json'));
    const rows: ParityRow[] = parity.rows;
    expect(rows.length).toBe(200);
    expect(rows.some((r) => r.features.includes(null)), 'rows with missing values are included').toBe(true);
    for (const r of rows) {
      expect(r.features).toHaveLength(72);
      for (const market of ['1x2', 'ou25'] as const) {
        const p = r.expected[market]!;
        expect(p).toHaveLength(market === '1x2' ? 3 : 2);
        expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-6);
      }
    }

    // Straight onnxruntime: one input of the bundle's columns, one margin output per market.
    const width = manifest.featureNames.length;
    const columns = manifest.featureNames.map((n) => FEATURE_NAMES.indexOf(n as (typeof FEATURE_NAMES)[number]));
    const features = Float32Array.from(rows.flatMap((r) => columns.map((c) => r.features[c] ?? Number.NaN)));
    for (const [file, k] of [['model-1x2.onnx', 3], ['model-ou25.onnx', 1]] as const) {
      const session = await ort.InferenceSession.create(await readFile(join(bundleDir, file)));
      expect(session.inputNames).toEqual(['features']);
      expect(session.outputNames).toEqual(['margin']);
      const out = await session.run({ features: new ort.Tensor('float32', features, [rows.length, width]) });
      expect(out.margin!.dims).toEqual([rows.length, k]);
    }

    const runtime = await createModelRuntime(ort, manifest, {
      'model-1x2.onnx': await readFile(join(bundleDir, 'model-1x2.onnx')),
      'model-ou25.onnx': await readFile(join(bundleDir, 'model-ou25.onnx')),
    });
    const predicted = await runtime.predict(
      rows.map((r) => ({ features: r.features.map((v) => (v === null ? Number.NaN : v)), anchors: { h2h: r.anchors['1x2'], ou25: r.anchors.ou25 } })),
    );
    let worst = 0;
    let moved = 0;
    rows.forEach((r, i) => {
      r.expected['1x2']!.forEach((v, j) => (worst = Math.max(worst, Math.abs(predicted.h2h[i]![j]! - v))));
      r.expected.ou25!.forEach((v, j) => (worst = Math.max(worst, Math.abs(predicted.ou25[i]![j]! - v))));
      r.anchors['1x2']!.forEach((a, j) => (moved = Math.max(moved, Math.abs(predicted.h2h[i]![j]! - a))));
    });
    expect(worst, 'TypeScript vs Python').toBeLessThan(1e-5);
    // The trees really move the anchor, so the comparison above tests them and not the anchor alone.
    expect(moved).toBeGreaterThan(1e-3);
  });

  it('npm run evaluate -- --rolling --json gives the per-season and pooled figures and the gate', async () => {
    const { stdout } = await run('npx', ['tsx', 'scripts/evaluate.ts', '--rolling', '--smoke', '--seasons', '2023-24', '--json'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: db.url },
      maxBuffer: 64 << 20,
    });
    const result = JSON.parse(stdout);
    expect(result.kind).toBe('rolling');
    expect(result.seasons.map((s: { season: string }) => s.season)).toEqual(['2023-24']);
    for (const market of ['1x2', 'ou25'] as const) {
      const pooled = result.pooled.report.markets[market];
      for (const source of ['model', 'pinnacle', 'marketAverage'] as const) {
        expect(Object.keys(pooled.metrics[source]).sort()).toEqual(expect.arrayContaining(['accuracy', 'brier', 'ece', 'logLoss']));
      }
      expect(pooled.logLossDifference).toMatchObject({ baseline: 'pinnacle', confidence: 0.95, resamples: 1000 });
    }
    expect(typeof result.decision.passes).toBe('boolean');
  });

  it('refuses an export that breaks the column contract, and never overwrites a bundle', async () => {
    // The real header with the first feature column missing.
    const header = ['match_id', 'start_at', 'season', 'competition', 'home_team', 'away_team', 'label_1x2', 'label_ou25', ...FEATURE_NAMES.slice(1), ...ANCHOR_COLUMNS];
    const broken = join(scratch, 'broken.csv');
    await writeFile(broken, header.join(',') + '\n');
    const args = (out: string) => ['models/train.py', '--features', broken, '--out', out, '--validation-season', '2023-24', '--smoke'];
    await expect(run(PYTHON, args(join(scratch, 'never-written')), { cwd: ROOT })).rejects.toMatchObject({
      stderr: expect.stringMatching(/expected 72 distinct feature columns/),
    });
    await expect(readdir(join(scratch, 'never-written'))).rejects.toThrow();
    await expect(run(PYTHON, args(bundleDir), { cwd: ROOT })).rejects.toMatchObject({
      stderr: expect.stringMatching(/exists and is not empty/),
    });
    // Without the anchor columns (an export from before anchors) the pipeline says what to do.
    const old = join(scratch, 'old.csv');
    await writeFile(old, ['match_id', 'start_at', 'season', 'competition', 'home_team', 'away_team', 'label_1x2', 'label_ou25', ...FEATURE_NAMES].join(',') + '\n');
    await expect(run(PYTHON, ['models/train.py', '--features', old, '--out', join(scratch, 'never-2'), '--validation-season', '2023-24'], { cwd: ROOT })).rejects.toMatchObject({
      stderr: expect.stringMatching(/must be the anchors .* re-export with `npm run features:export`/),
    });
  });
});

describe('the committed default bundle', () => {
  it('is market-anchored, trained through 2023-24 on the current feature version, and carries an evaluation the gate passes', async () => {
    const id = (await readFile(join(ROOT, 'models/bundles/DEFAULT'), 'utf8')).trim();
    const dir = join(ROOT, 'models/bundles', id);
    const bundle = await readJson(join(dir, 'bundle.json'));
    expect(bundle.id).toBe(id);
    expect(bundle.format).toBe(2);
    // A changed feature list or version means the default model must be retrained (npm run model:train).
    expect(bundle.featureVersion).toBe(FEATURE_VERSION);
    expect(bundle.featureNames.every((n: string) => (FEATURE_NAMES as readonly string[]).includes(n))).toBe(true);
    expect(bundle.windows).toEqual({ train: ['2014-15', '2022-23'], validation: '2023-24', refit: ['2014-15', '2023-24'], test: null });
    expect(bundle.training.smoke).toBe(false);
    for (const market of ['1x2', 'ou25'] as const) {
      const e = bundle.training.evidence[market];
      expect(e.trees).toBe('auto');
      expect(e.kept).toBe(e.supported);
      expect(bundle.models[market].trees > 0).toBe(e.kept);
    }
    const evaluation = await readJson(join(dir, 'evaluation.json'));
    expect(evaluation.smoke).toBe(false);
    expect(evaluation.seasons.map((s: { season: string }) => s.season)).toEqual(['2020-21', '2021-22', '2022-23', '2023-24']);
    expect(gateDecision(evaluation.gate)).toEqual({ passes: true, reasons: [] });
    let bytes = 0;
    for (const name of await readdir(dir)) bytes += (await readFile(join(dir, name))).length;
    expect(bytes, 'the bundle is committed: keep it small').toBeLessThan(5 << 20);
    expect(existsSync(join(ROOT, 'docs/models', `${id}.md`)), 'model card').toBe(true);
  });
});
