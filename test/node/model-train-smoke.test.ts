// The whole training pipeline on a tiny model, in seconds: real history (three Premier League seasons, so
// the train / validation / test windows all exist) → the TypeScript feature export → models/train.py --smoke
// → a bundle that the shared TypeScript runtime loads and reproduces. Training itself is not part of npm test.
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
import { FEATURE_NAMES, FEATURE_VERSION } from '../../src/services/features';
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
  raw: { '1x2': number[]; ou25: number[] };
  calibrated: { '1x2': number[]; ou25: number[] };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'));

beforeAll(async () => {
  if (!trainable) return;
  scratch = await mkdtemp(join(tmpdir(), 'senzu-train-smoke-'));
  const summary = await importFootballData(db.pool, SEASON_FILES.map((f) => join(REPO_DATA_DIR, f)));
  expect(summary.failedFiles).toBe(0);
  // The npm script end to end: export from this database, then train.py --smoke into scratch.
  await run('npx', ['tsx', 'scripts/model-train.ts', '--smoke', '--force-calibration', '--skip-import', '--bundles-dir', scratch, '--run-id', RUN_ID], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: db.url },
    maxBuffer: 64 << 20,
  });
  bundleDir = join(scratch, RUN_ID);
}, 180_000);
afterAll(() => (scratch ? rm(scratch, { recursive: true, force: true }) : undefined));

describe.runIf(trainable)('model training smoke run', () => {
  it('passes the Python unit tests of calibration, metrics and the ONNX conversion', async () => {
    const { stderr } = await run(PYTHON, ['-m', 'unittest', 'discover', '-s', 'models/tests'], { cwd: ROOT });
    expect(stderr).toMatch(/\nOK\s*$/);
  });

  it('writes a complete bundle whose manifest the runtime accepts', async () => {
    expect((await readdir(bundleDir)).sort()).toEqual(['bundle.json', 'model-1x2.onnx', 'model-ou25.onnx', 'parity.json']);
    const bundle = await readJson(join(bundleDir, 'bundle.json'));
    parseManifest(bundle);
    expect(bundle.id).toBe(RUN_ID);
    expect(new Date(bundle.createdAt).toISOString()).toBe(bundle.createdAt.replace('Z', '.000Z'));
    expect(bundle.featureVersion).toBe(FEATURE_VERSION);
    expect(bundle.featureNames).toEqual([...FEATURE_NAMES]);
    expect(bundle.windows).toEqual({ train: ['2021-22', '2021-22'], validation: '2022-23', test: '2023-24' });
    expect(bundle.hyperParameters['1x2']).toMatchObject({ objective: 'multi:softprob', num_class: 3 });
    expect(bundle.hyperParameters.ou25).toMatchObject({ objective: 'binary:logistic' });
    expect(bundle.hyperParameters['1x2'].n_estimators).toBeGreaterThan(0);
    // --force-calibration keeps both maps, so the TypeScript side of the calibration is exercised below
    expect(bundle.calibration['1x2']).toEqual({ method: 'temperature', T: expect.any(Number) });
    expect(bundle.calibration.ou25).toEqual({ method: 'platt', a: expect.any(Number), b: expect.any(Number) });
    expect(bundle.training.smoke).toBe(true);
    for (const window of ['validation', 'test'] as const) {
      for (const market of ['1x2', 'ou25'] as const) {
        const m = bundle.metrics[window][market];
        expect(m.rows, `${window} ${market}`).toBeGreaterThan(300);
        expect(m.logLoss).toBeGreaterThan(0.3);
        expect(m.logLoss).toBeLessThan(market === '1x2' ? 1.2 : 0.8);
        expect(m.accuracy).toBeGreaterThan(0);
        expect(m.brier).toBeGreaterThan(0);
      }
      // the calibration rule is recorded with its evidence
      for (const market of ['1x2', 'ou25'] as const) {
        const e = bundle.training.calibrationSelection[market];
        expect(e).toMatchObject({ kept: true, forced: true, fittedOn: 'validation', folds: 5 });
        expect(e.validationLogLossCrossFitted).toBeGreaterThan(0);
        expect(e.validationLogLossInSample).toBeLessThanOrEqual(e.validationLogLossUncalibrated + 1e-12);
      }
    }
  });

  it('lists the sha256 of every artifact', async () => {
    const bundle = await readJson(join(bundleDir, 'bundle.json'));
    expect(Object.keys(bundle.files).sort()).toEqual(['model-1x2.onnx', 'model-ou25.onnx', 'parity.json']);
    for (const [name, digest] of Object.entries(bundle.files)) {
      expect(sha256(await readFile(join(bundleDir, name))), name).toBe(digest);
    }
  });

  it('the ONNX models, run by onnxruntime through the shared runtime, reproduce the Python probabilities', async () => {
    const manifest = parseManifest(await readJson(join(bundleDir, 'bundle.json')));
    const parity = await readJson(join(bundleDir, 'parity.json'));
    const rows: ParityRow[] = parity.rows;
    expect(rows.length).toBe(200);
    expect(rows.some((r) => r.features.includes(null)), 'rows with missing values are included').toBe(true);
    for (const r of rows) {
      expect(r.features).toHaveLength(72);
      for (const market of ['1x2', 'ou25'] as const) {
        const p = r.calibrated[market];
        expect(p).toHaveLength(market === '1x2' ? 3 : 2);
        expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-9);
        expect(p.every((x) => x > 0 && x < 1)).toBe(true);
      }
    }

    // The calibration maps really move the probabilities, so the comparison below tests them.
    for (const market of ['1x2', 'ou25'] as const) {
      const moved = Math.max(...rows.flatMap((r) => r.calibrated[market].map((v, j) => Math.abs(v - r.raw[market][j]!))));
      expect(moved, market).toBeGreaterThan(1e-3);
    }

    // Straight onnxruntime: the file's input and outputs, and raw probabilities equal to xgboost's.
    const features = Float32Array.from(rows.flatMap((r) => r.features.map((v) => (v === null ? Number.NaN : v))));
    for (const [market, file] of [['1x2', 'model-1x2.onnx'], ['ou25', 'model-ou25.onnx']] as const) {
      const session = await ort.InferenceSession.create(await readFile(join(bundleDir, file)));
      expect(session.inputNames).toEqual(['features']);
      expect(session.outputNames).toEqual(['label', 'probabilities']);
      const out = await session.run({ features: new ort.Tensor('float32', features, [rows.length, 72]) });
      const k = market === '1x2' ? 3 : 2;
      expect(out.probabilities!.dims).toEqual([rows.length, k]);
      const probs = out.probabilities!.data as Float32Array;
      let worst = 0;
      rows.forEach((r, i) => r.raw[market].forEach((v, j) => (worst = Math.max(worst, Math.abs(probs[i * k + j]! - v)))));
      expect(worst, `${market} raw ONNX vs xgboost`).toBeLessThan(1e-6);
    }

    // The shared runtime (sha256 check, both sessions, the bundle's calibration) against the calibrated output.
    const runtime = await createModelRuntime(ort, manifest, {
      'model-1x2.onnx': await readFile(join(bundleDir, 'model-1x2.onnx')),
      'model-ou25.onnx': await readFile(join(bundleDir, 'model-ou25.onnx')),
    });
    const predicted = await runtime.predict(rows.map((r) => r.features.map((v) => (v === null ? Number.NaN : v))));
    let worst = 0;
    rows.forEach((r, i) => {
      r.calibrated['1x2'].forEach((v, j) => (worst = Math.max(worst, Math.abs(predicted.h2h[i]![j]! - v))));
      r.calibrated.ou25.forEach((v, j) => (worst = Math.max(worst, Math.abs(predicted.ou25[i]![j]! - v))));
    });
    expect(worst, 'calibrated TypeScript vs Python').toBeLessThan(1e-5);
  });

  it('refuses an export that breaks the column contract, and never overwrites a bundle', async () => {
    // The real header with the first feature column missing.
    const header = ['match_id', 'start_at', 'season', 'competition', 'home_team', 'away_team', 'label_1x2', 'label_ou25', ...FEATURE_NAMES.slice(1)];
    const broken = join(scratch, 'broken.csv');
    await writeFile(broken, header.join(',') + '\n');
    await expect(run(PYTHON, ['models/train.py', '--features', broken, '--out', join(scratch, 'never-written'), '--smoke'], { cwd: ROOT })).rejects.toMatchObject({
      stderr: expect.stringMatching(/expected 72 distinct feature columns, got 71/),
    });
    await expect(readdir(join(scratch, 'never-written'))).rejects.toThrow();
    await expect(run(PYTHON, ['models/train.py', '--features', broken, '--out', bundleDir, '--smoke'], { cwd: ROOT })).rejects.toMatchObject({
      stderr: expect.stringMatching(/exists and is not empty/),
    });
  });
});

