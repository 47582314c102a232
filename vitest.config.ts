import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

// Worker test files with a database of their own (test/global-setup.ts): the registry tests move the one
// active model run; the settlement test must be the only one whose daily cron settles its round.
const REGISTRY_TESTS = ['test/worker/models.test.ts'];
const SETTLEMENT_TESTS = ['test/worker/settlement.test.ts'];
// The observability contract test runs the daily settlement and the ingestion crons on a database of its own.
const OBSERVABILITY_TESTS = ['test/worker/observability-contract.test.ts'];
// Timing comparisons of a few ms: run after every other file, alone (sequence.groupOrder below), so the rest of
// the suite is not loading the two cores while they measure.
const TIMING_TESTS = ['test/worker/auth-timing.test.ts'];
// The NBA replay through the Worker: its odds job fills its own database with two weeks of NBA games.
const NBA_TESTS = ['test/worker/market-only.test.ts'];
// The same replay priced by the NBA's run, on a database with an NBA history: it retires and reactivates that run.
const NBA_MODEL_TESTS = ['test/worker/nba-model.test.ts'];

function workerProject(
  name: string,
  database: 'databaseUrl' | 'registryDatabaseUrl' | 'settlementDatabaseUrl' | 'observabilityDatabaseUrl' | 'nbaDatabaseUrl' | 'nbaModelDatabaseUrl',
  files: { include: string[]; exclude?: string[] },
  scheduling: { groupOrder?: number; maxWorkers?: number } = {},
) {
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            DATABASE_URL: inject(database),
            WS_PROXY: inject('wsProxy'),
            ENVIRONMENT: 'test',
            JWT_PRIVATE_KEYS: inject('jwtPrivateKeys'),
            PASSWORD_PEPPER: inject('passwordPepper'),
            // The ingestion jobs (cron and POST /admin/ingestion/run) talk to their own loopback stand-in.
            ODDS_API_BASE_URL: inject('ingestionStandinUrl'),
            ODDS_API_KEY: inject('ingestionStandinKey'),
            ODDS_API_SPORTS: 'soccer_france_ligue_one',
          },
        },
      })),
    ],
    // A loaded 2-core machine (two files at once, see maxWorkers) can take many seconds over a request that takes
    // milliseconds alone; the default 5 s (and, under outside load, 30 s) failed tests for the machine's load,
    // not for what they check.
    test: {
      name,
      include: files.include,
      exclude: files.exclude ?? [],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      ...(scheduling.maxWorkers ? { maxWorkers: scheduling.maxWorkers } : {}),
      ...(scheduling.groupOrder ? { sequence: { groupOrder: scheduling.groupOrder } } : {}),
    },
  };
}

// One `npm test` for both worlds: Worker and Durable Object code runs inside workerd, CLIs and tooling in
// Node. test/global-setup.ts starts (or creates) the database and the WebSocket proxy for both.
export default defineConfig({
  test: {
    globalSetup: ['./test/global-setup.ts'],
    // Vitest's default on a 2-core machine is 1 worker, which runs all ~80 files one after another. Most of a
    // file's time is waiting (workerd starting and importing the Worker, CLIs and servers in child processes),
    // so two at once halves the suite (clean-clone .ci/run on a quiet machine: 693 s of tests at one, 348 s at
    // two). Worker files that share the main database must not assume they are alone on it: each test makes its
    // own users and fixtures, and files that move shared state have databases of their own.
    maxWorkers: 2,
    // Request logs of passing tests are noise; a failing test still shows everything it printed.
    silent: 'passed-only',
    projects: [
      workerProject('workers', 'databaseUrl', { include: ['test/worker/**/*.test.ts'], exclude: [...REGISTRY_TESTS, ...SETTLEMENT_TESTS, ...OBSERVABILITY_TESTS, ...TIMING_TESTS, ...NBA_TESTS, ...NBA_MODEL_TESTS] }),
      workerProject('workers-registry', 'registryDatabaseUrl', { include: REGISTRY_TESTS }),
      workerProject('workers-settlement', 'settlementDatabaseUrl', { include: SETTLEMENT_TESTS }),
      workerProject('workers-observability', 'observabilityDatabaseUrl', { include: OBSERVABILITY_TESTS }),
      workerProject('workers-nba', 'nbaDatabaseUrl', { include: NBA_TESTS }),
      workerProject('workers-nba-model', 'nbaModelDatabaseUrl', { include: NBA_MODEL_TESTS }),
      workerProject('workers-timing', 'databaseUrl', { include: TIMING_TESTS }, { groupOrder: 1, maxWorkers: 1 }),
      {
        test: { name: 'node', environment: 'node', include: ['test/node/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
      },
    ],
  },
});
