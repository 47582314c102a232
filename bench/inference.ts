// npm run bench:inference — onnxruntime-web per-row inference, for the default bundle beside the previous one in
// the same run, each against a plain TypeScript walk of its own trees.
//
// For each bundle it builds the repository's runtime (the module the Worker uses: onnxruntime-web WASM, one
// thread, the bundle's two ONNX files merged into one graph, so a call is one session.run whatever the markets)
// and a tree walk read out of the same ONNX bytes (src/services/inference/tree-walk.ts) that applies the same
// anchor offset (a market-anchored bundle) or calibration (a format-1 bundle). It first checks that the walk
// gives the runtime's probabilities to 1e-5 on the parity fixture's real rows, then times single-row calls — one
// row at a time, both markets, as GET /matches/{id}/predictions does on a miss — interleaved in rounds.
//
// Printed ratios, all measured in this run:
// - each bundle's ORT/walk per row (issue #7's yardstick: ≤ 2 for the previous bundle's ~200 trees). A bundle
//   with few or no trees has a walk that costs next to nothing, so its ORT/walk mostly measures ORT's fixed cost
//   per run (the Identity line), not the trees;
// - the default bundle's ORT per row over the previous bundle's: what a cache miss pays for inference now.
//   BENCH_INFERENCE_ROUNDS (default 7), BENCH_INFERENCE_ROWS_PER_ROUND (default 2000), BENCH_PREVIOUS_BUNDLE (a dir)
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUNDLES_DIR, defaultBundleDir, readBundle, type BundleOnDisk } from '../scripts/lib/models/bundle-files';
import { nodeRuntime } from '../scripts/lib/models/load-runtime';
import { ort } from '../scripts/lib/ort-node';
import { BUNDLE_FILES, calibrate, isAnchored, isLegacy } from '../src/services/inference/bundle';
import { FEATURE_INDEX, type FeatureName } from '../src/services/features/names';
import { anchoredProbabilities, type ModelInput, type ModelRuntime } from '../src/services/inference/runtime';
import { treeEnsembleFromOnnx } from '../src/services/inference/tree-walk';

const ROUNDS = Number(process.env.BENCH_INFERENCE_ROUNDS ?? 7);
const ROWS_PER_ROUND = Number(process.env.BENCH_INFERENCE_ROWS_PER_ROUND ?? 2000);
const PREVIOUS = process.env.BENCH_PREVIOUS_BUNDLE ?? join(BUNDLES_DIR, 'xgb-v1-20261126-151831');
const TARGET = 2;
const BATCH = 64;
/**
 * A one-node ONNX model, Identity on a [n, 72] float input: session.run's fixed cost with no compute. Made with
 * python3-onnx: helper.make_model(helper.make_graph([make_node('Identity', ['features'], ['probabilities'])],
 * 'identity', [features: FLOAT [None, 72]], [probabilities: FLOAT [None, 72]]), opset 17, ir_version 8).
 */
const IDENTITY_72 = Buffer.from(
  '08083a680a230a086665617475726573120d70726f626162696c697469657322084964656e7469747912086964656e746974795a180a086665617475726573120c0a0a' +
    '080112060a000a020848621d0a0d70726f626162696c6974696573120c0a0a080112060a000a02084842040a001011',
  'hex',
);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Subject {
  bundle: BundleOnDisk;
  runtime: ModelRuntime;
  inputs: ModelInput[];
  walk: (input: ModelInput) => { h2h: (number[] | null)[]; ou25: (number[] | null)[] };
  trees: string;
}

/** The parity rows as model inputs: the whole feature vector and, for an anchored bundle, its recorded anchors. */
async function subject(dir: string): Promise<Subject> {
  const bundle = await readBundle(dir);
  const parity = JSON.parse(await readFile(join(dir, 'parity.json'), 'utf8')) as {
    rows: Array<{ features: Array<number | null>; anchors?: { '1x2': number[] | null; ou25: number[] | null } }>;
  };
  const inputs: ModelInput[] = parity.rows.map((r) => ({
    features: Float64Array.from(r.features, (x) => (x === null ? NaN : x)),
    anchors: { h2h: r.anchors?.['1x2'] ?? null, ou25: r.anchors?.ou25 ?? null },
  }));
  const runtime = await nodeRuntime(bundle);
  const h2h = treeEnsembleFromOnnx(bundle.files.get(BUNDLE_FILES.h2h)!);
  const ou25 = treeEnsembleFromOnnx(bundle.files.get(BUNDLE_FILES.ou25)!);
  const columns = bundle.manifest.featureNames.map((n) => FEATURE_INDEX[n as FeatureName]);
  const row = new Float32Array(columns.length);
  const manifest = bundle.manifest;
  /** The walk's counterpart of runtime.predict([input]): both markets, then the anchor or the calibration. */
  const walk = (input: ModelInput) => {
    for (let c = 0; c < columns.length; c++) row[c] = input.features[columns[c]!]!;
    if (isLegacy(manifest)) return { h2h: [calibrate(manifest, 'h2h', h2h.predictRow(row))], ou25: [calibrate(manifest, 'ou25', ou25.predictRow(row))] };
    return {
      h2h: [input.anchors.h2h ? anchoredProbabilities('h2h', input.anchors.h2h, h2h.predictRow(row)) : null],
      ou25: [input.anchors.ou25 ? anchoredProbabilities('ou25', input.anchors.ou25, ou25.predictRow(row)) : null],
    };
  };
  // Same answers first: a faster walk of different trees would prove nothing.
  let worst = 0;
  for (const input of inputs) {
    const fromOrt = await runtime.predict([input]);
    const w = walk(input);
    for (const market of ['h2h', 'ou25'] as const) {
      const a = fromOrt[market][0];
      const b = w[market][0];
      if ((a === null) !== (b === null)) throw new Error(`${bundle.manifest.id}: the walk and ORT disagree on whether ${market} has a prediction`);
      a?.forEach((p, k) => (worst = Math.max(worst, Math.abs(p - b![k]!))));
    }
  }
  if (!(worst < 1e-5)) throw new Error(`${bundle.manifest.id}: the walk differs from ORT by ${worst} (> 1e-5): not the same model`);
  const trees = `1X2 ${h2h.trees} trees / ${h2h.nodes} nodes, O/U 2.5 ${ou25.trees} trees / ${ou25.nodes} nodes`;
  console.log(`bundle ${bundle.manifest.id} (${isAnchored(manifest) ? 'market-anchored' : 'format 1'}): ${trees}; ${inputs.length} parity rows, walk = ORT to ${worst.toExponential(1)}`);
  return { bundle, runtime, inputs, walk, trees };
}

