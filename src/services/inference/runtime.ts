// The one inference path for the Node CLIs (evaluation, parity) and the Worker. The ORT namespace is passed
// in because it is initialised differently in Node and in workerd (see ort-workerd.ts).
//
// An anchored bundle (format 2) is served as the market plus a correction: each market's trees give a margin,
// the runtime adds the margin of the margin-free market price and applies the link function,
//   1X2:        p = softmax(ln a + m)            a = [home, draw, away] anchor, m = the trees' 3 margins
//   over/under: p_over = sigmoid(logit a_over + m)
// (models/anchored.py is the Python side of the same contract). With no trees m = 0 and p is the anchor. A
// market without an anchor gets no probabilities: the trees are a correction, not a forecast of their own.
// A format-1 bundle's trees give probabilities, then its calibration applies; it ignores the anchors.
//
// The bundle keeps one ONNX file per market (what is registered, uploaded to R2 and checked by sha256), but
// they are served as one graph (onnx-merge.ts): onnxruntime-web's fixed cost per session.run is about as large
// as a market's trees, and a row needs both markets (issue #7, bench:inference).
import type * as Ort from 'onnxruntime-common';
import type { AnchorMarket, MarginMethod } from '../../domain/odds';
import { FEATURE_COUNT, FEATURE_INDEX, FEATURE_VERSION, type FeatureName } from '../features/names';
import { bundleSport, BUNDLE_FILES, BundleError, calibrate, isAnchored, isFootballManifest, MARKET_OUTPUTS, verifyArtifact, type BundleManifest, type BundleMarket, type FootballBundleManifest } from './bundle';
import { describeValue, mergeModels, ONNX_FLOAT, readOnnxModel, type MergedModel, type MergePart, type OnnxModel } from './onnx-merge';

/** The part of onnxruntime this module uses; Node passes the package, workerd a wrapper (ort-workerd.ts). */
export interface OrtNamespace {
  InferenceSession: { create(model: Uint8Array): Promise<Ort.InferenceSession> };
  Tensor: typeof Ort.Tensor;
}

/** Margin-free market probabilities per market, in the anchor's outcome order; null where there is no price. */
export interface AnchorProbabilities {
  /** [home, draw, away] */
  h2h: readonly number[] | null;
  /** [over, under] */
  ou25: readonly number[] | null;
}

export interface ModelInput {
  /** The feature version's whole vector (FEATURE_NAMES order, NaN for missing); the bundle picks its columns. */
  features: ArrayLike<number>;
  anchors: AnchorProbabilities;
}

export interface MarketProbabilities {
  /** Per row, in MARKET_OUTPUTS order; null where an anchored bundle had no anchor for the market. */
  h2h: (number[] | null)[];
  ou25: (number[] | null)[];
}

export interface ModelRuntime {
  manifest: FootballBundleManifest;
  /** Whether the bundle's trees are a correction of the market (format 2). */
  anchored: boolean;
  /** Each market's margin method: the bundle's (chosen on its validation season), or Shin for a format-1 bundle. */
  marginMethods: Record<AnchorMarket, MarginMethod>;
  /** The length of an input's feature vector: the feature version's. */
  featureCount: number;
  predict(rows: readonly ModelInput[]): Promise<MarketProbabilities>;
}

const MARKETS = Object.keys(BUNDLE_FILES) as BundleMarket[];
/** Probabilities are clipped before a logarithm, as in models/anchored.py. */
const EPS = 1e-15;
const clip = (p: number) => Math.min(Math.max(p, EPS), 1 - EPS);

