// A small closed-loop HTTP load generator: `connections` keep-alive clients each send the next request as
// soon as the previous answer is read, for `durationMs`. It records every latency, so percentiles are exact.
import { Agent, request } from 'node:http';

export interface LoadResult {
  label: string;
  requests: number;
  errors: number;
  non2xx: number;
  durationMs: number;
  requestsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function once(agent: Agent, url: URL, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method: 'GET', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export interface LoadOptions {
  connections: number;
  durationMs: number;
  headers?: Record<string, string>;
  /** Whether an answer counts as a success; by default any 2xx. */
  accept?: (status: number, headers: Record<string, string | string[] | undefined>) => boolean;
}

export function load(label: string, target: string, options: LoadOptions): Promise<LoadResult> {
  const url = new URL(target);
  return loadEach(label, () => url, options);
}

/**
 * Like load(), but each request asks `next` for its URL (e.g. a different match every time). The round ends
 * early when `next` returns undefined; `durationMs` is then the time actually run.
 */
export async function loadEach(label: string, next: () => URL | undefined, options: LoadOptions): Promise<LoadResult> {
  const accept = options.accept ?? ((status) => status >= 200 && status < 300);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const client = async () => {
    while (performance.now() < deadline) {
      const url = next();
      if (!url) return;
      const t0 = performance.now();
      try {
        const res = await once(agent, url, options.headers ?? {});
        latencies.push(performance.now() - t0);
        if (!accept(res.status, res.headers)) non2xx++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, client));
  const durationMs = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    label,
    requests: latencies.length,
    errors,
    non2xx,
    durationMs,
    requestsPerSecond: (latencies.length / durationMs) * 1000,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
  };
}

/** Round settings shared by the HTTP benchmarks; override with BENCH_CONNECTIONS, BENCH_ROUND_MS, BENCH_ROUNDS. */
export const LOAD_SETTINGS = {
  connections: Number(process.env.BENCH_CONNECTIONS ?? 8),
  roundMs: Number(process.env.BENCH_ROUND_MS ?? 5000),
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
};
