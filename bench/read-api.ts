// npm run bench:read-api — the cost of the odds read path over the bare middleware stack.
//
// It starts `npm start` (or uses BENCH_URL if one is already running), then alternates rounds of load on
//   baseline: GET /health — a no-op route behind exactly the same middleware (request id, log, CORS,
//             secure headers, services), and
//   subject:  GET /matches/{id}/odds?latest=true — a real match's latest prices from Postgres,
// and prints p50/p95 and requests/s for each with subject/baseline ratios. The machines are shared and
// noisy, so the ratios, measured in the same run with interleaved rounds, are the figures to compare.
import { spawn, type ChildProcess } from 'node:child_process';
import { load, type LoadResult } from './lib/load';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

let server: ChildProcess | undefined;
const base = process.env.BENCH_URL ?? 'http://127.0.0.1:8787';

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function main() {
  if (!process.env.BENCH_URL) {
    console.log('starting npm start ...');
    server = spawn('npm', ['start'], { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  }
  await waitFor(async () => (await fetch(`${base}/ready`)).ok, '/ready', 120_000);
  // On a first start the history loads in the background, newest season first; a match with odds is enough.
  let matchId: number | undefined;
  await waitFor(
    async () => {
      const res = await fetch(`${base}/matches?limit=1&status=finished`);
      const body = (await res.json()) as { data: Array<{ id: number }> };
      matchId = body.data[0]?.id;
      return matchId !== undefined;
    },
    'a real match',
    180_000,
  );
  const subjectUrl = `${base}/matches/${matchId}/odds?latest=true`;
  const baselineUrl = `${base}/health`;
  const check = await fetch(subjectUrl);
  const rows = ((await check.json()) as { data?: unknown[] }).data?.length;
  console.log(`subject: ${subjectUrl} (${check.status}, ${rows} prices); baseline: ${baselineUrl}`);
  console.log(`${ROUNDS} interleaved rounds of ${ROUND_MS / 1000} s each, ${CONNECTIONS} connections\n`);

  // Warm-up: first requests pay for isolate start and the first database connection.
  await load('warm-up', baselineUrl, { connections: 2, durationMs: 1000 });
  await load('warm-up', subjectUrl, { connections: 2, durationMs: 1000 });

  const baseline: LoadResult[] = [];
  const subject: LoadResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    baseline.push(await load('baseline', baselineUrl, { connections: CONNECTIONS, durationMs: ROUND_MS }));
    subject.push(await load('subject', subjectUrl, { connections: CONNECTIONS, durationMs: ROUND_MS }));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const summarize = (rs: LoadResult[]) => ({
    p50: median(rs.map((r) => r.p50)),
    p95: median(rs.map((r) => r.p95)),
    rps: median(rs.map((r) => r.requestsPerSecond)),
    errors: rs.reduce((n, r) => n + r.errors + r.non2xx, 0),
  });
  const b = summarize(baseline);
  const s = summarize(subject);
  const fmt = (n: number) => n.toFixed(2).padStart(9);
  console.log('route                                   p50 ms    p95 ms    req/s   errors');
  console.log(`GET /health (baseline)               ${fmt(b.p50)} ${fmt(b.p95)} ${fmt(b.rps)} ${String(b.errors).padStart(7)}`);
  console.log(`GET /matches/{id}/odds?latest=true   ${fmt(s.p50)} ${fmt(s.p95)} ${fmt(s.rps)} ${String(s.errors).padStart(7)}`);
  console.log(
    `\nratio odds/baseline: p50 ×${(s.p50 / b.p50).toFixed(2)}, p95 ×${(s.p95 / b.p95).toFixed(2)}, throughput ×${(s.rps / b.rps).toFixed(2)}`,
  );
}

try {
  await main();
} finally {
  if (server?.pid) process.kill(-server.pid, 'SIGINT');
}
