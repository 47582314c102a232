// npm run evaluate -- --data <dirs or files> --from <date> --to <date> [--model <id|bundle dir>] [--json]
// npm run evaluate -- --rolling [--seasons 2020-21,…] [--data <dirs or files>] [--json]
// npm run evaluate -- --live [--model <id>] [--from <date>] [--to <date>] [--json]
// npm run evaluate -- --sport basketball [--data <dirs or files>] (--rolling [--seasons …] | --from <date> --to <date>) [--json]
//
// Window: imports any given football-data.co.uk CSV not yet loaded, builds features for the window from earlier
// data only, runs a bundle through the same runtime as the Worker, and reports it beside the market baselines.
// Rolling: trains one model per test season by the shipped recipe and reports each season and the pooled
// figures the activation gate reads (needs the training pipeline's Python, see models/README.md).
// Live: scores the predictions the Worker stored before kick-off against the results, beside the Pinnacle price
// that was live when each prediction was made.
// Basketball: the NBA moneyline model (models/train_nba.py) beside the margin-free closing consensus line, per
// season and pooled or on a window; --data imports the NBA archive's CSV files (scripts/lib/nba).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { MARGIN_METHODS, type MarginMethod } from '../src/domain/odds';
import { exitWithUsageOnHelp, sportArgument } from './lib/cli';
import { evaluateWindow, summarizeReport } from './lib/evaluate';
import { expandPaths, importFootballData } from './lib/football-data/import';
import { evaluateLive, summarizeLive } from './lib/live-evaluation';
import { openLocalDatabase } from './lib/local-database';
import { migrate } from './lib/migrate';
import { nodeRuntime, resolveBundle } from './lib/models/load-runtime';
import { pythonProblem } from './lib/models/python';
import { DEFAULT_ROLLING_SEASONS, rollingEvaluation, type RollingEvaluation } from './lib/models/rolling';
import { DEFAULT_NBA_ROLLING_SEASONS, nbaRollingEvaluation, nbaWindowEvaluation, summarizeNbaRolling, summarizeNbaWindow } from './lib/nba/evaluate';
import { importNbaArchive, NBA_DATA_DIR } from './lib/nba/import';

const USAGE = `usage: npm run evaluate -- [--data <dirs or files>...] --from YYYY-MM-DD --to YYYY-MM-DD [--model <run id | bundle dir>] [--margin shin|multiplicative|power] [--threshold 0.05] [--json]
       npm run evaluate -- --rolling [--seasons ${DEFAULT_ROLLING_SEASONS.join(',')}] [--data <dirs or files>...] [--smoke] [--json]
       npm run evaluate -- --live [--model <run id>] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]
       npm run evaluate -- --sport basketball [--data <NBA archive dirs or files>...] --from YYYY-MM-DD --to YYYY-MM-DD [--smoke] [--json]
       npm run evaluate -- --sport basketball --rolling [--seasons ${DEFAULT_NBA_ROLLING_SEASONS[0]},…,${DEFAULT_NBA_ROLLING_SEASONS.at(-1)}] [--data …] [--smoke] [--json]
  --sport     football (default) or basketball: the NBA moneyline model beside the margin-free closing line
              (without --data, a database with no NBA games first imports the repo's archive, data/nba)`;

type Mode = 'window' | 'rolling' | 'live';

