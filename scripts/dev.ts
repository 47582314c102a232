// npm start — the whole API on http://localhost:8787 with no external service: an embedded PostgreSQL (data
// kept in .data/postgres) or DATABASE_URL, the loopback WebSocket proxy for the Neon driver, migrations,
// history up to 2022/23, The Odds API stand-in replaying 2023/24 as if it were happening now, then
// `wrangler dev` with its Cron Triggers fired on their schedules. SIGINT (Ctrl-C), SIGTERM and SIGHUP stop all
// of it, the database last, and so does the exit of whatever started this process.
//
//   npm start -- --live-odds              the real The Odds API (ODDS_API_KEY from .dev.vars or the environment)
//   npm start -- --replay-speed 60        the replayed season runs 60× real time (an hour of it per minute)
//   npm start -- --replay-from 2024-01-12T12:00:00Z   start the replay elsewhere in 2023/24
//   npm start -- --skip-history           do not load the football-data and NBA history on this start
//   npm start -- --inspect                the DevTools inspector on 127.0.0.1:9229 (off by default: see scripts/lib/wrangler-dev.ts)
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { SCHEDULES, type ScheduleName } from '../src/jobs/schedules';
import { exitWithUsageOnHelp } from './lib/cli';
import { DataDirInUseError } from './lib/data-dir-lock';
import { generateDevSecrets, toEnvFile, type DevSecrets } from './lib/dev-secrets';
import { EmbeddedPostgresError } from './lib/embedded-postgres';
import { seedHistoricalData } from './lib/football-data/seed';
import { loadNbaArchiveIfNeeded } from './lib/nba/import';
import { databaseIdentity, localDataDir, localWranglerState, openLocalDatabase, type LocalDatabase } from './lib/local-database';
import { migrate } from './lib/migrate';
import { activateDefault, bundleSport, defaultBundleDirs, readBundle, registerBundle } from './lib/models/bundle-files';
import {
  alignedTimeline,
  DEFAULT_NBA_SEASON,
  liveTimeline,
  loadNbaSeason,
  loadSeason,
  onTimeline,
  sportInfo,
  startOddsApiStandin,
  toRealTime,
  type OddsApiStandin,
  type ReplayTimeline,
} from './lib/odds-api-standin';
import { signalAndWait } from './lib/processes';
import { r2Uploader } from './lib/r2-upload';
import type { WranglerDevOptions } from './lib/wrangler-dev';
import { startWsProxy, type WsProxy } from './lib/ws-proxy';

exitWithUsageOnHelp(
  'usage: npm start -- [--replay-speed N] [--replay-from ISO-INSTANT] [--live-odds] [--skip-history] [--inspect]\n' +
    '  the API on http://localhost:$PORT (default 8787) with an embedded PostgreSQL (or DATABASE_URL), the odds stand-in\n' +
    '  replaying 2023/24 live, and the Worker\'s Cron Triggers; see README.md and docs/runbooks/local-development.md',
);
const PORT = process.env.PORT ?? '8787';
// A closed terminal or a process manager that stopped reading must not turn a log line into a crash halfway
// through stopping.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);
const log = (msg: string) => console.log(`[senzu] ${msg}`);
const fail = (msg: string) => console.error(`[senzu] ${msg}`);

// --- stopping -----------------------------------------------------------------------------------------------
// Everything this process starts is stopped by stop(), in order: the cron timers, wrangler and every workerd
// it started (their own process group), the stand-in, the proxy, and last the database (a fast shutdown,
// waited for) and the lock on the data directory. It is the only way out once the signal handlers are up.
let database: LocalDatabase | undefined;
/** Set while the database is starting: a signal then waits for it, so the server it starts is stopped too. */
let databaseOpening: Promise<LocalDatabase | undefined> | undefined;
let proxy: WsProxy | undefined;
let standin: OddsApiStandin | undefined;
let wrangler: ChildProcess | undefined;
const cronTimers: NodeJS.Timeout[] = [];
let stopping: Promise<void> | undefined;
const isStopping = () => stopping !== undefined;

