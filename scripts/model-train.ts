// npm run model:train [-- --run-id <id>] [--through 2023-24] [--seasons 2020-21,…] [--smoke] [--set-default] [--skip-import] [--bundles-dir <dir>]
// Makes sure the repo's history is in the database (DATABASE_URL or the embedded one; the load is idempotent
// and runs once), builds the feature matrix with the TypeScript feature builder, then:
//   1. the rolling-origin evaluation of the recipe (scripts/lib/models/rolling.ts): one model per test season,
//      trained only on the seasons before it, scored by the TypeScript evaluation beside Pinnacle;
//   2. the shipped model by the same recipe, trained through --through (default: the last season in the data):
//      tuned on that season, refitted on every season up to it;
//   3. the bundle models/bundles/<run-id>/ carries the evaluation of step 1 (evaluation.json), which registration
//      stores and the activation gate reads, and the model card docs/models/<run-id>.md is written.
// With --set-default, models/bundles/DEFAULT points at the new bundle (refused when the gate refuses it).
// --sport basketball makes the NBA moneyline bundle instead (scripts/lib/nba/train-bundle.ts), whose default is
// models/bundles/DEFAULT.basketball; football (--sport soccer, the default) is unchanged by it.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { FEATURE_VERSION } from '../src/services/features';
import { NBA_FEATURE_VERSION } from '../src/services/features/basketball';
import { buildFeatureMatrix, writeFeatureCsv } from './lib/features';
import { seedHistoricalData } from './lib/football-data/seed';
import { openLocalDatabase } from './lib/local-database';
import { migrate } from './lib/migrate';
import { EVALUATION_FILE } from './lib/models/bundle-files';
import { trainNbaBundle } from './lib/nba/train-bundle';
import { PYTHON, pythonProblem, runCommand, TRAIN_PY } from './lib/models/python';
import { rollingEvaluation } from './lib/models/rolling';

const ROOT = new URL('..', import.meta.url).pathname;
const USAGE =
  'usage: npm run model:train -- [--sport soccer|basketball] [--run-id ID] [--through YYYY-YY] [--seasons YYYY-YY,…] [--smoke [--force-trees]] [--set-default] [--skip-import] [--bundles-dir DIR]';

