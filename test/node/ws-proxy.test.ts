import { createServer, type AddressInfo, type Server } from 'node:net';
import { neon, neonConfig } from '@neondatabase/serverless';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
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

// The same driver the Worker's createReadDatabase uses, pointed at the proxy as src/db/client.ts points it.
describe("the HTTP query endpoint (Neon's POST /sql)", () => {
  const sql = () => {
    neonConfig.fetchEndpoint = `http://127.0.0.1:${proxy.port}/sql`;
    return neon(inject('databaseUrl'));
  };

  it('answers with values the driver parses by type: integers, text, booleans, timestamps, json, arrays and null', async () => {
    const rows = await sql().query(
      `select 42::int4 as n, 9007199254740993::int8 as big, $1::text as t, true as b, $2::timestamptz as at, $3::jsonb as j,
              array[1, 2]::int4[] as a, null::text as nothing`,
      ['it\'s "quoted"', '2026-12-07T15:00:00.000Z', JSON.stringify({ home: 0.5, away: [1, 2] })],
    );
    expect(rows).toEqual([
      {
        n: 42,
        big: '9007199254740993',
        t: 'it\'s "quoted"',
        b: true,
        at: new Date('2026-12-07T15:00:00.000Z'),
        j: { home: 0.5, away: [1, 2] },
        a: [1, 2],
        nothing: null,
      },
    ]);
  });

  it("reports a database error as the driver's error, with Postgres's code", async () => {
    const failure = await sql().query('select * from no_such_table').catch((error: unknown) => error);
    expect(failure).toMatchObject({ message: 'relation "no_such_table" does not exist', code: '42P01' });
    // The connection is still good for the next query.
    expect(await sql().query('select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('runs a batch as one transaction: a failing statement rolls back the ones before it', async () => {
    const db = sql();
    const table = `http_batch_${Date.now().toString(36)}`;
    await db.query(`create table ${table} (id int primary key)`);
    try {
      const failure = await db
        .transaction([db.query(`insert into ${table} values (1)`), db.query(`insert into ${table} values (1)`)])
        .catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: '23505' });
      expect(await db.query(`select count(*)::int as n from ${table}`)).toEqual([{ n: 0 }]);
      await db.transaction([db.query(`insert into ${table} values (1)`), db.query(`insert into ${table} values (2)`)]);
      expect(await db.query(`select count(*)::int as n from ${table}`)).toEqual([{ n: 2 }]);
      const readOnly = await db.transaction([db.query(`insert into ${table} values (3)`)], { readOnly: true }).catch((error: unknown) => error);
      expect(readOnly).toMatchObject({ code: '25006' });
    } finally {
      await db.query(`drop table ${table}`);
    }
  });

  it('refuses a connection string that is not on loopback, and a body that is not a query', async () => {
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`http://127.0.0.1:${proxy.port}/sql`, { method: 'POST', headers, body });
    const remote = await post({ 'Neon-Connection-String': 'postgres://user@db.example.com:5432/app' }, JSON.stringify({ query: 'select 1' }));
    expect(remote.status).toBe(400);
    expect(await remote.json()).toEqual({ message: 'the connection string must name a loopback host' });
    const malformed = await post({ 'Neon-Connection-String': inject('databaseUrl') }, '{"query": 1}');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { message: string }).message).toMatch(/expected \{query, params\}/);
    const missing = await post({}, JSON.stringify({ query: 'select 1' }));
    expect(missing.status).toBe(400);
  });
});
