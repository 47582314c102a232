// The loopback stand-in for Neon's proxy, so that @neondatabase/serverless reaches a plain Postgres the two ways
// it reaches Neon in production:
//   - Postgres over WebSocket (the Pool: transactions, the jobs), relayed to TCP;
//   - Neon's HTTP query endpoint (POST /sql, the `neon()` function: the request path's one-statement reads), run
//     on a pool of connections kept open here, as Neon keeps them on its side. That is the point of it: a
//     WebSocket connection pays a Postgres backend start per request, an HTTP query does not.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { WebSocketServer, type WebSocket } from 'ws';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export interface WsProxy {
  /** host:port/path, the form neonConfig.wsProxy expects; POST http://host:port/sql is the HTTP query endpoint. */
  address: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Connections whose application_name starts with this have their statements recorded, and
 * `GET /statements?application_name=<name>` on the proxy's address lists them: test/worker/bounded-reads.test.ts
 * sees every statement a request path sends, whichever code sent it.
 */
export const RECORD_PREFIX = 'record-statements-';
const MAX_RECORDED = 10_000;

/**
 * Reads the frontend side of the Postgres protocol as it streams past: the startup message's parameters, then
 * the text of each simple Query ('Q') and extended-protocol Parse ('P'). Messages may span frames.
 */
class StatementRecorder {
  private buffer = Buffer.alloc(0);
  private started = false;
  applicationName: string | undefined;

  constructor(private readonly record: (applicationName: string, text: string) => void) {}

  push(frame: Buffer): void {
    // Every other connection costs one comparison per frame once its startup message has been read.
    if (this.started && !this.applicationName?.startsWith(RECORD_PREFIX)) return;
    this.buffer = Buffer.concat([this.buffer, frame]);
    for (;;) {
      if (!this.started) {
        if (this.buffer.length < 8) return;
        const length = this.buffer.readInt32BE(0);
        if (this.buffer.length < length) return;
        const code = this.buffer.readInt32BE(4);
        // SSLRequest / GSSENCRequest come before the startup message proper.
        if (code !== 80877103 && code !== 80877104) {
          const fields = this.buffer.subarray(8, length).toString('utf8').split('\0');
          for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'application_name') this.applicationName = fields[i + 1];
          this.started = true;
        }
        this.buffer = this.buffer.subarray(length);
        continue;
      }
      const name = this.applicationName;
      if (!name?.startsWith(RECORD_PREFIX)) {
        this.buffer = Buffer.alloc(0);
        return;
      }
      if (this.buffer.length < 5) return;
      const length = this.buffer.readInt32BE(1);
      if (this.buffer.length < 1 + length) return;
      const type = String.fromCharCode(this.buffer[0]!);
      const body = this.buffer.subarray(5, 1 + length);
      this.buffer = this.buffer.subarray(1 + length);
      if (type === 'Q') this.record(name, body.toString('utf8').replace(/\0$/, ''));
      else if (type === 'P') this.record(name, body.toString('utf8').split('\0')[1] ?? '');
    }
  }
}

/** Postgres frontend Terminate message: 'X' followed by int32 length 4. */
function isTerminate(frame: Buffer): boolean {
  return frame.length === 5 && frame[0] === 0x58 && frame.readInt32BE(1) === 4;
}

function parseTarget(url: string | undefined): { host: string; port: number } | null {
  const address = new URL(url ?? '/', 'http://proxy').searchParams.get('address');
  const match = address?.match(/^(.+):(\d+)$/);
  if (!match) return null;
  return loopbackTarget(match[1]!, Number(match[2]));
}

function loopbackTarget(host: string, port: number): { host: string; port: number } | null {
  // The proxy is an open relay otherwise: only loopback targets are allowed.
  if (!LOOPBACK_HOSTS.has(host) || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host: host.replace(/^\[|\]$/g, ''), port };
}

// Neon's HTTP query protocol, as @neondatabase/serverless 1.x speaks it: POST a JSON `{query, params}` (or
// `{queries: [...]}`, one transaction) with the connection string in `Neon-Connection-String`; the answer is pg's
// result with every value as text (`Neon-Raw-Text-Output`) and rows as arrays (`Neon-Array-Mode`), which the
// driver parses by each field's type. A database error is a 400 carrying Postgres's error fields.
const RAW_TEXT = { getTypeParser: () => (value: string) => value };
const ERROR_FIELDS = ['severity', 'code', 'detail', 'position', 'internalPosition', 'internalQuery', 'where', 'schema', 'table', 'column', 'dataType', 'constraint', 'file', 'line', 'routine'] as const;
const ISOLATION_LEVELS: Record<string, string> = {
  ReadUncommitted: 'READ UNCOMMITTED',
  ReadCommitted: 'READ COMMITTED',
  RepeatableRead: 'REPEATABLE READ',
  Serializable: 'SERIALIZABLE',
};

interface HttpQuery {
  query: string;
  params?: unknown[];
}

class HttpQueries {
  private readonly pools = new Map<string, pg.Pool>();

