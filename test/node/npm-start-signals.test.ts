// `npm start` as a user and a process manager meet it: the real command on a free port, the embedded
// PostgreSQL in a data directory of its own (SENZU_DATA_DIR; the history seed skipped to keep it short). It is
// stopped with each signal the way each sender delivers it, and after every stop nothing it started may be left:
// no npm, no dev.ts, no wrangler or workerd, no PostgreSQL, no guardian, the port free, the database shut down
// cleanly. Every next start must serve the account registered on the first one.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/embedded-postgres';
import { processStartTime } from '../../scripts/lib/processes';

const ROOT = new URL('../../', import.meta.url).pathname;
const ACCOUNT = { email: 'signals@example.com', password: 'a long enough passphrase' };

interface Started {
  npm: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let dataDir: string;
let port: number;
let current: Started | undefined;

function env(): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, ...rest } = process.env;
  return { ...rest, PORT: String(port), SENZU_DATA_DIR: dataDir };
}

/** `npm start` in a process group of its own, as a terminal's job or a service manager's unit would run it. */
function startNpm(): Started {
  const npm = spawn('npm', ['start', '--', '--skip-history'], { cwd: ROOT, env: env(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  npm.stdout!.on('data', (chunk) => (output += chunk));
  npm.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => npm.once('exit', (code, signal) => resolve({ code, signal })));
  return { npm, output: () => output, exited };
}

async function untilServing(started: Started): Promise<void> {
  const deadline = Date.now() + 120_000;
  let exited = false;
  void started.exited.then(() => (exited = true));
  while (Date.now() < deadline && !exited) {
    const ok = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`npm start did not become ready${exited ? ' (it exited)' : ''}:\n${started.output().slice(-4000)}`);
}

/** Every process started for this test's data directory: the environment is inherited by all of them. */
function processesOfThisDataDir(): Array<{ pid: number; command: string }> {
  const found: Array<{ pid: number; command: string }> = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (!environ.includes(`SENZU_DATA_DIR=${dataDir}`)) continue;
      if (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z')) continue;
      found.push({ pid, command: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').slice(0, 160) });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

async function portIsFree(): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function json(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Sends the signal, then waits until npm and everything it started have gone; returns what is left after 30 s. */
async function stopWith(started: Started, deliver: () => void): Promise<Array<{ pid: number; command: string }>> {
  const before = processesOfThisDataDir();
  expect(before.map((p) => p.command).join('\n')).toMatch(/postgres -D/);
  expect(before.map((p) => p.command).join('\n')).toMatch(/workerd/);
  expect(before.map((p) => p.command).join('\n')).toMatch(/guardian/);
  const startTimes = new Map(before.map((p) => [p.pid, processStartTime(p.pid)]));
  deliver();
  await Promise.race([started.exited, new Promise((r) => setTimeout(r, 30_000))]);
  for (let waited = 0; waited < 30_000; waited += 200) {
    if (processesOfThisDataDir().length === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return processesOfThisDataDir().filter((p) => startTimes.get(p.pid) === undefined || startTimes.get(p.pid) === processStartTime(p.pid));
}

async function expectStoppedCleanly(started: Started, leftovers: Array<{ pid: number; command: string }>, cleanShutdown = true) {
  expect(leftovers, started.output().slice(-3000)).toEqual([]);
  expect(await portIsFree(), `port ${port} is still taken`).toBe(true);
  if (cleanShutdown) {
    expect((await readFile(join(dataDir, 'postgres.log'), 'utf8')).trimEnd()).toMatch(/database system is shut down$/);
    await expect(readFile(join(dataDir, 'owner.lock'), 'utf8')).rejects.toThrow(/ENOENT/);
  }
}

async function expectAccountStillThere() {
  const login = await json('/auth/login', ACCOUNT);
  expect(login.status, JSON.stringify(login.body)).toBe(200);
  expect(login.body.accessToken).toEqual(expect.any(String));
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'senzu-signals-'));
  // PostgreSQL runs as another user when this runs as root: it must be able to enter the directory.
  await chmod(dataDir, 0o755);
  port = await freePort();
});

afterAll(async () => {
  if (current && current.npm.exitCode === null) {
    try {
      process.kill(-current.npm.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const { pid } of processesOfThisDataDir()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await rm(dataDir, { recursive: true, force: true });
});

describe('npm start stopped by signals', () => {
  it('refuses a second start on the same data, and leaves nothing running after SIGINT, SIGTERM, SIGHUP or SIGKILL', async () => {
    // Stopped while it is still starting: the database it has just spawned goes too.
    current = startNpm();
    for (let waited = 0; !/created a PostgreSQL cluster/.test(current.output()) && waited < 60_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(current.output()).toMatch(/created a PostgreSQL cluster/);
    process.kill(-current.npm.pid!, 'SIGINT');
    await Promise.race([current.exited, new Promise((r) => setTimeout(r, 30_000))]);
    for (let waited = 0; processesOfThisDataDir().length > 0 && waited < 30_000; waited += 200) await new Promise((r) => setTimeout(r, 200));
    expect(processesOfThisDataDir(), current.output()).toEqual([]);

    current = startNpm();
    await untilServing(current);
    const registered = await json('/auth/register', ACCOUNT);
    expect(registered.status, JSON.stringify(registered.body)).toBe(202);

    // One owner at a time: the second start refuses, names the first, and leaves it serving.
    const second = startNpm();
    const refused = await second.exited;
    expect(refused.code).toBe(1);
    expect(second.output()).toMatch(new RegExp(`in use by PID \\d+ \\(npm start`));
    await expectAccountStillThere();

    // Ctrl-C in a terminal: SIGINT to the foreground process group.
    let leftovers = await stopWith(current, () => process.kill(-current!.npm.pid!, 'SIGINT'));
    await expectStoppedCleanly(current, leftovers);

    // A service manager or `kill <pid>`: SIGTERM to npm's process alone.
    current = startNpm();
    await untilServing(current);
    await expectAccountStillThere();
    leftovers = await stopWith(current, () => process.kill(current!.npm.pid!, 'SIGTERM'));
    await expectStoppedCleanly(current, leftovers);

    // A closed terminal: SIGHUP to the process group (npm does not pass SIGHUP on, and dies of it).
    current = startNpm();
    await untilServing(current);
    await expectAccountStillThere();
    leftovers = await stopWith(current, () => process.kill(-current!.npm.pid!, 'SIGHUP'));
    await expectStoppedCleanly(current, leftovers);

    // `kill -TERM -<pgid>`: every process of the group at once.
    current = startNpm();
    await untilServing(current);
    await expectAccountStillThere();
    leftovers = await stopWith(current, () => process.kill(-current!.npm.pid!, 'SIGTERM'));
    await expectStoppedCleanly(current, leftovers);

    // SIGKILL cannot be handled: the guardian stops what npm start left, and the next start takes the stale
    // lock over and recovers the database.
    current = startNpm();
    await untilServing(current);
    leftovers = await stopWith(current, () => process.kill(-current!.npm.pid!, 'SIGKILL'));
    await expectStoppedCleanly(current, leftovers, false);
    current = startNpm();
    await untilServing(current);
    await expectAccountStillThere();
    leftovers = await stopWith(current, () => process.kill(-current!.npm.pid!, 'SIGINT'));
    await expectStoppedCleanly(current, leftovers);
  }, 400_000);
});
