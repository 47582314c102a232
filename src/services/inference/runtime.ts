// The one inference path for the Node CLIs (evaluation, parity) and the Worker: raw probabilities of both
// markets of a bundle from onnxruntime, then the bundle's calibration. The ORT namespace is passed in because
// it is initialised differently in Node and in workerd (see ort-workerd.ts).
//
// The bundle keeps one ONNX file per market (what is registered, uploaded to R2 and checked by sha256), but
// they are served as one graph (onnx-merge.ts): onnxruntime-web's fixed cost per session.run is about as large
// as a market's trees, and a row needs both markets (issue #7, bench:inference).
import type * as Ort from 'onnxruntime-common';
import { BUNDLE_FILES, BundleError, calibrate, MARKET_OUTPUTS, verifyArtifact, type BundleManifest, type BundleMarket } from './bundle';
import { describeValue, mergeModels, ONNX_FLOAT, readOnnxModel, type MergedModel, type MergePart, type OnnxModel } from './onnx-merge';

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

const MARKETS = Object.keys(BUNDLE_FILES) as BundleMarket[];

export async function createModelRuntime(
  ort: OrtNamespace,
  manifest: BundleManifest,
  artifacts: Record<(typeof BUNDLE_FILES)[BundleMarket], ArrayBuffer | Uint8Array>,
): Promise<ModelRuntime> {
  const featureCount = manifest.featureNames.length;
  const files = MARKETS.map((market) => BUNDLE_FILES[market]);
  const bytes = {} as Record<BundleMarket, Uint8Array>;
  const parts: MergePart[] = [];
  for (const market of MARKETS) {
    const file = BUNDLE_FILES[market];
    const artifact = artifacts[file];
    if (!artifact) throw new BundleError(`${file} is missing`);
    await verifyArtifact(manifest, file, artifact);
    bytes[market] = artifact instanceof Uint8Array ? artifact : new Uint8Array(artifact);
    let model: OnnxModel;
    try {
      model = readOnnxModel(bytes[market]);
    } catch (error) {
      throw new BundleError(`${file} is not a loadable ONNX model: ${(error as Error).message}`);
    }
    const input = model.inputs[0];
    if (model.inputs.length !== 1 || !input || input.elemType !== ONNX_FLOAT || input.dims?.length !== 2 || !fits(input.dims[1], featureCount)) {
      throw new BundleError(`${file} must take one float32 [n, ${featureCount}] input, it takes ${model.inputs.map(describeValue).join(', ') || 'none'}`);
    }
    // The probability output is the float tensor of shape [n, classes]; the other output is the int64 label,
    // which is left out of the merged graph: materialising it (a BigInt64Array per call) was a large share of
    // a single-row run. The width must be declared, since it is what splits the merged output by market.
    const classes = MARKET_OUTPUTS[market].length;
    const probabilities = model.outputs.find((o) => o.elemType === ONNX_FLOAT && o.dims?.length === 2 && o.dims[1] === classes);
    if (!probabilities) {
      throw new BundleError(`${file} has no float32 [n, ${classes}] probability output (it has ${model.outputs.map(describeValue).join(', ') || 'none'})`);
    }
    parts.push({ model, prefix: market, output: probabilities.name });
  }

  let merged: MergedModel;
  try {
    merged = mergeModels(parts);
  } catch (error) {
    throw new BundleError(`${files.join(' and ')} cannot be served as one graph: ${(error as Error).message}`);
  }
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(merged.bytes);
  } catch (error) {
    throw await blameArtifact(ort, bytes, error as Error);
  }

  // Where each market's probabilities sit in a merged output row: 1X2's three, then O/U 2.5's two.
  const offsets = {} as Record<BundleMarket, number>;
  let width = 0;
  for (const market of MARKETS) {
    offsets[market] = width;
    width += MARKET_OUTPUTS[market].length;
  }
  const fetches = [merged.output];
  const rowBuffer = new Float32Array(featureCount);
  let rowBufferBusy = false;

  return {
    manifest,
    featureCount,
    async predict(rows) {
      const n = rows.length;
      for (let i = 0; i < n; i++) {
        const row = rows[i]!;
        if (row.length !== featureCount) throw new BundleError(`row ${i} has ${row.length} features, the bundle expects ${featureCount}`);
      }
      if (n === 0) return { h2h: [], ou25: [] };
      // A single row (a request's miss) goes through one buffer kept for the purpose: a fresh Float32Array of a
      // row is an off-heap ArrayBuffer in V8, whose allocation and collection measured 0.6–2 µs per call. A call
      // that starts while another holds the buffer gets its own, so no row is overwritten before ORT reads it.
      const reuse = n === 1 && !rowBufferBusy;
      const input = reuse ? rowBuffer : new Float32Array(n * featureCount);
      for (let i = 0; i < n; i++) input.set(rows[i]!, i * featureCount);
      let outputs: Ort.InferenceSession.ReturnType;
      if (reuse) rowBufferBusy = true;
      try {
        outputs = await session.run({ [merged.input]: new ort.Tensor('float32', input, [n, featureCount]) }, fetches);
      } finally {
        if (reuse) rowBufferBusy = false;
      }
      const probs = outputs[merged.output]!;
      // ORT's shape inference already refuses, at load, a declared width that the trees do not produce; this
      // guards the split by market against whatever else could change the shape of what was computed.
      if (probs.dims.length !== 2 || probs.dims[0] !== n || probs.dims[1] !== width) {
        throw new BundleError(
          `${files.join(' + ')} gave probabilities of shape [${probs.dims.join(', ')}], expected [${n}, ${width}] (${MARKETS.map((m) => MARKET_OUTPUTS[m].length).join(' + ')} per row)`,
        );
      }
      const data = probs.data as Float32Array;
      const h2h: number[][] = new Array(n);
      const ou25: number[][] = new Array(n);
      for (let i = 0, at = 0; i < n; i++, at += width) {
        h2h[i] = calibrate(manifest, 'h2h', data.subarray(at + offsets.h2h, at + offsets.h2h + MARKET_OUTPUTS.h2h.length));
        ou25[i] = calibrate(manifest, 'ou25', data.subarray(at + offsets.ou25, at + offsets.ou25 + MARKET_OUTPUTS.ou25.length));
      }
      return { h2h, ou25 };
    },
  };
}

/** A declared size that admits `size`: that number, or a dimension left open. */
const fits = (dim: number | string | null | undefined, size: number) => dim === size || typeof dim === 'string' || dim === null;

/**
 * ORT refused the merged graph: name the artifact it refuses on its own, so that the log says which upload to
 * fix; only if both load alone is the merge itself to blame.
 */
async function blameArtifact(ort: OrtNamespace, bytes: Record<BundleMarket, Uint8Array>, error: Error): Promise<BundleError> {
  for (const market of MARKETS) {
    try {
      const alone = await ort.InferenceSession.create(bytes[market]);
      await alone.release();
    } catch (own) {
      return new BundleError(`${BUNDLE_FILES[market]} is not a loadable ONNX model: ${(own as Error).message}`);
    }
  }
  return new BundleError(`${MARKETS.map((m) => BUNDLE_FILES[m]).join(' and ')} load alone but not merged: ${error.message}`);
}