async function stop(code: number): Promise<never> {
  stopping ??= (async () => {
    for (const timer of cronTimers) clearInterval(timer);
    if (wrangler?.pid) {
      if (!(await signalAndWait(wrangler.pid, 'SIGINT', 5000, true))) await signalAndWait(wrangler.pid, 'SIGKILL', 2000, true);
    }
    await standin?.close().catch(() => undefined);
    await proxy?.close().catch(() => undefined);
    database ??= await databaseOpening;
    // The database last, then the lock (which dismisses the guardian).
    await database?.stop().catch((error: Error) => fail(`stopping the database: ${error.message}`));
  })();
  await stopping;
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (isStopping()) return;
    log(`${signal}: stopping`);
    void stop(0);
  });
}
// `npm start` runs this process through `exec`, so its parent is npm (or whatever ran it). If that parent goes
// without passing a signal on (npm does not forward SIGHUP), this process is re-parented: stop as if signalled.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid && !isStopping()) {
    log(`the process that started this one (PID ${parentPid}) is gone: stopping`);
    void stop(0);
  }
}, 500).unref();

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    'live-odds': { type: 'boolean', default: false },
    'replay-speed': { type: 'string', default: '1' },
    'replay-from': { type: 'string' },
    'skip-history': { type: 'boolean', default: false },
    inspect: { type: 'boolean', default: false },
  },
});
const USER_DEV_VARS = new URL('../.dev.vars', import.meta.url).pathname;
/** The season the stand-in replays; the history import stops at the season before it. */
const REPLAY_SEASON = '2324';
const LAST_HISTORY_SEASON_START = 2022;

/** A real key (environment or .dev.vars) means the real API, as does --live-odds. */
function configuredOddsApiKey(): string | undefined {
  if (process.env.ODDS_API_KEY) return process.env.ODDS_API_KEY;
  if (!existsSync(USER_DEV_VARS)) return undefined;
  const line = readFileSync(USER_DEV_VARS, 'utf8').match(/^\s*ODDS_API_KEY\s*=\s*"?([^"\s#]*)"?/m);
  return line?.[1] || undefined;
}
const realOddsApi = flags['live-odds'] || configuredOddsApiKey() !== undefined;
const replaySpeed = Number(flags['replay-speed']);
if (!(replaySpeed > 0)) {
  fail(`--replay-speed must be a positive number, not ${flags['replay-speed']}`);
  process.exit(2);
}

const DATA_DIR = localDataDir();
await mkdir(DATA_DIR, { recursive: true });

// Takes the data directory's lock, whose guardian stops what this process started should it die without
// stopping (SIGKILL, a crash).
try {
  const opening = openLocalDatabase({ exclusive: true, command: 'npm start', log });
  databaseOpening = opening.catch(() => undefined);
  database = await opening;
} catch (error) {
  if (error instanceof DataDirInUseError || error instanceof EmbeddedPostgresError) fail(error.message);
  else fail(`the database could not be opened: ${(error as Error).message}`);
  await stop(1);
}
if (isStopping()) await stop(0);
log(database!.embedded ? `embedded PostgreSQL 17 at ${database!.url}, data in ${database!.server!.dataDir}` : 'using DATABASE_URL');
const databaseUrl = database!.url;
if (database!.embedded && existsSync(join(DATA_DIR, 'pglite'))) {
  log(`${join(DATA_DIR, 'pglite')} is the database of an older version (PGlite) and is no longer read; delete it when you no longer need it`);
}
proxy = await startWsProxy(process.env.WS_PROXY_PORT ? Number(process.env.WS_PROXY_PORT) : 0);

try {
  const migrated = await migrate(databaseUrl);
  log(migrated.applied.length ? `applied migrations: ${migrated.applied.join(', ')}` : 'schema up to date');
} catch (error) {
  fail(`migration failed: ${(error as Error).message}`);
  await stop(1);
}

// The Worker's local state (KV, Durable Objects, R2, queues) is kept per database, so a run against another
// database never sees this one's live odds, cached predictions or model files.
const wranglerState = await localWranglerState(databaseUrl);
const freshWranglerState = !existsSync(wranglerState);
log(`Worker state (KV, Durable Objects, R2, queues) in ${wranglerState}`);

// The committed default model bundles (football's, then the NBA's), so a fresh machine serves predictions without
// training: each uploaded to the local R2 that wrangler dev reads and made its sport's active run, once (later
// starts find them registered), through the activation gate.
try {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    for (const dir of await defaultBundleDirs()) {
      const bundle = await readBundle(dir);
      const known = await pool.query(`select 1 from model_runs where artifact_sha256 = $1`, [bundle.manifestSha256]);
      if (!known.rowCount || freshWranglerState) {
        const run = await registerBundle(pool, bundle, r2Uploader('local', { persistTo: wranglerState }));
        log(`registered the default ${bundleSport(bundle.manifest)} model bundle ${bundle.manifest.id} (run ${run.id}) in local R2`);
      }
      const runId = (await pool.query<{ id: string }>(`select id from model_runs where artifact_sha256 = $1`, [bundle.manifestSha256])).rows[0]!.id;
      if (await activateDefault(pool, runId)) log(`activated the default ${bundleSport(bundle.manifest)} model bundle ${bundle.manifest.id}`);
    }
  } finally {
    await pool.end();
  }
} catch (error) {
  fail(`registering the default model bundles failed: ${(error as Error).message}`);
  await stop(1);
}