let values: ReturnType<typeof parse>['values'];
function parse() {
  return parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      sport: { type: 'string', default: 'soccer' },
      'run-id': { type: 'string' },
      through: { type: 'string' },
      seasons: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      // Smoke runs only: keep the trees whatever the evidence says, so that tests exercise the tree path.
      'force-trees': { type: 'boolean', default: false },
      'set-default': { type: 'boolean', default: false },
      'skip-import': { type: 'boolean', default: false },
      'bundles-dir': { type: 'string', default: join(ROOT, 'models/bundles') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}
try {
  values = parse().values;
} catch (error) {
  console.error(`model:train: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (values['force-trees'] && !values.smoke) {
  console.error(`model:train: --force-trees is for --smoke runs only: a real bundle follows the evidence rule\n${USAGE}`);
  process.exit(2);
}
const SEASON = /^\d{4}-\d{2}$/;
const seasonList = values.seasons?.split(',').map((s) => s.trim());
for (const s of [...(seasonList ?? []), ...(values.through ? [values.through] : [])]) {
  if (!SEASON.test(s)) {
    console.error(`model:train: seasons look like 2023-24, not ${JSON.stringify(s)}\n${USAGE}`);
    process.exit(2);
  }
}

if (values.sport !== 'soccer' && values.sport !== 'basketball') {
  console.error(`model:train: --sport is soccer or basketball, not ${JSON.stringify(values.sport)}\n${USAGE}`);
  process.exit(2);
}

const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-').toLowerCase();
const bundlesDir = resolve(values['bundles-dir']!);

if (values.sport === 'basketball') {
  const problem = await pythonProblem();
  if (problem) {
    console.error(`model:train: ${problem}`);
    process.exit(2);
  }
  try {
    await trainNbaBundle({
      runId: values['run-id'] ?? `xgb-${NBA_FEATURE_VERSION}-${stamp}${values.smoke ? '-smoke' : ''}`,
      bundlesDir,
      through: values.through,
      seasons: seasonList,
      smoke: values.smoke!,
      forceTrees: values['force-trees']!,
      setDefault: values['set-default']!,
      skipImport: values['skip-import']!,
      log: (message) => console.log(`[model:train] ${message}`),
    });
    process.exit(0);
  } catch (error) {
    console.error(`model:train failed: ${(error as Error).message}`);
    process.exit(1);
  }
}

const runId = values['run-id'] ?? `xgb-${FEATURE_VERSION}-${stamp}${values.smoke ? '-smoke' : ''}`;
const out = join(bundlesDir, runId);
if (existsSync(out)) {
  console.error(`model:train: ${out} already exists; choose another --run-id`);
  process.exit(2);
}
const problem = await pythonProblem();
if (problem) {
  console.error(`model:train: ${problem}`);
  process.exit(2);
}

const log = (message: string) => console.log(`[model:train] ${message}`);
const scratch = await mkdtemp(join(tmpdir(), 'senzu-train-'));
const database = await openLocalDatabase();
const pool = new pg.Pool({ connectionString: database.url, max: 2 });
try {
  await migrate(database.url);
  // The features are built from the database, so a fresh clone must have the history loaded first.
  if (!values['skip-import']) await seedHistoricalData(database.url, log);
  const rows = await buildFeatureMatrix(pool);
  const features = join(scratch, 'features.csv');
  await writeFeatureCsv(rows, features);
  const seasons = [...new Set(rows.filter((r) => r.label1x2 !== null && r.season).map((r) => r.season!))].sort();
  const through = values.through ?? seasons[seasons.length - 1];
  if (!through || !seasons.includes(through)) throw new Error(`no finished matches in ${through ?? 'any season'}; seasons present: ${seasons.join(', ')}`);
  const upTo = seasons.filter((s) => s <= through);
  // By default the recipe is evaluated on the four seasons up to the one it is shipped through.
  const testSeasons = seasonList ?? upTo.slice(Math.max(2, upTo.length - 4));
  log(`${rows.length} matches; rolling-origin evaluation on ${testSeasons.join(', ')}`);

  const started = Date.now();
  const evaluation = await rollingEvaluation(pool, {
    seasons: testSeasons,
    workDir: scratch,
    smoke: values.smoke,
    forceTrees: values['force-trees'],
    rows,
    featuresCsv: features,
    log,
  });
  const evaluationPath = join(scratch, EVALUATION_FILE);
  await writeFile(evaluationPath, JSON.stringify(evaluation, null, 2) + '\n');
  log(`activation gate on the rolling evaluation: ${evaluation.decision.passes ? 'passes' : `refuses: ${evaluation.decision.reasons.join('; ')}`}`);

  await mkdir(bundlesDir, { recursive: true });
  await runCommand(PYTHON, [
    TRAIN_PY,
    '--features', features,
    '--out', out,
    '--feature-version', FEATURE_VERSION,
    '--validation-season', through,
    '--attach', evaluationPath,
    ...(values.smoke ? ['--smoke'] : []),
    ...(values['force-trees'] ? ['--trees', 'force'] : []),
  ]);
  log(`bundle ${runId} (trained through ${through}) in ${((Date.now() - started) / 1000).toFixed(1)} s: ${out}`);
  if (!values.smoke) {
    const card = join(ROOT, 'docs/models', `${runId}.md`);
    await mkdir(join(ROOT, 'docs/models'), { recursive: true });
    await runCommand(PYTHON, [join(ROOT, 'models/model_card.py'), out, card]);
    log(`model card: ${card}`);
  }
  if (values['set-default']) {
    if (!evaluation.decision.passes) throw new Error('the activation gate refuses this bundle, so it does not become the default');
    await writeFile(join(bundlesDir, 'DEFAULT'), `${runId}\n`);
    log(`${join(bundlesDir, 'DEFAULT')} -> ${runId}`);
  }
} catch (error) {
  console.error(`model:train failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await pool.end();
  await database.stop();
  await rm(scratch, { recursive: true, force: true });
}
