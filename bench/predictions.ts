// npm run bench:predictions — the cost of GET /matches/{id}/predictions over the bare middleware stack.
//
// Needs DATABASE_URL (the bench inserts its own upcoming fixtures). It starts `npm start` (or uses BENCH_URL),
// registers a pro account, and then measures in one run, interleaved:
//   baseline: GET /me/session — a no-op route behind the same middleware (auth, rate-limit RPC);
//   hit:      the same match again and again (KV read, tier shaping);
//   miss:     a different match on every request, each with its feature state already in KV but no cached
//             prediction (KV reads, MatchOdds RPC, 72 features, both ONNX models, EV/Kelly, deferred writes).
// Misses need matches whose cached prediction has expired while their feature state has not: the bench
// primes BENCH_MISS_MATCHES fixtures once (which stores both), then waits out the cache TTL (300 s).
import pg from 'pg';
import { load, LOAD_SETTINGS, type LoadResult } from './lib/load';
import { printTable, summarize } from './lib/report';
import { startServer, type BenchServer } from './lib/server';

const { connections: CONNECTIONS, roundMs: ROUND_MS, rounds: ROUNDS } = LOAD_SETTINGS;
const MISS_MATCHES = Number(process.env.BENCH_MISS_MATCHES ?? 4000);
const PRIME_WAIT_S = Number(process.env.BENCH_PRIME_WAIT_S ?? 305);

let server: BenchServer | undefined;

function percentile(sorted: number[], p: number) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Like load(), but every request takes the next URL, so each one is a first read of its match. */
async function loadDistinct(label: string, urls: string[], headers: Record<string, string>, durationMs: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  const started = performance.now();
  const until = started + durationMs;
  const worker = async () => {
    while (performance.now() < until) {
      const url = urls.pop();
      if (!url) throw new Error(`ran out of distinct matches; raise BENCH_MISS_MATCHES above ${MISS_MATCHES}`);
      const t = performance.now();
      try {
        const res = await fetch(url, { headers });
        await res.arrayBuffer();
        if (res.status !== 200 || res.headers.get('x-cache') !== 'MISS') non2xx++;
        latencies.push(performance.now() - t);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    label,
    requests: latencies.length,
    errors,
    non2xx,
    durationMs: elapsed,
    requestsPerSecond: (latencies.length / elapsed) * 1000,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
  } as LoadResult;
}

async function main() {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('bench:predictions needs DATABASE_URL (it inserts its own upcoming fixtures)');
  server = await startServer();
  const base = server.base;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  try {
    const email = `bench-${Date.now()}@example.com`;
    const password = 'a long enough passphrase 42';
    const reg = await fetch(`${base}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    if (reg.status !== 201) throw new Error(`register: ${reg.status} ${await reg.text()}`);
    await pool.query(`update users set tier = 'pro' where email = $1`, [email]);
    const login = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const headers = { authorization: `Bearer ${accessToken}` };

    // Upcoming fixtures between real teams, ten days ahead, so nothing kicks off during the run.
    const tag = `bench-${Date.now()}`;
    const { rows } = await pool.query<{ id: string }>(
      `insert into matches (sport_id, competition_id, season, home_team_id, away_team_id, start_at, status, provider, external_match_id)
       select m.sport_id, m.competition_id, null, m.home_team_id, m.away_team_id, now() + interval '10 days' + g * interval '1 minute',
              'scheduled', 'bench', $1 || '-' || g
       from generate_series(1, $2::int) g
       cross join lateral (select * from matches where status = 'finished' order by start_at desc, id limit 1) m
       returning id`,
      [tag, MISS_MATCHES + 1],
    );
    const ids = rows.map((r) => Number(r.id));
    const hitUrl = `${base}/matches/${ids[0]}/predictions`;
    const baselineUrl = `${base}/me/session`;
    const first = await fetch(hitUrl, { headers });
    if (first.status !== 200) throw new Error(`prediction: ${first.status} ${await first.text()}`);

    console.log(`priming ${MISS_MATCHES} fixtures (feature state + cached prediction), then waiting ${PRIME_WAIT_S} s for the cache TTL ...`);
    const missUrls = ids.slice(1).map((id) => `${base}/matches/${id}/predictions`);
    for (let i = 0; i < missUrls.length; i += CONNECTIONS) {
      await Promise.all(missUrls.slice(i, i + CONNECTIONS).map((u) => fetch(u, { headers }).then((r) => r.arrayBuffer())));
    }
    await new Promise((r) => setTimeout(r, PRIME_WAIT_S * 1000));

    await load('warm-up', baselineUrl, { connections: 2, durationMs: 1000, headers });
    await load('warm-up', hitUrl, { connections: 2, durationMs: 1000, headers });
    console.log(`${ROUNDS} interleaved rounds of ${ROUND_MS / 1000} s each, ${CONNECTIONS} connections\n`);
    const baseline: LoadResult[] = [];
    const hit: LoadResult[] = [];
    const miss: LoadResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      baseline.push(await load('baseline', baselineUrl, { connections: CONNECTIONS, durationMs: ROUND_MS, headers }));
      hit.push(await load('hit', hitUrl, { connections: CONNECTIONS, durationMs: ROUND_MS, headers }));
      miss.push(await loadDistinct('miss', missUrls, headers, ROUND_MS));
    }
    const b = summarize(baseline);
    const h = summarize(hit);
    const m = summarize(miss);
    printTable(
      [
        ['GET /me/session (baseline)', b],
        ['predictions, cache hit', h],
        ['predictions, cache miss', m],
      ],
      b,
    );
    console.log(`\nhit/baseline p50 ×${(h.p50 / b.p50).toFixed(2)} (target ≤ 1.5), p95 ×${(h.p95 / b.p95).toFixed(2)}`);
    console.log(`miss/baseline p50 ×${(m.p50 / b.p50).toFixed(2)} (target ≤ 5), p95 ×${(m.p95 / b.p95).toFixed(2)}`);
    await pool.query(`delete from matches where provider = 'bench' and external_match_id like $1`, [`${tag}-%`]);
  } finally {
    await pool.end();
  }
}

main()
  .catch((error) => {
    console.error(`bench failed: ${(error as Error).message}`);
    process.exitCode = 1;
  })
  .finally(() => server?.stop());
