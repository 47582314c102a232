// The TypeScript tree walk (the yardstick of `npm run bench:inference`) evaluates a bundle's ONNX trees exactly as
// onnxruntime-web does, NaN inputs included: a market-anchored bundle's margins (the smoke fixture with trees, so
// the walk has trees to walk whatever the default ships), and the previous bundle's probabilities, each against ORT
// itself and against the Python pipeline's figures in parity.json.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLES_DIR, readBundle, type BundleOnDisk } from '../../scripts/lib/models/bundle-files';
import { ort } from '../../scripts/lib/ort-node';
import { BUNDLE_FILES, MARKET_OUTPUTS, type BundleMarket } from '../../src/services/inference/bundle';
import { FEATURE_INDEX, type FeatureName } from '../../src/services/features/names';
import { anchoredProbabilities } from '../../src/services/inference/runtime';
import { treeEnsembleFromOnnx } from '../../src/services/inference/tree-walk';

const ANCHORED = new URL('../fixtures/bundles/anchored-smoke-trees/', import.meta.url).pathname;
const LEGACY = join(BUNDLES_DIR, 'xgb-v1-20261126-151831');

/** ORT's output of one file for every row, one batch: the float [n, width] tensor. */
async function ortOutput(bundle: BundleOnDisk, market: BundleMarket, rows: Float32Array[], width: number): Promise<number[][]> {
  const session = await ort.InferenceSession.create(new Uint8Array(bundle.files.get(BUNDLE_FILES[market])!));
  const n = rows[0]!.length;
  const input = new Float32Array(rows.length * n);
  rows.forEach((row, i) => input.set(row, i * n));
  const outputs = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input, [rows.length, n]) });
  const out = Object.values(outputs).find((t) => t.type === 'float32' && t.dims[1] === width)!;
  const data = out.data as Float32Array;
  await session.release();
  return rows.map((_, i) => Array.from(data.subarray(i * width, (i + 1) * width)));
}

describe('the TypeScript walk of a market-anchored bundle', () => {
  it.each([
    ['h2h', '1x2', 3],
    ['ou25', 'ou25', 1],
  ] as const)("gives the %s margins of onnxruntime, and with the anchor the pipeline's probabilities, to 1e-5", async (market, key, width) => {
    const bundle = await readBundle(ANCHORED);
    const parity = JSON.parse(await readFile(join(ANCHORED, 'parity.json'), 'utf8')) as {
      rows: Array<{ features: Array<number | null>; anchors: Record<string, number[] | null>; expected: Record<string, number[] | null> }>;
    };
    const columns = bundle.manifest.featureNames.map((n) => FEATURE_INDEX[n as FeatureName]);
    const rows = parity.rows.map((r) => Float32Array.from(columns, (c) => r.features[c] ?? NaN));
    expect(rows.some((r) => r.some(Number.isNaN))).toBe(true);
    const walk = treeEnsembleFromOnnx(bundle.files.get(BUNDLE_FILES[market])!);
    expect(walk.output).toBe('margins');
    expect(walk.classes).toBe(width);
    expect(walk.trees).toBeGreaterThan(10);
    const fromOrt = await ortOutput(bundle, market, rows, width);
    let worstOrt = 0;
    let worstPython = 0;
    let largest = 0;
    rows.forEach((row, i) => {
      const m = walk.predictRow(row);
      m.forEach((x, k) => {
        worstOrt = Math.max(worstOrt, Math.abs(x - fromOrt[i]![k]!));
        largest = Math.max(largest, Math.abs(x));
      });
      const anchor = parity.rows[i]!.anchors[key];
      if (anchor) {
        anchoredProbabilities(market, anchor, m).forEach((p, k) => (worstPython = Math.max(worstPython, Math.abs(p - parity.rows[i]!.expected[key]![k]!))));
      }
    });
    expect(largest).toBeGreaterThan(1e-3);
    expect(worstOrt).toBeLessThan(1e-5);
    expect(worstPython).toBeLessThan(1e-5);
  });
});

describe('the TypeScript walk of the previous (format 1) bundle', () => {
  it.each([
    ['h2h', '1x2'],
    ['ou25', 'ou25'],
  ] as const)('gives the %s raw probabilities of onnxruntime and of predict_proba to 1e-5', async (market, parityKey) => {
    const bundle = await readBundle(LEGACY);
    const parity = (JSON.parse(await readFile(join(LEGACY, 'parity.json'), 'utf8')) as { rows: Array<{ features: Array<number | null>; raw: Record<string, number[]> }> }).rows;
    const rows = parity.map((r) => Float32Array.from(r.features, (x) => (x === null ? NaN : x)));
    const walk = treeEnsembleFromOnnx(bundle.files.get(BUNDLE_FILES[market])!);
    expect(walk.output).toBe('probabilities');
    expect(walk.classes).toBe(MARKET_OUTPUTS[market].length);
    expect(walk.trees).toBeGreaterThan(10);
    const fromOrt = await ortOutput(bundle, market, rows, MARKET_OUTPUTS[market].length);
    let worstOrt = 0;
    let worstPython = 0;
    rows.forEach((row, i) => {
      const p = walk.predictRow(row);
      expect(p).toHaveLength(MARKET_OUTPUTS[market].length);
      p.forEach((x, k) => {
        worstOrt = Math.max(worstOrt, Math.abs(x - fromOrt[i]![k]!));
        worstPython = Math.max(worstPython, Math.abs(x - parity[i]!.raw[parityKey]![k]!));
      });
    });
    expect(worstOrt).toBeLessThan(1e-5);
    expect(worstPython).toBeLessThan(1e-5);
  });

  it('refuses bytes that are not a single tree ensemble graph', () => {
    expect(() => treeEnsembleFromOnnx(new Uint8Array([0x08, 0x08]))).toThrow(/TreeEnsembleRegressor or TreeEnsembleClassifier/);
  });
});
