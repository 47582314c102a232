import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startWsProxy, type WsProxy } from '../../scripts/lib/ws-proxy';

let proxy: WsProxy;
beforeAll(async () => {
  proxy = await startWsProxy();
});
afterAll(() => proxy.close());

function closeCode(address: string): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/v2?address=${address}`);
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    ws.on('error', reject);
  });
}

describe('the WebSocket-to-TCP proxy', () => {
  it('refuses targets that are not on loopback', async () => {
    expect(await closeCode('10.1.2.3:5432')).toEqual({ code: 1008, reason: 'address must be a loopback host:port' });
    expect(await closeCode('example.com:5432')).toMatchObject({ code: 1008 });
  });

  it('refuses a missing or malformed address', async () => {
    expect(await closeCode('')).toMatchObject({ code: 1008 });
    expect(await closeCode('127.0.0.1:notaport')).toMatchObject({ code: 1008 });
  });

  it('closes the WebSocket normally once the server closes after a Terminate, as Neon\'s proxy does', async () => {
    // A stand-in for Postgres: it answers nothing and closes the connection when the client says Terminate.
    const server: Server = createServer((socket) => {
      socket.on('data', (data) => {
        if (data.length === 5 && data[0] === 0x58) socket.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const closed = await new Promise<{ code: number }>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/v2?address=127.0.0.1:${port}`);
        ws.on('open', () => {
          ws.send(Buffer.from([0x58, 0, 0, 0, 4]));
        });
        // The client never closes by itself here: a socket left open kept workerd from finishing the event.
        ws.on('close', (code) => resolve({ code }));
        ws.on('error', reject);
        setTimeout(() => reject(new Error('the proxy left the WebSocket open after Terminate')), 5_000).unref();
      });
      expect(closed.code).toBe(1000);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