// Local secrets: generated once into <data dir>/dev-secrets.json; a developer's own .dev.vars, loaded after it, wins.
const DEV_ENV = join(DATA_DIR, 'dev.env');
let secrets: DevSecrets;
try {
  secrets = JSON.parse(await readFile(join(DATA_DIR, 'dev-secrets.json'), 'utf8')) as DevSecrets;
} catch {
  secrets = generateDevSecrets();
  await writeFile(join(DATA_DIR, 'dev-secrets.json'), JSON.stringify(secrets), { mode: 0o600 });
  log(`generated a local RS256 signing key and password pepper in ${join(DATA_DIR, 'dev-secrets.json')}`);
}
await writeFile(DEV_ENV, toEnvFile({ ...secrets }), { mode: 0o600 });
const envFiles = [DEV_ENV, ...(existsSync(USER_DEV_VARS) ? [USER_DEV_VARS] : [])];

// The Odds API stand-in, in this process: 2023/24 shifted so that its next matches are upcoming in real time
// (the Worker and its client use the real clock), prices moving towards kick-off, scores after the final whistle.
// The NBA's 2021/22 season runs beside it on the same clock (its first tip-off a few hours after football's first
// kick-off), with synthetic prices around the archive's real closing lines (scripts/lib/odds-api-standin/nba.ts).
const oddsApiVars: Record<string, string> = {};
// ODDS_API_BASE_URL (with ODDS_API_KEY) in the environment: another server speaking The Odds API's protocol
// instead of either, e.g. bench:predictions' own stand-in serving priced events for its fixtures.
const otherOddsApi = process.env.ODDS_API_BASE_URL;
if (otherOddsApi) {
  log(`odds from ${otherOddsApi} (ODDS_API_BASE_URL is set)`);
  Object.assign(oddsApiVars, { ODDS_API_BASE_URL: otherOddsApi, ODDS_API_KEY: process.env.ODDS_API_KEY ?? '' });
  if (process.env.ODDS_API_SPORTS) oddsApiVars.ODDS_API_SPORTS = process.env.ODDS_API_SPORTS;
} else if (realOddsApi) {
  log(flags['live-odds'] && !configuredOddsApiKey() ? '--live-odds: set ODDS_API_KEY in .dev.vars, or the odds jobs record themselves as skipped' : 'odds from the real The Odds API (ODDS_API_KEY is set)');
} else {
  const events = loadSeason({ dataDir: new URL('../data/football-data', import.meta.url).pathname, season: REPLAY_SEASON });
  // By default the season's first kick-off is 90 minutes away: inside the odds job's 5-minute polling tier, so
  // prices appear at once and move every poll; the rest of the opening weekend follows over the next days.
  const replayStart = flags['replay-from'] ? new Date(flags['replay-from']) : new Date(events[0]!.commenceTime.getTime() - 90 * 60_000);
  if (Number.isNaN(replayStart.getTime())) {
    fail(`--replay-from ${flags['replay-from']} is not a date`);
    await stop(2);
  }
  const timeline = await replayTimeline(replayStart, events[events.length - 1]!.commenceTime);
  const nbaEvents = loadNbaSeason({ dataDir: new URL('../data/nba', import.meta.url).pathname, season: DEFAULT_NBA_SEASON });
  const nbaTimeline = alignedTimeline(timeline, events[0]!.commenceTime, nbaEvents[0]!.commenceTime);
  standin = await startOddsApiStandin({
    events: [...onTimeline(events, timeline), ...onTimeline(nbaEvents, nbaTimeline)],
    port: process.env.ODDS_API_STANDIN_PORT ? Number(process.env.ODDS_API_STANDIN_PORT) : 0,
    matchDurationMs: (2 * 3_600_000) / replaySpeed,
    // At real speed the line between the site's two prices moves by less than a tick per poll.
    jitter: 0.015,
  });
  // Every replayed competition is polled, the NBA included (its markets and region come from basketball.json).
  const sports = [...new Set([...events, ...nbaEvents].map((e) => e.division))].map((d) => sportInfo(d).key);
  Object.assign(oddsApiVars, { ODDS_API_BASE_URL: standin.url, ODDS_API_KEY: standin.apiKey });
  if (!process.env.ODDS_API_SPORTS) oddsApiVars.ODDS_API_SPORTS = sports.join(',');
  const replayNow = new Date(timeline.replayStart.getTime() + (Date.now() - timeline.realStart.getTime()) * timeline.speed);
  log(
    `The Odds API stand-in at ${standin.url}: ${REPLAY_SEASON.slice(0, 2)}/${REPLAY_SEASON.slice(2)} replayed live from ${replayNow.toISOString().slice(0, 16)}Z` +
      ` at ${replaySpeed}x (${events.length} matches, ${sports.length - 1} leagues), with the NBA's ${DEFAULT_NBA_SEASON} (${nbaEvents.length} games);` +
      ' npm start -- --live-odds for the real API',
  );
}

