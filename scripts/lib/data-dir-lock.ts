// One owner of a local data directory at a time. The owner (npm start, or a CLI that started the embedded
// database itself) writes `<data dir>/owner.lock`: its PID and kernel start time, the database URL, and the
// processes it started. A second owner is refused with the first one's PID; a lock whose process is gone
// (killed with SIGKILL, crashed, the machine rebooted) is taken over, after whatever that process left running
// has been stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSameProcess, processStartTime, signalAndWait } from './processes';

export interface LockedChild {
  name: string;
  pid: number;
  startTime?: string;
  /** The child leads a process group of its own, and the whole group is stopped. */
  group: boolean;
  /** How it is stopped: SIGINT is PostgreSQL's fast shutdown, and wrangler's clean stop. */
  signal: NodeJS.Signals;
}

export interface LockInfo {
  pid: number;
  startTime?: string;
  /** What holds it, for the refusal message. */
  command: string;
  startedAt: string;
  /** The embedded database's URL once it is up, so a CLI can use the running server instead of refusing. */
  url?: string;
  /** The owner uses DATABASE_URL, so there is no embedded server to share. */
  external?: boolean;
  children: LockedChild[];
}

export interface DataDirLock {
  readonly file: string;
  readonly info: LockInfo;
  update(change: Partial<Pick<LockInfo, 'url' | 'external'>>): Promise<void>;
  addChild(child: Omit<LockedChild, 'startTime'>): Promise<void>;
  release(): Promise<void>;
}

export const lockFile = (dataDir: string) => join(dataDir, 'owner.lock');

export async function readLock(dataDir: string): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(await readFile(lockFile(dataDir), 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

export function isLive(info: LockInfo): boolean {
  return isSameProcess(info.pid, info.startTime);
}

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockInfo,
  ) {
    super(
      `The local data directory ${dataDir} is in use by PID ${holder.pid} (${holder.command}, since ${holder.startedAt}). ` +
        `Only one may use it at a time: stop that one first (kill -INT ${holder.pid}), or give this one its own data with SENZU_DATA_DIR=<dir>.`,
    );
    this.name = 'DataDirInUseError';
  }
}

/** Stops what a dead owner left running: its wrangler group, its PostgreSQL (fast shutdown), each waited for. */
export async function stopLeftovers(info: LockInfo, log: (message: string) => void): Promise<void> {
  // Last started, first stopped: the Worker before the database it uses.
  for (const child of [...info.children].reverse()) {
    if (!isSameProcess(child.pid, child.startTime)) continue;
    log(`stopping ${child.name} (PID ${child.pid}), left running by PID ${info.pid}`);
    if (!(await signalAndWait(child.pid, child.signal, child.name === 'postgres' ? 60_000 : 5_000, child.group))) {
      await signalAndWait(child.pid, child.name === 'postgres' ? 'SIGQUIT' : 'SIGKILL', 5_000, child.group);
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The watchdog of a lock owner (scripts/lib/guardian.ts), in a session of its own so that no signal meant for the
 * owner reaches it. Its stdin is a pipe from the owner, which closes however the owner exits; it then stops
 * whatever the owner left recorded in a lock it did not release.
 */
function startGuardian(dataDir: string): ChildProcess {
  const loader = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
  const guardian = spawn(process.execPath, ['--import', loader, new URL('./guardian.ts', import.meta.url).pathname, dataDir, String(process.pid)], {
    detached: true,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  guardian.unref();
  guardian.on('error', () => undefined);
  guardian.stdin?.on('error', () => undefined);
  return guardian;
}

/**
 * Takes the lock, or throws DataDirInUseError naming the live owner. The takeover of a stale lock happens under a
 * short-lived second file, so two starts that find the same stale lock cannot both take it. With `guardian`, a
 * watchdog stops the recorded children should this process die without releasing the lock (SIGKILL, a crash).
 */
export async function acquireDataDirLock(
  dataDir: string,
  command: string,
  log: (message: string) => void,
  options: { guardian?: boolean } = {},
): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true });
  const file = lockFile(dataDir);
  const info: LockInfo = { pid: process.pid, startTime: processStartTime(process.pid), command, startedAt: new Date().toISOString(), children: [] };
  for (let attempt = 0; ; attempt++) {
    if (tryCreate(file, info)) break;
    const holder = await readLock(dataDir);
    if (holder && isLive(holder)) throw new DataDirInUseError(dataDir, holder);
    if (attempt > 50) throw new Error(`could not take over the stale lock ${file}; remove it if no npm start is running`);
    const takeover = `${file}.takeover`;
    if (!tryCreate(takeover, info)) {
      const other = JSON.parse(await readFile(takeover, 'utf8').catch(() => '{}')) as Partial<LockInfo>;
      if (other.pid && !isSameProcess(other.pid, other.startTime)) await rm(takeover, { force: true });
      else await sleep(100);
      continue;
    }
    try {
      const stale = await readLock(dataDir);
      if (stale && !isLive(stale)) {
        log(`taking over ${file} from PID ${stale.pid}, which is no longer running`);
        await stopLeftovers(stale, log);
        await rm(file, { force: true });
      } else if (!stale && Date.now() - (await stat(file).then((s) => s.mtimeMs, () => 0)) > 5000) {
        await rm(file, { force: true }); // unreadable for a while: its owner died between creating and writing it
      } else {
        await sleep(100); // being written this very moment
      }
    } finally {
      await rm(takeover, { force: true });
    }
  }

  const save = async () => {
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(info, null, 2));
    await rename(temporary, file);
  };
  const guardian = options.guardian ? startGuardian(dataDir) : undefined;
  let released = false;
  return {
    file,
    info,
    update: async (change) => {
      Object.assign(info, change);
      await save();
    },
    addChild: async (child) => {
      info.children.push({ ...child, startTime: processStartTime(child.pid) });
      await save();
    },
    release: async () => {
      if (released) return;
      released = true;
      const current = await readLock(dataDir);
      if (current?.pid === process.pid) await rm(file, { force: true });
      // Released: the guardian finds no lock of ours and exits.
      guardian?.stdin?.end();
    },
  };
}

function tryCreate(file: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(info, null, 2));
  } finally {
    closeSync(fd);
  }
  return true;
}