async function main() {
  const subjects = [await subject(await defaultBundleDir()), await subject(PREVIOUS)];
  const [current, previous] = subjects as [Subject, Subject];

  const identity = await ort.InferenceSession.create(IDENTITY_72);
  const identityRow = new Float32Array(72);
  const identityRun = () => identity.run({ features: new ort.Tensor('float32', identityRow, [1, 72]) });
  // Warm every path (JIT, ORT's first-run allocations) before timing.
  for (const s of subjects) {
    for (let i = 0; i < 2000; i++) {
      await s.runtime.predict([s.inputs[i % s.inputs.length]!]);
      s.walk(s.inputs[i % s.inputs.length]!);
    }
  }
  for (let i = 0; i < 500; i++) await identityRun();

  let sink = 0;
  const times = subjects.map(() => ({ ort: [] as number[], walk: [] as number[], batched: [] as number[] }));
  const floorUs: number[] = [];
  const usPerRow = (t: number, rows: number) => ((performance.now() - t) * 1000) / rows;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, s] of subjects.entries()) {
      const n = s.inputs.length;
      let t = performance.now();
      for (let i = 0; i < ROWS_PER_ROUND; i++) sink += (await s.runtime.predict([s.inputs[i % n]!])).ou25[0]?.[0] ?? 0;
      times[k]!.ort.push(usPerRow(t, ROWS_PER_ROUND));
      t = performance.now();
      for (let i = 0; i < ROWS_PER_ROUND; i++) sink += s.walk(s.inputs[i % n]!).ou25[0]?.[0] ?? 0;
      times[k]!.walk.push(usPerRow(t, ROWS_PER_ROUND));
      t = performance.now();
      for (let b = 0; b < ROWS_PER_ROUND; b += BATCH) {
        const batch = Array.from({ length: BATCH }, (_, i) => s.inputs[(b + i) % n]!);
        sink += (await s.runtime.predict(batch)).ou25[0]?.[0] ?? 0;
      }
      times[k]!.batched.push(usPerRow(t, Math.ceil(ROWS_PER_ROUND / BATCH) * BATCH));
    }
    const t = performance.now();
    for (let i = 0; i < ROWS_PER_ROUND; i++) await identityRun();
    floorUs.push(usPerRow(t, ROWS_PER_ROUND));
  }
  if (Number.isNaN(sink)) throw new Error('NaN probabilities');

  console.log(`\n${ROUNDS} interleaved rounds of ${ROWS_PER_ROUND} single-row calls (both markets per row)\n`);
  console.log('bundle                               path                     µs/row (median)   min     max');
  const line = (name: string, path: string, xs: number[]) =>
    console.log(`${name.padEnd(36)} ${path.padEnd(24)} ${median(xs).toFixed(1).padStart(14)} ${Math.min(...xs).toFixed(1).padStart(7)} ${Math.max(...xs).toFixed(1).padStart(7)}`);
  subjects.forEach((s, k) => {
    line(s.bundle.manifest.id, 'onnxruntime-web', times[k]!.ort);
    line('', 'TypeScript tree walk', times[k]!.walk);
    line('', `ORT, batches of ${BATCH}`, times[k]!.batched);
  });
  line('', 'ORT Identity, one run', floorUs);
  console.log('');
  subjects.forEach((s, k) => {
    const ratio = median(times[k]!.ort) / median(times[k]!.walk);
    console.log(
      `${s.bundle.manifest.id}: ORT/walk per row ×${ratio.toFixed(2)}` +
        (s === previous ? ` (issue #7 target ≤ ${TARGET}: ${ratio <= TARGET ? 'met' : 'MISSED'})` : '') +
        `; ORT's fixed cost (Identity) = ×${(median(floorUs) / median(times[k]!.walk)).toFixed(2)} of its walk`,
    );
  });
  const perRow = median(times[0]!.ort) / median(times[1]!.ort);
  console.log(
    `\n${current.bundle.manifest.id} / ${previous.bundle.manifest.id}, ORT per row: ×${perRow.toFixed(2)} (${perRow <= 1 ? 'no slower' : 'SLOWER'} than the previous bundle in this run)`,
  );
}

main().catch((error) => {
  console.error(`bench failed: ${(error as Error).message}`);
  process.exitCode = 1;
});
