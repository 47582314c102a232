// Reading a model bundle directory from disk and registering it: artifacts to R2 under models/<id>/, a
// model_runs row pointing at them. Shared by `npm run model:register`, `npm start` and the test setup.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { BUNDLE_FILES, parseManifest, type BundleManifest } from '../../../src/services/inference/bundle';

export const BUNDLES_DIR = new URL('../../../models/bundles/', import.meta.url).pathname;

export interface BundleOnDisk {
  dir: string;
  manifest: BundleManifest;
  /** file name → bytes, bundle.json included */
  files: Map<string, Buffer>;
  manifestSha256: string;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

export async function defaultBundleDir(): Promise<string> {
  const id = (await readFile(join(BUNDLES_DIR, 'DEFAULT'), 'utf8')).trim();
  return join(BUNDLES_DIR, id);
}

/** Reads bundle.json and every artifact it lists, and refuses the bundle if any sha256 differs. */
export async function readBundle(dir: string): Promise<BundleOnDisk> {
  const manifestBytes = await readFile(join(dir, 'bundle.json'));
  const manifest = parseManifest(JSON.parse(manifestBytes.toString('utf8')));
  const files = new Map<string, Buffer>([['bundle.json', manifestBytes]]);
  for (const name of Object.values(BUNDLE_FILES)) {
    const bytes = await readFile(join(dir, name));
    if (sha256(bytes) !== manifest.files[name]) throw new Error(`${dir}/${name}: sha256 does not match bundle.json`);
    files.set(name, bytes);
  }
  return { dir, manifest, files, manifestSha256: sha256(manifestBytes) };
}

export const artifactPrefix = (manifest: BundleManifest) => `models/${manifest.id}/`;

export interface RegisteredRun {
  id: string;
  created: boolean;
}

/**
 * Inserts the model_runs row for a bundle (idempotent on the bundle.json hash). `upload` puts each file at
 * its R2 key; it runs before the row is written, so a registered run always has its artifacts.
 */
export async function registerBundle(
  pool: pg.Pool,
  bundle: BundleOnDisk,
  upload: (key: string, bytes: Buffer) => Promise<void>,
): Promise<RegisteredRun> {
  const existing = await pool.query<{ id: string }>(`select id from model_runs where artifact_sha256 = $1`, [bundle.manifestSha256]);
  for (const [name, bytes] of bundle.files) await upload(`${artifactPrefix(bundle.manifest)}${name}`, bytes);
  if (existing.rows[0]) return { id: existing.rows[0].id, created: false };
  const inserted = await pool.query<{ id: string }>(
    `insert into model_runs (name, feature_version, artifact_key, artifact_sha256, metadata)
     values ($1, $2, $3, $4, $5) returning id`,
    [bundle.manifest.id, bundle.manifest.featureVersion, artifactPrefix(bundle.manifest), bundle.manifestSha256, bundle.manifest],
  );
  return { id: inserted.rows[0]!.id, created: true };
}

/**
 * Makes a run active when none is: what `npm start` and the test setup do with the default bundle, so a
 * fresh machine serves predictions without training. Recorded as a forced activation with its reason,
 * because no test-season evaluation was stored for the gate (`npm run model:register` stores one).
 */
export async function activateDefault(pool: pg.Pool, runId: string): Promise<boolean> {
  const result = await pool.query(
    `update model_runs set status = 'active', activated_at = now(), activation_forced = true,
       activation_reason = 'default bundle activated by npm start / the test setup without a stored evaluation'
     where id = $1 and not exists (select 1 from model_runs where status = 'active')`,
    [runId],
  );
  return (result.rowCount ?? 0) > 0;
}
