// npm start — the whole API on http://localhost:8787 with no external service: an embedded Postgres
// (PGlite, data kept in .data/pglite) or DATABASE_URL, the loopback WebSocket proxy for the Neon driver,
// migrations, history up to 2022/23, The Odds API stand-in replaying 2023/24 as if it were happening now, then
// `wrangler dev` with its Cron Triggers fired on their schedules. Ctrl-C stops all of it.
//
//   npm start -- --live-odds              the real The Odds API (ODDS_API_KEY from .dev.vars or the environment)
//   npm start -- --replay-speed 60        the replayed season runs 60× real time (an hour of it per minute)
//   npm start -- --replay-from 2024-01-12T12:00:00Z   start the replay elsewhere in 2023/24
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SCHEDULES, type ScheduleName } from '../cron/schedules';
import { generateDevSecrets, toEnvFile, type DevSecrets } from './lib/dev-secrets';
import { seedHistoricalData } from './lib/football-data/seed';
import { openLocalDatabase } from './lib/local-database';
import { migrate } from './lib/migrate';
import { activateDefault, defaultBundleDir, readBundle, registerBundle } from './lib/models/bundle-files';
import { r2Uploader } from './lib/r2-upload';
import pg from 'pg';
import {
  liveTimeline,
  loadSeason,
  onTimeline,
  sportInfo,
  startOddsApiStandin,
  toRealTime,
  type OddsApiStandin,
  type ReplayTimeline,
} from './lib/odds-api-standin';
import { startWsProxy } from './lib/ws-proxy';

const PORT = process.env.PORT ?? '8787';
const log = (msg: string) => console.log(`[senzu] ${msg}`);

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    'live-odds': { type: 'boolean', default: false },
    'replay-speed': { type: 'string', default: '1' },
    'replay-from': { type: 'string' },
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
  console.error(`[senzu] --replay-speed must be a positive number, not ${flags['replay-speed']}`);
  process.exit(2);
}

const database = await openLocalDatabase();
log(database.embedded ? `embedded Postgres (PGlite) at ${database.url}, data in .data/pglite` : 'using DATABASE_URL');
const proxy = await startWsProxy(process.env.WS_PROXY_PORT ? Number(process.env.WS_PROXY_PORT) : 0);

let standin: OddsApiStandin | undefined;
const cronTimers: NodeJS.Timeout[] = [];
let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const timer of cronTimers) clearInterval(timer);
    await standin?.close().catch(() => undefined);
    await proxy.close().catch(() => undefined);
    await database.stop().catch(() => undefined);
  }
  process.exit(code);
}

try {
  const migrated = await migrate(database.url);
  log(migrated.applied.length ? `applied migrations: ${migrated.applied.join(', ')}` : 'schema up to date');
} catch (error) {
  console.error(`[senzu] migration failed: ${(error as Error).message}`);
  await shutdown(1);
}

// The committed default model bundle, so a fresh machine serves predictions without training: uploaded to
// the local R2 that wrangler dev reads and made the active run, once (later starts find it registered).
try {
  const bundle = await readBundle(await defaultBundleDir());
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  try {
    const known = await pool.query(`select 1 from model_runs where artifact_sha256 = $1`, [bundle.manifestSha256]);
    if (!known.rowCount) {
      const run = await registerBundle(pool, bundle, r2Uploader('local'));
      log(`registered the default model bundle ${bundle.manifest.id} (run ${run.id}) in local R2`);
    }
    const runId = (await pool.query<{ id: string }>(`select id from model_runs where artifact_sha256 = $1`, [bundle.manifestSha256])).rows[0]!.id;
    if (await activateDefault(pool, runId)) log(`activated the default model bundle ${bundle.manifest.id}`);
  } finally {
    await pool.end();
  }
} catch (error) {
  console.error(`[senzu] registering the default model bundle failed: ${(error as Error).message}`);
  await shutdown(1);
}

// Local secrets: generated once into .data/dev.env; a developer's own .dev.vars, loaded after it, wins.
const DATA_DIR = new URL('../.data/', import.meta.url).pathname;
const DEV_ENV = `${DATA_DIR}dev.env`;
await mkdir(DATA_DIR, { recursive: true });
let secrets: DevSecrets;
try {
  secrets = JSON.parse(await readFile(`${DATA_DIR}dev-secrets.json`, 'utf8')) as DevSecrets;
} catch {
  secrets = generateDevSecrets();
  await writeFile(`${DATA_DIR}dev-secrets.json`, JSON.stringify(secrets), { mode: 0o600 });
  log('generated a local RS256 signing key and password pepper in .data/dev-secrets.json');
}
await writeFile(DEV_ENV, toEnvFile({ ...secrets }), { mode: 0o600 });
const envFiles = ['--env-file', DEV_ENV, ...(existsSync(USER_DEV_VARS) ? ['--env-file', USER_DEV_VARS] : [])];

