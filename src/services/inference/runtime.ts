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
  const sessions = {} as Record<BundleMarket, { session: Ort.InferenceSession; input: string; probabilities: string }>;
  for (const market of Object.keys(BUNDLE_FILES) as BundleMarket[]) {
    const file = BUNDLE_FILES[market];
    const bytes = artifacts[file];
    if (!bytes) throw new BundleError(`${file} is missing`);
    await verifyArtifact(manifest, file, bytes);
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
    } catch (error) {
      throw new BundleError(`${file} is not a loadable ONNX model: ${(error as Error).message}`);
    }
    // The probability output is the float tensor of shape [n, classes]; the other output is the int64 label.
    // Only the probabilities are fetched: materialising the label (a BigInt64Array per call) was a large share
    // of a single-row run (bench:inference).
    const classes = MARKET_OUTPUTS[market].length;
    const probabilities = session.outputMetadata.find(
      (o) => o.isTensor && o.type === 'float32' && o.shape.length === 2 && (o.shape[1] === classes || typeof o.shape[1] === 'string'),
    );
    if (!probabilities) throw new BundleError(`${file} has no [n, ${classes}] probability output`);
    sessions[market] = { session, input: session.inputNames[0]!, probabilities: probabilities.name };
  }
  const featureCount = manifest.featureNames.length;

  async function runMarket(market: BundleMarket, input: Float32Array, n: number): Promise<number[][]> {
    const { session, input: inputName, probabilities } = sessions[market];
    const outputs = await session.run({ [inputName]: new ort.Tensor('float32', input, [n, featureCount]) }, [probabilities]);
    const probs = outputs[probabilities]!;
    if (probs.dims[1] !== MARKET_OUTPUTS[market].length) {
      throw new BundleError(`${BUNDLE_FILES[market]} gave ${probs.dims[1]} probabilities per row, expected ${MARKET_OUTPUTS[market].length}`);
    }
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
