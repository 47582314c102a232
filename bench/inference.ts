// npm run bench:inference — onnxruntime-web per-row inference against a plain TypeScript walk of the same trees.
//
// Loads the committed default bundle (models/bundles/DEFAULT), builds the repository's runtime (the module the
// Worker uses, onnxruntime-web WASM, one thread: the bundle's two ONNX files merged into one graph, so a call is
// one session.run whatever the markets) and a tree walk read out of the same ONNX bytes
// (src/services/inference/tree-walk.ts). It first checks that the walk gives the runtime's calibrated
// probabilities to 1e-5 on the parity fixture's real feature rows, then times single-row calls — one row at a
// time, both markets, as GET /matches/{id}/predictions does on a miss — interleaved in rounds, and prints
// per-row µs and ORT/walk.
// Target (issue #7): ORT per row ≤ 2× the walk.
// Two figures explain the ratio: ORT's fixed cost per session.run (an Identity model of the same input, so no
// compute), of which a row pays one (both markets' trees are one graph, src/services/inference/onnx-merge.ts);
// and the per-row cost when rows are batched, where that fixed cost is shared.
//   BENCH_INFERENCE_ROUNDS (default 7), BENCH_INFERENCE_ROWS_PER_ROUND (default 2000)
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultBundleDir, readBundle } from '../scripts/lib/models/bundle-files';
import { nodeRuntime } from '../scripts/lib/models/load-runtime';
import { ort } from '../scripts/lib/ort-node';
import { BUNDLE_FILES, calibrate } from '../src/services/inference/bundle';
import { treeEnsembleFromOnnx } from '../src/services/inference/tree-walk';

const ROUNDS = Number(process.env.BENCH_INFERENCE_ROUNDS ?? 7);
const ROWS_PER_ROUND = Number(process.env.BENCH_INFERENCE_ROWS_PER_ROUND ?? 2000);
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

