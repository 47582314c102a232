// The NBA moneyline bundle end to end: `npm run model:train -- --sport basketball --smoke --force-trees` on real
// seasons makes a bundle whose trees, run by the TypeScript moneyline runtime (the Worker's module, under Node's
// onnxruntime-web), give back train_nba.py's own probabilities; the committed default, which has no trees, gives
// the anchor; and the runtime refuses what it cannot serve faithfully.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEvaluation, BUNDLES_DIR, defaultBundleDir, defaultBundleDirs, readBundle, type BundleOnDisk } from '../../scripts/lib/models/bundle-files';
import { nodeMoneylineRuntime, nodeRuntime } from '../../scripts/lib/models/load-runtime';
import { importNbaArchive, NBA_DATA_DIR } from '../../scripts/lib/nba/import';
import { ort } from '../../scripts/lib/ort-node';
import { NBA_FEATURE_COUNT } from '../../src/services/features/basketball/names';
import { BundleError, isMoneylineManifest, MONEYLINE_BUNDLE_FILE, parseManifest, type MoneylineBundleManifest } from '../../src/services/inference/bundle';
import { createMoneylineRuntime, type MoneylineRow } from '../../src/services/inference/moneyline-runtime';
import { isolatedDatabase } from './support/isolated-database';
import { hasSystemPackages, pythonCanImport } from './support/system-packages';

const run = promisify(execFile);

interface ParityRow {
  matchId: string;
  features: Array<number | null>;
  anchor: [number, number] | null;
  expected: [number, number] | null;
}

async function parityOf(bundle: BundleOnDisk) {
  const parity = JSON.parse(bundle.files.get('parity.json')!.toString('utf8')) as { featureNames: string[]; tolerance: number; rows: ParityRow[] };
  const rows: MoneylineRow[] = parity.rows.map((r) => ({ features: r.features.map((x) => (x === null ? NaN : x)), anchor: r.anchor }));
  return { ...parity, inputs: rows };
}

