// npm run bench:auth — what authentication and the rate-limit RPC add to a request.
//
// Against `npm start` (RATE_LIMIT_SCALE=1000: the limiter runs its RPC but does not refuse), interleaved
// rounds of:
//   baseline: GET /health      — a no-op route with neither verification nor the rate-limit call;
//   GET /me/session (token)    — RS256 verification of an access token + the user's RateLimiter RPC,
//                                 and no database: the added cost on every authenticated request;
//   GET /me/session (API key)  — an API-key lookup in Postgres + the RPC, for comparison.
// The figures are ratios to the baseline measured in the same run; absolute times on a shared machine
// mean little.
import { load, LOAD_SETTINGS, type LoadResult } from './lib/load';
import { printTable, summarize } from './lib/report';
import { startServer, type BenchServer } from './lib/server';

const { connections: CONNECTIONS, roundMs: ROUND_MS, rounds: ROUNDS } = LOAD_SETTINGS;

let server: BenchServer | undefined;

async function main() {
  server = await startServer();
  const base = server.base;
  const email = `bench-${Date.now()}@example.com`;
  const password = 'benchmark passphrase 2026';
  const reg = await fetch(`${base}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (reg.status !== 202) throw new Error(`register: ${reg.status} ${await reg.text()}`);
  // Registration issues no tokens (it answers alike for taken emails): sign in for them.
  const signIn = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (signIn.status !== 200) throw new Error(`login: ${signIn.status} ${await signIn.text()}`);
  const tokens = (await signIn.json()) as { accessToken: string };
  const keyRes = await fetch(`${base}/me/api-keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.accessToken}` },
    body: JSON.stringify({ name: 'bench' }),
  });
  const { key } = (await keyRes.json()) as { key: string };

  const targets: Array<[string, string, Record<string, string>]> = [
    ['GET /health (baseline)', `${base}/health`, {}],
    ['GET /me/session (access token)', `${base}/me/session`, { authorization: `Bearer ${tokens.accessToken}` }],
    ['GET /me/session (API key)', `${base}/me/session`, { 'x-api-key': key }],
  ];
  for (const [name, url, headers] of targets) {
    const res = await fetch(url, { headers });
    if (res.status !== 200) throw new Error(`${name}: ${res.status} ${await res.text()}`);
  }
  console.log(`${ROUNDS} interleaved rounds of ${ROUND_MS / 1000} s each, ${CONNECTIONS} connections\n`);
  for (const [, url, headers] of targets) await load('warm-up', url, { connections: 2, durationMs: 1000, headers });

  const results = targets.map(() => [] as LoadResult[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, [name, url, headers]] of targets.entries()) {
      results[i]!.push(await load(name, url, { connections: CONNECTIONS, durationMs: ROUND_MS, headers }));
    }
  }
  const summaries = results.map(summarize);
  printTable(
    targets.map(([name], i) => [name, summaries[i]!]),
    summaries[0]!,
  );
  const [b, token] = summaries;
  console.log(
    `\nadded by verification + rate-limit RPC: p50 +${(token!.p50 - b!.p50).toFixed(2)} ms (×${(token!.p50 / b!.p50).toFixed(2)}), ` +
      `p95 ×${(token!.p95 / b!.p95).toFixed(2)}, throughput ×${(token!.rps / b!.rps).toFixed(2)}`,
  );
}

try {
  await main();
} finally {
  server?.stop();
}