async function main() {
  const dir = await defaultBundleDir();
  const bundle = await readBundle(dir);
  const parity = JSON.parse(await readFile(join(dir, 'parity.json'), 'utf8')) as { rows: Array<{ features: Array<number | null> }> };
  const rows = parity.rows.map((r) => Float32Array.from(r.features, (x) => (x === null ? NaN : x)));

  const runtime = await nodeRuntime(bundle);
  const h2h = treeEnsembleFromOnnx(bundle.files.get(BUNDLE_FILES.h2h)!);
  const ou25 = treeEnsembleFromOnnx(bundle.files.get(BUNDLE_FILES.ou25)!);
  /** The walk's counterpart of runtime.predict([row]): both markets, the bundle's calibration. */
  const walk = (row: Float32Array) => ({
    h2h: [calibrate(bundle.manifest, 'h2h', h2h.predictRow(row))],
    ou25: [calibrate(bundle.manifest, 'ou25', ou25.predictRow(row))],
  });

  // Same answers first: a faster walk of different trees would prove nothing. Calibrated output is compared
  // (it is a fixed function of the raw probabilities; test/node/tree-walk.test.ts checks the raw ones).
  let worst = 0;
  for (const row of rows) {
    const ort = await runtime.predict([row]);
    const w = walk(row);
    for (const market of ['h2h', 'ou25'] as const) {
      ort[market][0]!.forEach((p, k) => (worst = Math.max(worst, Math.abs(p - w[market][0]![k]!))));
    }
  }
  if (!(worst < 1e-5)) throw new Error(`the walk differs from ORT by ${worst} (> 1e-5): not the same model`);
  console.log(
    `bundle ${bundle.manifest.id}: 1X2 ${h2h.trees} trees / ${h2h.nodes} nodes, O/U 2.5 ${ou25.trees} trees / ${ou25.nodes} nodes; ` +
      `${rows.length} parity rows, walk = ORT to ${worst.toExponential(1)}`,
  );

  // Warm both paths (JIT, ORT's first-run allocations) before timing.
  for (let i = 0; i < 2000; i++) {
    await runtime.predict([rows[i % rows.length]!]);
    walk(rows[i % rows.length]!);
  }

  const identity = await ort.InferenceSession.create(IDENTITY_72);
  if (rows[0]!.length !== 72) throw new Error(`the Identity baseline is built for 72 features, the bundle has ${rows[0]!.length}`);
  const identityRun = (row: Float32Array) => identity.run({ features: new ort.Tensor('float32', row, [1, 72]) });
  const batches = Array.from({ length: Math.ceil(ROWS_PER_ROUND / BATCH) }, (_, b) =>
    Array.from({ length: BATCH }, (_, i) => rows[(b * BATCH + i) % rows.length]!),
  );
  for (let i = 0; i < 500; i++) await identityRun(rows[i % rows.length]!);
  for (const batch of batches) await runtime.predict(batch);

  let sink = 0;
  const ortUs: number[] = [];
  const walkUs: number[] = [];
  const floorUs: number[] = [];
  const batchedUs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    for (let i = 0; i < ROWS_PER_ROUND; i++) sink += (await runtime.predict([rows[i % rows.length]!])).h2h[0]![0]!;
    ortUs.push(((performance.now() - t) * 1000) / ROWS_PER_ROUND);
    t = performance.now();
    for (let i = 0; i < ROWS_PER_ROUND; i++) sink += walk(rows[i % rows.length]!).h2h[0]![0]!;
    walkUs.push(((performance.now() - t) * 1000) / ROWS_PER_ROUND);
    t = performance.now();
    for (let i = 0; i < ROWS_PER_ROUND; i++) await identityRun(rows[i % rows.length]!);
    floorUs.push(((performance.now() - t) * 1000) / ROWS_PER_ROUND);
    t = performance.now();
    for (const batch of batches) sink += (await runtime.predict(batch)).ou25[0]![0]!;
    batchedUs.push(((performance.now() - t) * 1000) / (batches.length * BATCH));
  }
  if (Number.isNaN(sink)) throw new Error('NaN probabilities');

  const ortRow = median(ortUs);
  const walkRow = median(walkUs);
  const ratio = ortRow / walkRow;
  console.log(`${ROUNDS} interleaved rounds of ${ROWS_PER_ROUND} single-row calls (both markets + calibration per row)\n`);
  console.log('path                          µs/row (median)   min     max');
  console.log(`onnxruntime-web (runtime.ts)  ${ortRow.toFixed(1).padStart(14)} ${Math.min(...ortUs).toFixed(1).padStart(7)} ${Math.max(...ortUs).toFixed(1).padStart(7)}`);
  console.log(`TypeScript tree walk          ${walkRow.toFixed(1).padStart(14)} ${Math.min(...walkUs).toFixed(1).padStart(7)} ${Math.max(...walkUs).toFixed(1).padStart(7)}`);
  console.log(`ORT Identity, one run         ${median(floorUs).toFixed(1).padStart(14)} ${Math.min(...floorUs).toFixed(1).padStart(7)} ${Math.max(...floorUs).toFixed(1).padStart(7)}`);
  console.log(`ORT, batches of ${BATCH}           ${median(batchedUs).toFixed(1).padStart(14)} ${Math.min(...batchedUs).toFixed(1).padStart(7)} ${Math.max(...batchedUs).toFixed(1).padStart(7)}`);
  console.log(`\nORT/walk per row ×${ratio.toFixed(2)} (target ≤ ${TARGET}: ${ratio <= TARGET ? 'met' : 'MISSED'})`);
  console.log(
    `  of which ORT's fixed cost (1 run × Identity: both markets are one merged graph) = ×${(median(floorUs) / walkRow).toFixed(2)} of the walk; ` +
      `batched (${BATCH} rows per run) ORT/walk per row ×${(median(batchedUs) / walkRow).toFixed(2)}`,
  );
}

main().catch((error) => {
  console.error(`bench failed: ${(error as Error).message}`);
  process.exitCode = 1;
});
