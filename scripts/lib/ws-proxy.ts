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
  const server: Server = createServer((_req, res) => {
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
