// The TypeScript tree walk (the yardstick of `npm run bench:inference`) evaluates the committed bundle's ONNX
// trees exactly as onnxruntime-web does: raw probabilities on the parity rows (NaN inputs included) to 1e-5,
// against ORT itself and against the Python pipeline's predict_proba recorded in parity.json.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultBundleDir, readBundle, type BundleOnDisk } from '../../scripts/lib/models/bundle-files';
import { ort } from '../../scripts/lib/ort-node';
import { BUNDLE_FILES, MARKET_OUTPUTS, type BundleMarket } from '../../src/services/inference/bundle';
import { treeEnsembleFromOnnx } from '../../src/services/inference/tree-walk';

interface ParityRow {
  features: Array<number | null>;
  raw: { '1x2': number[]; ou25: number[] };
}

let bundle: BundleOnDisk;
let rows: Float32Array[];
let parity: ParityRow[];

beforeAll(async () => {
  const dir = await defaultBundleDir();
  bundle = await readBundle(dir);
  parity = (JSON.parse(await readFile(join(dir, 'parity.json'), 'utf8')) as { rows: ParityRow[] }).rows;
  rows = parity.map((r) => Float32Array.from(r.features, (x) => (x === null ? NaN : x)));
});

/** ORT's raw probability output for every row, one batch. */
async function ortRaw(market: BundleMarket): Promise<number[][]> {
  const session = await ort.InferenceSession.create(new Uint8Array(bundle.files.get(BUNDLE_FILES[market])!));
  const k = MARKET_OUTPUTS[market].length;
  const width = rows[0]!.length;
  const input = new Float32Array(rows.length * width);
  rows.forEach((row, i) => input.set(row, i * width));
  const outputs = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input, [rows.length, width]) });
  const probs = Object.values(outputs).find((t) => t.type === 'float32' && t.dims[1] === k)!;
  const data = probs.data as Float32Array;
  return rows.map((_, i) => Array.from(data.subarray(i * k, (i + 1) * k)));
}

describe('the TypeScript walk of the bundle trees', () => {
  it.each([
    ['h2h', '1x2'],
    ['ou25', 'ou25'],
  ] as const)('gives the %s raw probabilities of onnxruntime and of predict_proba to 1e-5', async (market, parityKey) => {
    expect(rows.some((r) => r.some(Number.isNaN))).toBe(true);
    const walk = treeEnsembleFromOnnx(bundle.files.get(BUNDLE_FILES[market])!);
    expect(walk.classes).toBe(MARKET_OUTPUTS[market].length);
    expect(walk.trees).toBeGreaterThan(10);
    const fromOrt = await ortRaw(market);
    let worstOrt = 0;
    let worstPython = 0;
    rows.forEach((row, i) => {
      const p = walk.predictRow(row);
      expect(p).toHaveLength(MARKET_OUTPUTS[market].length);
      p.forEach((x, k) => {
        worstOrt = Math.max(worstOrt, Math.abs(x - fromOrt[i]![k]!));
        worstPython = Math.max(worstPython, Math.abs(x - parity[i]!.raw[parityKey][k]!));
      });
    });
    expect(worstOrt).toBeLessThan(1e-5);
    expect(worstPython).toBeLessThan(1e-5);
  });

  it('refuses bytes that are not a single TreeEnsembleClassifier graph', () => {
    expect(() => treeEnsembleFromOnnx(new Uint8Array([0x08, 0x08]))).toThrow(/TreeEnsembleClassifier/);
  });
});