// The Odds API stand-in, in this process: 2023/24 shifted so that its next matches are upcoming in real time
// (the Worker and its client use the real clock), prices moving towards kick-off, scores after the final whistle.
const oddsApiVars: string[] = [];
if (realOddsApi) {
  log(flags['live-odds'] && !configuredOddsApiKey() ? '--live-odds: set ODDS_API_KEY in .dev.vars, or the odds jobs record themselves as skipped' : 'odds from the real The Odds API (ODDS_API_KEY is set)');
} else {
  const events = loadSeason({ dataDir: new URL('../data/football-data', import.meta.url).pathname, season: REPLAY_SEASON });
  // By default the season's first kick-off is 90 minutes away: inside the odds job's 5-minute polling tier, so
  // prices appear at once and move every poll; the rest of the opening weekend follows over the next days.
  const replayStart = flags['replay-from'] ? new Date(flags['replay-from']) : new Date(events[0]!.commenceTime.getTime() - 90 * 60_000);
  if (Number.isNaN(replayStart.getTime())) {
    console.error(`[senzu] --replay-from ${flags['replay-from']} is not a date`);
    await shutdown(2);
  }
  const timeline = await replayTimeline(replayStart, events[events.length - 1]!.commenceTime);
  standin = await startOddsApiStandin({
    events: onTimeline(events, timeline),
    port: process.env.ODDS_API_STANDIN_PORT ? Number(process.env.ODDS_API_STANDIN_PORT) : 0,
    matchDurationMs: (2 * 3_600_000) / replaySpeed,
    // At real speed the line between the site's two prices moves by less than a tick per poll.
    jitter: 0.015,
  });
  const sports = [...new Set(events.map((e) => e.division))].map((d) => sportInfo(d).key);
  oddsApiVars.push('--var', `ODDS_API_BASE_URL:${standin.url}`, '--var', `ODDS_API_KEY:${standin.apiKey}`);
  if (!process.env.ODDS_API_SPORTS) oddsApiVars.push('--var', `ODDS_API_SPORTS:${sports.join(',')}`);
  const replayNow = new Date(timeline.replayStart.getTime() + (Date.now() - timeline.realStart.getTime()) * timeline.speed);
  log(
    `The Odds API stand-in at ${standin.url}: ${REPLAY_SEASON.slice(0, 2)}/${REPLAY_SEASON.slice(2)} replayed live from ${replayNow.toISOString().slice(0, 16)}Z` +
      ` at ${replaySpeed}x (${events.length} matches, ${sports.length} leagues); npm start -- --live-odds for the real API`,
  );
}

/**
 * The replay's timeline, kept in .data/odds-replay.json per database: a restart continues the season where real
 * time has taken it, so the matches already created (and played) keep their dates. A new one is drawn on the
 * first start, with --replay-from or another --replay-speed, and once the season is over.
 */
async function replayTimeline(replayStart: Date, seasonEnd: Date): Promise<ReplayTimeline> {
  const file = new URL('../.data/odds-replay.json', import.meta.url).pathname;
  const saved = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, { replayStart: string; realStart: string; speed: number }>;
  const previous = saved[database.url];
  if (previous && !flags['replay-from'] && previous.speed === replaySpeed) {
    const timeline = { replayStart: new Date(previous.replayStart), realStart: new Date(previous.realStart), speed: previous.speed };
    if (toRealTime(timeline, seasonEnd).getTime() > Date.now()) return timeline;
  }
  const timeline = liveTimeline(replayStart, new Date(), replaySpeed, { keepWeekdays: false });
  saved[database.url] = { replayStart: timeline.replayStart.toISOString(), realStart: timeline.realStart.toISOString(), speed: timeline.speed };
  await mkdir(new URL('../.data/', import.meta.url).pathname, { recursive: true });
  await writeFile(file, JSON.stringify(saved, null, 2));
  return timeline;
}

