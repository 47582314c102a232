// The runtime serves a bundle's two ONNX files as one merged graph (src/services/inference/onnx-merge.ts). The
// merged session must give what one session per file gives, row by row, and a bundle whose files cannot be
// served that way must still be refused with a BundleError before any request is answered.
//
// The merge is the same for both bundle formats; most cases use the previous (format 1) bundle, whose files carry
// an int64 label output the merge must leave out, and one case a market-anchored bundle with trees.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLES_DIR, readBundle, type BundleOnDisk } from '../../scripts/lib/models/bundle-files';
import { ort } from '../../scripts/lib/ort-node';
import {
  BUNDLE_FILES,
  BundleError,
  calibrate,
  MARKET_OUTPUTS,
  sha256Hex,
  type BundleManifest,
  type BundleMarket,
  type LegacyBundleManifest,
} from '../../src/services/inference/bundle';
import { mergeModels, readOnnxModel } from '../../src/services/inference/onnx-merge';
import { anchoredProbabilities, createModelRuntime, type ModelInput } from '../../src/services/inference/runtime';

const LEGACY_BUNDLE = join(BUNDLES_DIR, 'xgb-v1-20261126-151831');
const ANCHORED_WITH_TREES = new URL('../fixtures/bundles/anchored-smoke-trees/', import.meta.url).pathname;

let bundle: BundleOnDisk;
let rows: Float32Array[];
const inputs = (batch: Float32Array[]): ModelInput[] => batch.map((features) => ({ features, anchors: { h2h: null, ou25: null } }));

beforeAll(async () => {
  bundle = await readBundle(LEGACY_BUNDLE);
  const parity = JSON.parse(await readFile(join(LEGACY_BUNDLE, 'parity.json'), 'utf8')) as { rows: Array<{ features: Array<number | null> }> };
  rows = parity.rows.map((r) => Float32Array.from(r.features, (x) => (x === null ? NaN : x)));
});
const legacy = () => bundle.manifest as LegacyBundleManifest;

const file = (market: BundleMarket) => new Uint8Array(bundle.files.get(BUNDLE_FILES[market])!);

/** Raw probabilities of one market from its own file in its own session: the path the merge replaced. */
async function separateRaw(market: BundleMarket, batch: Float32Array[]): Promise<number[][]> {
  const session = await ort.InferenceSession.create(file(market));
  const width = batch[0]!.length;
  const input = new Float32Array(batch.length * width);
  batch.forEach((row, i) => input.set(row, i * width));
  const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input, [batch.length, width]) }, ['probabilities']);
  const data = out.probabilities!.data as Float32Array;
  const k = MARKET_OUTPUTS[market].length;
  expect(out.probabilities!.dims).toEqual([batch.length, k]);
  await session.release();
  return batch.map((_, i) => Array.from(data.subarray(i * k, (i + 1) * k)));
}

const worstDifference = (a: number[][], b: number[][]) => {
  expect(a).toHaveLength(b.length);
  let worst = 0;
  a.forEach((row, i) => {
    expect(row).toHaveLength(b[i]!.length);
    row.forEach((x, k) => (worst = Math.max(worst, Math.abs(x - b[i]![k]!))));
  });
  return worst;
};

/** The bundle with these artifacts in place of its own, registered under their sha256 as a real upload would be. */
async function runtimeWith(replaced: Partial<Record<BundleMarket, Uint8Array>>, manifest: BundleManifest = bundle.manifest) {
  const files = { ...manifest.files };
  const artifacts = { [BUNDLE_FILES.h2h]: file('h2h'), [BUNDLE_FILES.ou25]: file('ou25') } as Record<string, Uint8Array>;
  for (const [market, bytes] of Object.entries(replaced) as Array<[BundleMarket, Uint8Array]>) {
    artifacts[BUNDLE_FILES[market]] = bytes;
    files[BUNDLE_FILES[market]] = await sha256Hex(bytes);
  }
  return createModelRuntime(ort, { ...manifest, files }, artifacts as never);
}

/** Replaces the one occurrence of a byte sequence (same length, so no enclosing length field changes). */
function patch(bytes: Uint8Array, from: number[], to: number[]): Uint8Array {
  const hex = Buffer.from(bytes).toString('hex');
  const needle = Buffer.from(from).toString('hex');
  const at = hex.indexOf(needle);
  expect(at).toBeGreaterThanOrEqual(0);
  expect(at % 2).toBe(0);
  expect(hex.indexOf(needle, at + 1)).toBe(-1);
  return new Uint8Array(Buffer.from(hex.slice(0, at) + Buffer.from(to).toString('hex') + hex.slice(at + needle.length), 'hex'));
}
const ascii = (s: string) => [...Buffer.from(s)];

/** The promise must reject with a BundleError (what the Worker turns into a 503) whose message matches. */
async function expectBundleError(promise: Promise<unknown>, message: string | RegExp) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BundleError);
  if (typeof message === 'string') expect((error as Error).message).toBe(message);
  else expect((error as Error).message).toMatch(message);
}

