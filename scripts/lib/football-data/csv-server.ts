// A loopback stand-in for football-data.co.uk's file server: GET /<name>.csv serves data/football-data/<name>.csv
// (or a file uploaded with PUT /<name>.csv, which wins), so the daily CSV job is tested over real HTTP, from
// Node and from workerd alike. Anything else is a 404, as the site answers for a season it has not published.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { REPO_DATA_DIR } from './seed';

export interface FootballDataCsvServer {
  /** e.g. `http://127.0.0.1:40123`; files are at `${url}/E0_2324.csv`. */
  url: string;
  /** Serves `text` at `/${name}` (a test's altered copy of a real file). */
  put(name: string, text: string): void;
  requests(): number;
  close(): Promise<void>;
}

export async function startFootballDataCsvServer(options: { dataDir?: string; port?: number } = {}): Promise<FootballDataCsvServer> {
  const dataDir = options.dataDir ?? REPO_DATA_DIR;
  const uploaded = new Map<string, string>();
  let requests = 0;
  const server = createServer(async (req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://csv').pathname.slice(1));
    if (req.method === 'PUT') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      uploaded.set(name, Buffer.concat(chunks).toString('utf8'));
      res.writeHead(204).end();
      return;
    }
    requests++;
    const found = /^[\w.-]+\.csv$/i.test(name) ? (uploaded.get(name) ?? (await readFile(join(dataDir, name), 'utf8').catch(() => null))) : null;
    if (found === null) {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/csv', 'content-length': String(Buffer.byteLength(found)) }).end(found);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    put: (name, text) => void uploaded.set(name, text),
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
