// The local Worker state `npm start` keeps for a database (its KV, R2 and Durable Objects), edited from outside
// the running `wrangler dev` with wrangler's own `--local` commands: the running Worker honours them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs `wrangler <args> --local --persist-to <persistTo>`; answers what it printed. */
export function wranglerLocal(persistTo: string, args: string[]): string {
  return execFileSync(process.execPath, ['node_modules/wrangler/bin/wrangler.js', ...args, '--local', '--persist-to', persistTo], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
}

/** The names of the local PREDICTIONS KV's keys under `prefix`. */
export function listKvKeys(persistTo: string, prefix: string): string[] {
  const listed = JSON.parse(wranglerLocal(persistTo, ['kv', 'key', 'list', '--binding', 'PREDICTIONS', '--prefix', prefix])) as Array<{ name: string }>;
  return listed.map((k) => k.name);
}

/** Deletes keys from the local PREDICTIONS KV that `wrangler dev` reads. */
export function deleteKvKeys(persistTo: string, keys: string[], what: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'bench-kv-'));
  try {
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify(keys));
    // The running wrangler dev holds the same local KV store; under load the delete can fail with a 500
    // (the store busy). It is idempotent, so it is retried.
    for (let attempt = 1; ; attempt++) {
      try {
        wranglerLocal(persistTo, ['kv', 'bulk', 'delete', '--binding', 'PREDICTIONS', '--force', file]);
        break;
      } catch (error) {
        if (attempt >= 3) throw error;
        console.log(`  kv bulk delete of ${what} failed (${(error as Error).message.split('\n')[0]}); retrying`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