describe('the merged two-market graph', () => {
  it('gives the calibrated probabilities of one session per market on every parity row: batched, one row at a time, concurrently', async () => {
    expect(rows.some((r) => r.some(Number.isNaN))).toBe(true);
    const runtime = await runtimeWith({});
    const expected = {
      h2h: (await separateRaw('h2h', rows)).map((p) => calibrate(legacy(), 'h2h', p)),
      ou25: (await separateRaw('ou25', rows)).map((p) => calibrate(legacy(), 'ou25', p)),
    };
    const batched = (await runtime.predict(inputs(rows))) as { h2h: number[][]; ou25: number[][] };
    expect(worstDifference(batched.h2h, expected.h2h)).toBeLessThan(1e-6);
    expect(worstDifference(batched.ou25, expected.ou25)).toBeLessThan(1e-6);

    const single = { h2h: [] as number[][], ou25: [] as number[][] };
    for (const row of rows) {
      const one = await runtime.predict(inputs([row]));
      single.h2h.push(one.h2h[0]!);
      single.ou25.push(one.ou25[0]!);
    }
    expect(worstDifference(single.h2h, expected.h2h)).toBeLessThan(1e-6);
    expect(worstDifference(single.ou25, expected.ou25)).toBeLessThan(1e-6);
    // Calls in flight together (a Worker isolate serves requests concurrently) each get their own row's answer.
    const concurrent = await Promise.all(rows.slice(0, 40).map((row) => runtime.predict(inputs([row]))));
    expect(worstDifference(concurrent.map((p) => p.h2h[0]!), expected.h2h.slice(0, 40))).toBeLessThan(1e-6);
    expect(worstDifference(concurrent.map((p) => p.ou25[0]!), expected.ou25.slice(0, 40))).toBeLessThan(1e-6);
    // The two markets really differ, so a swap of their columns could not pass the comparisons above.
    expect(worstDifference(expected.h2h.map((p) => p.slice(0, 2)), expected.ou25)).toBeGreaterThan(0.1);
  });

  it("an anchored bundle's merged graph gives each file's own margins, which the runtime adds to the anchor", async () => {
    const anchored = await readBundle(ANCHORED_WITH_TREES);
    const parity = JSON.parse(await readFile(join(ANCHORED_WITH_TREES, 'parity.json'), 'utf8')) as {
      rows: Array<{ features: Array<number | null>; anchors: { '1x2': number[] | null; ou25: number[] | null } }>;
    };
    const anchoredRows = parity.rows.filter((r) => r.anchors['1x2'] && r.anchors.ou25);
    const runtime = await createModelRuntime(ort, anchored.manifest, {
      [BUNDLE_FILES.h2h]: anchored.files.get(BUNDLE_FILES.h2h)!,
      [BUNDLE_FILES.ou25]: anchored.files.get(BUNDLE_FILES.ou25)!,
    } as never);
    const names = anchored.manifest.featureNames;
    const full = anchoredRows.map((r) => Float32Array.from(r.features, (x) => (x === null ? NaN : x)));
    const got = await runtime.predict(full.map((features, i) => ({ features, anchors: { h2h: anchoredRows[i]!.anchors['1x2'], ou25: anchoredRows[i]!.anchors.ou25 } })));
    const { FEATURE_INDEX } = await import('../../src/services/features/names');
    const narrow = full.map((row) => Float32Array.from(names, (n) => row[FEATURE_INDEX[n as keyof typeof FEATURE_INDEX]]!));
    for (const [market, width, key] of [
      ['h2h', 3, '1x2'],
      ['ou25', 1, 'ou25'],
    ] as const) {
      const session = await ort.InferenceSession.create(new Uint8Array(anchored.files.get(BUNDLE_FILES[market])!));
      const input = new Float32Array(narrow.length * names.length);
      narrow.forEach((row, i) => input.set(row, i * names.length));
      const out = await session.run({ features: new ort.Tensor('float32', input, [narrow.length, names.length]) });
      const margins = out.margin!.data as Float32Array;
      expect(out.margin!.dims).toEqual([narrow.length, width]);
      expect(Math.max(...Array.from(margins, Math.abs))).toBeGreaterThan(1e-3);
      const expected = anchoredRows.map((r, i) => anchoredProbabilities(market, r.anchors[key]!, margins, i * width));
      expect(worstDifference(got[market] as number[][], expected)).toBeLessThan(1e-12);
      await session.release();
    }
  });

  it('is one graph with one input and one [n, 5] output, the label outputs left out', () => {
    const merged = readOnnxModel(mergeModels([
      { model: readOnnxModel(file('h2h')), prefix: 'h2h', output: 'probabilities' },
      { model: readOnnxModel(file('ou25')), prefix: 'ou25', output: 'probabilities' },
    ]).bytes);
    expect(merged.inputs.map((i) => [i.name, i.elemType, i.dims])).toEqual([['features', 1, [null, 72]]]);
    expect(merged.outputs.map((o) => [o.name, o.elemType, o.dims])).toEqual([['merged/output', 1, [null, 5]]]);
    expect(merged.nodes.map((n) => [n.opType, n.name, n.inputs, n.outputs])).toEqual([
      ['TreeEnsembleClassifier', 'h2h/senzu_1x2_trees', ['features'], ['h2h/label', 'h2h/probabilities']],
      ['TreeEnsembleClassifier', 'ou25/senzu_ou25_trees', ['features'], ['ou25/label', 'ou25/probabilities']],
      ['Concat', 'merged/concat', ['h2h/probabilities', 'ou25/probabilities'], ['merged/output']],
    ]);
    expect(Object.fromEntries(merged.opsets)).toEqual({ '': 15, 'ai.onnx.ml': 3 });
  });

  it('keeps same-named parts apart: a model merged with itself gives its probabilities twice', async () => {
    const model = readOnnxModel(file('h2h'));
    const merged = mergeModels([
      { model, prefix: 'a', output: 'probabilities' },
      { model, prefix: 'b', output: 'probabilities' },
    ]);
    const session = await ort.InferenceSession.create(merged.bytes);
    const batch = rows.slice(0, 20);
    const input = new Float32Array(batch.length * 72);
    batch.forEach((row, i) => input.set(row, i * 72));
    const out = (await session.run({ features: new ort.Tensor('float32', input, [batch.length, 72]) }))[merged.output]!;
    expect(out.dims).toEqual([batch.length, 6]);
    const data = out.data as Float32Array;
    const own = await separateRaw('h2h', batch);
    batch.forEach((_, i) => {
      expect(Array.from(data.subarray(i * 6, i * 6 + 3))).toEqual(own[i]);
      expect(Array.from(data.subarray(i * 6 + 3, i * 6 + 6))).toEqual(own[i]);
    });
  });
});

