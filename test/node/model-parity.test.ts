// The TypeScript inference path (onnxruntime-web + the anchor offset, the module the Worker uses) against the
// Python pipeline's own probabilities, row by row: the committed default bundle, a smoke bundle with trees (so the
// trees' margins are exercised whatever the default ships), one with none (the market exactly), and the previous,
// format-1 bundle that a registered older run may still serve.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLES_DIR, defaultBundleDir, readBundle } from '../../scripts/lib/models/bundle-files';
import { nodeRuntime } from '../../scripts/lib/models/load-runtime';
import { ort } from '../../scripts/lib/ort-node';
import { BundleError } from '../../src/services/inference/bundle';
import { createModelRuntime, type ModelInput } from '../../src/services/inference/runtime';

const FIXTURES = new URL('../fixtures/bundles/', import.meta.url).pathname;
const LEGACY_BUNDLE = join(BUNDLES_DIR, 'xgb-v1-20261126-151831');

interface AnchoredParityRow {
  matchId: string;
  features: Array<number | null>;
  anchors: { '1x2': number[] | null; ou25: number[] | null };
  expected: { '1x2': number[] | null; ou25: number[] | null };
}

async function load(dir: string) {
  const bundle = await readBundle(dir);
  const parity = JSON.parse(await readFile(join(dir, 'parity.json'), 'utf8')) as { rows: AnchoredParityRow[] };
  const inputs: ModelInput[] = parity.rows.map((r) => ({
    features: r.features.map((x) => (x === null ? NaN : x)),
    anchors: { h2h: r.anchors['1x2'], ou25: r.anchors.ou25 },
  }));
  return { bundle, runtime: await nodeRuntime(bundle), rows: parity.rows, inputs };
}

/** The largest difference from the Python side's probabilities; a null must meet a null. */
function worst(rows: AnchoredParityRow[], got: { h2h: (number[] | null)[]; ou25: (number[] | null)[] }, of: (r: AnchoredParityRow, m: '1x2' | 'ou25') => number[] | null) {
  let w = 0;
  rows.forEach((r, i) => {
    for (const [market, key] of [
      ['1x2', 'h2h'],
      ['ou25', 'ou25'],
    ] as const) {
      const expected = of(r, market);
      const actual = got[key][i]!;
      if (expected === null) expect(actual, `row ${i} ${market}`).toBeNull();
      else expected.forEach((p, k) => (w = Math.max(w, Math.abs(actual![k]! - p))));
    }
  });
  return w;
}

describe.each([
  ['the committed default bundle', () => defaultBundleDir()],
  ['a bundle with trees (smoke fixture)', async () => join(FIXTURES, 'anchored-smoke-trees')],
])('%s', (_name, dir) => {
  it("gives the Python pipeline's probabilities (xgboost with the anchor as base_margin) to 1e-5, NaN inputs and missing anchors included", async () => {
    const { runtime, rows, inputs } = await load(await dir());
    expect(runtime.anchored).toBe(true);
    expect(rows.length).toBeGreaterThanOrEqual(100);
    expect(rows.some((r) => r.features.some((x) => x === null))).toBe(true);
    const got = await runtime.predict(inputs);
    expect(worst(rows, got, (r, m) => r.expected[m])).toBeLessThan(1e-5);
    for (const p of [...got.h2h, ...got.ou25]) if (p) expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
  });
});

describe('the market anchor', () => {
  it('with no trees, the model is the market exactly: every probability equals the margin-free anchor to 1e-6', async () => {
    const { bundle, runtime, rows, inputs } = await load(join(FIXTURES, 'anchored-smoke-no-trees'));
    expect((bundle.manifest as unknown as { models: Record<string, { trees: number }> }).models).toMatchObject({ '1x2': { trees: 0 }, ou25: { trees: 0 } });
    const got = await runtime.predict(inputs);
    // The anchor's O/U order is [over, under]; the model's output is [under, over].
    expect(worst(rows, got, (r, m) => (m === '1x2' ? r.anchors['1x2'] : r.anchors.ou25 && [r.anchors.ou25[1]!, r.anchors.ou25[0]!]))).toBeLessThan(1e-6);
  });

  it('the trees move it: the fixture with trees differs from its anchors, so the comparison above could fail', async () => {
    const { rows, runtime, inputs } = await load(join(FIXTURES, 'anchored-smoke-trees'));
    const got = await runtime.predict(inputs);
    const moved = worst(rows, got, (r, m) => (m === '1x2' ? r.anchors['1x2'] : r.anchors.ou25 && [r.anchors.ou25[1]!, r.anchors.ou25[0]!]));
    expect(moved).toBeGreaterThan(1e-3);
  });

  it('a market without an anchor gets no probabilities, whatever its features', async () => {
    const { runtime, inputs } = await load(join(FIXTURES, 'anchored-smoke-trees'));
    const got = await runtime.predict([{ ...inputs[0]!, anchors: { h2h: null, ou25: inputs[0]!.anchors.ou25 } }]);
    expect(got.h2h[0]).toBeNull();
    expect(got.ou25[0]).not.toBeNull();
  });
});

describe('the previous (format 1) bundle', () => {
  it('still serves its calibrated probabilities to 1e-5, ignoring anchors', async () => {
    const bundle = await readBundle(LEGACY_BUNDLE);
    const runtime = await nodeRuntime(bundle);
    expect(runtime.anchored).toBe(false);
    const parity = JSON.parse(await readFile(join(LEGACY_BUNDLE, 'parity.json'), 'utf8')) as {
      rows: Array<{ features: Array<number | null>; calibrated: { '1x2': number[]; ou25: number[] } }>;
    };
    const got = await runtime.predict(parity.rows.map((r) => ({ features: r.features.map((x) => (x === null ? NaN : x)), anchors: { h2h: null, ou25: null } })));
    let w = 0;
    parity.rows.forEach((r, i) => {
      r.calibrated['1x2'].forEach((p, k) => (w = Math.max(w, Math.abs(got.h2h[i]![k]! - p))));
      r.calibrated.ou25.forEach((p, k) => (w = Math.max(w, Math.abs(got.ou25[i]![k]! - p))));
    });
    expect(w).toBeLessThan(1e-5);
  });
});

describe('refusals', () => {
  it('refuses an artifact whose bytes are not the registered ones', async () => {
    const bundle = await readBundle(await defaultBundleDir());
    const tampered = Buffer.from(bundle.files.get('model-1x2.onnx')!);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0xff;
    await expect(
      createModelRuntime(ort, bundle.manifest, { 'model-1x2.onnx': tampered, 'model-ou25.onnx': bundle.files.get('model-ou25.onnx')! }),
    ).rejects.toThrow(BundleError);
  });

  it('refuses a row with the wrong number of features', async () => {
    const { runtime } = await load(await defaultBundleDir());
    await expect(runtime.predict([{ features: [1, 2, 3], anchors: { h2h: null, ou25: null } }])).rejects.toThrow(/expects 72/);
  });
});
