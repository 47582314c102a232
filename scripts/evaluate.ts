// npm run evaluate -- --data <dirs or files> --from <date> --to <date> [--model <id|bundle dir>] [--json]
// Imports any given football-data.co.uk CSV not yet loaded, builds features for the window from earlier data
// only, runs the bundle through the same runtime as the Worker, and reports it beside the market baselines.
import pg from 'pg';
import { exitWithUsageOnHelp } from './lib/cli';
import { expandPaths, importFootballData } from './lib/football-data/import';
import { evaluateWindow, summarizeReport } from './lib/evaluate';
import { openLocalDatabase } from './lib/local-database';
import { migrate } from './lib/migrate';
import { nodeRuntime, resolveBundle } from './lib/models/load-runtime';
import type { MarginMethod } from '../src/services/margin';

const USAGE =
  'usage: npm run evaluate -- [--data <dirs or files>...] --from YYYY-MM-DD --to YYYY-MM-DD [--model <run id | bundle dir>] [--margin shin|multiplicative|power] [--threshold 0.05] [--json]';

function parseArgs(argv: string[]) {
  const args: { data: string[]; from?: string; to?: string; model?: string; json: boolean; margin?: MarginMethod; threshold?: number } = {
    data: [],
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--') continue;
    else if (a === '--json') args.json = true;
    else if (a === '--data') {
      while (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) args.data.push(argv[++i]!);
      if (args.data.length === 0) throw new Error('--data needs at least one file or directory');
    } else if (a === '--from') args.from = value();
    else if (a === '--to') args.to = value();
    else if (a === '--model') args.model = value();
    else if (a === '--margin') {
      const m = value();
      if (!['shin', 'multiplicative', 'power'].includes(m)) throw new Error(`--margin must be shin, multiplicative or power, not ${m}`);
      args.margin = m as MarginMethod;
    } else if (a === '--threshold') {
      const t = Number(value());
      if (!Number.isFinite(t)) throw new Error('--threshold must be a number');
      args.threshold = t;
    } else throw new Error(`unknown argument ${a}`);
  }
  for (const [name, v] of [['--from', args.from], ['--to', args.to]] as const) {
    if (!v || !/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new Error(`${name} YYYY-MM-DD is required`);
  }
  if (args.from! > args.to!) throw new Error('--from must not be after --to');
  return args;
}

exitWithUsageOnHelp(USAGE);
let args: ReturnType<typeof parseArgs>;
try {
  args = parseArgs(process.argv.slice(2));
} catch (error) {
  console.error(`evaluate: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}

const database = await openLocalDatabase();
const pool = new pg.Pool({ connectionString: database.url, max: 2 });
try {
  await migrate(database.url);
  if (args.data.length) {
    const imported = await importFootballData(pool, await expandPaths(args.data));
    if (imported.failedFiles) throw new Error(`importing failed: ${imported.files.filter((f) => f.status === 'failed').map((f) => `${f.file}: ${f.error}`).join('; ')}`);
    if (!args.json) console.error(`imported: ${imported.matches.inserted} new matches, ${imported.rejected.length} rejected rows`);
  }
  const bundle = await resolveBundle(pool, args.model);
  const runtime = await nodeRuntime(bundle);
  const run = await evaluateWindow(pool, runtime, { from: args.from, to: args.to }, { marginMethod: args.margin, evThreshold: args.threshold });
  if (run.matches === 0) throw new Error(`no finished matches between ${args.from} and ${args.to}`);
  if (args.json) console.log(JSON.stringify({ model: { id: bundle.manifest.id, featureVersion: bundle.manifest.featureVersion }, window: run.window, matches: run.matches, report: run.report }, null, 2));
  else console.log(`model ${bundle.manifest.id}\n${summarizeReport(run)}`);
} catch (error) {
  console.error(`evaluate failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await pool.end();
  await database.stop();
}
