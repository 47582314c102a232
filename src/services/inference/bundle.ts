// The model bundle: two ONNX files (1X2 and over/under 2.5), the calibration fitted on the validation
// season, and the metadata that says how it was made. bundle.json is written by models/train.py; this is
// the one TypeScript reading of it, shared by the Node CLIs and the Worker.
import { z } from 'zod';

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

export const BundleManifestSchema = z
  .object({
    id: z.string().min(1),
    createdAt: z.string(),
    featureVersion: z.string().min(1),
    featureNames: z.array(z.string()).min(1),
    windows: z.record(z.string(), z.unknown()),
    hyperParameters: z.record(z.string(), z.unknown()),
    calibration: z.object({ '1x2': Calibration1x2, ou25: CalibrationBinary }),
    metrics: z.record(z.string(), z.unknown()).optional(),
    files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest')),
  })
  .passthrough();

export type BundleManifest = z.infer<typeof BundleManifestSchema>;

export const BUNDLE_FILES = { h2h: 'model-1x2.onnx', ou25: 'model-ou25.onnx' } as const;

export class BundleError extends Error {
  override name = 'BundleError';
}

export function parseManifest(json: unknown): BundleManifest {
  const parsed = BundleManifestSchema.safeParse(json);
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

export function calibrate(manifest: BundleManifest, market: BundleMarket, raw: ArrayLike<number>): number[] {
  if (market === 'h2h') {
    const c = manifest.calibration['1x2'];
    return c.method === 'temperature' ? applyTemperature(raw, c.T) : Array.from(raw);
  }
  const c = manifest.calibration.ou25;
  return c.method === 'platt' ? applyPlatt(raw[1]!, c.a, c.b) : Array.from(raw);
}
