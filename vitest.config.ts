import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

// Worker test files with a database of their own (test/global-setup.ts): the registry tests move the one
// active model run; the settlement test must be the only one whose daily cron settles its round.
const REGISTRY_TESTS = ['test/worker/models.test.ts'];
const SETTLEMENT_TESTS = ['test/worker/settlement.test.ts'];
// The observability contract test runs the daily settlement and the ingestion crons on a database of its own.
const OBSERVABILITY_TESTS = ['test/worker/observability-contract.test.ts'];

function workerProject(
  name: string,
  database: 'databaseUrl' | 'registryDatabaseUrl' | 'settlementDatabaseUrl' | 'observabilityDatabaseUrl',
  files: { include: string[]; exclude?: string[] },
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
    test: { name, include: files.include, exclude: files.exclude ?? [] },
  };
}

// One `npm test` for both worlds: Worker and Durable Object code runs inside workerd, CLIs and tooling in
// Node. test/global-setup.ts starts (or creates) the database and the WebSocket proxy for both.
export default defineConfig({
  test: {
    globalSetup: ['./test/global-setup.ts'],
    // Request logs of passing tests are noise; a failing test still shows everything it printed.
    silent: 'passed-only',
    projects: [
      workerProject('workers', 'databaseUrl', { include: ['test/worker/**/*.test.ts'], exclude: [...REGISTRY_TESTS, ...SETTLEMENT_TESTS, ...OBSERVABILITY_TESTS] }),
      workerProject('workers-registry', 'registryDatabaseUrl', { include: REGISTRY_TESTS }),
      workerProject('workers-settlement', 'settlementDatabaseUrl', { include: SETTLEMENT_TESTS }),
      workerProject('workers-observability', 'observabilityDatabaseUrl', { include: OBSERVABILITY_TESTS }),
      {
        test: { name: 'node', environment: 'node', include: ['test/node/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
      },
    ],
  },
});