export async function createModelRuntime(
  ort: OrtNamespace,
  manifest: BundleManifest,
  artifacts: Record<(typeof BUNDLE_FILES)[BundleMarket], ArrayBuffer | Uint8Array>,
): Promise<ModelRuntime> {
  // A basketball bundle has its own runtime (moneyline-runtime.ts); the registry may hand either over.
  if (!isFootballManifest(manifest)) throw new BundleError(`bundle ${manifest.id} is a ${bundleSport(manifest)} bundle; this runtime serves football's`);
  if (manifest.featureVersion !== FEATURE_VERSION) {
    throw new BundleError(`bundle ${manifest.id} needs features ${manifest.featureVersion}; this runtime builds ${FEATURE_VERSION}`);
  }
  const anchored = isAnchored(manifest);
  // The model's input columns within the feature version's vector.
  const columns = manifest.featureNames.map((name) => {
    const i = FEATURE_INDEX[name as FeatureName];
    if (i === undefined) throw new BundleError(`bundle ${manifest.id} names a feature ${JSON.stringify(name)} that ${FEATURE_VERSION} does not have`);
    return i;
  });
  if (!anchored && columns.some((c, i) => c !== i)) throw new BundleError(`a format-1 bundle takes the whole ${FEATURE_VERSION} vector in order`);
  const inputWidth = columns.length;
  // What each market's graph gives per row: margins (3 for 1X2, 1 for a binary market) or class probabilities.
  const widths = {} as Record<BundleMarket, number>;
  for (const market of MARKETS) widths[market] = anchored ? (market === 'h2h' ? 3 : 1) : MARKET_OUTPUTS[market].length;

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
    if (model.inputs.length !== 1 || !input || input.elemType !== ONNX_FLOAT || input.dims?.length !== 2 || !fits(input.dims[1], inputWidth)) {
      throw new BundleError(`${file} must take one float32 [n, ${inputWidth}] input, it takes ${model.inputs.map(describeValue).join(', ') || 'none'}`);
    }
    // The float tensor of shape [n, width] is the one fetched; a format-1 file's int64 label output is left out
    // of the merged graph: materialising it (a BigInt64Array per call) was a large share of a single-row run.
    // The width must be declared, since it is what splits the merged output by market.
    const width = widths[market];
    const output = model.outputs.find((o) => o.elemType === ONNX_FLOAT && o.dims?.length === 2 && o.dims[1] === width);
    if (!output) {
      throw new BundleError(
        `${file} has no float32 [n, ${width}] ${anchored ? 'margin' : 'probability'} output (it has ${model.outputs.map(describeValue).join(', ') || 'none'})`,
      );
    }
    parts.push({ model, prefix: market, output: output.name });
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

  // Where each market sits in a merged output row: 1X2's values, then O/U 2.5's.
  const offsets = {} as Record<BundleMarket, number>;
  let width = 0;
  for (const market of MARKETS) {
    offsets[market] = width;
    width += widths[market];
  }
  const fetches = [merged.output];
  const rowBuffer = new Float32Array(inputWidth);
  let rowBufferBusy = false;

  const marginMethods: Record<AnchorMarket, MarginMethod> = anchored
    ? { h2h: manifest.anchor['1x2'].marginMethod, ou25: manifest.anchor.ou25.marginMethod }
    : { h2h: 'shin', ou25: 'shin' };

  return {
    manifest,
    anchored,
    marginMethods,
    featureCount: FEATURE_COUNT,
    async predict(rows) {
      const n = rows.length;
      for (let i = 0; i < n; i++) {
        const features = rows[i]!.features;
        if (features.length !== FEATURE_COUNT) throw new BundleError(`row ${i} has ${features.length} features, the bundle expects ${FEATURE_COUNT}`);
      }
      if (n === 0) return { h2h: [], ou25: [] };
      // A single row (a request's miss) goes through one buffer kept for the purpose: a fresh Float32Array of a
      // row is an off-heap ArrayBuffer in V8, whose allocation and collection measured 0.6–2 µs per call. A call
      // that starts while another holds the buffer gets its own, so no row is overwritten before ORT reads it.
      const reuse = n === 1 && !rowBufferBusy;
      const input = reuse ? rowBuffer : new Float32Array(n * inputWidth);
      for (let i = 0, at = 0; i < n; i++) {
        const features = rows[i]!.features;
        for (let c = 0; c < inputWidth; c++) input[at++] = features[columns[c]!]!;
      }
      let outputs: Ort.InferenceSession.ReturnType;
      if (reuse) rowBufferBusy = true;
      try {
        outputs = await session.run({ [merged.input]: new ort.Tensor('float32', input, [n, inputWidth]) }, fetches);
      } finally {
        if (reuse) rowBufferBusy = false;
      }
      const out = outputs[merged.output]!;
      // ORT's shape inference already refuses, at load, a declared width that the trees do not produce; this
      // guards the split by market against whatever else could change the shape of what was computed.
      if (out.dims.length !== 2 || out.dims[0] !== n || out.dims[1] !== width) {
        throw new BundleError(
          `${files.join(' + ')} gave an output of shape [${out.dims.join(', ')}], expected [${n}, ${width}] (${MARKETS.map((m) => widths[m]).join(' + ')} per row)`,
        );
      }
      const data = out.data as Float32Array;
      const h2h: (number[] | null)[] = new Array(n);
      const ou25: (number[] | null)[] = new Array(n);
      for (let i = 0, at = 0; i < n; i++, at += width) {
        if (!anchored) {
          h2h[i] = calibrate(manifest, 'h2h', data.subarray(at + offsets.h2h, at + offsets.h2h + widths.h2h));
          ou25[i] = calibrate(manifest, 'ou25', data.subarray(at + offsets.ou25, at + offsets.ou25 + widths.ou25));
          continue;
        }
        const { anchors } = rows[i]!;
        h2h[i] = anchors.h2h ? anchoredProbabilities('h2h', anchors.h2h, data, at + offsets.h2h) : null;
        ou25[i] = anchors.ou25 ? anchoredProbabilities('ou25', anchors.ou25, data, at + offsets.ou25) : null;
      }
      return { h2h, ou25 };
    },
  };
}

/**
 * The anchored model's probabilities in MARKET_OUTPUTS order, in float64, from the anchor (1X2 [home, draw,
 * away]; O/U [over, under]) and the trees' margins at `margins[at…]`:
 * 1X2 softmax(ln a_k + m_k); O/U [1 − q, q] with q = sigmoid(logit a_over + m).
 */
export function anchoredProbabilities(market: BundleMarket, anchor: readonly number[], margins: ArrayLike<number>, at = 0): number[] {
  if (market === 'h2h') {
    if (anchor.length !== 3) throw new BundleError(`a 1X2 anchor has 3 probabilities, got ${anchor.length}`);
    const z = [0, 0, 0];
    let max = -Infinity;
    for (let k = 0; k < 3; k++) max = Math.max(max, (z[k] = Math.log(clip(anchor[k]!)) + margins[at + k]!));
    let sum = 0;
    for (let k = 0; k < 3; k++) sum += z[k] = Math.exp(z[k]! - max);
    return z.map((e) => e / sum);
  }
  if (anchor.length !== 2) throw new BundleError(`an over/under anchor has 2 probabilities, got ${anchor.length}`);
  const p = clip(anchor[0]!);
  const over = 1 / (1 + Math.exp(-(Math.log(p / (1 - p)) + margins[at]!)));
  return [1 - over, over];
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
