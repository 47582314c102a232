// The model bundle: ONNX files and the metadata that says how they were made. A football bundle has two (1X2
// and over/under 2.5), written by models/train.py; a basketball bundle one (the moneyline), written by
// models/train_nba.py --bundle. This is the one TypeScript reading of bundle.json, shared by the Node CLIs and
// the Worker.
//
// The sport is the `sport` field; a bundle without one is football's (they were made before there was another).
// Football has two formats:
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

/**
 * Basketball's moneyline bundle: always market-anchored (format 2), one file whose trees give the margin added to
 * the margin-free closing home probability. Its `featureNames` are columns of the nba-v1 vector, checked by the
 * runtime, which knows the feature version.
 */
const MoneylineManifest = z
  .object({
    ...common,
    format: z.literal(2),
    sport: z.literal('basketball'),
    anchor: z.object({ h2h: MarketAnchorConfig }),
    trainedOn: z.object({ from: z.string(), to: z.string() }).optional(),
  })
  .passthrough();

export const BundleManifestSchema = z.union([MoneylineManifest, AnchoredManifest, LegacyManifest]);

export type BundleManifest = z.infer<typeof BundleManifestSchema>;
export type AnchoredBundleManifest = z.infer<typeof AnchoredManifest>;
export type LegacyBundleManifest = z.infer<typeof LegacyManifest>;
export type MoneylineBundleManifest = z.infer<typeof MoneylineManifest>;
/** A football bundle (1X2 and over/under 2.5), of either format. */
export type FootballBundleManifest = AnchoredBundleManifest | LegacyBundleManifest;

/** The sport whose matches a bundle prices (`sports.key`): a bundle that names none is football's. */
export const bundleSport = (manifest: BundleManifest): string => (manifest as { sport?: string }).sport ?? 'soccer';

export const isMoneylineManifest = (manifest: BundleManifest): manifest is MoneylineBundleManifest => bundleSport(manifest) === 'basketball';
export const isFootballManifest = (manifest: BundleManifest): manifest is FootballBundleManifest => bundleSport(manifest) === 'soccer';
/** A market-anchored football bundle (format 2). */
export const isAnchored = (manifest: BundleManifest): manifest is AnchoredBundleManifest => manifest.format === 2 && isFootballManifest(manifest);
export const isLegacy = (manifest: BundleManifest): manifest is LegacyBundleManifest => manifest.format === undefined;

export const BUNDLE_FILES = { h2h: 'model-1x2.onnx', ou25: 'model-ou25.onnx' } as const;
export const MONEYLINE_BUNDLE_FILE = 'model-h2h.onnx';

/** The model files a bundle of the manifest's sport must have (each with its sha256 in `files`). */
export const requiredBundleFiles = (manifest: BundleManifest): readonly string[] =>
  isMoneylineManifest(manifest) ? [MONEYLINE_BUNDLE_FILE] : Object.values(BUNDLE_FILES);

export class BundleError extends Error {
  override name = 'BundleError';
}

const SPORTS = ['soccer', 'basketball'];

export function parseManifest(json: unknown): BundleManifest {
  // The sport and the format pick the schema, so that a refusal names the fields of the kind the file claims to be.
  const object = json !== null && typeof json === 'object' ? (json as { format?: unknown; sport?: unknown }) : {};
  const { format, sport } = object;
  if (sport !== undefined && !SPORTS.includes(sport as string)) throw new BundleError(`bundle.json is for sport ${JSON.stringify(sport)}; this runtime serves ${SPORTS.join(' and ')}`);
  if (format !== undefined && format !== 2) throw new BundleError(`bundle.json has format ${JSON.stringify(format)}; this runtime reads format 2 (and format 1, which has no format field)`);
  if (sport === 'basketball' && format !== 2) throw new BundleError('a basketball bundle.json must be format 2 (market-anchored)');
  const schema = sport === 'basketball' ? MoneylineManifest : format === 2 ? AnchoredManifest : LegacyManifest;
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new BundleError(`bundle.json is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  for (const file of requiredBundleFiles(parsed.data)) {
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