interface Args {
  sport: 'football' | 'basketball';
  mode: Mode;
  data: string[];
  from?: string;
  to?: string;
  model?: string;
  json: boolean;
  margin?: MarginMethod;
  threshold?: number;
  seasons: string[];
  smoke: boolean;
  help: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { sport: 'football', mode: 'window', data: [], json: false, seasons: [], smoke: false, help: false };
  let modes = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--') continue;
    else if (a === '--help' || a === '-h') args.help = true;
    else if (a === '--json') args.json = true;
    else if (a === '--sport') args.sport = sportArgument(value(), (message) => new Error(message));
    else if (a === '--rolling' || a === '--live') {
      args.mode = a === '--rolling' ? 'rolling' : 'live';
      modes++;
    } else if (a === '--smoke') args.smoke = true;
    else if (a === '--data') {
      while (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) args.data.push(argv[++i]!);
      if (args.data.length === 0) throw new Error('--data needs at least one file or directory');
    } else if (a === '--from') args.from = value();
    else if (a === '--to') args.to = value();
    else if (a === '--model') args.model = value();
    else if (a === '--seasons') {
      args.seasons = value().split(',').map((s) => s.trim());
      for (const s of args.seasons) if (!/^\d{4}-\d{2}$/.test(s)) throw new Error(`--seasons takes seasons like 2023-24, not ${JSON.stringify(s)}`);
    } else if (a === '--margin') {
      const m = value();
      if (!(MARGIN_METHODS as readonly string[]).includes(m)) throw new Error(`--margin must be ${MARGIN_METHODS.join(', ')}, not ${m}`);
      args.margin = m as MarginMethod;
    } else if (a === '--threshold') {
      const t = Number(value());
      if (!Number.isFinite(t)) throw new Error('--threshold must be a number');
      args.threshold = t;
    } else throw new Error(`unknown argument ${a}`);
  }
  if (args.help) return args;
  if (args.seasons.length === 0) args.seasons = [...(args.sport === 'basketball' ? DEFAULT_NBA_ROLLING_SEASONS : DEFAULT_ROLLING_SEASONS)];
  if (args.sport === 'basketball') {
    if (args.mode === 'live') throw new Error('--live scores stored football predictions: there are none for basketball yet');
    if (args.model || args.margin || args.threshold !== undefined) {
      throw new Error('--sport basketball trains its moneyline model per season and compares it with the closing line under that model\'s margin method: --model, --margin and --threshold do not apply');
    }
  }
  if (modes > 1) throw new Error('--rolling and --live are different evaluations: choose one');
  for (const [name, v] of [['--from', args.from], ['--to', args.to]] as const) {
    if (v !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new Error(`${name} takes a date YYYY-MM-DD`);
    if (v === undefined && args.mode === 'window') throw new Error(`${name} YYYY-MM-DD is required`);
  }
  if (args.from && args.to && args.from > args.to) throw new Error('--from must not be after --to');
  if (args.mode === 'rolling' && (args.from || args.to || args.model)) throw new Error('--rolling trains its own models per season: --from, --to and --model do not apply');
  if (args.mode !== 'rolling' && args.smoke && args.sport === 'football') throw new Error('--smoke is for --rolling');
  if (args.mode === 'live' && args.data.length) throw new Error('--live scores stored predictions: --data does not apply');
  return args;
}

exitWithUsageOnHelp(USAGE);
let args: Args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (error) {
  console.error(`evaluate: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
if (args.mode === 'rolling' || args.sport === 'basketball') {
  const problem = await pythonProblem();
  if (problem) {
    console.error(`evaluate ${args.sport === 'basketball' ? '--sport basketball' : '--rolling'} trains models: ${problem}`);
    process.exit(2);
  }
}

const f4 = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(4));
const signed = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(4);

/** The table people read: per market, each season and the pooled figures, then the gate. */
function summarizeRolling(r: RollingEvaluation): string {
  const lines = [`rolling-origin evaluation (${r.recipe})${r.smoke ? ' [smoke models]' : ''}`];
  for (const market of ['1x2', 'ou25'] as const) {
    lines.push('', `${market}: log loss (model, Pinnacle, average), model − Pinnacle [95% paired bootstrap], ECE (model, Pinnacle), Brier, accuracy`);
    lines.push('season    matches  trees method          model    Pinn.    avg.   Δ model−Pinn. [95%]          ECE m / P        Brier m / P      acc. m / P');
    const row = (label: string, trees: string, method: string, rep: RollingEvaluation['pooled']['report']) => {
      const m = rep.markets[market];
      if (!m?.metrics || !m.logLossDifference) return `${label.padEnd(9)} no rows with both baselines`;
      const { model, pinnacle, marketAverage } = m.metrics;
      const d = m.logLossDifference;
      return (
        `${label.padEnd(9)} ${String(m.rows.evaluated).padStart(7)} ${trees.padStart(6)} ${method.padEnd(15)} ${f4(model.logLoss)}  ${f4(pinnacle.logLoss)}  ${f4(marketAverage.logLoss)}  ` +
        `${signed(d.estimate)} [${signed(d.lower)}, ${signed(d.upper)}]  ${f4(model.ece)} / ${f4(pinnacle.ece)}  ${f4(model.brier)} / ${f4(pinnacle.brier)}  ${model.accuracy.toFixed(3)} / ${pinnacle.accuracy.toFixed(3)}`
      );
    };
    for (const s of r.seasons) lines.push(row(s.season, String(s.model.trees[market]), s.model.marginMethods[market], s.report));
    lines.push(row('pooled', '', 'each season\'s', r.pooled.report));
  }
  lines.push('', `activation gate: ${r.decision.passes ? 'PASSES' : 'REFUSES'}${r.decision.reasons.length ? `\n  ${r.decision.reasons.join('\n  ')}` : ''}`);
  const behind = (['1x2', 'ou25'] as const).filter((m) => (r.pooled.report.markets[m]?.logLossDifference?.estimate ?? 0) > 0);
  const ahead = (['1x2', 'ou25'] as const).filter((m) => {
    const d = r.pooled.report.markets[m]?.logLossDifference;
    return d !== null && d !== undefined && d.upper < 0;
  });
  lines.push(
    ahead.length
      ? `the model beats Pinnacle beyond noise on ${ahead.join(', ')}`
      : `the model does not beat Pinnacle beyond noise on either market${behind.length ? `, and is behind it on ${behind.join(', ')}` : ''}`,
  );
  return lines.join('\n');
}

const hasNbaGames = async () =>
  (await pool.query<{ present: boolean }>(`select exists (select 1 from matches m join sports s on s.id = m.sport_id where s.key = 'basketball') as present`)).rows[0]!.present;

/** The NBA moneyline model beside the margin-free closing line (scripts/lib/nba/evaluate.ts). */
async function evaluateBasketball() {
  // A fresh database (a new clone's embedded one) has football's history from npm start but no NBA games: the repo's
  // own archive is then imported, so the documented command works as it is. Given --data, that is what is imported.
  const sources = args.data.length ? args.data : (await hasNbaGames()) ? [] : [NBA_DATA_DIR];
  if (sources.length) {
    if (!args.data.length && !args.json) console.error(`the database has no NBA games: importing the repo's archive (${NBA_DATA_DIR})`);
    const imported = await importNbaArchive(pool, await expandPaths(sources));
    if (imported.failedFiles) throw new Error(`importing failed: ${imported.files.filter((f) => f.status === 'failed').map((f) => `${f.file}: ${f.error}`).join('; ')}`);
    if (!args.json) console.error(`imported: ${imported.matches.inserted} new games, ${imported.rejected.length} rejected rows`);
  }
  workDir = await mkdtemp(join(tmpdir(), 'senzu-nba-'));
  const options = { workDir, smoke: args.smoke, log: args.json ? undefined : (m: string) => console.error(`[nba] ${m}`) };
  if (args.mode === 'rolling') {
    const result = await nbaRollingEvaluation(pool, { ...options, seasons: args.seasons });
    console.log(args.json ? JSON.stringify(result, null, 2) : summarizeNbaRolling(result));
  } else {
    const result = await nbaWindowEvaluation(pool, { from: args.from!, to: args.to! }, options);
    console.log(args.json ? JSON.stringify(result, null, 2) : summarizeNbaWindow(result));
  }
}

