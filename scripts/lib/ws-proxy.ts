// The loopback WebSocket-to-TCP proxy that lets @neondatabase/serverless (which only speaks Postgres over
// WebSocket) reach a plain Postgres, the way Neon's own proxy does in production.
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export interface WsProxy {
  /** host:port/path, the form neonConfig.wsProxy expects. */
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
  const host = match[1]!;
  const port = Number(match[2]);
  // The proxy is an open relay otherwise: only loopback targets are allowed.
  if (!LOOPBACK_HOSTS.has(host) || port < 1 || port > 65535) return null;
  return { host: host.replace(/^\[|\]$/g, ''), port };
}

export async function startWsProxy(port = 0): Promise<WsProxy> {
  const recorded = new Map<string, string[]>();
  const record = (applicationName: string, text: string) => {
    const list = recorded.get(applicationName) ?? [];
    if (list.length < MAX_RECORDED) list.push(text);
    recorded.set(applicationName, list);
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
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
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