describe('the committed default bundle', () => {
  it('was trained on the current feature version with the documented windows and calibration rule', async () => {
    const id = (await readFile(join(ROOT, 'models/bundles/DEFAULT'), 'utf8')).trim();
    const dir = join(ROOT, 'models/bundles', id);
    const bundle = await readJson(join(dir, 'bundle.json'));
    expect(bundle.id).toBe(id);
    // A changed feature list or version means the default model must be retrained (npm run model:train).
    expect(bundle.featureVersion).toBe(FEATURE_VERSION);
    expect(bundle.featureNames).toEqual([...FEATURE_NAMES]);
    expect(bundle.windows).toEqual({ train: ['2014-15', '2021-22'], validation: '2022-23', test: '2023-24' });
    expect(bundle.training.smoke).toBe(false);
    for (const market of ['1x2', 'ou25'] as const) {
      const e = bundle.training.calibrationSelection[market];
      expect(e.forced).toBe(false);
      expect(e.kept).toBe(e.validationLogLossCrossFitted < e.validationLogLossUncalibrated);
      expect(bundle.calibration[market].method === 'none').toBe(!e.kept);
    }
    let bytes = 0;
    for (const name of await readdir(dir)) bytes += (await readFile(join(dir, name))).length;
    expect(bytes, 'the bundle is committed: keep it small').toBeLessThan(5 << 20);
    expect(existsSync(join(ROOT, 'docs/models', `${id}.md`)), 'model card').toBe(true);
  });
});
