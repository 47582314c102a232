// The shared inference module inside workerd: onnxruntime-web with the WASM shim, the bundle read from R2
// and checked by sha256, the market anchor added, output equal to the Python pipeline's; football's bundle and
// the NBA moneyline's (an empty ensemble: its margin is 0, so it serves the anchor).
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { BUNDLE_FILES, BundleError, isMoneylineManifest, MONEYLINE_BUNDLE_FILE, parseManifest } from '../../src/services/inference/bundle';
import { createMoneylineRuntime } from '../../src/services/inference/moneyline-runtime';
import { workerdOrt } from '../../src/services/inference/ort-workerd';
import { createModelRuntime } from '../../src/services/inference/runtime';

const bundle = inject('defaultBundle');
const bytes = (name: string) => Uint8Array.from(atob(bundle.files[name]!), (c) => c.charCodeAt(0));
const prefix = `models/${bundle.id}/`;

beforeAll(async () => {
  for (const name of Object.keys(bundle.files)) await env.MODELS.put(`${prefix}${name}`, bytes(name));
});

async function fromR2(name: string): Promise<ArrayBuffer> {
  const object = await env.MODELS.get(`${prefix}${name}`);
  if (!object) throw new Error(`${name} missing from R2`);
  return object.arrayBuffer();
}

describe('inference in workerd', () => {
  it('loads the bundle from R2 and matches the Python probabilities (xgboost on top of the anchor) to 1e-5', async () => {
    const manifest = parseManifest(JSON.parse(new TextDecoder().decode(await fromR2('bundle.json'))));
    const runtime = await createModelRuntime(workerdOrt, manifest, {
      [BUNDLE_FILES.h2h]: await fromR2(BUNDLE_FILES.h2h),
      [BUNDLE_FILES.ou25]: await fromR2(BUNDLE_FILES.ou25),
    } as Record<(typeof BUNDLE_FILES)[keyof typeof BUNDLE_FILES], ArrayBuffer>);
    const parity = JSON.parse(new TextDecoder().decode(bytes('parity.json'))) as {
      rows: Array<{
        features: Array<number | null>;
        anchors: { '1x2': number[] | null; ou25: number[] | null };
        expected: { '1x2': number[] | null; ou25: number[] | null };
      }>;
    };
    const { h2h, ou25 } = await runtime.predict(
      parity.rows.map((r) => ({ features: r.features.map((x) => (x === null ? NaN : x)), anchors: { h2h: r.anchors['1x2'], ou25: r.anchors.ou25 } })),
    );
    let worst = 0;
    let compared = 0;
    parity.rows.forEach((r, i) => {
      expect(h2h[i] === null).toBe(r.expected['1x2'] === null);
      expect(ou25[i] === null).toBe(r.expected.ou25 === null);
      r.expected['1x2']?.forEach((p, k) => (worst = Math.max(worst, Math.abs(h2h[i]![k]! - p))));
      r.expected.ou25?.forEach((p, k) => (worst = Math.max(worst, Math.abs(ou25[i]![k]! - p))));
      if (r.expected['1x2']) compared++;
    });
    expect(compared).toBeGreaterThan(100);
    expect(worst).toBeLessThan(1e-5);
  });

  it('refuses a corrupt artifact with a BundleError', async () => {
    const manifest = parseManifest(JSON.parse(new TextDecoder().decode(await fromR2('bundle.json'))));
    const corrupt = new Uint8Array(await fromR2(BUNDLE_FILES.h2h));
    corrupt[10] = corrupt[10]! ^ 0xff;
    await expect(
      createModelRuntime(workerdOrt, manifest, { [BUNDLE_FILES.h2h]: corrupt, [BUNDLE_FILES.ou25]: await fromR2(BUNDLE_FILES.ou25) } as never),
    ).rejects.toThrow(BundleError);
  });
});

const nba = inject('nbaDefaultBundle');
const nbaBytes = (name: string) => Uint8Array.from(atob(nba.files[name]!), (c) => c.charCodeAt(0));
const nbaPrefix = `models/${nba.id}/`;

describe('the NBA moneyline bundle in workerd', () => {
  beforeAll(async () => {
    for (const name of Object.keys(nba.files)) await env.MODELS.put(`${nbaPrefix}${name}`, nbaBytes(name));
  });
  const read = async (name: string) => (await env.MODELS.get(`${nbaPrefix}${name}`))!.arrayBuffer();

  it('loads the committed default (0 trees) from R2 and gives the anchor, and nothing without one', async () => {
    const manifest = parseManifest(JSON.parse(new TextDecoder().decode(await read('bundle.json'))));
    if (!isMoneylineManifest(manifest)) throw new Error(`${nba.id} is not a basketball bundle`);
    const runtime = await createMoneylineRuntime(workerdOrt, manifest, { [MONEYLINE_BUNDLE_FILE]: await read(MONEYLINE_BUNDLE_FILE) });
    const parity = JSON.parse(new TextDecoder().decode(nbaBytes('parity.json'))) as {
      rows: Array<{ features: Array<number | null>; anchor: [number, number] | null; expected: [number, number] | null }>;
    };
    const inputs = parity.rows.map((r) => ({ features: r.features.map((x) => (x === null ? NaN : x)), anchor: r.anchor }));
    const got = await runtime.predict([...inputs, { features: inputs[0]!.features, anchor: null }]);
    expect(got[inputs.length]).toBeNull();
    let compared = 0;
    parity.rows.forEach((r, i) => {
      if (!r.anchor) return expect(got[i]).toBeNull();
      expect(Math.abs(got[i]![0] - r.anchor[0])).toBeLessThan(1e-15);
      expect(Math.abs(got[i]![0] - r.expected![0])).toBeLessThan(1e-6);
      compared++;
    });
    expect(compared).toBeGreaterThan(100);
    // One row at a time, as a request's miss is served.
    expect(await runtime.predict([inputs[1]!])).toEqual([got[1]]);
  });
});
