// The database `npm start` and the CLIs use: DATABASE_URL when it is set, otherwise the embedded PostgreSQL
// whose data lives in <data dir>/postgres between runs (the data dir is .data, or SENZU_DATA_DIR).
import { createHash } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { acquireDataDirLock, DataDirInUseError, isLive, readLock, type DataDirLock } from './data-dir-lock';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;

/** Everything local and kept between runs: the database, the Worker's local state, the dev secrets, the lock. */
export function localDataDir(): string {
  return resolve(REPO_ROOT, process.env.SENZU_DATA_DIR || '.data');
}

export const embeddedDataDir = (dataDir = localDataDir()) => join(dataDir, 'postgres');

export interface LocalDatabase {
  url: string;
  embedded: boolean;
  /** The lock on the data directory, when this process owns it. */
  lock?: DataDirLock;
  server?: EmbeddedPostgres;
  stop(): Promise<void>;
}

export interface OpenOptions {
  /**
   * npm start owns the data directory whether or not the database is embedded (the Worker's local state lives
   * there too) and refuses to share it. A CLI (the default) uses a running npm start's database instead.
   */
  exclusive?: boolean;
  command?: string;
  log?: (message: string) => void;
}

export async function openLocalDatabase(options: OpenOptions = {}): Promise<LocalDatabase> {
  const log = options.log ?? ((message: string) => console.error(`[senzu] ${message}`));
  const dataDir = localDataDir();
  const command = options.command ?? `npm run ${process.env.npm_lifecycle_event ?? process.argv.slice(1, 2).join(' ')}`;
  if (process.env.DATABASE_URL && !options.exclusive) return { url: process.env.DATABASE_URL, embedded: false, stop: async () => undefined };

  let lock: DataDirLock;
  try {
    lock = await acquireDataDirLock(dataDir, command, log, { guardian: true });
  } catch (error) {
    if (!(error instanceof DataDirInUseError) || options.exclusive || process.env.DATABASE_URL) throw error;
    return { url: await runningServerUrl(dataDir), embedded: true, stop: async () => undefined };
  }
  if (process.env.DATABASE_URL) {
    await lock.update({ external: true });
    return { url: process.env.DATABASE_URL, embedded: false, lock, stop: () => lock.release() };
  }

  let server: EmbeddedPostgres;
  try {
    const port = process.env.SENZU_POSTGRES_PORT ? Number(process.env.SENZU_POSTGRES_PORT) : 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`SENZU_POSTGRES_PORT=${process.env.SENZU_POSTGRES_PORT} is not a port`);
    server = await startEmbeddedPostgres({
      dataDir: embeddedDataDir(dataDir),
      port,
      log,
      // Recorded before it is ready, so whoever cleans up after a dead owner also finds a server that was starting.
      onSpawn: (pid) => lock.addChild({ name: 'postgres', pid, group: true, signal: 'SIGINT' }),
    });
    await lock.update({ url: server.url });
  } catch (error) {
    await lock.release();
    throw error;
  }
  const stop = async () => {
    await server.stop();
    await lock.release();
  };
  // npm start orders its own stop; a CLI that started the server stops it on Ctrl-C, kill or a hangup rather
  // than dying and leaving PostgreSQL running (it has a process group of its own, so no signal reaches it).
  if (!options.exclusive) {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        log(`${signal}: stopping the embedded database`);
        // The CLI's own connections break as the server goes; the process is exiting, so their errors are expected
        // and must not end it before the server has stopped.
        process.on('uncaughtException', () => undefined);
        void stop().finally(() => process.exit(128 + osConstants.signals[signal]));
      });
    }
  }
  return { url: server.url, embedded: true, lock, server, stop };
}

/** A CLI run beside npm start uses npm start's server (it has just started when there is no URL yet). */
async function runningServerUrl(dataDir: string): Promise<string> {
  for (let waited = 0; waited <= 30_000; waited += 250) {
    const holder = await readLock(dataDir);
    if (!holder || !isLive(holder)) break;
    if (holder.external) {
      throw new Error(`PID ${holder.pid} (${holder.command}) uses DATABASE_URL, not the embedded database: set DATABASE_URL for this command too`);
    }
    if (holder.url) {
      console.error(`[senzu] using the embedded database of PID ${holder.pid} (${holder.command})`);
      return holder.url;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the owner of ${dataDir} went away, or its database did not come up within 30 s: run the command again`);
}

/**
 * A name for the database a URL points at that survives a restart on another port and changes when the database
 * is replaced: the cluster's system identifier (new on every initdb) and the database's oid (new when it is
 * recreated under the same name). The Worker's local state and the odds replay's timeline are kept per identity,
 * so a new database never meets another database's Durable Object or KV state.
 */
export async function databaseIdentity(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ system: string; oid: string; name: string }>(
      `select (select system_identifier::text from pg_control_system()) as system, oid::text, datname as name
       from pg_database where datname = current_database()`,
    );
    const key = `${rows[0]!.system}/${rows[0]!.oid}`;
    return `${rows[0]!.name.replace(/[^\w-]/g, '_').slice(0, 40)}-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
  } catch {
    // A server that hides its control data: the URL without its password is the next best thing.
    const parsed = new URL(url);
    parsed.password = '';
    return `url-${createHash('sha256').update(parsed.toString()).digest('hex').slice(0, 12)}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The Worker's local state (KV, Durable Objects, R2, queues) that belongs to this database: `wrangler dev
 * --persist-to` of npm start, and where model:register puts bundles locally.
 */
export async function localWranglerState(databaseUrl: string): Promise<string> {
  return join(localDataDir(), 'wrangler', await databaseIdentity(databaseUrl));
}
