// The model bundle: two ONNX files (1X2 and over/under 2.5) and the metadata that says how they were made.
// bundle.json is written by models/train.py; this is the one TypeScript reading of it, shared by the Node CLIs
// and the Worker.
//
// Two formats:
// - format 2 (the current one): market-anchored. Each file's trees output a margin that the runtime adds to
//   the margin-free market price (the anchor) before the link function; `anchor` names each market's margin
//   method. The input is `featureNames`, a subset of the feature version's vector.
// - format 1 (no `format` field): probabilities straight from the trees, then the bundle's calibration. Still
//   loaded so that a registered older run keeps serving and the benchmarks can run it beside a new one.
import { z } from 'zod';
import { MARGIN_METHODS } from '../../domain/odds';

export const MARKET_OUTPUTS = {
  h2h: ['home', 'draw', 'away'],
  ou25: ['under', 'over'],
} as const;
export type BundleMarket = keyof typeof MARKET_OUTPUTS;

const Calibration1x2 = z.discriminatedUnion('method', [
  z.object({ method: z.literal('none') }),
  z.object({ method: z.literal('temperature'), T: z.number().positive() }),
]);
const CalibrationBinary = z.discriminatedUnion('method', [
  z.object({ method: z.literal('none') }),
  z.object({ method: z.literal('platt'), a: z.number(), b: z.number() }),
]);

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest');
const MarketAnchorConfig = z.object({ marginMethod: z.enum(MARGIN_METHODS) }).passthrough();

const common = {
  id: z.string().min(1),
  createdAt: z.string(),
  featureVersion: z.string().min(1),
  featureNames: z.array(z.string()).min(1),
  windows: z.record(z.string(), z.unknown()),
  hyperParameters: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), z.unknown()).optional(),
  files: z.record(z.string(), Sha256Hex),
};

const AnchoredManifest = z
  .object({
    ...common,
    format: z.literal(2),
    anchor: z.object({ '1x2': MarketAnchorConfig, ou25: MarketAnchorConfig }),
  })
  .passthrough();

const LegacyManifest = z
  .object({
    ...common,
    format: z.undefined().optional(),
    calibration: z.object({ '1x2': Calibration1x2, ou25: CalibrationBinary }),
  })
  .passthrough();

export const BundleManifestSchema = z.union([AnchoredManifest, LegacyManifest]);

export type BundleManifest = z.infer<typeof BundleManifestSchema>;
export type AnchoredBundleManifest = z.infer<typeof AnchoredManifest>;
export type LegacyBundleManifest = z.infer<typeof LegacyManifest>;

export const isAnchored = (manifest: BundleManifest): manifest is AnchoredBundleManifest => manifest.format === 2;

export const BUNDLE_FILES = { h2h: 'model-1x2.onnx', ou25: 'model-ou25.onnx' } as const;

export class BundleError extends Error {
  override name = 'BundleError';
}

export function parseManifest(json: unknown): BundleManifest {
  // The format picks the schema, so that a refusal names the fields of the format the file claims to be.
  const format = json !== null && typeof json === 'object' ? (json as { format?: unknown }).format : undefined;
  if (format !== undefined && format !== 2) throw new BundleError(`bundle.json has format ${JSON.stringify(format)}; this runtime reads format 2 (and format 1, which has no format field)`);
  const parsed = (format === 2 ? AnchoredManifest : LegacyManifest).safeParse(json);
  if (!parsed.success) {
    throw new BundleError(`bundle.json is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  for (const file of Object.values(BUNDLE_FILES)) {
    if (!parsed.data.files[file]) throw new BundleError(`bundle.json lists no sha256 for ${file}`);
  }
  return parsed.data;
}

export async function sha256Hex(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Refuses an artifact whose bytes are not the ones the bundle was registered with. */
export async function verifyArtifact(manifest: BundleManifest, file: string, bytes: ArrayBuffer | Uint8Array): Promise<void> {
  const expected = manifest.files[file];
  const actual = await sha256Hex(bytes);
  if (actual !== expected) throw new BundleError(`${file}: sha256 ${actual} does not match the bundle's ${expected}`);
}

/** Temperature scaling of a 3-way distribution: p_i ∝ p_i^(1/T). */
export function applyTemperature(p: ArrayLike<number>, T: number): number[] {
  const powered = Array.from(p, (x) => Math.pow(Math.max(x, 1e-15), 1 / T));
  const sum = powered.reduce((a, b) => a + b, 0);
  return powered.map((x) => x / sum);
}

/** Platt scaling of a binary probability: sigmoid(a·logit(p) + b); returns [1 − q, q]. */
export function applyPlatt(pPositive: number, a: number, b: number): [number, number] {
  const p = Math.min(Math.max(pPositive, 1e-15), 1 - 1e-15);
  const q = 1 / (1 + Math.exp(-(a * Math.log(p / (1 - p)) + b)));
  return [1 - q, q];
}

/** A format-1 bundle's calibration of its trees' probabilities. */
export function calibrate(manifest: LegacyBundleManifest, market: BundleMarket, raw: ArrayLike<number>): number[] {
  if (market === 'h2h') {
    const c = manifest.calibration['1x2'];
    return c.method === 'temperature' ? applyTemperature(raw, c.T) : Array.from(raw);
  }
  const c = manifest.calibration.ou25;
  return c.method === 'platt' ? applyPlatt(raw[1]!, c.a, c.b) : Array.from(raw);
}