/**
 * The replay's timeline, kept in <data dir>/odds-replay.json per database (its identity, which survives the
 * embedded server's new port on every start): a restart continues the season where real time has taken it, so
 * the matches already created (and played) keep their dates. A new one is drawn on the first start, with
 * --replay-from or another --replay-speed, and once the season is over.
 */
async function replayTimeline(replayStart: Date, seasonEnd: Date): Promise<ReplayTimeline> {
  const file = join(DATA_DIR, 'odds-replay.json');
  const key = await databaseIdentity(databaseUrl);
  const saved = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, { replayStart: string; realStart: string; speed: number }>;
  const previous = saved[key];
  if (previous && !flags['replay-from'] && previous.speed === replaySpeed) {
    const timeline = { replayStart: new Date(previous.replayStart), realStart: new Date(previous.realStart), speed: previous.speed };
    if (toRealTime(timeline, seasonEnd).getTime() > Date.now()) return timeline;
  }
  const timeline = liveTimeline(replayStart, new Date(), replaySpeed, { keepWeekdays: false });
  saved[key] = { replayStart: timeline.replayStart.toISOString(), realStart: timeline.realStart.toISOString(), speed: timeline.speed };
  await writeFile(file, JSON.stringify(saved, null, 2));
  return timeline;
}