async function evaluateFootball() {
  if (args.data.length) {
    const imported = await importFootballData(pool, await expandPaths(args.data));
    if (imported.failedFiles) throw new Error(`importing failed: ${imported.files.filter((f) => f.status === 'failed').map((f) => `${f.file}: ${f.error}`).join('; ')}`);
    if (!args.json) console.error(`imported: ${imported.matches.inserted} new matches, ${imported.rejected.length} rejected rows`);
  }
  if (args.mode === 'rolling') {
    workDir = await mkdtemp(join(tmpdir(), 'senzu-rolling-'));
    const result = await rollingEvaluation(pool, {
      seasons: args.seasons,
      workDir,
      smoke: args.smoke,
      evaluation: { evThreshold: args.threshold },
      log: args.json ? undefined : (m) => console.error(`[rolling] ${m}`),
    });
    console.log(args.json ? JSON.stringify(result, null, 2) : summarizeRolling(result));
  } else if (args.mode === 'live') {
    const result = await evaluateLive(pool, { model: args.model, from: args.from, to: args.to, marginMethod: args.margin });
    console.log(args.json ? JSON.stringify(result, null, 2) : summarizeLive(result));
  } else {
    const bundle = await resolveBundle(pool, args.model);
    const runtime = await nodeRuntime(bundle);
    const run = await evaluateWindow(pool, runtime, { from: args.from, to: args.to }, { marginMethod: args.margin, evThreshold: args.threshold });
    if (run.matches === 0) throw new Error(`no finished matches between ${args.from} and ${args.to}`);
    if (args.json) {
      console.log(JSON.stringify({ model: { id: bundle.manifest.id, featureVersion: bundle.manifest.featureVersion }, window: run.window, matches: run.matches, report: run.report }, null, 2));
    } else console.log(`model ${bundle.manifest.id}\n${summarizeReport(run)}`);
  }
}

const database = await openLocalDatabase();
const pool = new pg.Pool({ connectionString: database.url, max: 2 });
let workDir: string | undefined;
try {
  await migrate(database.url);
  if (args.sport === 'basketball') await evaluateBasketball();
  else await evaluateFootball();
} catch (error) {
  console.error(`evaluate failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await pool.end();
  await database.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
}
