// PGlite behind its wire-protocol socket server: a real Postgres (18.x, compiled to WASM) with no install,
// used by `npm start` and by the tests when DATABASE_URL is not set.
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** `dataDir` keeps the data between runs; without it the database lives in memory for this process only. */
export async function startEmbeddedPostgres(options: { dataDir?: string; port?: number; maxConnections?: number } = {}): Promise<EmbeddedPostgres> {
  const db = options.dataDir ? new PGlite(options.dataDir) : new PGlite();
  await db.waitReady;
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: options.port ?? 0,
    maxConnections: options.maxConnections ?? 20,
  });
  await server.start();
  // After start() the connection string carries the bound port, also when port 0 was asked for.
  const port = Number(server.getServerConn().split(':').pop());
  if (!port) throw new Error(`embedded Postgres did not report a port: ${server.getServerConn()}`);
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
