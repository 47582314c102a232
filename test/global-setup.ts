// Starts what the suite needs: a fresh database (on DATABASE_URL's server, or on a throwaway embedded
// PostgreSQL when it is unset) migrated to the latest schema, and the WebSocket proxy the Worker's Neon driver
// goes through.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { generateDevSecrets, generateSigningKey } from '../scripts/lib/dev-secrets';
import { startTemporaryPostgres } from '../scripts/lib/embedded-postgres';
import { startFootballDataCsvServer } from '../scripts/lib/football-data/csv-server';
import { importFootballData } from '../scripts/lib/football-data/import';
import { REPO_DATA_DIR } from '../scripts/lib/football-data/seed';
import { activateDefault, defaultBundleDirs, readBundle, registerBundle } from '../scripts/lib/models/bundle-files';
import { createFreshDatabase } from '../scripts/lib/fresh-database';
import { migrate } from '../scripts/lib/migrate';
import { startOddsApiStandin } from '../scripts/lib/odds-api-standin';
import { importNbaArchive, NBA_DATA_DIR } from '../scripts/lib/nba/import';
import { loadNbaSeason } from '../scripts/lib/odds-api-standin/nba';
import { liveTimeline, loadSeason, onTimeline } from '../scripts/lib/odds-api-standin/season';
import { readObservabilityContract, type ObservabilityContract } from '../scripts/lib/observability-contract';
import { startOtlpReceiver } from '../scripts/lib/otlp-receiver';
import { startWsProxy } from '../scripts/lib/ws-proxy';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A loopback OTLP/HTTP receiver (scripts/lib/otlp-receiver.ts); tests opt in by setting the endpoint on their env. */
    otlpReceiver: string;
    databaseUrl: string;
    /** A second, empty (migrated) database for test/worker/models.test.ts, which moves the active model run. */
    registryDatabaseUrl: string;
    /**
     * A third, with 2023/24 Premier League imported, for test/worker/settlement.test.ts: the daily cron of
     * other files would otherwise settle its round first, and it must see its own run settle it.
     */
    settlementDatabaseUrl: string;
    /**
     * A fourth, with 2023/24 Premier League and the default bundle active, for
     * test/worker/observability-contract.test.ts: it runs the daily settlement and the ingestion crons, which
     * would race other files' runs on a shared database.
     */
    observabilityDatabaseUrl: string;
    /** What terraform/modules/observability queries (scripts/lib/observability-contract.ts), or why it could not be read. */
    observabilityContract: ObservabilityContract | { error: string };
    /**
     * A fifth, migrated and empty (no model run), for test/worker/market-only.test.ts: its odds job creates two
     * weeks of NBA games, which the files sharing the main database would otherwise find in their lists.
     */
    nbaDatabaseUrl: string;
    /**
     * A sixth, with the NBA archive's 2020/21 season imported (so the basketball feature store has a history) and
     * both default runs active, for test/worker/nba-model.test.ts: the NBA replay priced by the NBA run, which it
     * retires and reactivates.
     */
    nbaModelDatabaseUrl: string;
    /**
     * The Odds API stand-in replaying NBA 2021/22 on the real clock (NBA_REPLAY_START is now), so its upcoming
     * games are upcoming for the Worker too: market-only predictions are made only before tip-off.
     */
    nbaStandinUrl: string;
    nbaStandinKey: string;
    /** A Ligue 1 stand-in of the contract test's own (its team names have no alias in that database). */
    observabilityStandinUrl: string;
    observabilityStandinKey: string;
    wsProxy: string;
    /** JWT_PRIVATE_KEYS of the test Worker: the signing key first, then an older key that still verifies. */
    jwtPrivateKeys: string;
    passwordPepper: string;
    /** The committed default (football) model bundle: bundle.json and its artifacts, base64, for workerd tests. */
    defaultBundle: { id: string; runId: string; files: Record<string, string> };
    /** The committed default NBA moneyline bundle (models/bundles/DEFAULT.basketball), active beside football's. */
    nbaDefaultBundle: { id: string; runId: string; files: Record<string, string> };
    /** football-data.co.uk's stand-in: `${url}/E0_2324.csv` serves the repo's file; PUT uploads another. */
    footballDataCsvUrl: string;
    /** The Odds API stand-in replaying 2023/24, its clock at ODDS_API_STANDIN_CLOCK (POST /__control {now} moves it). */
    oddsApiBaseUrl: string;
    oddsApiKey: string;
    /** A second stand-in replaying Ligue 1 2023/24, reserved for the ingestion job tests. */
    ingestionStandinUrl: string;
    ingestionStandinKey: string;
  }
}

