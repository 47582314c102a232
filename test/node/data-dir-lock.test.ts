// One owner of a data directory at a time: a live owner refuses a second one by name, a dead owner's lock (or one
// whose PID the kernel has since reused) is taken over after what it left running has been stopped.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireDataDirLock, DataDirInUseError, lockFile, type LockInfo } from '../../scripts/lib/data-dir-lock';
import { isProcessAlive, processStartTime } from '../../scripts/lib/processes';

let dir: string;
const quiet = () => undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'senzu-lock-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A process that has exited, and whose PID is therefore free. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe('the data directory lock', () => {
  it('refuses a second owner while the first is alive, naming its PID, and is free again after release', async () => {
    const first = await acquireDataDirLock(dir, 'npm start', quiet);
    const refused = await acquireDataDirLock(dir, 'npm start', quiet).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DataDirInUseError);
    expect((refused as Error).message).toContain(`in use by PID ${process.pid} (npm start`);
    expect((refused as Error).message).toContain(`kill -INT ${process.pid}`);
    await first.release();
    const second = await acquireDataDirLock(dir, 'npm start', quiet);
    await second.release();
  });

  it('takes over the lock of a dead owner, stopping the process group it left running', async () => {
    const leftover = spawn('sleep', ['60'], { detached: true });
    const stale: LockInfo = {
      pid: await deadPid(),
      command: 'npm start',
      startedAt: new Date(0).toISOString(),
      children: [{ name: 'wrangler', pid: leftover.pid!, startTime: processStartTime(leftover.pid!), group: true, signal: 'SIGINT' }],
    };
    await writeFile(lockFile(dir), JSON.stringify(stale));
    const messages: string[] = [];
    const lock = await acquireDataDirLock(dir, 'npm start', (m) => messages.push(m));
    expect(messages.join('\n')).toContain(`taking over ${lockFile(dir)} from PID ${stale.pid}`);
    expect(isProcessAlive(leftover.pid!)).toBe(false);
    expect(JSON.parse(await readFile(lockFile(dir), 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('takes over a lock whose PID now belongs to another process (a different start time)', async () => {
    const stale: LockInfo = { pid: process.pid, startTime: '1', command: 'npm start', startedAt: new Date(0).toISOString(), children: [] };
    await writeFile(lockFile(dir), JSON.stringify(stale));
    const lock = await acquireDataDirLock(dir, 'npm start', quiet);
    expect(lock.info.startTime).toBe(processStartTime(process.pid));
    await lock.release();
  });

  it('lets exactly one of several concurrent starts have a stale lock', async () => {
    await writeFile(lockFile(dir), JSON.stringify({ pid: await deadPid(), command: 'npm start', startedAt: '', children: [] }));
    // Same process, so liveness alone would refuse the losers: what matters is that exactly one file creation won.
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => acquireDataDirLock(dir, 'npm start', quiet)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof DataDirInUseError)).toBe(true);
    await (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireDataDirLock>>>).value.release();
  });
});
