// Which bundle a CLI evaluates: a bundle directory, a registered run id (its bundle under models/bundles/),
// or by default the active run, else models/bundles/DEFAULT.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { BundleError, isMoneylineManifest, MONEYLINE_BUNDLE_FILE } from '../../../src/services/inference/bundle';
import { createMoneylineRuntime, type MoneylineRuntime } from '../../../src/services/inference/moneyline-runtime';
import { createModelRuntime, type ModelRuntime } from '../../../src/services/inference/runtime';
import { ort } from '../ort-node';
import { BUNDLES_DIR, defaultBundleDir, readBundle, type BundleOnDisk } from './bundle-files';

export async function resolveBundle(db: Pick<pg.Pool, 'query'>, model: string | undefined): Promise<BundleOnDisk> {
  if (model && existsSync(model) && statSync(model).isDirectory()) return readBundle(model);
  if (model) {
    const { rows } = await db.query<{ name: string }>(`select name from model_runs where id::text = $1 or name = $1`, [model]);
    if (!rows[0]) throw new Error(`no model run or bundle directory "${model}"`);
    return readBundle(join(BUNDLES_DIR, rows[0].name));
  }
  // Football's active run: since each sport has its own, the NBA's may be active beside it.
  const { rows } = await db.query<{ name: string }>(
    `select r.name from model_runs r join sports s on s.id = r.sport_id where r.status = 'active' and s.key = 'soccer'`,
  );
  return readBundle(rows[0] ? join(BUNDLES_DIR, rows[0].name) : await defaultBundleDir());
}

export async function nodeRuntime(bundle: BundleOnDisk): Promise<ModelRuntime> {
  return createModelRuntime(ort, bundle.manifest, {
    'model-1x2.onnx': bundle.files.get('model-1x2.onnx')!,
    'model-ou25.onnx': bundle.files.get('model-ou25.onnx')!,
  });
}

/** A basketball bundle's runtime under Node's onnxruntime-web. */
export async function nodeMoneylineRuntime(bundle: BundleOnDisk): Promise<MoneylineRuntime> {
  if (!isMoneylineManifest(bundle.manifest)) throw new BundleError(`${bundle.dir} is not a basketball moneyline bundle`);
  return createMoneylineRuntime(ort, bundle.manifest, { [MONEYLINE_BUNDLE_FILE]: bundle.files.get(MONEYLINE_BUNDLE_FILE)! });
}