  constructor(private readonly record: (applicationName: string, text: string) => void) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const connectionString = req.headers['neon-connection-string'];
    let target: URL;
    let body: { query?: unknown; params?: unknown; queries?: unknown };
    try {
      if (typeof connectionString !== 'string') throw new Error('Neon-Connection-String is missing');
      target = new URL(connectionString);
      if (!loopbackTarget(target.hostname, Number(target.port || 5432))) throw new Error('the connection string must name a loopback host');
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch (error) {
      reply(400, { message: (error as Error).message });
      return;
    }
    const batch = Array.isArray(body.queries);
    const queries = (batch ? body.queries : [body]) as HttpQuery[];
    if (queries.some((q) => typeof q?.query !== 'string' || (q.params !== undefined && !Array.isArray(q.params)))) {
      reply(400, { message: 'expected {query, params} or {queries: [{query, params}, ...]}' });
      return;
    }
    const applicationName = target.searchParams.get('application_name') ?? '';
    if (applicationName.startsWith(RECORD_PREFIX)) for (const q of queries) this.record(applicationName, q.query);

    const client = await this.pool(connectionString as string).connect();
    let broken = false;
    try {
      if (batch) await client.query(`BEGIN${transactionMode(req)}`);
      const results = [];
      for (const q of queries) {
        const r = await client.query({ text: q.query, values: q.params ?? [], rowMode: 'array', types: RAW_TEXT });
        results.push({ command: r.command, rowCount: r.rowCount, rows: r.rows, fields: r.fields, rowAsArray: true });
      }
      if (batch) await client.query('COMMIT');
      reply(200, batch ? { results } : results[0]);
    } catch (error) {
      if (batch) await client.query('ROLLBACK').catch(() => (broken = true));
      const e = error as Record<string, unknown>;
      if (typeof e.code !== 'string') broken = true;
      reply(400, { message: (error as Error).message, ...Object.fromEntries(ERROR_FIELDS.map((f) => [f, e[f]])) });
    } finally {
      client.release(broken);
    }
  }

  private pool(connectionString: string): pg.Pool {
    let pool = this.pools.get(connectionString);
    if (!pool) {
      // Bounded: the suite's files use several databases of one server (max_connections 100), and each keeps a
      // pool here beside its requests' WebSockets. Idle connections stay 30 s, as Neon keeps its side's open, so a
      // bench's interleaved rounds (a few seconds apart) do not reopen backends.
      pool = new pg.Pool({ connectionString, max: 10, idleTimeoutMillis: 30_000 });
      // An idle connection the server ended (a restart, a dropped test database) is replaced on next use.
      pool.on('error', () => {});
      this.pools.set(connectionString, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.end()));
    this.pools.clear();
  }
}

function transactionMode(req: IncomingMessage): string {
  const level = ISOLATION_LEVELS[String(req.headers['neon-batch-isolation-level'])];
  const modes = [
    level ? `ISOLATION LEVEL ${level}` : '',
    req.headers['neon-batch-read-only'] === 'true' ? 'READ ONLY' : '',
    req.headers['neon-batch-deferrable'] === 'true' ? 'DEFERRABLE' : '',
  ].filter(Boolean);
  return modes.length > 0 ? ` ${modes.join(', ')}` : '';
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startWsProxy(port = 0): Promise<WsProxy> {
  const recorded = new Map<string, string[]>();
  const record = (applicationName: string, text: string) => {
    const list = recorded.get(applicationName) ?? [];
    if (list.length < MAX_RECORDED) list.push(text);
    recorded.set(applicationName, list);
  };
  const http = new HttpQueries(record);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    if (req.method === 'POST' && url.pathname === '/sql') {
      http.handle(req, res).catch((error: Error) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`the database could not be reached: ${error.message}\n`);
      });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/statements') {
      const name = url.searchParams.get('application_name') ?? '';
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(recorded.get(name) ?? []));
      return;
    }
    res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket upgrade required\n');
  });
  const wss = new WebSocketServer({ server });
  const sockets = new Set<Socket>();

  wss.on('connection', (ws: WebSocket, req) => {
    const target = parseTarget(req.url);
    if (!target) {
      ws.close(1008, 'address must be a loopback host:port');
      return;
    }
    const tcp = connect(target.port, target.host);
    sockets.add(tcp);
    const pending: Buffer[] = [];
    let connected = false;
    let terminated = false;
    const recorder = new StatementRecorder(record);
    tcp.on('connect', () => {
      connected = true;
      for (const frame of pending.splice(0)) tcp.write(frame);
    });
    tcp.on('data', (data) => ws.readyState === ws.OPEN && ws.send(data));
    tcp.on('close', () => {
      sockets.delete(tcp);
      // After Terminate the server closes the connection, and Neon's proxy then closes the WebSocket with a
      // normal closure; so does this one. Left open, the socket kept workerd from completing the event that
      // opened it: a queue consumer's batch never finished, and the queue stopped delivering.
      if (ws.readyState === ws.OPEN) ws.close(terminated ? 1000 : undefined);
    });
    tcp.on('error', () => ws.terminate());
    ws.on('message', (data: Buffer) => {
      const frame = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
      recorder.push(frame);
      if (connected) tcp.write(frame);
      else pending.push(frame);
      // Closing on Terminate rather than waiting for the server: a server that keeps the connection open after it
      // (PGlite's socket server did) would otherwise hold a connection slot.
      if (isTerminate(frame)) {
        terminated = true;
        tcp.end();
      }
    });
    ws.on('close', () => tcp.end());
    ws.on('error', () => tcp.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${actualPort}/v2`,
    port: actualPort,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      for (const socket of sockets) socket.destroy();
      await http.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
