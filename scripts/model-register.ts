// npm run model:register -- <bundle dir> [--remote] [--no-evaluate]
// Uploads a bundle to R2 (local state by default), records it as a candidate model run, evaluates it on its
// test season beside the market baselines, and stores the evaluation (with the activation gate's figures)
// and the backtests. Activation is a separate, admin decision: POST /models/{id}/activate.
import pg from 'pg';
import { exitWithUsageOnHelp } from './lib/cli';
import { activationGate, evaluateWindow, summarizeReport } from './lib/evaluate';
import { openLocalDatabase } from './lib/local-database';
import { migrate } from './lib/migrate';
import { readBundle, registerBundle } from './lib/models/bundle-files';
import { nodeRuntime } from './lib/models/load-runtime';
import { r2Uploader } from './lib/r2-upload';

const USAGE = 'usage: npm run model:register -- <bundle dir> [--remote] [--no-evaluate]';
const argv = process.argv.slice(2).filter((a) => a !== '--');
exitWithUsageOnHelp(USAGE, argv);
const dir = argv.find((a) => !a.startsWith('--'));
if (!dir) {
  console.error(USAGE);
  process.exit(2);
}

const database = await openLocalDatabase();
const pool = new pg.Pool({ connectionString: database.url, max: 2 });
try {
  await migrate(database.url);
  const bundle = await readBundle(dir);
  const run = await registerBundle(pool, bundle, r2Uploader(argv.includes('--remote') ? 'remote' : 'local'));
  console.log(`${run.created ? 'registered' : 'already registered'}: model run ${run.id} (${bundle.manifest.id})`);
  if (!argv.includes('--no-evaluate')) {
    const testSeason = String((bundle.manifest.windows as { test?: unknown }).test ?? '');
    const { rows } = await pool.query<{ first: Date | null; last: Date | null }>(
      `select min(start_at) as first, max(start_at) as last from matches where season = $1 and status = 'finished'`,
      [testSeason],
    );
    const { first, last } = rows[0]!;
    if (!first || !last) throw new Error(`no finished matches of the bundle's test season "${testSeason}" in the database; import them first`);
    const evaluation = await evaluateWindow(pool, await nodeRuntime(bundle), { from: first, to: last });
    const split = `test-${testSeason}`;
    const report = evaluation.report;
    // One transaction on one connection: the stored evaluation and its backtests replace the old ones whole.
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query(`delete from model_evaluations where model_run_id = $1 and split = $2`, [run.id, split]);
      await client.query(`delete from backtest_results where model_run_id = $1`, [run.id]);
      await client.query(
        `insert into model_evaluations (model_run_id, split, match_count, metrics, baseline_metrics) values ($1, $2, $3, $4, $5)`,
        [
          run.id,
          split,
          evaluation.matches,
          {
            gate: activationGate(report, split),
            reliability: { '1x2': report.markets['1x2']?.reliability ?? null, ou25: report.markets.ou25?.reliability ?? null },
            report,
          },
          {
            '1x2': { pinnacle: report.markets['1x2']?.metrics?.pinnacle ?? null, marketAverage: report.markets['1x2']?.metrics?.marketAverage ?? null },
            ou25: { pinnacle: report.markets.ou25?.metrics?.pinnacle ?? null, marketAverage: report.markets.ou25?.metrics?.marketAverage ?? null },
          },
        ],
      );
      for (const [market, r] of Object.entries(report.markets)) {
        if (!r) continue;
        const strategies = [
          ['ev-threshold', 'bestPrice', r.betting.model.bestPrice],
          ['ev-threshold', 'pinnaclePreMatch', r.betting.model.pinnaclePreMatch],
          ['ev-threshold', 'marketAverage', r.betting.model.marketAverage],
          ['market-value-rule', 'bestPrice', r.betting.marketValueRule],
        ] as const;
        for (const [strategy, price, result] of strategies) {
          await client.query(`insert into backtest_results (model_run_id, strategy, params, metrics) values ($1, $2, $3, $4)`, [
            run.id,
            strategy,
            { market, price, threshold: report.settings.evThreshold, split },
            result,
          ]);
        }
      }
      await client.query('commit');
    } catch (error) {
      await client.query('rollback');
      throw error;
    } finally {
      client.release();
    }
    console.log(summarizeReport(evaluation));
  }
} catch (error) {
  console.error(`model:register failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await pool.end();
  await database.stop();
}
