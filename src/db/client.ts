// One drizzle client per request over a Neon Pool. A Worker cannot keep a socket across requests, so the
// pool is created lazily when a request first needs the database and ended in waitUntil afterwards.
//
// Beside it, createReadDatabase: drizzle over Neon's HTTP query endpoint, for a request's one-statement reads.
// A pooled query first opens a WebSocket and has Postgres start a backend for this request alone (20–30 ms of
// round trips and startup unloaded; 131 ms at p50 of a 169 ms cold prediction under bench/predictions.ts's
// load), where an HTTP query is one fetch to a connection Neon's side keeps open. It has no session: a
// transaction, or anything that must see this request's own uncommitted writes, goes through `db`. Nor is it
// for large answers (one JSON document, capped by Neon): see FeatureStateSource.
import { neon, neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle as drizzleHttp, type NeonHttpDatabase } from 'drizzle-orm/neon-http';
import { drizzle, type NeonDatabase } from 'drizzle-orm/neon-serverless';
import type { Logger } from '../lib/logging';
import { activeTrace, traceQueries } from '../lib/tracing';

// No `schema` is passed to drizzle(): nothing uses its relational API (`db.query.*`), and with a schema every
// drizzle() call walks all tables to build it, which a request that opens the database paid each time.
export type Database = NeonDatabase;
export type ReadDatabase = NeonHttpDatabase;

export interface DatabaseHandle {
  db: Database;
  pool: Pool;
  end(): Promise<void>;
}

/**
 * `wsProxy` is set locally and in tests (host:port/path of the loopback proxy in scripts/lib/ws-proxy.ts);
 * in production it is unset and the driver talks to Neon's own endpoint over TLS.
 */
export function createDatabase(databaseUrl: string, wsProxy: string | undefined, logger: Logger): DatabaseHandle {
  configureLocalProxy(wsProxy);
  const pool = new Pool({ connectionString: databaseUrl, max: 4 });
  let ended: Promise<void> | undefined;
  // A connection the pool has let go of (the pool ended, or a query failed on it, which makes pg discard it)
  // is closed by the server after its Terminate; its socket reporting that is the expected end, not an error.
  const removed = new WeakSet<object>();
  pool.on('remove', (client: object) => removed.add(client));
  pool.on('error', (error: Error, client?: object) => {
    if (!ended && !(client && removed.has(client))) logger.error('postgres pool error', { error: error.message });
  });
  // Inside a recorded trace every query is a span; otherwise the pool stays untouched.
  if (activeTrace()) {
    traceQueries(pool as unknown as Parameters<typeof traceQueries>[0]);
    pool.on('connect', (client: unknown) => traceQueries(client as unknown as Parameters<typeof traceQueries>[0]));
  }
  const db = drizzle({ client: pool });
  return { db, pool, end: () => (ended ??= pool.end()) };
}

const readDatabases = new Map<string, ReadDatabase>();

/**
 * Drizzle over Neon's HTTP query endpoint: no connection to open, and nothing to end. One per isolate and
 * database: each query is its own fetch, so unlike a Pool nothing in it belongs to a request, and a cold miss
 * need not build the client again. Its queries are spans whenever the request that makes them is traced
 * (traceQueries looks for the trace at each call).
 */
export function createReadDatabase(databaseUrl: string, wsProxy: string | undefined): ReadDatabase {
  const key = `${databaseUrl}\n${wsProxy ?? ''}`;
  let db = readDatabases.get(key);
  if (!db) {
    configureLocalProxy(wsProxy);
    const client = neon(databaseUrl);
    traceQueries(client as unknown as Parameters<typeof traceQueries>[0]);
    db = drizzleHttp({ client });
    readDatabases.set(key, db);
  }
  return db;
}

/** Points the driver's WebSocket and HTTP endpoints at the loopback proxy (scripts/lib/ws-proxy.ts). */
function configureLocalProxy(wsProxy: string | undefined): void {
  if (!wsProxy) return;
  const [hostPort, ...pathParts] = wsProxy.split('/');
  const path = pathParts.join('/');
  neonConfig.wsProxy = (host, port) => `${hostPort}/${path}?address=${host}:${port}`;
  neonConfig.fetchEndpoint = `http://${hostPort}/sql`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  // Pipelining the password message only works with cleartext auth; local servers use trust or md5/scram.
  neonConfig.pipelineConnect = false;
  neonConfig.forceDisablePgSSL = true;
}
