// npm run features:export -- [--out file.csv] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--no-store] [--lake] [--store-recent-months N]
// npm run features:export -- --sport basketball [--out file.csv] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
// Builds the v1 feature vectors from all history in DATABASE_URL (or the embedded database of `npm start`),
// upserts those of the window into feature_vectors and writes them as the training CSV; with --lake also as
// Parquet to the S3 lake (scripts/lib/lake/features.ts), partitioned by feature version and kick-off month.
import { resolve } from 'node:path';
import pg from 'pg';
import { FEATURE_VERSION } from '../src/services/features';
import { featureMatrixFromInputs, loadFeatureInputs, storeFeatureVectors, windowBounds, writeFeatureCsv, type FeatureMatrixOptions } from './lib/features';
import { lakeStore, missingSettings } from '../src/services/artifacts';
import { writeFeatureLake } from './lib/lake/features';
import { exitWithUsageOnHelp, sportArgument } from './lib/cli';
import { storeSettingsFromEnv } from './lib/lake/settings';
import { buildNbaFeatureMatrix, writeNbaFeatureCsv } from './lib/nba/features';
import { NBA_FEATURE_VERSION } from '../src/services/features/basketball';
import { openLocalDatabase } from './lib/local-database';
import { migrate } from './lib/migrate';

const USAGE = `usage: npm run features:export -- [--sport football|basketball] [--out file.csv] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--no-store]
  --sport     football (default: the v1 features) or basketball (nba-v1, the CSV only: models/train_nba.py reads
              it; the feature store, --lake and feature_vectors are football's)
  --out       CSV to write (default .data/features/features_<version>.csv: ${FEATURE_VERSION}, ${NBA_FEATURE_VERSION})
  --from/--to kick-off days to export, UTC, both inclusive (default: all); state is always built from all history
  --no-store  do not upsert feature_vectors
  --lake      also write the window as Parquet to the S3 lake (S3_BUCKET, AWS_REGION, AWS_ACCESS_KEY_ID,
              AWS_SECRET_ACCESS_KEY; S3_ENDPOINT for a non-AWS S3), one object per feature version and month
  --store-recent-months N  upsert into feature_vectors only matches kicking off in the last N months (the
              lake keeps all history; Postgres what serving reads)`;

interface Args extends FeatureMatrixOptions {
  sport: 'football' | 'basketball';
  out: string;
  store: boolean;
  lake: boolean;
  storeRecentMonths?: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { sport: 'football', out: '', store: true, lake: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--') continue;
    if (flag === '--no-store') {
      args.store = false;
      continue;
    }
    if (flag === '--lake') {
      args.lake = true;
      continue;
    }
    const [name, inline] = flag.includes('=') ? [flag.slice(0, flag.indexOf('=')), flag.slice(flag.indexOf('=') + 1)] : [flag, undefined];
    if (name !== '--out' && name !== '--from' && name !== '--to' && name !== '--store-recent-months' && name !== '--sport') throw new UsageError(`unknown argument ${flag}`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
    if (name === '--out') args.out = value;
    else if (name === '--sport') args.sport = sportArgument(value, (message) => new UsageError(message));
    else if (name === '--store-recent-months') {
      args.storeRecentMonths = Number(value);
      if (!Number.isInteger(args.storeRecentMonths) || args.storeRecentMonths < 1) throw new UsageError('--store-recent-months must be a positive integer');
    }
    else args[name === '--from' ? 'from' : 'to'] = value;
  }
  windowBounds(args);
  if (args.sport === 'basketball') {
    if (args.lake || args.storeRecentMonths !== undefined) throw new UsageError('--lake and --store-recent-months are for football: the basketball export writes the CSV only');
    args.store = false;
  }
  if (!args.out) args.out = `.data/features/features_${args.sport === 'basketball' ? NBA_FEATURE_VERSION : FEATURE_VERSION}.csv`;
  return args;
}

class UsageError extends Error {}

const argv = process.argv.slice(2);
exitWithUsageOnHelp(USAGE, argv);
let args: Args;
try {
  args = parseArgs(argv);
} catch (error) {
  console.error(`features:export: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}

const settings = storeSettingsFromEnv();
const lake = args.lake ? lakeStore(settings) : null;
if (args.lake && !lake) {
  console.error(`features:export: --lake needs the S3 lake configured; missing ${missingSettings(settings).s3.join(', ')}`);
  process.exit(2);
}

const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(2);
const database = await openLocalDatabase();
const pool = new pg.Pool({ connectionString: database.url, max: 2 });
try {
  const started = performance.now();
  await migrate(database.url);
  if (args.sport === 'basketball') {
    const t0 = performance.now();
    const rows = await buildNbaFeatureMatrix(pool, args);
    console.log(`built ${rows.length} feature vectors (${NBA_FEATURE_VERSION}) in ${seconds(t0)} s`);
    const out = resolve(args.out);
    await writeNbaFeatureCsv(rows, out);
    console.log(`wrote ${out}`);
    console.log(`done in ${seconds(started)} s`);
  } else {
    let t = performance.now();
    const inputs = await loadFeatureInputs(pool);
    const quoteCount = [...inputs.quotes.values()].reduce((n, q) => n + q.length, 0);
    console.log(`read ${inputs.matches.length} matches and ${quoteCount} pre-match prices in ${seconds(t)} s`);
    t = performance.now();
    const rows = featureMatrixFromInputs(inputs, args);
    console.log(`built ${rows.length} feature vectors (${FEATURE_VERSION}) in ${seconds(t)} s`);
    if (args.store) {
      t = performance.now();
      const since = args.storeRecentMonths ? Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - args.storeRecentMonths, new Date().getUTCDate()) : -Infinity;
      const stored = rows.filter((r) => r.startAt.getTime() >= since);
      const written = await storeFeatureVectors(pool, stored);
      console.log(`feature_vectors: ${written} inserted or changed, ${stored.length - written} unchanged, in ${seconds(t)} s`);
    }
    if (lake) {
      t = performance.now();
      const months = await writeFeatureLake(lake, rows);
      const uploaded = months.filter((m) => m.uploaded);
      console.log(`lake: ${months.length} month(s) in s3://${lake.bucket}/features/, ${uploaded.length} uploaded and verified, ${months.length - uploaded.length} unchanged, in ${seconds(t)} s`);
    }
    t = performance.now();
    const out = resolve(args.out);
    await writeFeatureCsv(rows, out);
    console.log(`wrote ${out} in ${seconds(t)} s`);
    console.log(`done in ${seconds(started)} s`);
  }
} catch (error) {
  console.error(`features:export failed: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
} finally {
  await pool.end();
  lake?.destroy();
  await database.stop();
}
