import type { LoadResult } from './load';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface Summary {
  p50: number;
  p95: number;
  rps: number;
  errors: number;
}

/** Medians over the interleaved rounds of one route. */
export function summarize(rounds: LoadResult[]): Summary {
  return {
    p50: median(rounds.map((r) => r.p50)),
    p95: median(rounds.map((r) => r.p95)),
    rps: median(rounds.map((r) => r.requestsPerSecond)),
    errors: rounds.reduce((n, r) => n + r.errors + r.non2xx, 0),
  };
}

export function printTable(rows: Array<[string, Summary]>, baseline: Summary) {
  const fmt = (n: number) => n.toFixed(2).padStart(9);
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  console.log(`${'route'.padEnd(width)}   p50 ms    p95 ms     req/s  errors   p50 ×base  p95 ×base  req/s ×base`);
  for (const [name, s] of rows) {
    console.log(
      `${name.padEnd(width)}${fmt(s.p50)} ${fmt(s.p95)} ${fmt(s.rps)} ${String(s.errors).padStart(7)}` +
        `   ${(s.p50 / baseline.p50).toFixed(2).padStart(9)}  ${(s.p95 / baseline.p95).toFixed(2).padStart(9)}  ${(s.rps / baseline.rps).toFixed(2).padStart(11)}`,
    );
  }
}
