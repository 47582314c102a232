// The watchdog every owner of a data directory (npm start, a CLI that started the embedded database) leaves
// beside itself: `node guardian.ts <data dir> <owner pid>`, started by acquireDataDirLock in a session of its own
// with a pipe from the owner on stdin. The pipe closes when the owner exits however it exits, SIGKILL included.
// If the owner had released its lock, there is nothing to do; if not, it died without stopping what it started,
// and the guardian stops it (wrangler's process group, PostgreSQL with a fast shutdown) and removes the lock, so
// no orphan keeps serving on the port.
import { rm } from 'node:fs/promises';
import { lockFile, readLock, stopLeftovers } from './data-dir-lock';
import { isProcessAlive } from './processes';

const [dataDir, ownerArg] = process.argv.slice(2);
const owner = Number(ownerArg);
if (!dataDir || !Number.isInteger(owner)) {
  console.error('usage: guardian.ts <data dir> <owner pid>');
  process.exit(2);
}
const log = (message: string) => {
  try {
    process.stderr.write(`[senzu guardian] ${message}\n`);
  } catch {
    // nobody is reading any more
  }
};
process.stderr.on('error', () => undefined);
// A hangup of the owner's terminal or a signal to its group is not for us: we go when the owner has gone.
for (const signal of ['SIGINT', 'SIGHUP'] as const) process.on(signal, () => undefined);

process.stdin.on('data', () => undefined);
process.stdin.on('error', () => undefined);
process.stdin.once('close', () => void afterOwner());

async function afterOwner(): Promise<void> {
  for (let waited = 0; isProcessAlive(owner) && waited < 10_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
  const lock = await readLock(dataDir!);
  if (lock?.pid === owner && !isProcessAlive(owner)) {
    log(`PID ${owner} exited without stopping what it started; stopping it now`);
    await stopLeftovers(lock, log);
    const still = await readLock(dataDir!);
    if (still?.pid === owner) await rm(lockFile(dataDir!), { force: true });
  }
  process.exit(0);
}
