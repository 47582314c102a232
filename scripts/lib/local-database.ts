// The database `npm start` and the CLIs use: DATABASE_URL when it is set, otherwise the embedded PGlite
// whose data lives in .data/pglite between runs.
import { mkdir } from 'node:fs/promises';
import { startEmbeddedPostgres } from './embedded-postgres';

export const EMBEDDED_DATA_DIR = new URL('../../.data/pglite', import.meta.url).pathname;

export interface LocalDatabase {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

export async function openLocalDatabase(): Promise<LocalDatabase> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, embedded: false, stop: async () => undefined };
  await mkdir(EMBEDDED_DATA_DIR, { recursive: true });
  const port = process.env.PGLITE_PORT ? Number(process.env.PGLITE_PORT) : 0;
  const embedded = await startEmbeddedPostgres({ dataDir: EMBEDDED_DATA_DIR, port, maxConnections: 20 });
  return { url: embedded.url, embedded: true, stop: embedded.stop };
}
