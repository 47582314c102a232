// The embedded PostgreSQL of npm start against the data directories a developer's machine ends up with: kept
// data, a stale postmaster.pid, a server left running by a dead owner, and directories it cannot open. A failed
// start must say what the server said and what recovers, and must never delete or move the data itself.
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgresError, startEmbeddedPostgres, type EmbeddedPostgres } from '../../scripts/lib/embedded-postgres';
import { isProcessAlive } from '../../scripts/lib/processes';

let root: string;
const running: EmbeddedPostgres[] = [];

async function start(dataDir: string, log?: (message: string) => void, ephemeral = true): Promise<EmbeddedPostgres> {
  const server = await startEmbeddedPostgres({ dataDir, ephemeral, log });
  running.push(server);
  return server;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** A cluster with one row in it, stopped cleanly. */
async function clusterWithData(name: string): Promise<string> {
  const dataDir = join(root, name, 'postgres');
  const server = await start(dataDir);
  await query(server.url, `create table kept (value text); insert into kept values ('still here')`);
  await server.stop();
  return dataDir;
}

const listing = async (dir: string) => (await readdir(dir, { recursive: true })).sort();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'senzu-embedded-'));
  await chmod(root, 0o755); // as root the server runs as another user, which must be able to enter it
});

afterAll(async () => {
  for (const server of running) await server.stop().catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

describe('embedded PostgreSQL', () => {
  it('is a real PostgreSQL 17 whose data survives a stop, and stops with a clean shutdown', async () => {
    const dataDir = await clusterWithData('kept');
    expect(await readFile(`${dataDir}.log`, 'utf8')).toMatch(/database system is shut down\s*$/);
    const server = await start(dataDir);
    expect((await query<{ version: string }>(server.url, 'select version()'))[0]!.version).toMatch(/^PostgreSQL 17\./);
    expect(await query(server.url, 'select value from kept')).toEqual([{ value: 'still here' }]);
    // Real sessions: two transactions at once, one waiting for the other's row lock (PGlite could not).
    const a = new pg.Client({ connectionString: server.url });
    const b = new pg.Client({ connectionString: server.url });
    await Promise.all([a.connect(), b.connect()]);
    try {
      await a.query('begin; select * from kept for update');
      await b.query(`set lock_timeout = '200ms'`);
      await expect(b.query('select * from kept for update')).rejects.toThrow(/lock timeout/);
      await a.query('commit');
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
    await server.stop();
    expect(isProcessAlive(server.pid)).toBe(false);
  });

  it('removes a stale postmaster.pid whose PID now belongs to another program, and starts', async () => {
    const dataDir = await clusterWithData('stale-pid');
    const other = spawn('sleep', ['30']);
    try {
      await writeFile(join(dataDir, 'postmaster.pid'), `${other.pid}\n${dataDir}\n`);
      const messages: string[] = [];
      const server = await start(dataDir, (m) => messages.push(m));
      expect(messages.join('\n')).toMatch(new RegExp(`its PID ${other.pid} is now sleep, not a PostgreSQL`));
      expect(await query(server.url, 'select value from kept')).toEqual([{ value: 'still here' }]);
      await server.stop();
    } finally {
      other.kill();
    }
  });

  it('shuts down a server a dead owner left running on the data, then starts its own on the same data', async () => {
    const dataDir = await clusterWithData('orphan');
    const orphan = await start(dataDir);
    const messages: string[] = [];
    const server = await start(dataDir, (m) => messages.push(m));
    expect(messages.join('\n')).toMatch(new RegExp(`left running on .* \\(PID ${orphan.pid}\\) by an earlier run`));
    expect(isProcessAlive(orphan.pid)).toBe(false);
    expect(await query(server.url, 'select value from kept')).toEqual([{ value: 'still here' }]);
    await server.stop();
  });

  it('recovers by itself after an immediate stop (crash recovery), keeping committed data', async () => {
    const dataDir = await clusterWithData('crashed');
    // As npm start runs it: fsync and synchronous commit on (the tests' throwaway servers turn them off).
    const server = await start(dataDir, undefined, false);
    await query(server.url, `insert into kept values ('committed before the crash')`);
    process.kill(server.pid, 'SIGKILL');
    while (isProcessAlive(server.pid)) await new Promise((r) => setTimeout(r, 20));
    const again = await start(dataDir, undefined, false);
    expect((await query<{ value: string }>(again.url, 'select value from kept order by value')).map((r) => r.value)).toEqual(['committed before the crash', 'still here']);
    await again.stop();
  });

  it('refuses a directory written by another PostgreSQL version, with the log and the move-aside command, changing nothing', async () => {
    const dataDir = await clusterWithData('other-version');
    await writeFile(join(dataDir, 'PG_VERSION'), '99\n');
    const before = await listing(dataDir);
    const error = await start(dataDir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddedPostgresError);
    const failure = error as EmbeddedPostgresError;
    expect(failure.logTail).toMatch(/database files are incompatible with server/);
    expect(failure.recovery).toContain(`mv ${dataDir} ${dataDir}.broken-`);
    expect(failure.message).toContain(failure.logTail);
    expect(await listing(dataDir)).toEqual(before);
  });

  it('names pg_resetwal and the move-aside command when the write-ahead log is gone', async () => {
    const dataDir = await clusterWithData('lost-wal');
    for (const file of await readdir(join(dataDir, 'pg_wal'))) if (/^[0-9A-F]{24}$/.test(file)) await rm(join(dataDir, 'pg_wal', file));
    const error = (await start(dataDir).catch((e: unknown) => e)) as EmbeddedPostgresError;
    expect(error).toBeInstanceOf(EmbeddedPostgresError);
    expect(error.logTail).toMatch(/could not locate a valid checkpoint record|PANIC/);
    expect(error.recovery).toContain(`pg_resetwal -D ${dataDir}`);
    expect(error.recovery).toContain(`mv ${dataDir} ${dataDir}.broken-`);
    expect(await readdir(join(dataDir, 'base'))).not.toEqual([]);
  });

  it('refuses a damaged control file', async () => {
    const dataDir = await clusterWithData('bad-control');
    await truncate(join(dataDir, 'global', 'pg_control'), 100);
    const error = (await start(dataDir).catch((e: unknown) => e)) as EmbeddedPostgresError;
    expect(error).toBeInstanceOf(EmbeddedPostgresError);
    expect(error.logTail).toMatch(/pg_control/);
    expect(error.recovery).toContain(`mv ${dataDir} ${dataDir}.broken-`);
  });

  it('refuses a non-empty directory that holds no cluster, and writes nothing into it', async () => {
    const dataDir = join(root, 'not-a-cluster', 'postgres');
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'notes.txt'), 'mine');
    const error = (await start(dataDir).catch((e: unknown) => e)) as EmbeddedPostgresError;
    expect(error).toBeInstanceOf(EmbeddedPostgresError);
    expect(error.message).toMatch(/is not empty but holds no PostgreSQL cluster/);
    expect(await readdir(dataDir)).toEqual(['notes.txt']);
  });
});
