// npm run bench:read-api — the cost of the odds read path over the bare middleware stack.
//
// It starts `npm start` (or uses BENCH_URL if one is already running), then alternates rounds of load on
//   baseline: GET /health — a no-op route behind the same middleware (request id, log, CORS, secure
//             headers, services, authentication) except the rate limiter, which exempts health probes, and
//   subject:  GET /matches/{id}/odds?latest=true — a real match's latest prices from Postgres, plus the
//             anonymous caller's rate-limit RPC,
// and prints p50/p95 and requests/s for each with subject/baseline ratios. The machines are shared and
// noisy, so the ratios, measured in the same run with interleaved rounds, are the figures to compare.
import { load, LOAD_SETTINGS, type LoadResult } from './lib/load';
import { printTable, summarize } from './lib/report';
import { startServer, waitFor, type BenchServer } from './lib/server';

const { connections: CONNECTIONS, roundMs: ROUND_MS, rounds: ROUNDS } = LOAD_SETTINGS;

let server: BenchServer | undefined;

async function main() {
  server = await startServer();
  const base = server.base;
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
  const b = summarize(baseline);
  const s = summarize(subject);
  printTable(
    [
      ['GET /health (baseline)', b],
      ['GET /matches/{id}/odds?latest=true', s],
    ],
    b,
  );
  console.log(`\nratio odds/baseline: p50 ×${(s.p50 / b.p50).toFixed(2)}, p95 ×${(s.p95 / b.p95).toFixed(2)}, throughput ×${(s.rps / b.rps).toFixed(2)}`);
}

try {
  await main();
} finally {
  server?.stop();
}
