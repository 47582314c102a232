// One drizzle client per request over a Neon Pool. A Worker cannot keep a socket across requests, so the
// pool is created lazily when a request first needs the database and ended in waitUntil afterwards.
import { neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle, type NeonDatabase } from 'drizzle-orm/neon-serverless';
import type { Logger } from '../lib/logging';
import { activeTrace, traceQueries } from '../lib/tracing';
import * as schema from './schema';

export type Database = NeonDatabase<typeof schema>;

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
  if (wsProxy) {
    const [hostPort, ...pathParts] = wsProxy.split('/');
    const path = pathParts.join('/');
    neonConfig.wsProxy = (host, port) => `${hostPort}/${path}?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    // Pipelining the password message only works with cleartext auth; local servers use trust or md5/scram.
    neonConfig.pipelineConnect = false;
    neonConfig.forceDisablePgSSL = true;
  }
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
  const db = drizzle({ client: pool, schema });
  return { db, pool, end: () => (ended ??= pool.end()) };
}
