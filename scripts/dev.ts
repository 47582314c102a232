// npm start — the whole API on http://localhost:8787 with no external service: an embedded Postgres
// (PGlite, data kept in .data/pglite) or DATABASE_URL, the loopback WebSocket proxy for the Neon driver,
// migrations, then `wrangler dev`. Ctrl-C stops all of it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { generateDevSecrets, toEnvFile, type DevSecrets } from './lib/dev-secrets';
import { seedHistoricalData } from './lib/football-data/seed';
import { openLocalDatabase } from './lib/local-database';
import { migrate } from './lib/migrate';
import { activateDefault, defaultBundleDir, readBundle, registerBundle } from './lib/models/bundle-files';
import { r2Uploader } from './lib/r2-upload';
import pg from 'pg';
import { startWsProxy } from './lib/ws-proxy';

const PORT = process.env.PORT ?? '8787';
const log = (msg: string) => console.log(`[senzu] ${msg}`);

const database = await openLocalDatabase();
log(database.embedded ? `embedded Postgres (PGlite) at ${database.url}, data in .data/pglite` : 'using DATABASE_URL');
const proxy = await startWsProxy(process.env.WS_PROXY_PORT ? Number(process.env.WS_PROXY_PORT) : 0);

let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
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
const USER_DEV_VARS = new URL('../.dev.vars', import.meta.url).pathname;
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
    ...envFiles,
    '--var',
    `DATABASE_URL:${database.url}`,
    '--var',
    `WS_PROXY:${proxy.address}`,
    // Benchmarks raise the limits so they measure the admitted path rather than a wall of 429s.
    ...['ANONYMOUS_RATE_LIMIT', 'RATE_LIMIT_SCALE'].flatMap((name) => (process.env[name] ? ['--var', `${name}:${process.env[name]}`] : [])),
  ],
  // Its own process group, so stopping can reach wrangler and every workerd it started, whoever sent the
  // signal (a terminal's Ctrl-C reaches only the foreground group; `kill` reaches only this process).
  { stdio: ['ignore', 'inherit', 'inherit'], detached: true, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
);
log(`serving on http://localhost:${PORT} (docs at /docs); Ctrl-C stops everything`);

// The first start loads the repository's historical data while the API is already up, newest seasons first,
// so /matches shows real matches within seconds; later starts find the seed recorded and skip it.
seedHistoricalData(database.url, log).catch((error: Error) => {
  if (!stopping) console.error(`[senzu] loading historical data failed: ${error.message} (run npm start again to resume)`);
});

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