if (isStopping()) await stop(0);
// The Worker in `wrangler dev`'s engine, without the DevTools inspector unless --inspect (scripts/lib/wrangler-dev.ts
// says why).
const wranglerDev: WranglerDevOptions = {
  port: Number(PORT),
  persistTo: wranglerState,
  envFiles,
  vars: {
    DATABASE_URL: databaseUrl,
    WS_PROXY: proxy.address,
    ...oddsApiVars,
    // Benchmarks raise the limits so they measure the admitted path rather than a wall of 429s; an OTLP
    // endpoint in the environment sends the local Worker's traces and metrics to a collector.
    ...Object.fromEntries(['ANONYMOUS_RATE_LIMIT', 'RATE_LIMIT_SCALE', 'OTEL_EXPORTER_OTLP_ENDPOINT'].flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : []))),
  },
  inspect: flags.inspect,
};
wrangler = spawn(
  process.execPath,
  ['--import', new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href, new URL('./lib/wrangler-dev.ts', import.meta.url).pathname],
  // Its own process group (and session), so stop() reaches wrangler and every workerd it started with one
  // signal, whoever signalled this process, and a signal meant for this process does not stop the Worker before
  // stop() has put things in order.
  { stdio: ['pipe', 'inherit', 'inherit'], detached: true, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
);
wrangler.stdin!.on('error', () => undefined);
wrangler.stdin!.end(JSON.stringify(wranglerDev));
if (wrangler.pid) await database!.lock!.addChild({ name: 'wrangler', pid: wrangler.pid, group: true, signal: 'SIGINT' });
wrangler.on('exit', (code, signal) => {
  if (isStopping()) return;
  fail(`wrangler exited (${signal ?? code}); stopping`);
  void stop(1);
});
log(`serving on http://localhost:${PORT} (docs at /docs); Ctrl-C stops everything`);

// The first start loads the repository's historical data while the API is already up, newest seasons first,
// so /matches shows real matches within seconds; later starts find the seed recorded and skip it.
// 2023/24 is left to the live replay, so its matches arrive as fixtures with moving odds rather than as history.
// The NBA archive follows, up to the season before the one the stand-in replays: the basketball run's features (Elo,
// rest, travel) read the basketball feature store, which the import advances.
if (flags['skip-history']) log('--skip-history: the football-data and NBA history is not loaded on this start');
else {
  (async () => {
    await seedHistoricalData(databaseUrl, log, { lastSeasonStart: LAST_HISTORY_SEASON_START });
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    pool.on('error', () => undefined);
    try {
      // A file can lose a deadlock to the live jobs writing at the same time; the load is idempotent, so it goes again.
      await loadNbaArchiveIfNeeded(pool, log, { before: DEFAULT_NBA_SEASON }).catch(() => loadNbaArchiveIfNeeded(pool, log, { before: DEFAULT_NBA_SEASON }));
    } finally {
      await pool.end();
    }
  })().catch((error: Error) => {
    if (!isStopping()) fail(`loading historical data failed: ${error.message} (run npm start again to resume)`);
  });
}

// wrangler dev does not fire Cron Triggers on its own. Once the Worker answers: fixtures, odds, then the daily
// jobs (results and settlement, so matches played while npm start was not running are finished at once); then
// each on its cadence. With the stand-in the daily jobs run hourly at real speed and faster with the replay,
// so a match's result and settlement follow its final whistle instead of waiting for 03:30 UTC; against the
// real The Odds API they keep its daily cadence (its results cost credits).
const CADENCE_MS: Record<ScheduleName, number> = {
  odds: 5 * 60_000,
  fixtures: 60 * 60_000,
  daily: realOddsApi ? 24 * 60 * 60_000 : Math.max(60_000, (60 * 60_000) / replaySpeed),
};
/** Fires one Cron Trigger and waits for its jobs: wrangler answers /__scheduled before the handler finishes. */
async function fireCron(name: ScheduleName): Promise<string[]> {
  const since = new Date();
  try {
    const res = await fetch(`http://127.0.0.1:${PORT}/__scheduled?cron=${encodeURIComponent(SCHEDULES[name])}`);
    if (!res.ok) {
      log(`cron ${name}: HTTP ${res.status}`);
      return [];
    }
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    pool.on('error', () => undefined); // the database stopping under a waiting poll
    try {
      for (let waited = 0; waited < 120_000 && !isStopping(); waited += 1000) {
        await new Promise((r) => setTimeout(r, 1000));
        const { rows } = await pool.query<{ running: number; failed: string[] }>(
          `select count(*) filter (where status = 'running')::int as running,
                  coalesce(array_agg(kind) filter (where status = 'failed'), '{}') as failed
           from ingestion_jobs where started_at >= $1 and trigger = 'cron' and kind not in ('import', 'seed')`,
          [since],
        );
        if (rows[0]!.running === 0) return rows[0]!.failed;
      }
    } finally {
      await pool.end();
    }
  } catch (error) {
    if (!isStopping()) log(`cron ${name}: ${(error as Error).message}`);
  }
  return [];
}
/**
 * The next game with odds of each sport not announced yet, so the first prediction to try is one copy away. The
 * odds job polls a sport's games only as their kick-off nears (budget.ts), so a sport can first have odds a few
 * runs after the start: it is announced after the odds run that brought them.
 */
const announcedSports = new Set<string>();
async function logUpcomingPredictions(): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  pool.on('error', () => undefined);
  try {
    const { rows } = await pool.query<{ sport: string; id: string; home: string; away: string; start_at: Date; run: string | null }>(
      `select distinct on (s.key) s.key as sport, m.id, h.name as home, a.name as away, m.start_at,
              (select r.name from model_runs r where r.sport_id = s.id and r.status = 'active') as run
       from matches m join sports s on s.id = m.sport_id join teams h on h.id = m.home_team_id join teams a on a.id = m.away_team_id
       where m.status = 'scheduled' and m.start_at > now() and exists (select 1 from odds_snapshots o where o.match_id = m.id)
       order by s.key, m.start_at, m.id`,
    );
    for (const r of rows) {
      if (announcedSports.has(r.sport)) continue;
      announcedSports.add(r.sport);
      const what = r.run ? `priced by the active model ${r.run}` : 'no active model: market-only, model null';
      log(`next ${r.sport} game with odds: ${r.home} v ${r.away} at ${r.start_at.toISOString()}, GET /matches/${r.id}/predictions (${what})`);
    }
  } catch (error) {
    if (!isStopping()) log(`listing upcoming games: ${(error as Error).message}`);
  } finally {
    await pool.end();
  }
}

