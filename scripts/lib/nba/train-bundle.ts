// `npm run model:train -- --sport basketball`: the NBA moneyline bundle, made as football's is.
//   1. the NBA archive (data/nba) is loaded if it is not already (each file once: its succeeded import job);
//   2. the rolling-origin evaluation of the recipe (evaluate.ts, the same as `npm run evaluate -- --sport
//      basketball --rolling`): DEFAULT_NBA_ROLLING_SEASONS up to the shipped season, or the last two for --smoke;
//   3. the shipped model by the same recipe (train_nba.py --bundle): tuned on the last season, refitted on every
//      season up to it, carrying step 2 as its evaluation.json, which registration stores and the gate reads.
// With --set-default, models/bundles/DEFAULT.basketball names the new bundle (refused when the gate refuses it).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { NBA_FEATURE_VERSION } from '../../../src/services/features/basketball';
import { openLocalDatabase } from '../local-database';
import { migrate } from '../migrate';
import { defaultFileOf, EVALUATION_FILE } from '../models/bundle-files';
import { PYTHON, runCommand } from '../models/python';
import { DEFAULT_NBA_ROLLING_SEASONS, nbaRollingEvaluation, summarizeNbaRolling, TRAIN_NBA_PY } from './evaluate';
import { buildNbaFeatureMatrix, writeNbaFeatureCsv } from './features';
import { loadNbaArchiveIfNeeded } from './import';

/** A --smoke run evaluates only the last two seasons: each fold is seconds, and the shape is what is tested. */
export const NBA_SMOKE_SEASONS = 2;

export interface NbaBundleOptions {
  runId: string;
  bundlesDir: string;
  through?: string;
  seasons?: readonly string[];
  smoke: boolean;
  forceTrees: boolean;
  setDefault: boolean;
  skipImport: boolean;
  log: (message: string) => void;
}

export async function trainNbaBundle(options: NbaBundleOptions): Promise<void> {
  const { log } = options;
  const out = join(options.bundlesDir, options.runId);
  if (existsSync(out)) throw new Error(`${out} already exists; choose another --run-id`);
  const scratch = await mkdtemp(join(tmpdir(), 'senzu-train-nba-'));
  const database = await openLocalDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  try {
    await migrate(database.url);
    if (!options.skipImport) await loadNbaArchiveIfNeeded(pool, log);
    const rows = await buildNbaFeatureMatrix(pool);
    const features = join(scratch, `bundle_${NBA_FEATURE_VERSION}.csv`);
    await writeNbaFeatureCsv(rows, features);
    const seasons = [...new Set(rows.filter((r) => r.labelHomeWin !== null && r.closing.h2h !== null).map((r) => r.season))].sort();
    const through = options.through ?? seasons[seasons.length - 1];
    if (!through || !seasons.includes(through)) throw new Error(`no finished NBA games with a moneyline in ${through ?? 'any season'}; seasons present: ${seasons.join(', ') || 'none'}`);
    const upTo = seasons.filter((s) => s <= through);
    const testSeasons = options.seasons ?? (options.smoke ? upTo.slice(-NBA_SMOKE_SEASONS) : DEFAULT_NBA_ROLLING_SEASONS.filter((s) => s <= through));
    log(`${rows.length} games; rolling-origin evaluation on ${testSeasons.join(', ')}`);

    const started = Date.now();
    const evaluation = await nbaRollingEvaluation(pool, { seasons: testSeasons, workDir: scratch, smoke: options.smoke, forceTrees: options.forceTrees, log });
    const evaluationPath = join(scratch, EVALUATION_FILE);
    await writeFile(evaluationPath, JSON.stringify(evaluation, null, 2) + '\n');
    console.log(summarizeNbaRolling(evaluation));

    await mkdir(options.bundlesDir, { recursive: true });
    await runCommand(PYTHON, [
      TRAIN_NBA_PY,
      '--features', features,
      '--out', out,
      '--validation-season', through,
      '--bundle',
      '--attach', evaluationPath,
      ...(options.smoke ? ['--smoke'] : []),
      ...(options.forceTrees ? ['--trees', 'force'] : []),
    ]);
    log(`bundle ${options.runId} (trained through ${through}) in ${((Date.now() - started) / 1000).toFixed(1)} s: ${out}`);
    if (options.setDefault) {
      if (!evaluation.decision.passes) throw new Error(`the activation gate refuses this bundle, so it does not become the default: ${evaluation.decision.reasons.join('; ')}`);
      const pointer = join(options.bundlesDir, defaultFileOf('basketball'));
      await writeFile(pointer, `${options.runId}\n`);
      log(`${pointer} -> ${options.runId}`);
    }
  } finally {
    await pool.end();
    await database.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}
