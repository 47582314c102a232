// npm run artifacts:sync -- [--verify] [--prefix models/ ...] [--json]
// Mirrors model bundles and feature exports between R2 and S3 in both directions, through both S3 APIs
// (the same code the daily cron runs in the Worker). Settings: R2_S3_ENDPOINT, R2_ACCESS_KEY_ID,
// R2_SECRET_ACCESS_KEY, R2_BUCKET, S3_BUCKET, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, S3_ENDPOINT.
import { artifactStores, DEFAULT_MIRROR_PREFIXES, missingSettings, mirrorArtifacts, summarizeMirror } from '../src/services/artifacts';
import { exitWithUsageOnHelp } from './lib/cli';
import { storeSettingsFromEnv } from './lib/lake/settings';

const USAGE = `usage: npm run artifacts:sync -- [--verify] [--prefix <key prefix>]... [--json]
  --verify   read and hash every object on both sides, even when their recorded sha256 agree (a scrub)
  --prefix   key prefixes to mirror (default: ${DEFAULT_MIRROR_PREFIXES.join(' ')})
  --json     print the full report as JSON`;

const argv = process.argv.slice(2).filter((a) => a !== '--');
exitWithUsageOnHelp(USAGE, argv);
const prefixes: string[] = [];
let verifyContent = false;
let json = false;
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i]!;
  if (arg === '--verify') verifyContent = true;
  else if (arg === '--json') json = true;
  else if (arg === '--prefix' && argv[i + 1]) prefixes.push(argv[++i]!);
  else {
    console.error(`artifacts:sync: unknown argument ${arg}\n${USAGE}`);
    process.exit(2);
  }
}

const settings = storeSettingsFromEnv();
const stores = artifactStores(settings);
if (!stores) {
  const missing = missingSettings(settings);
  console.error(`artifacts:sync: not configured; missing ${[...missing.r2, ...missing.s3].join(', ')}`);
  process.exit(2);
}
try {
  const report = await mirrorArtifacts(stores.r2, stores.s3, { prefixes: prefixes.length ? prefixes : DEFAULT_MIRROR_PREFIXES, verifyContent });
  if (json) console.log(JSON.stringify(report, null, 2));
  else console.log(JSON.stringify(summarizeMirror(report)));
  for (const p of report.problems) console.error(`artifacts:sync: ${p.kind}: ${p.key}: ${p.detail}`);
  if (report.problems.length > 0) process.exitCode = 1;
} catch (error) {
  console.error(`artifacts:sync failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  stores.r2.destroy();
  stores.s3.destroy();
}