describe('the committed NBA default bundle', () => {
  let bundle: BundleOnDisk;
  beforeAll(async () => {
    bundle = await readBundle(await defaultBundleDir('basketball'));
  });

  it('is named by models/bundles/DEFAULT.basketball, after football default in defaultBundleDirs', async () => {
    const dirs = await defaultBundleDirs();
    expect(dirs).toEqual([await defaultBundleDir(), join(BUNDLES_DIR, (await readFile(join(BUNDLES_DIR, 'DEFAULT.basketball'), 'utf8')).trim())]);
    expect(isMoneylineManifest(bundle.manifest)).toBe(true);
    expect(bundle.manifest).toMatchObject({ format: 2, sport: 'basketball', featureVersion: 'nba-v1' });
    expect((bundle.manifest as unknown as { models: { h2h: { trees: number } } }).models.h2h.trees).toBe(0);
    const evaluation = bundleEvaluation(bundle)!;
    expect(evaluation).toMatchObject({ kind: 'rolling', sport: 'basketball', smoke: false, decision: { passes: true } });
  });

  it('gives the anchor itself (an empty ensemble adds a margin of 0), and nothing where there is no anchor', async () => {
    const runtime = await nodeMoneylineRuntime(bundle);
    const { rows, inputs } = await parityOf(bundle);
    expect(runtime.featureCount).toBe(NBA_FEATURE_COUNT);
    expect(runtime.marginMethod).toBe((bundle.manifest as MoneylineBundleManifest).anchor.h2h.marginMethod);
    expect(rows.length).toBeGreaterThanOrEqual(100);
    expect(rows.some((r) => r.features.some((x) => x === null))).toBe(true);
    // A game without a moneyline (the archive's last season has none; the live feed may).
    const got = await runtime.predict([...inputs, { features: inputs[0]!.features, anchor: null }]);
    expect(got[rows.length]).toBeNull();
    rows.forEach((r, i) => {
      if (r.anchor === null) return expect(got[i], `row ${i}`).toBeNull();
      expect(Math.abs(got[i]![0] - r.anchor[0]), `row ${i}`).toBeLessThan(1e-15);
      expect(Math.abs(got[i]![0] - r.expected![0]), `row ${i}`).toBeLessThan(1e-6);
      expect(got[i]![0] + got[i]![1]).toBeCloseTo(1, 15);
    });
    expect(await runtime.predict([])).toEqual([]);
  });

  describe('refuses, with a BundleError,', () => {
    const manifest = () => structuredClone(bundle.manifest) as MoneylineBundleManifest;
    const onnx = () => bundle.files.get(MONEYLINE_BUNDLE_FILE)!;

    it('a manifest of another feature version, or naming a feature nba-v1 lacks', async () => {
      await expect(createMoneylineRuntime(ort, { ...manifest(), featureVersion: 'nba-v2' }, { [MONEYLINE_BUNDLE_FILE]: onnx() })).rejects.toThrow(
        /needs features nba-v2; this runtime builds nba-v1/,
      );
      const m = manifest();
      m.featureNames = [...m.featureNames.slice(0, -1), 'pace_home'];
      await expect(createMoneylineRuntime(ort, m, { [MONEYLINE_BUNDLE_FILE]: onnx() })).rejects.toThrow(/names a feature "pace_home" that nba-v1 does not have/);
    });

    it('an artifact whose bytes are not the registered ones', async () => {
      const corrupt = Buffer.from(onnx());
      corrupt[10] = corrupt[10]! ^ 0xff;
      await expect(createMoneylineRuntime(ort, manifest(), { [MONEYLINE_BUNDLE_FILE]: corrupt })).rejects.toThrow(/sha256 .* does not match/);
    });

    it('an ONNX file of the wrong shape (football 1X2 graph: another input width, three margins)', async () => {
      const football = await readBundle(await defaultBundleDir());
      const other = football.files.get('model-1x2.onnx')!;
      const m = manifest();
      m.files[MONEYLINE_BUNDLE_FILE] = createHash('sha256').update(other).digest('hex');
      await expect(createMoneylineRuntime(ort, m, { [MONEYLINE_BUNDLE_FILE]: other })).rejects.toThrow(/must take one float32 \[n, 15\] input/);
      // The same width as the NBA model's input, so that only the output is wrong.
      m.featureNames = (football.manifest.featureNames as string[]).map((_, i) => m.featureNames[i % m.featureNames.length]!).slice(0, football.manifest.featureNames.length);
      const refusal = createMoneylineRuntime(ort, m, { [MONEYLINE_BUNDLE_FILE]: other });
      await expect(refusal).rejects.toThrow(BundleError);
      await expect(refusal).rejects.toThrow(/no float32 \[n, 1\] margin output/);
    });

    it("a sport's bundle in the other sport's runtime", async () => {
      const football = await readBundle(await defaultBundleDir());
      await expect(createMoneylineRuntime(ort, football.manifest as never, { [MONEYLINE_BUNDLE_FILE]: onnx() })).rejects.toThrow(/not a basketball moneyline bundle/);
      await expect(nodeRuntime(bundle)).rejects.toThrow(/is a basketball bundle; this runtime serves football's/);
    });

    it('a basketball manifest without model-h2h.onnx, or a row of the wrong length', async () => {
      const m = manifest() as unknown as { files: Record<string, string> };
      delete m.files[MONEYLINE_BUNDLE_FILE];
      expect(() => parseManifest(m)).toThrow(/lists no sha256 for model-h2h\.onnx/);
      const runtime = await nodeMoneylineRuntime(bundle);
      await expect(runtime.predict([{ features: [1, 2, 3], anchor: [0.5, 0.5] }])).rejects.toThrow(/row 0 has 3 features/);
    });
  });
});

const trainable = hasSystemPackages({
  testFile: import.meta.url,
  what: "Debian's Python with xgboost and onnx (models/train_nba.py)",
  packages: ['python3-xgboost', 'python3-sklearn', 'python3-onnx', 'python3-numpy'],
  isAvailable: () => pythonCanImport('/usr/bin/python3', ['xgboost', 'sklearn', 'onnx', 'numpy', 'scipy']),
});

describe.runIf(trainable)('npm run model:train -- --sport basketball --smoke --force-trees', () => {
  const db = isolatedDatabase();
  let scratch: string;
  let bundle: BundleOnDisk;
  const RUN_ID = 'xgb-nba-v1-test-smoke';

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'senzu-nba-bundle-'));
    // Four seasons: the smoke evaluation's two test seasons each need two before them.
    const files = ['nba_2018-19.csv', 'nba_2019-20.csv', 'nba_2020-21.csv', 'nba_2021-22.csv'].map((f) => join(NBA_DATA_DIR, f));
    expect((await importNbaArchive(db.pool, files)).failedFiles).toBe(0);
    await run(
      'node_modules/.bin/tsx',
      ['scripts/model-train.ts', '--sport', 'basketball', '--smoke', '--force-trees', '--skip-import', '--bundles-dir', scratch, '--run-id', RUN_ID],
      { env: { ...process.env, DATABASE_URL: db.url }, maxBuffer: 64 << 20 },
    );
    bundle = await readBundle(join(scratch, RUN_ID));
  }, 180_000);
  afterAll(() => (scratch ? rm(scratch, { recursive: true, force: true }) : undefined));

  it('writes a basketball bundle with trees, trained through the last season, carrying its smoke evaluation', () => {
    expect(bundle.manifest).toMatchObject({ id: RUN_ID, format: 2, sport: 'basketball', featureVersion: 'nba-v1', trainedOn: { from: '2018-10-16', to: '2022-06-16' } });
    expect((bundle.manifest as unknown as { models: { h2h: { trees: number } } }).models.h2h.trees).toBeGreaterThan(0);
    expect([...bundle.files.keys()].sort()).toEqual(['bundle.json', 'evaluation.json', 'model-h2h.onnx', 'parity.json']);
    const evaluation = bundleEvaluation(bundle)!;
    expect(evaluation).toMatchObject({ kind: 'rolling', sport: 'basketball', smoke: true });
    expect(evaluation.seasons.map((s) => s.season)).toEqual(['2020-21', '2021-22']);
  });

  it("reproduces train_nba.py's probabilities (xgboost with the anchor as base_margin) to 1e-6 under Node's ORT", async () => {
    const runtime = await nodeMoneylineRuntime(bundle);
    const { rows, inputs, tolerance } = await parityOf(bundle);
    expect(tolerance).toBe(1e-6);
    const got = await runtime.predict(inputs);
    let worst = 0;
    let moved = 0;
    rows.forEach((r, i) => {
      if (r.expected === null) return expect(got[i], `row ${i}`).toBeNull();
      worst = Math.max(worst, Math.abs(got[i]![0] - r.expected[0]), Math.abs(got[i]![1] - r.expected[1]));
      if (Math.abs(got[i]![0] - r.anchor![0]) > 1e-4) moved++;
    });
    expect(worst).toBeLessThan(1e-6);
    // The trees do move the price: parity on them is not parity on the anchor alone.
    expect(moved).toBeGreaterThan(rows.length / 2);
    // Single rows (the Worker's request path) give what the batch gives.
    const one = await runtime.predict([inputs[0]!]);
    expect(one[0]).toEqual(got[0]);
  });
});
