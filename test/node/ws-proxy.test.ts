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
});