const wrangler = spawn(
  process.execPath,
  [
    new URL('../node_modules/wrangler/bin/wrangler.js', import.meta.url).pathname,
    'dev',
    '--port',
    PORT,
    '--ip',
    '127.0.0.1',
    '--show-interactive-dev-session=false',
    // Exposes /__scheduled?cron=…, through which the schedules below fire the Worker's Cron Triggers.
    '--test-scheduled',
    ...envFiles,
    '--var',
    `DATABASE_URL:${database.url}`,
    '--var',
    `WS_PROXY:${proxy.address}`,
    ...oddsApiVars,
    // Benchmarks raise the limits so they measure the admitted path rather than a wall of 429s; an OTLP
    // endpoint in the environment sends the local Worker's traces and metrics to a collector.
    ...['ANONYMOUS_RATE_LIMIT', 'RATE_LIMIT_SCALE', 'OTEL_EXPORTER_OTLP_ENDPOINT'].flatMap((name) =>
      process.env[name] ? ['--var', `${name}:${process.env[name]}`] : [],
    ),
  ],
  // Its own process group, so stopping can reach wrangler and every workerd it started, whoever sent the
  // signal (a terminal's Ctrl-C reaches only the foreground group; `kill` reaches only this process).
  { stdio: ['ignore', 'inherit', 'inherit'], detached: true, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
);
log(`serving on http://localhost:${PORT} (docs at /docs); Ctrl-C stops everything`);

// The first start loads the repository's historical data while the API is already up, newest seasons first,
// so /matches shows real matches within seconds; later starts find the seed recorded and skip it.
// 2023/24 is left to the live replay, so its matches arrive as fixtures with moving odds rather than as history.
seedHistoricalData(database.url, log, { lastSeasonStart: LAST_HISTORY_SEASON_START }).catch((error: Error) => {
  if (!stopping) console.error(`[senzu] loading historical data failed: ${error.message} (run npm start again to resume)`);
});

// wrangler dev does not fire Cron Triggers on its own: fixtures and odds once the Worker answers, then each
// schedule on its cadence (odds every 5 min, fixtures hourly, the daily jobs once a day).
const CADENCE_MS: Record<ScheduleName, number> = { odds: 5 * 60_000, fixtures: 60 * 60_000, daily: 24 * 60 * 60_000 };
/** Fires one Cron Trigger and waits for its jobs: wrangler answers /__scheduled before the handler finishes. */
async function fireCron(name: ScheduleName): Promise<string[]> {
  const since = new Date();
  try {
    const res = await fetch(`http://127.0.0.1:${PORT}/__scheduled?cron=${encodeURIComponent(SCHEDULES[name])}`);
    if (!res.ok) {
      log(`cron ${name}: HTTP ${res.status}`);
      return [];
    }
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    try {
      for (let waited = 0; waited < 120_000 && !stopping; waited += 1000) {
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
    if (!stopping) log(`cron ${name}: ${(error as Error).message}`);
  }
  return [];
}
void (async () => {
  for (let waited = 0; waited < 120_000 && !stopping; waited += 500) {
    const up = await fetch(`http://127.0.0.1:${PORT}/health`).then(
      () => true,
      () => false,
    );
    if (up) {
      // Fixtures first, so the odds job knows which events are upcoming. A first run racing the history load
      // can lose a deadlock; it is simply run again.
      if ((await fireCron('fixtures')).length > 0) await fireCron('fixtures');
      await fireCron('odds');
      log(`cron triggers: odds every 5 min, fixtures hourly, daily once a day; curl 'localhost:${PORT}/__scheduled?cron=*/5+*+*+*+*' fires one now`);
      for (const name of Object.keys(CADENCE_MS) as ScheduleName[]) cronTimers.push(setInterval(() => void fireCron(name), CADENCE_MS[name]));
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
})();

function signalWranglerGroup(signal: NodeJS.Signals): boolean {
  try {
    process.kill(-wrangler.pid!, signal);
    return true;
  } catch {
    return false; // the group is gone
  }
}

async function stopWrangler(): Promise<void> {
  if (!signalWranglerGroup('SIGINT')) return;
  for (let waited = 0; waited < 5000; waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
    if (!signalWranglerGroup(0 as unknown as NodeJS.Signals)) return;
  }
  signalWranglerGroup('SIGKILL');
}

let stopRequested = false;
wrangler.on('exit', (code, signal) => {
  if (stopRequested) return;
  log(`wrangler exited (${signal ?? code})`);
  // Whatever it left behind (workerd) goes too.
  void stopWrangler().then(() => shutdown(code ?? 0));
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopRequested) return;
    stopRequested = true;
    log('stopping');
    void stopWrangler().then(() => shutdown(130));
  });
}
