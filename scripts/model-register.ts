// npm run model:register -- <bundle dir> [--remote]
// Uploads a bundle to R2 (local state by default) and records it as a candidate model run, with its training
// window and the rolling-origin evaluation it carries (evaluation.json, made by `npm run model:train`): the
// per-season and pooled figures beside Pinnacle, the backtests, and what the activation gate decides on them.
// Activation is a separate, admin decision: POST /models/{id}/activate, which the gate refuses without force
// when the figures say the model is behind the market.
import pg from 'pg';
import { exitWithUsageOnHelp } from './lib/cli';
import { localWranglerState, openLocalDatabase } from './lib/local-database';
import { migrate } from './lib/migrate';
import type { GateMarketFigures } from '../src/services/evaluation';
import { bundleEvaluation, isNbaEvaluation, readBundle, registerBundle, storedGateDecision } from './lib/models/bundle-files';
import { r2Uploader } from './lib/r2-upload';

const USAGE = 'usage: npm run model:register -- <bundle dir> [--remote]';
exitWithUsageOnHelp(USAGE);
const argv = process.argv.slice(2).filter((a) => a !== '--');
const unknown = argv.filter((a) => a.startsWith('-') && a !== '--remote');
const dirs = argv.filter((a) => !a.startsWith('-'));
if (unknown.length || dirs.length !== 1) {
  console.error(`model:register: ${unknown.length ? `unknown argument ${unknown[0]}` : 'name one bundle directory'}\n${USAGE}`);
  process.exit(2);
}

const database = await openLocalDatabase();
const pool = new pg.Pool({ connectionString: database.url, max: 2 });
try {
  await migrate(database.url);
  const bundle = await readBundle(dirs[0]!);
  const evaluation = bundleEvaluation(bundle);
  const upload = argv.includes('--remote') ? r2Uploader('remote') : r2Uploader('local', { persistTo: await localWranglerState(database.url) });
  const run = await registerBundle(pool, bundle, upload);
  console.log(`${run.created ? 'registered' : 'already registered'}: model run ${run.id} (${bundle.manifest.id})`);
  if (!evaluation) {
    console.log('the bundle carries no rolling-origin evaluation (evaluation.json): the activation gate will refuse it without force');
  } else {
    // Football's gate compares with Pinnacle; the NBA moneyline's with the margin-free closing consensus.
    const [markets, baseline] = isNbaEvaluation(evaluation) ? [['h2h'], 'close'] : [['1x2', 'ou25'], 'Pinnacle'];
    const figures = (evaluation.gate?.markets ?? {}) as Partial<Record<string, GateMarketFigures>>;
    for (const market of markets) {
      const p = figures[market]?.pooled;
      if (p) {
        console.log(
          `${market}: pooled over ${evaluation.seasons.map((s) => s.season).join(', ')} (${p.matches} matches): model − ${baseline} ${p.logLossDelta.toFixed(5)} ` +
            `[${p.lower.toFixed(5)}, ${p.upper.toFixed(5)}], ECE ${p.modelEce.toFixed(4)} vs ${p.pinnacleEce.toFixed(4)}`,
        );
      }
    }
    const decision = await storedGateDecision(pool, run.id);
    console.log(`activation gate: ${decision.passes ? 'passes' : `refuses: ${decision.reasons.join('; ')}`}`);
  }
} catch (error) {
  console.error(`model:register failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await pool.end();
  await database.stop();
}