void (async () => {
  for (let waited = 0; waited < 120_000 && !isStopping(); waited += 500) {
    const up = await fetch(`http://127.0.0.1:${PORT}/health`).then(
      () => true,
      () => false,
    );
    if (up) {
      // Fixtures first, so the odds job knows which events are upcoming. A first run racing the history load
      // can lose a deadlock; it is simply run again.
      if ((await fireCron('fixtures')).length > 0) await fireCron('fixtures');
      await fireCron('odds');
      await fireCron('daily');
      if (isStopping()) return;
      await logUpcomingPredictions();
      const every = (ms: number) => (ms >= 3_600_000 ? `${ms / 3_600_000} h` : `${Math.round(ms / 60_000)} min`);
      log(
        `cron triggers: odds every 5 min, fixtures hourly, the daily jobs (results, settlement) every ${every(CADENCE_MS.daily)}; ` +
          `curl 'localhost:${PORT}/__scheduled?cron=*/5+*+*+*+*' fires one now`,
      );
      for (const name of Object.keys(CADENCE_MS) as ScheduleName[]) {
        cronTimers.push(setInterval(() => void fireCron(name).then(() => (name === 'odds' && !isStopping() ? logUpcomingPredictions() : undefined)), CADENCE_MS[name]));
      }
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
})();