export default async function setup(project: TestProject) {
  const teardown: Array<() => Promise<void>> = [];
  let serverUrl: string;
  let serverKind: string;
  if (process.env.DATABASE_URL) {
    serverUrl = process.env.DATABASE_URL;
    serverKind = 'DATABASE_URL';
  } else if (process.env.CI === 'true') {
    throw new Error('CI=true but DATABASE_URL is not set: CI tests against the machine\'s PostgreSQL (.ci/run sets it)');
  } else {
    // A throwaway cluster of its own (about half a second to create), removed at the end.
    const embedded = await startTemporaryPostgres();
    teardown.push(embedded.stop);
    serverUrl = embedded.url;
    serverKind = 'embedded';
  }
  const fresh = await createFreshDatabase(serverUrl);
  teardown.push(fresh.drop);
  const databaseUrl = fresh.url;

  const version = await serverVersion(databaseUrl);
  /** Another migrated database on the same server, for test files that must not share the main one. */
  const separateDatabase = async (prefix: string): Promise<string> => {
    const fresh = await createFreshDatabase(serverUrl, prefix);
    teardown.push(fresh.drop);
    await migrate(fresh.url);
    return fresh.url;
  };
  const [, registryDatabaseUrl, settlementDatabaseUrl, observabilityDatabaseUrl, nbaDatabaseUrl, nbaModelDatabaseUrl] = await Promise.all([
    migrate(databaseUrl).then(() => importSeasons(databaseUrl, FIXTURE_SEASON_FILES)),
    // The model registry's own database: its tests switch the one active run back and forth, which would pull the
    // model out from under the prediction tests running beside them on the main database.
    separateDatabase('senzu_test_registry'),
    // Settlement's own: the round it settles must be settled by its run, not by another file's daily cron.
    separateDatabase('senzu_test_settlement').then(async (url) => (await importSeasons(url, SETTLEMENT_SEASON_FILES), url)),
    separateDatabase('senzu_test_observability').then(async (url) => {
      await importSeasons(url, SETTLEMENT_SEASON_FILES);
      await registerDefaultBundles(url);
      return url;
    }),
    separateDatabase('senzu_test_nba'),
    separateDatabase('senzu_test_nba_model').then(async (url) => {
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      try {
        const imported = await importNbaArchive(pool, [join(NBA_DATA_DIR, 'nba_2020-21.csv')]);
        if (imported.failedFiles > 0) throw new Error(`importing nba_2020-21.csv failed: ${imported.files.map((f) => f.error).join('; ')}`);
      } finally {
        await pool.end();
      }
      await registerDefaultBundles(url);
      return url;
    }),
  ]);
  const proxy = await startWsProxy();
  teardown.push(proxy.close);
  const otlp = await startOtlpReceiver();
  teardown.push(otlp.close);
  const csvServer = await startFootballDataCsvServer();
  teardown.push(csvServer.close);
  const standin = await startOddsApiStandin({ season: '2324', apiKey: 'test-standin-key', now: () => new Date(ODDS_API_STANDIN_CLOCK) });
  teardown.push(standin.close);
  // The ingestion jobs' own stand-in: Ligue 1 (no test imports it, so the jobs create their matches), a clock
  // and faults that only test/worker/ingestion*.test.ts moves, so it cannot disturb the tests above.
  const ingestionStandin = await startOddsApiStandin({ season: '2324', divisions: ['F1'], apiKey: 'test-ingestion-key', now: () => new Date(ODDS_API_STANDIN_CLOCK) });
  teardown.push(ingestionStandin.close);

  // Ligue 1 with one club under a name nobody aliased, as when a provider renames a club: its fixtures stay
  // unresolved.
  const ligue1 = loadSeason({ dataDir: REPO_DATA_DIR, season: '2324', divisions: ['F1'] });
  const renamed = ligue1[0]!.homeTeam;
  const observabilityStandin = await startOddsApiStandin({
    events: ligue1.map((e) => ({ ...e, homeTeam: e.homeTeam === renamed ? 'FC Nowhere' : e.homeTeam, awayTeam: e.awayTeam === renamed ? 'FC Nowhere' : e.awayTeam })),
    apiKey: 'test-observability-key',
    now: () => new Date(ODDS_API_STANDIN_CLOCK),
  });
  teardown.push(observabilityStandin.close);
  const nbaStandin = await startOddsApiStandin({
    events: onTimeline(loadNbaSeason({ dataDir: NBA_DATA_DIR, season: '2021-22' }), liveTimeline(new Date(NBA_REPLAY_START), new Date(), 1, { keepWeekdays: false })),
    apiKey: 'test-nba-key',
  });
  teardown.push(nbaStandin.close);
  // Read here, in Node (it parses HCL); a module that does not parse fails the contract test, not the run.
  const observabilityContract = await readObservabilityContract(join(new URL('..', import.meta.url).pathname, 'terraform')).catch(
    (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
  );

  project.provide('databaseUrl', databaseUrl);
  project.provide('observabilityDatabaseUrl', observabilityDatabaseUrl);
  project.provide('nbaDatabaseUrl', nbaDatabaseUrl);
  project.provide('nbaModelDatabaseUrl', nbaModelDatabaseUrl);
  project.provide('nbaStandinUrl', nbaStandin.url);
  project.provide('nbaStandinKey', nbaStandin.apiKey);
  project.provide('observabilityContract', observabilityContract);
  project.provide('observabilityStandinUrl', observabilityStandin.url);
  project.provide('observabilityStandinKey', observabilityStandin.apiKey);
  project.provide('registryDatabaseUrl', registryDatabaseUrl);
  project.provide('settlementDatabaseUrl', settlementDatabaseUrl);
  project.provide('wsProxy', proxy.address);
  project.provide('otlpReceiver', otlp.url);
  project.provide('footballDataCsvUrl', csvServer.url);
  project.provide('oddsApiBaseUrl', standin.url);
  project.provide('oddsApiKey', standin.apiKey);
  project.provide('ingestionStandinUrl', ingestionStandin.url);
  project.provide('ingestionStandinKey', ingestionStandin.apiKey);
  // Two keys, as during a rotation: tokens signed by either must verify, new ones are signed by the first.
  const secrets = generateDevSecrets('test-2');
  project.provide('jwtPrivateKeys', JSON.stringify([...JSON.parse(secrets.JWT_PRIVATE_KEYS), generateSigningKey('test-1')]));
  project.provide('passwordPepper', secrets.PASSWORD_PEPPER);
  const defaults = await registerDefaultBundles(databaseUrl);
  project.provide('defaultBundle', defaults.football);
  project.provide('nbaDefaultBundle', defaults.basketball);
  console.log(`[test] database: ${serverKind} (${version.split(' on ')[0]}), proxy ${proxy.address}`);

  return async () => {
    for (const step of teardown.reverse()) await step().catch((error) => console.error('[test] teardown:', error));
  };
}

/** The NBA replay's instant that is put at the real now: a Monday of 2021/22 with games every day ahead. */
export const NBA_REPLAY_START = '2021-12-06T12:00:00Z';

/** The stand-in's default clock: a Friday of 2023/24, with a weekend of five leagues ahead. */
export const ODDS_API_STANDIN_CLOCK = '2023-09-29T12:00:00Z';

/**
 * Real history for the read API tests: one season of each column generation (2018/19: BetBrain `Bb*`
 * aggregates, no kick-off times; 2023/24: `Max*`/`Avg*`, closing prices, kick-off times).
 */
export const FIXTURE_SEASON_FILES = ['E0_1819.csv', 'E0_2324.csv'];
/** The settlement test replays a round of 2023/24 (results and closing prices). */
const SETTLEMENT_SEASON_FILES = ['E0_2324.csv'];

async function importSeasons(databaseUrl: string, files: readonly string[]) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  try {
    const summary = await importFootballData(
      pool,
      files.map((f) => `${REPO_DATA_DIR}/${f}`),
    );
    if (summary.failedFiles > 0) throw new Error(`importing ${files.join(', ')} failed: ${summary.files.map((f) => f.error).join('; ')}`);
  } finally {
    await pool.end();
  }
}

/**
 * The default bundles (football's, then the NBA's), each registered and made its sport's active run through the
 * gate, as `npm start` does. Workerd tests put their files into their R2 (which lives inside the test runtime)
 * from the base64 handed over here.
 */
async function registerDefaultBundles(databaseUrl: string) {
  const [footballDir, basketballDir] = await defaultBundleDirs();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const register = async (dir: string) => {
      const bundle = await readBundle(dir);
      const run = await registerBundle(pool, bundle, async () => undefined);
      await activateDefault(pool, run.id);
      const files = Object.fromEntries([...bundle.files].map(([name, bytes]) => [name, bytes.toString('base64')]));
      // The Python pipeline's probabilities for rows of its last season, for the workerd parity tests.
      files['parity.json'] = (await readFile(join(bundle.dir, 'parity.json'))).toString('base64');
      return { id: bundle.manifest.id, runId: run.id, files };
    };
    const football = await register(process.env.SENZU_PARITY_BUNDLE ?? footballDir!);
    const basketball = await register(basketballDir!);
    return { football, basketball };
  } finally {
    await pool.end();
  }
}

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ version: string }>('select version()')).rows[0]!.version;
  } finally {
    await client.end();
  }
}
