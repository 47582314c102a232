// Runs the benchmarks against `npm start` (the real local stack: workerd, the proxy, the embedded or
// DATABASE_URL Postgres), or against BENCH_URL when one is already running.
import { spawn, type ChildProcess } from 'node:child_process';

export interface BenchServer {
  base: string;
  stop(): void;
}

export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function startServer(): Promise<BenchServer> {
  // PORT is also what `npm start` listens on, so benches of two checkouts on one machine do not collide.
  const base = process.env.BENCH_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
  let child: ChildProcess | undefined;
  if (!process.env.BENCH_URL) {
    console.log('starting npm start (RATE_LIMIT_SCALE=1000, so the limiter runs but does not refuse) ...');
    child = spawn('npm', ['start'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      detached: true,
      env: { ...process.env, RATE_LIMIT_SCALE: '1000' },
    });
  }
  const stop = () => {
    // The whole process group: npm, tsx, wrangler and workerd.
    if (child?.pid) process.kill(-child.pid, 'SIGINT');
  };
  try {
    await waitFor(async () => (await fetch(`${base}/ready`)).ok, '/ready', 120_000);
  } catch (error) {
    stop();
    throw error;
  }
  return { base, stop };
}
