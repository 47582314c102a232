// The Worker of `npm start`: `wrangler dev` run through wrangler's startWorker (the engine behind the CLI
// command, as scripts/lib/openapi-document.ts uses it) rather than the CLI, for one setting the CLI lacks: the
// DevTools inspector off unless asked for (`npm start -- --inspect`).
//
// With the inspector on, wrangler keeps a DevTools session open on the Worker whether or not DevTools is
// attached. It enables the Network domain, so each outbound fetch the Worker makes becomes several inspector
// events. Each event is posted to wrangler's Node process as a debug log and kept in a buffer that only an
// attached DevTools drains. A cold prediction miss makes one such fetch (its feature state, over the HTTP query
// endpoint). Under bench:miss-cpu the session cost it 3–6 ms of workerd CPU, 4–8 ms of Node's, and 12–23 ms at
// p50 (docs/benchmarks.md). Production has no such session.
//
// scripts/dev.ts starts this in a process group of its own and writes its options to its stdin as JSON (not
// argv: the vars hold the database URL). SIGINT, SIGTERM and SIGHUP dispose of the Worker (its workerd
// processes) and exit.
import { join } from 'node:path';
import { unstable_startWorker } from 'wrangler';
import { nodejsCompatMode } from './worker-build';

export interface WranglerDevOptions {
  port: number;
  /** The local KV, R2, Durable Object and queue state (`--persist-to`). */
  persistTo: string;
  /** .env-style files of vars and secrets, later ones winning. */
  envFiles: string[];
  /** Plain-text vars on top of the files (`--var NAME:value`). */
  vars: Record<string, string>;
  /** The DevTools inspector on 127.0.0.1 (9229, or the next free port). */
  inspect: boolean;
}

let worker: Awaited<ReturnType<typeof unstable_startWorker>> | undefined;
let stopRequested: number | undefined;
let disposing: Promise<void> | undefined;

/** Disposes of the Worker (once it exists: a signal during its start waits for it) and exits. */
function stop(code: number): void {
  stopRequested ??= code;
  if (!worker) return;
  disposing ??= worker
    .dispose()
    .catch((error: Error) => console.error(`[wrangler-dev] stopping the Worker: ${error.message}`))
    .finally(() => process.exit(stopRequested));
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(0));

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if (!raw.trim()) throw new Error('no options on stdin: this is started by scripts/dev.ts (npm start)');
  const options = JSON.parse(raw) as WranglerDevOptions;
  worker = await unstable_startWorker({
    config: join(new URL('../../', import.meta.url).pathname, 'wrangler.toml'),
    envFiles: options.envFiles,
    bindings: Object.fromEntries(Object.entries(options.vars).map(([name, value]) => [name, { type: 'plain_text' as const, value }])),
    sendMetrics: false,
    build: { nodejsCompatMode },
    dev: {
      server: { hostname: '127.0.0.1', port: options.port },
      inspector: options.inspect ? { hostname: '127.0.0.1' } : false,
      persist: options.persistTo,
      // /__scheduled?cron=…, through which scripts/dev.ts fires the Worker's Cron Triggers.
      testScheduled: true,
      // A change to a file the Worker bundles reloads it, as `wrangler dev` does.
      watch: true,
    },
  });
  if (stopRequested !== undefined) return stop(stopRequested);
  try {
    await worker.ready;
  } catch (error) {
    console.error(`[wrangler-dev] the Worker did not start: ${(error as Error).message}`);
    stop(1);
  }
}

main().catch((error: Error) => {
  console.error(`[wrangler-dev] ${error.message}`);
  process.exit(1);
});
