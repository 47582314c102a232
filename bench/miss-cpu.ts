// npm run bench:miss-cpu — where a prediction miss's CPU goes, beside bench:predictions (docs/benchmarks.md).
//
// Runs against an `npm start` you started yourself (BENCH_URL, default http://127.0.0.1:$PORT) on a database that
// `npm run bench:predictions` has priced (DATABASE_URL; its fixtures kick off about two hours after that run
// started, so use it within the hour). Start it with RATE_LIMIT_SCALE=1000, as the bench does.
// Each round: the no-op route (GET /me/session) for BENCH_ROUND_MS, then the fixtures' cached predictions are deleted
// from the local KV and each fixture is requested once at BENCH_CONNECTIONS, the misses checked (X-Cache: MISS).
// BENCH_COLD=1 also deletes their KV feature states and live odds, so every miss reads the feature store and asks
// its MatchOdds object; restart `npm start` before such a run, so every object wakes from its storage in the first
// round.
// It prints, per round, the p50 ratio to the no-op route and the CPU per request of each process on the machine
// (from /proc/<pid>/stat around each phase: workerd, wrangler dev's Node process, the proxy, Postgres, this client).
// BENCH_PROFILE=<file> writes a V8 CPU profile of the Worker's isolate over the second round, through the DevTools
// inspector on 127.0.0.1:9229, which `npm start -- --inspect` opens (a .cpuprofile that Chrome DevTools opens).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import WebSocket from 'ws';
import { localWranglerState } from '../scripts/lib/local-database';
import { featureStateKey, liveOddsKey, predictionCacheKey } from '../src/services/predictions/cache';
import { activeFootballRun, proAccountHeaders } from './lib/accounts';
import { deleteKvKeys, listKvKeys } from './lib/local-kv';
import { load, loadEach, LOAD_SETTINGS } from './lib/load';

const { connections: CONNECTIONS, roundMs: ROUND_MS, rounds: ROUNDS } = LOAD_SETTINGS;
const FIXTURES = Number(process.env.BENCH_MISS_MATCHES ?? 300);
const COLD = process.env.BENCH_COLD === '1';
const PROFILE = process.env.BENCH_PROFILE;
const base = process.env.BENCH_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;

/** Each process's CPU ticks (1/100 s) so far, with its kind. */
function cpuTicks(): Map<string, { kind: string; ticks: number }> {
  const out = new Map<string, { kind: string; ticks: number }>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const kind = cmd.includes('workerd')
        ? 'workerd'
        : cmd.includes('wrangler')
          ? 'wrangler dev'
          : cmd.includes('dev.ts')
            ? 'proxy (dev.ts)'
            : cmd.includes('postgres')
              ? 'postgres'
              : pid === String(process.pid)
                ? 'client'
                : 'other';
      out.set(pid, { kind, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // A process that ended between readdir and read.
    }
  }
  return out;
}

/**
 * CPU ms per request by kind of process between two snapshots. A process started in between counts from zero; one
 * that ended in between is missing from the second and is left out (its last ticks cannot be read).
 */
function perRequest(before: ReturnType<typeof cpuTicks>, after: ReturnType<typeof cpuTicks>, requests: number): string {
  const ms: Record<string, number> = {};
  for (const [pid, { kind, ticks }] of after) ms[kind] = (ms[kind] ?? 0) + (ticks - (before.get(pid)?.ticks ?? 0)) * 10;
  return Object.entries(ms)
    .map(([kind, total]) => `${kind} ${(total / requests).toFixed(2)}`)
    .join(', ');
}

/** A Chrome DevTools Protocol session with the Worker's isolate. */
async function inspector() {
  const listing = await fetch('http://127.0.0.1:9229/json/list').catch((error: Error) => {
    throw new Error(`BENCH_PROFILE needs the DevTools inspector on 127.0.0.1:9229: start the Worker with \`npm start -- --inspect\` (${error.message})`);
  });
  const [target] = (await listing.json()) as Array<{ webSocketDebuggerUrl: string }>;
  const ws = new WebSocket(target!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const pending = new Map<number, (result: unknown) => void>();
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  let seq = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      pending.set(++seq, resolve);
      ws.send(JSON.stringify({ id: seq, method, params }));
    });
  await call('Profiler.enable');
  return { call, close: () => ws.close() };
}

async function main() {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('bench:miss-cpu needs DATABASE_URL: a database bench:predictions has priced, served by the running npm start');
  const persistTo = await localWranglerState(databaseUrl);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const headers = await proAccountHeaders(base, pool, `miss-cpu-${Date.now()}`);
    const run = await activeFootballRun(pool);
    const { rows } = await pool.query<{ id: number }>(
      `select m.id::int from matches m join sports s on s.id = m.sport_id
       where s.key = 'soccer' and m.status = 'scheduled' and m.start_at > now() + interval '10 minutes'
         and exists (select 1 from odds_snapshots o where o.match_id = m.id)
       order by m.id`,
    );
    // A warm miss reads the live odds the odds job published; bench:predictions deleted its cold fixtures' copies,
    // and a fixture without one would wake its MatchOdds object instead.
    const published = COLD ? undefined : new Set(listKvKeys(persistTo, 'odds:v1:match:'));
    const ids = rows.map((r) => r.id).filter((id) => !published || published.has(liveOddsKey(id))).slice(0, FIXTURES);
    if (ids.length === 0) throw new Error('no upcoming priced football fixture with its live odds in KV: run npm run bench:predictions on this database first');
    // A warm miss needs the fixture's feature state in KV: one request each puts it there.
    if (!COLD) for (const id of ids) await (await fetch(`${base}/matches/${id}/predictions`, { headers })).arrayBuffer();
    const keys = ids.flatMap((id) => [predictionCacheKey(run.id, id), ...(COLD ? [featureStateKey(id), liveOddsKey(id)] : [])]);
    const profiler = PROFILE ? await inspector() : undefined;
    console.log(`${ids.length} fixtures, ${COLD ? 'cold' : 'warm'} misses, ${CONNECTIONS} connections; CPU in ms per request`);
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = cpuTicks();
      const b = await load('baseline', `${base}/me/session`, { connections: CONNECTIONS, durationMs: ROUND_MS, headers });
      const t1 = cpuTicks();
      deleteKvKeys(persistTo, keys, 'the fixtures\' entries');
      if (profiler && round === 1) await profiler.call('Profiler.start');
      const t2 = cpuTicks();
      const pending = ids.map((id) => new URL(`${base}/matches/${id}/predictions`));
      const m = await loadEach('miss', () => pending.pop(), { connections: CONNECTIONS, durationMs: ROUND_MS, headers, accept: (st, h) => st === 200 && h['x-cache'] === 'MISS' });
      const t3 = cpuTicks();
      if (profiler && round === 1) writeFileSync(PROFILE!, JSON.stringify(((await profiler.call('Profiler.stop')) as { profile: unknown }).profile));
      ratios.push(m.p50 / b.p50);
      console.log(
        `round ${round + 1}: no-op p50 ${b.p50.toFixed(1)} ms, miss p50 ${m.p50.toFixed(1)} ms (${m.requests} requests, ${m.errors + m.non2xx} refused): ×${(m.p50 / b.p50).toFixed(2)}\n` +
          `  no-op: ${perRequest(t0, t1, b.requests)}\n  miss:  ${perRequest(t2, t3, m.requests)}`,
      );
    }
    profiler?.close();
    const sorted = [...ratios].sort((x, y) => x - y);
    console.log(`median ratio ×${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)}${PROFILE ? `; profile of round 2 in ${PROFILE}` : ''}`);
  } finally {
    await pool.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
