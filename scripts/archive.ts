// npm run archive -- [--dry-run] [--chunk-rows N] [--now YYYY-MM-DD]
// npm run archive -- --restore archive/<table>/month=YYYY-MM/run=<id>/
// Moves live-provider rows of monthly partitions past retention (odds 24 months, predictions 12) and whole
// months of served feature vectors past theirs (6 months, by predicted_at in UTC) to the S3 lake as Parquet,
// verifies them there, then detaches and drops (or, for partitions that also hold historical rows and for the
// unpartitioned served vectors, deletes only the archived rows). Run by .github/workflows/archive.yml, not the Worker:
// it streams large partitions and holds a transaction for minutes. docs/runbooks/data-lake.md.
import pg from 'pg';
import { lakeStore, missingSettings } from '../src/services/artifacts';
import { archiveExpiredPartitions, restoreArchive } from './lib/lake/archive';
import { exitWithUsageOnHelp } from './lib/cli';
import { storeSettingsFromEnv } from './lib/lake/settings';
import { openLocalDatabase } from './lib/local-database';
import { migrate } from './lib/migrate';

const USAGE = `usage: npm run archive -- [--dry-run] [--chunk-rows N] [--now YYYY-MM-DD]
       npm run archive -- --restore <run prefix, e.g. archive/odds_snapshots/month=2024-10/run=20261202T043000Z/>
Archives odds_snapshots (24 months), predictions (12) and served_feature_vectors (6) past retention, whole months only.
Settings: DATABASE_URL, S3_BUCKET, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (S3_ENDPOINT for a non-AWS S3);
--dry-run lists what would be archived and needs DATABASE_URL only (unset: the embedded database of npm start).`;

const argv = process.argv.slice(2).filter((a) => a !== '--');
exitWithUsageOnHelp(USAGE, argv);
let dryRun = false;
let chunkRows: number | undefined;
let now = new Date();
let restore: string | undefined;
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i]!;
  const value = () => {
    const v = argv[++i];
    if (!v) fail(`${arg} needs a value`);
    return v!;
  };
  if (arg === '--dry-run') dryRun = true;
  else if (arg === '--chunk-rows') {
    chunkRows = Number(value());
    if (!Number.isInteger(chunkRows) || chunkRows < 1) fail('--chunk-rows must be a positive integer');
  } else if (arg === '--now') {
    now = new Date(`${value()}T00:00:00Z`);
    if (Number.isNaN(now.getTime())) fail('--now must be YYYY-MM-DD');
  } else if (arg === '--restore') restore = value();
  else fail(`unknown argument ${arg}`);
}

function fail(message: string): never {
  console.error(`archive: ${message}\n${USAGE}`);
  process.exit(2);
}

// A dry run only reads Postgres, so it runs without the lake's settings; archiving and restoring need them.
const settings = storeSettingsFromEnv();
const store = lakeStore(settings);
if (!store && (!dryRun || restore)) fail(`the S3 lake is not configured; missing ${missingSettings(settings).s3.join(', ')} (a --dry-run needs none)`);

const database = await openLocalDatabase();
const pool = new pg.Pool({ connectionString: database.url, max: 2 });
try {
  await migrate(database.url);
  if (restore) {
    console.log(`restored ${await restoreArchive(pool, store!, restore)} rows from s3://${store!.bucket}/${restore}`);
  } else {
    const report = await archiveExpiredPartitions(pool, store, { now, dryRun, ...(chunkRows ? { chunkRows } : {}), log: (line) => console.log(line) });
    if (dryRun) for (const p of report.planned) console.log(`would archive ${p.partition} (${p.table.table}, ${p.month}; retention ${p.table.retentionMonths} months)`);
    console.log(
      JSON.stringify({
        run: report.runId,
        planned: report.planned.length,
        archived: report.archived.filter((a) => a.action !== 'empty').map((a) => ({ partition: a.partition, rows: a.rows, action: a.action, keptRows: a.keptRows })),
        failed: report.failed,
      }),
    );
    if (report.failed.length > 0) process.exitCode = 1;
  }
} catch (error) {
  console.error(`archive failed: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
} finally {
  await pool.end();
  store?.destroy();
  await database.stop();
}
