// npm run features:export -- [--out file.csv] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--no-store]
// Builds the v1 feature vectors from all history in DATABASE_URL (or the embedded database of `npm start`),
// upserts those of the window into feature_vectors and writes them as the training CSV.
import { resolve } from 'node:path';
import pg from 'pg';
import { FEATURE_VERSION } from '../src/services/features';
import { featureMatrixFromInputs, loadFeatureInputs, storeFeatureVectors, windowBounds, writeFeatureCsv, type FeatureMatrixOptions } from './lib/features';
import { openLocalDatabase } from './lib/local-database';
import { migrate } from './lib/migrate';

const USAGE = `usage: npm run features:export -- [--out file.csv] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--no-store]
  --out       CSV to write (default .data/features/features_${FEATURE_VERSION}.csv)
  --from/--to kick-off days to export, UTC, both inclusive (default: all); state is always built from all history
  --no-store  do not upsert feature_vectors`;

interface Args extends FeatureMatrixOptions {
  out: string;
  store: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { out: `.data/features/features_${FEATURE_VERSION}.csv`, store: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--') continue;
    if (flag === '--no-store') {
      args.store = false;
      continue;
    }
    const [name, inline] = flag.includes('=') ? [flag.slice(0, flag.indexOf('=')), flag.slice(flag.indexOf('=') + 1)] : [flag, undefined];
    if (name !== '--out' && name !== '--from' && name !== '--to') throw new UsageError(`unknown argument ${flag}`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
    if (name === '--out') args.out = value;
    else args[name === '--from' ? 'from' : 'to'] = value;
  }
  windowBounds(args);
  return args;
}

class UsageError extends Error {}

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
let args: Args;
try {
  args = parseArgs(argv);
} catch (error) {
  console.error(`features:export: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}

const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(2);
const database = await openLocalDatabase();
const pool = new pg.Pool({ connectionString: database.url, max: 2 });
try {
  const started = performance.now();
  await migrate(database.url);
  let t = performance.now();
  const inputs = await loadFeatureInputs(pool);
  const quoteCount = [...inputs.quotes.values()].reduce((n, q) => n + q.length, 0);
  console.log(`read ${inputs.matches.length} matches and ${quoteCount} pre-match prices in ${seconds(t)} s`);
  t = performance.now();
  const rows = featureMatrixFromInputs(inputs, args);
  console.log(`built ${rows.length} feature vectors (${FEATURE_VERSION}) in ${seconds(t)} s`);
  if (args.store) {
    t = performance.now();
    const written = await storeFeatureVectors(pool, rows);
    console.log(`feature_vectors: ${written} inserted or changed, ${rows.length - written} unchanged, in ${seconds(t)} s`);
  }
  t = performance.now();
  const out = resolve(args.out);
  await writeFeatureCsv(rows, out);
  console.log(`wrote ${out} in ${seconds(t)} s`);
  console.log(`done in ${seconds(started)} s`);
} catch (error) {
  console.error(`features:export failed: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
} finally {
  await pool.end();
  await database.stop();
}
