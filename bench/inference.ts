// npm run bench:inference — onnxruntime-web per-row inference against a plain TypeScript walk of the same trees.
//
// Loads the committed default bundle (models/bundles/DEFAULT), builds the repository's runtime (the module the
// Worker uses, onnxruntime-web WASM, one thread) and a tree walk read out of the same ONNX bytes
// (src/services/inference/tree-walk.ts). It first checks that the walk gives ORT's raw probabilities to 1e-5
// on the parity fixture's real feature rows, then times single-row calls — one row at a time, both markets,
// as GET /matches/{id}/predictions does on a miss — interleaved in rounds, and prints per-row µs and ORT/walk.
// Target (issue #7): ORT per row ≤ 2× the walk.
//   BENCH_INFERENCE_ROUNDS (default 7), BENCH_INFERENCE_ROWS_PER_ROUND (default 2000)
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultBundleDir, readBundle } from '../scripts/lib/models/bundle-files';
import { nodeRuntime } from '../scripts/lib/models/load-runtime';
import { BUNDLE_FILES, calibrate } from '../src/services/inference/bundle';
import { treeEnsembleFromOnnx } from '../src/services/inference/tree-walk';

const ROUNDS = Number(process.env.BENCH_INFERENCE_ROUNDS ?? 7);
const ROWS_PER_ROUND = Number(process.env.BENCH_INFERENCE_ROWS_PER_ROUND ?? 2000);
const TARGET = 2;

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

  let sink = 0;
  const ortUs: number[] = [];
  const walkUs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    for (let i = 0; i < ROWS_PER_ROUND; i++) sink += (await runtime.predict([rows[i % rows.length]!])).h2h[0]![0]!;
    ortUs.push(((performance.now() - t) * 1000) / ROWS_PER_ROUND);
    t = performance.now();
    for (let i = 0; i < ROWS_PER_ROUND; i++) sink += walk(rows[i % rows.length]!).h2h[0]![0]!;
    walkUs.push(((performance.now() - t) * 1000) / ROWS_PER_ROUND);
  }
  if (Number.isNaN(sink)) throw new Error('NaN probabilities');

  const ortRow = median(ortUs);
  const walkRow = median(walkUs);
  const ratio = ortRow / walkRow;
  console.log(`${ROUNDS} interleaved rounds of ${ROWS_PER_ROUND} single-row calls (both markets + calibration per row)\n`);
  console.log('path                          µs/row (median)   min     max');
  console.log(`onnxruntime-web (runtime.ts)  ${ortRow.toFixed(1).padStart(14)} ${Math.min(...ortUs).toFixed(1).padStart(7)} ${Math.max(...ortUs).toFixed(1).padStart(7)}`);
  console.log(`TypeScript tree walk          ${walkRow.toFixed(1).padStart(14)} ${Math.min(...walkUs).toFixed(1).padStart(7)} ${Math.max(...walkUs).toFixed(1).padStart(7)}`);
  console.log(`\nORT/walk per row ×${ratio.toFixed(2)} (target ≤ ${TARGET}: ${ratio <= TARGET ? 'met' : 'MISSED'})`);
}

main().catch((error) => {
  console.error(`bench failed: ${(error as Error).message}`);
  process.exitCode = 1;
});
