// npm run model:train [-- --run-id <id>] [--features <export.csv>] [--smoke] [--set-default] [--skip-import] [--bundles-dir <dir>]
// Makes sure the repo's history is in the database (DATABASE_URL or the embedded one; the load is idempotent
// and runs once), exports the feature matrix with the TypeScript feature builder (`npm run features:export`),
// then trains both markets with Debian's Python (models/train.py) into models/bundles/<run-id>/ and writes
// the model card docs/models/<run-id>.md. With --set-default, models/bundles/DEFAULT points at the new bundle.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FEATURE_VERSION } from '../src/services/features';
import { seedHistoricalData } from './lib/football-data/seed';
import { openLocalDatabase } from './lib/local-database';
import { migrate } from './lib/migrate';

const ROOT = new URL('..', import.meta.url).pathname;
/** Debian's interpreter: the `python3` first on PATH may be another build without xgboost and onnx. */
const PYTHON = process.env.SENZU_PYTHON ?? '/usr/bin/python3';
const REQUIRED_MODULES = ['xgboost', 'onnx', 'numpy', 'scipy'];

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    'run-id': { type: 'string' },
    features: { type: 'string' },
    // the exporter writes the current version of the TypeScript builder; --features may bring an older CSV
    'feature-version': { type: 'string', default: FEATURE_VERSION },
    smoke: { type: 'boolean', default: false },
    'force-calibration': { type: 'boolean', default: false },
    'set-default': { type: 'boolean', default: false },
    'skip-import': { type: 'boolean', default: false },
    'bundles-dir': { type: 'string', default: join(ROOT, 'models/bundles') },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    `usage: npm run model:train -- [--run-id ID] [--features export.csv] [--feature-version ${FEATURE_VERSION}] [--smoke] [--force-calibration] [--set-default] [--skip-import] [--bundles-dir DIR]`,
  );
  process.exit(0);
}

function run(command: string, args: string[], options: { cwd?: string } = {}): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, stdio: 'inherit', env: process.env });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolvePromise() : reject(new Error(`${command} ${args.join(' ')} exited with ${signal ?? code}`)),
    );
  });
}

const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-').toLowerCase();
const runId = values['run-id'] ?? `xgb-${values['feature-version']}-${stamp}${values.smoke ? '-smoke' : ''}`;
const bundlesDir = resolve(values['bundles-dir']!);
const out = join(bundlesDir, runId);
if (existsSync(out)) {
  console.error(`model:train: ${out} already exists; choose another --run-id`);
  process.exit(2);
}

try {
  await run(PYTHON, ['-c', `import ${REQUIRED_MODULES.join(', ')}`]);
} catch {
  console.error(
    `model:train: ${PYTHON} cannot import ${REQUIRED_MODULES.join(', ')}.\n` +
      '  Debian/Ubuntu: apt-get install -y python3-xgboost python3-sklearn python3-onnx python3-numpy\n' +
      '  elsewhere: see models/README.md (pip equivalents), and set SENZU_PYTHON to that interpreter',
  );
  process.exit(2);
}

const scratch = await mkdtemp(join(tmpdir(), 'senzu-train-'));
try {
  const features = values.features ? resolve(values.features) : join(scratch, 'features.csv');
  if (!values.features && !values['skip-import']) {
    // The export builds features from the database, so a fresh clone must have the history loaded first.
    const database = await openLocalDatabase();
    try {
      await migrate(database.url);
      await seedHistoricalData(database.url, (msg) => console.log(`[model:train] ${msg}`));
    } finally {
      await database.stop();
    }
  }
  if (!values.features) {
    console.log(`[model:train] exporting features to ${features}`);
    await run('npm', ['run', '--silent', 'features:export', '--', '--out', features]);
  }
  await mkdir(bundlesDir, { recursive: true });
  const started = Date.now();
  await run(PYTHON, [
    join(ROOT, 'models/train.py'),
    '--features', features,
    '--out', out,
    '--feature-version', values['feature-version']!,
    ...(values.smoke ? ['--smoke'] : []),
    ...(values['force-calibration'] ? ['--force-calibration'] : []),
  ]);
  console.log(`[model:train] bundle ${runId} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${out}`);
  if (!values.smoke) {
    const card = join(ROOT, 'docs/models', `${runId}.md`);
    await mkdir(join(ROOT, 'docs/models'), { recursive: true });
    await run(PYTHON, [join(ROOT, 'models/model_card.py'), out, card]);
    console.log(`[model:train] model card: ${card}`);
  }
  if (values['set-default']) {
    await writeFile(join(bundlesDir, 'DEFAULT'), `${runId}\n`);
    console.log(`[model:train] ${join(bundlesDir, 'DEFAULT')} -> ${runId}`);
  }
} catch (error) {
  console.error(`model:train failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await rm(scratch, { recursive: true, force: true });
}
