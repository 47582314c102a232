// npm run bench:read-api — the cost of the public read routes over the bare middleware stack.
//
// It starts `npm start` (or uses BENCH_URL if one is already running), then alternates rounds of load on
//   baseline: GET /health — a no-op route behind the same middleware (request id, log, CORS, secure
//             headers, services, authentication) except the rate limiter, which exempts health probes, and
//   subjects: GET /matches/{id}/odds?latest=true — a real match's latest prices from Postgres (two statements);
//             GET /matches?status=finished&limit=50 — one page of the match list (one statement);
//             GET /sports/{id}/teams?limit=50 — one page of a sport's teams (one statement);
//             each plus the anonymous caller's rate-limit RPC,
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
  const sportId = ((await (await fetch(`${base}/sports`)).json()) as { data: Array<{ id: number }> }).data[0]!.id;
  const subjects: Array<[string, string]> = [
    ['GET /matches/{id}/odds?latest=true', `${base}/matches/${matchId}/odds?latest=true`],
    ['GET /matches?status=finished&limit=50', `${base}/matches?status=finished&limit=50`],
    ['GET /sports/{id}/teams?limit=50', `${base}/sports/${sportId}/teams?limit=50`],
  ];
  const baselineUrl = `${base}/health`;
  for (const [name, url] of subjects) {
    const check = await fetch(url);
    const rows = ((await check.json()) as { data?: unknown[] }).data?.length;
    console.log(`subject: ${name}: ${url} (${check.status}, ${rows} rows)`);
  }
  console.log(`baseline: ${baselineUrl}; ${ROUNDS} interleaved rounds of ${ROUND_MS / 1000} s each, ${CONNECTIONS} connections\n`);

  // Warm-up: first requests pay for isolate start and the first database connection.
  await load('warm-up', baselineUrl, { connections: 2, durationMs: 1000 });
  for (const [, url] of subjects) await load('warm-up', url, { connections: 2, durationMs: 1000 });

  const baseline: LoadResult[] = [];
  const measured: LoadResult[][] = subjects.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    baseline.push(await load('baseline', baselineUrl, { connections: CONNECTIONS, durationMs: ROUND_MS }));
    for (const [i, [, url]] of subjects.entries()) measured[i]!.push(await load('subject', url, { connections: CONNECTIONS, durationMs: ROUND_MS }));
  }
  const b = summarize(baseline);
  const s = measured.map(summarize);
  printTable([['GET /health (baseline)', b], ...subjects.map(([name], i): [string, typeof b] => [name, s[i]!])], b);
  for (const [i, [name]] of subjects.entries()) {
    const r = s[i]!;
    console.log(`ratio ${name}/baseline: p50 ×${(r.p50 / b.p50).toFixed(2)}, p95 ×${(r.p95 / b.p95).toFixed(2)}, throughput ×${(r.rps / b.rps).toFixed(2)}`);
  }
}

try {
  await main();
} finally {
  server?.stop();
}
