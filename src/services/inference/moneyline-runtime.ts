// The basketball bundle's inference: the NBA moneyline, served as the market plus a correction, the same contract
// as football's anchored bundles (runtime.ts) with one binary market:
//   p_home = sigmoid(logit(a_home) + m)      a = the margin-free [home, away] anchor, m = the trees' margin
// (models/train_nba.py writes m; a model with no trees is an empty ensemble whose margin is 0, so p is the anchor).
// A game without an anchor gets no probabilities: the trees are a correction, not a forecast of their own.
//
// Its own module rather than a third market of runtime.ts: the feature vector (nba-v1), the file and the anchor's
// outcomes all differ, and football's merged graph has no use for a sport that has one file.
import type * as Ort from 'onnxruntime-common';
import type { MarginMethod } from '../../domain/odds';
import { NBA_FEATURE_COUNT, NBA_FEATURE_INDEX, NBA_FEATURE_VERSION, type NbaFeatureName } from '../features/basketball/names';
import { BundleError, isMoneylineManifest, MONEYLINE_BUNDLE_FILE, verifyArtifact, type MoneylineBundleManifest } from './bundle';
import { describeValue, ONNX_FLOAT, readOnnxModel, type OnnxModel } from './onnx-merge';
import type { OrtNamespace } from './runtime';

export interface MoneylineRow {
  /** The whole nba-v1 vector (NBA_FEATURE_NAMES order, NaN = missing); the bundle picks its columns. */
  features: ArrayLike<number>;
  /** The margin-free [home, away] moneyline probabilities; null where the game has no price. */
  anchor: readonly [number, number] | null;
}

export interface MoneylineRuntime {
  manifest: MoneylineBundleManifest;
  /** The margin method the bundle chose on its validation season: the anchor must be made with it. */
  marginMethod: MarginMethod;
  /** The length of a row's feature vector: nba-v1's. */
  featureCount: number;
  /** [home, away] per row; null where the row has no anchor. */
  predict(rows: readonly MoneylineRow[]): Promise<Array<[number, number] | null>>;
}

/** Probabilities are clipped before the logit, as in models/anchored.py. */
const EPS = 1e-15;
const clip = (p: number) => Math.min(Math.max(p, EPS), 1 - EPS);

/** [home, away] from the anchor's home probability and the trees' margin, in float64. */
export function moneylineProbabilities(anchor: readonly [number, number], margin: number): [number, number] {
  const a = clip(anchor[0]);
  const home = 1 / (1 + Math.exp(-(Math.log(a / (1 - a)) + margin)));
  return [home, 1 - home];
}

export async function createMoneylineRuntime(
  ort: OrtNamespace,
  manifest: MoneylineBundleManifest,
  artifacts: Record<typeof MONEYLINE_BUNDLE_FILE, ArrayBuffer | Uint8Array>,
): Promise<MoneylineRuntime> {
  // The type says basketball, but the registry's row is JSON: a football manifest here must not be run as one.
  if (!isMoneylineManifest(manifest)) throw new BundleError(`bundle ${(manifest as { id?: string }).id} is not a basketball moneyline bundle`);
  if (manifest.featureVersion !== NBA_FEATURE_VERSION) {
    throw new BundleError(`bundle ${manifest.id} needs features ${manifest.featureVersion}; this runtime builds ${NBA_FEATURE_VERSION}`);
  }
  const columns = manifest.featureNames.map((name) => {
    const i = NBA_FEATURE_INDEX[name as NbaFeatureName];
    if (i === undefined) throw new BundleError(`bundle ${manifest.id} names a feature ${JSON.stringify(name)} that ${NBA_FEATURE_VERSION} does not have`);
    return i;
  });
  const inputWidth = columns.length;

  const file = MONEYLINE_BUNDLE_FILE;
  const artifact = artifacts[file];
  if (!artifact) throw new BundleError(`${file} is missing`);
  await verifyArtifact(manifest, file, artifact);
  const bytes = artifact instanceof Uint8Array ? artifact : new Uint8Array(artifact);
  let model: OnnxModel;
  try {
    model = readOnnxModel(bytes);
  } catch (error) {
    throw new BundleError(`${file} is not a loadable ONNX model: ${(error as Error).message}`);
  }
  const input = model.inputs[0];
  if (model.inputs.length !== 1 || !input || input.elemType !== ONNX_FLOAT || input.dims?.length !== 2 || !fits(input.dims[1], inputWidth)) {
    throw new BundleError(`${file} must take one float32 [n, ${inputWidth}] input, it takes ${model.inputs.map(describeValue).join(', ') || 'none'}`);
  }
  // One margin per row: a [n, 2] output would be probabilities (a model not trained on the anchor), refused.
  const output = model.outputs.find((o) => o.elemType === ONNX_FLOAT && o.dims?.length === 2 && o.dims[1] === 1);
  if (!output) throw new BundleError(`${file} has no float32 [n, 1] margin output (it has ${model.outputs.map(describeValue).join(', ') || 'none'})`);

  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes);
  } catch (error) {
    throw new BundleError(`${file} is not a loadable ONNX model: ${(error as Error).message}`);
  }
  const fetches = [output.name];

  return {
    manifest,
    marginMethod: manifest.anchor.h2h.marginMethod,
    featureCount: NBA_FEATURE_COUNT,
    async predict(rows) {
      const n = rows.length;
      for (let i = 0; i < n; i++) {
        const { features, anchor } = rows[i]!;
        if (features.length !== NBA_FEATURE_COUNT) throw new BundleError(`row ${i} has ${features.length} features, the bundle expects ${NBA_FEATURE_COUNT}`);
        if (anchor && anchor.length !== 2) throw new BundleError(`a moneyline anchor has 2 probabilities, got ${(anchor as readonly number[]).length}`);
      }
      // Only the rows with an anchor are worth a run: the others get null whatever the trees say.
      const priced = rows.flatMap((r, i) => (r.anchor ? [i] : []));
      const out: Array<[number, number] | null> = rows.map(() => null);
      if (priced.length === 0) return out;
      const data = new Float32Array(priced.length * inputWidth);
      priced.forEach((row, k) => {
        const features = rows[row]!.features;
        for (let c = 0; c < inputWidth; c++) data[k * inputWidth + c] = features[columns[c]!]!;
      });
      const result = await session.run({ [input.name]: new ort.Tensor('float32', data, [priced.length, inputWidth]) }, fetches);
      const margins = result[output.name]!;
      if (margins.dims.length !== 2 || margins.dims[0] !== priced.length || margins.dims[1] !== 1) {
        throw new BundleError(`${file} gave an output of shape [${margins.dims.join(', ')}], expected [${priced.length}, 1]`);
      }
      const m = margins.data as Float32Array;
      priced.forEach((row, k) => (out[row] = moneylineProbabilities(rows[row]!.anchor!, m[k]!)));
      return out;
    },
  };
}

/** A declared size that admits `size`: that number, or a dimension left open. */
const fits = (dim: number | string | null | undefined, size: number) => dim === size || typeof dim === 'string' || dim === null;