describe('a bundle the merged graph cannot serve', () => {
  it('is refused when the 1X2 file is the O/U model (its probabilities are [n, 2])', async () => {
    await expectBundleError(
      runtimeWith({ h2h: file('ou25') }),
      'model-1x2.onnx has no float32 [n, 3] probability output (it has label type 7 [?], probabilities float32 [?, 2])',
    );
  });

  it('is refused when a model declares 3 probabilities per row but computes 2', async () => {
    // The O/U model with its probabilities output re-declared as [?, 3]: it passes the declared-shape check as
    // a 1X2 model; ORT's shape inference sees that its trees have two class labels and refuses it at load.
    const lying = patch(file('ou25'), [...ascii('probabilities'), 0x12, 0x0c, 0x0a, 0x0a, 0x08, 0x01, 0x12, 0x06, 0x0a, 0x00, 0x0a, 0x02, 0x08, 0x02], [
      ...ascii('probabilities'), 0x12, 0x0c, 0x0a, 0x0a, 0x08, 0x01, 0x12, 0x06, 0x0a, 0x00, 0x0a, 0x02, 0x08, 0x03,
    ]);
    expect(readOnnxModel(lying).outputs.find((o) => o.name === 'probabilities')!.dims).toEqual([null, 3]);
    await expectBundleError(runtimeWith({ h2h: lying }), /^model-1x2\.onnx is not a loadable ONNX model: .*Inferred=2 Declared=3/);
  });

  it('is refused when the models take a different number of features than the bundle lists', async () => {
    const manifest = { ...legacy(), featureNames: bundle.manifest.featureNames.slice(0, 71) };
    await expectBundleError(runtimeWith({}, manifest), 'model-1x2.onnx must take one float32 [n, 71] input, it takes features float32 [?, 72]');
  });

  it('is refused when the two files were written for different ai.onnx.ml opsets', async () => {
    // Opset 1 also has TreeEnsembleClassifier, so the file still loads on its own: only the merge objects.
    const older = patch(file('ou25'), [...ascii('ai.onnx.ml'), 0x10, 0x03], [...ascii('ai.onnx.ml'), 0x10, 0x01]);
    const alone = await ort.InferenceSession.create(older);
    await alone.release();
    await expectBundleError(
      runtimeWith({ ou25: older }),
      'model-1x2.onnx and model-ou25.onnx cannot be served as one graph: ou25: opset ai.onnx.ml 1 differs from 3',
    );
  });

  it('is refused, naming the file, when registered bytes are not an ONNX model', async () => {
    const truncated = file('ou25').subarray(0, 5000);
    await expectBundleError(runtimeWith({ ou25: truncated }), /^model-ou25\.onnx is not a loadable ONNX model: protobuf: truncated/);
  });

  it('is refused, naming the file, when ORT cannot load one of them', async () => {
    // A well-formed graph with an operator ORT does not know: only ORT can refuse it.
    const unknownOp = patch(file('h2h'), ascii('TreeEnsembleClassifier'), ascii('TreeEnsembleClassifiex'));
    await expectBundleError(runtimeWith({ h2h: unknownOp }), /^model-1x2\.onnx is not a loadable ONNX model: .+/);
  });
});
