// The calibrated output of the TypeScript inference path (onnxruntime-web + the bundle's calibration, the
// module the Worker uses) against the Python pipeline's own probabilities, row by row, to 1e-5.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultBundleDir, readBundle, type BundleOnDisk } from '../../scripts/lib/models/bundle-files';
import { nodeRuntime } from '../../scripts/lib/models/load-runtime';
import { BundleError } from '../../src/services/inference/bundle';
import type { ModelRuntime } from '../../src/services/inference/runtime';

interface ParityRow {
  matchId: string;
  features: Array<number | null>;
  calibrated: { '1x2': number[]; ou25: number[] };
}

let bundle: BundleOnDisk;
let runtime: ModelRuntime;
let parity: { classes: Record<string, string[]>; rows: ParityRow[] };

beforeAll(async () => {
  const dir = process.env.SENZU_PARITY_BUNDLE ?? (await defaultBundleDir());
  bundle = await readBundle(dir);
  runtime = await nodeRuntime(bundle);
  parity = JSON.parse(await readFile(join(dir, 'parity.json'), 'utf8'));
});

describe('the committed model bundle', () => {
  it('gives the Python pipeline calibrated probabilities to 1e-5, NaN inputs included', async () => {
    expect(parity.rows.length).toBeGreaterThanOrEqual(100);
    expect(parity.rows.some((r) => r.features.some((x) => x === null))).toBe(true);
    const rows = parity.rows.map((r) => r.features.map((x) => (x === null ? NaN : x)));
    const { h2h, ou25 } = await runtime.predict(rows);
    let worst = 0;
    parity.rows.forEach((r, i) => {
      for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(h2h[i]![k]! - r.calibrated['1x2'][k]!));
      for (let k = 0; k < 2; k++) worst = Math.max(worst, Math.abs(ou25[i]![k]! - r.calibrated.ou25[k]!));
    });
    expect(worst).toBeLessThan(1e-5);
    // ORT computes in float32, so an uncalibrated row sums to 1 only to float32 precision.
    for (const p of [...h2h, ...ou25]) expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-6);
  });

  it('refuses an artifact whose bytes are not the registered ones', async () => {
    const tampered = Buffer.from(bundle.files.get('model-1x2.onnx')!);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0xff;
    const { createModelRuntime } = await import('../../src/services/inference/runtime');
    const { ort } = await import('../../scripts/lib/ort-node');
    await expect(
      createModelRuntime(ort, bundle.manifest, { 'model-1x2.onnx': tampered, 'model-ou25.onnx': bundle.files.get('model-ou25.onnx')! }),
    ).rejects.toThrow(BundleError);
  });

  it('refuses a row with the wrong number of features', async () => {
    await expect(runtime.predict([[1, 2, 3]])).rejects.toThrow(/expects 72/);
  });
});
