// The one inference path for the Node CLIs (evaluation, parity) and the Worker: ONNX sessions for both
// markets of a bundle, raw probabilities from onnxruntime, then the bundle's calibration. The ORT namespace
// is passed in because it is initialised differently in Node and in workerd (see ort-workerd.ts).
import type * as Ort from 'onnxruntime-common';
import { BUNDLE_FILES, BundleError, calibrate, MARKET_OUTPUTS, verifyArtifact, type BundleManifest, type BundleMarket } from './bundle';

/** The part of onnxruntime this module uses; Node passes the package, workerd a wrapper (ort-workerd.ts). */
export interface OrtNamespace {
  InferenceSession: { create(model: Uint8Array): Promise<Ort.InferenceSession> };
  Tensor: typeof Ort.Tensor;
}

export interface MarketProbabilities {
  /** Calibrated probabilities per row, in MARKET_OUTPUTS order. */
  h2h: number[][];
  ou25: number[][];
}

export interface ModelRuntime {
  manifest: BundleManifest;
  featureCount: number;
  /** rows: N feature vectors (NaN for missing) of manifest.featureNames.length each. */
  predict(rows: ArrayLike<number>[]): Promise<MarketProbabilities>;
}

export async function createModelRuntime(
  ort: OrtNamespace,
  manifest: BundleManifest,
  artifacts: Record<(typeof BUNDLE_FILES)[BundleMarket], ArrayBuffer | Uint8Array>,
): Promise<ModelRuntime> {
  const sessions = {} as Record<BundleMarket, Ort.InferenceSession>;
  for (const market of Object.keys(BUNDLE_FILES) as BundleMarket[]) {
    const file = BUNDLE_FILES[market];
    const bytes = artifacts[file];
    if (!bytes) throw new BundleError(`${file} is missing`);
    await verifyArtifact(manifest, file, bytes);
    try {
      sessions[market] = await ort.InferenceSession.create(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
    } catch (error) {
      throw new BundleError(`${file} is not a loadable ONNX model: ${(error as Error).message}`);
    }
  }
  const featureCount = manifest.featureNames.length;

  async function runMarket(market: BundleMarket, input: Float32Array, n: number): Promise<number[][]> {
    const session = sessions[market];
    const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', input, [n, featureCount]) };
    const outputs = await session.run(feeds);
    // The probability output is the float tensor of shape [n, classes]; the other output is the label.
    const probs = Object.values(outputs).find((t) => t.type === 'float32' && t.dims.length === 2 && t.dims[1] === MARKET_OUTPUTS[market].length);
    if (!probs) throw new BundleError(`${BUNDLE_FILES[market]} has no [n, ${MARKET_OUTPUTS[market].length}] probability output`);
    const data = probs.data as Float32Array;
    const k = MARKET_OUTPUTS[market].length;
    const rows: number[][] = [];
    for (let i = 0; i < n; i++) rows.push(calibrate(manifest, market, data.subarray(i * k, (i + 1) * k)));
    return rows;
  }

  return {
    manifest,
    featureCount,
    async predict(rows) {
      const n = rows.length;
      const input = new Float32Array(n * featureCount);
      rows.forEach((row, i) => {
        if (row.length !== featureCount) throw new BundleError(`row ${i} has ${row.length} features, the bundle expects ${featureCount}`);
        for (let j = 0; j < featureCount; j++) input[i * featureCount + j] = row[j]!;
      });
      if (n === 0) return { h2h: [], ou25: [] };
      const [h2h, ou25] = await Promise.all([runMarket('h2h', input, n), runMarket('ou25', input, n)]);
      return { h2h, ou25 };
    },
  };
}
