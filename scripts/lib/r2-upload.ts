// Puts objects into the MODELS bucket through wrangler: `--local` writes the local state `wrangler dev` reads
// (`persistTo`, which npm start keeps per database: localWranglerState()), `--remote` the real bucket of the
// account wrangler is logged in to.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const WRANGLER = new URL('../../node_modules/wrangler/bin/wrangler.js', import.meta.url).pathname;
export const MODELS_BUCKET = 'senzu-models';

export function r2Uploader(target: 'local' | 'remote', options: { bucket?: string; persistTo?: string } = {}) {
  const bucket = options.bucket ?? MODELS_BUCKET;
  return async (key: string, bytes: Buffer): Promise<void> => {
    const dir = await mkdtemp(join(tmpdir(), 'senzu-r2-'));
    try {
      const file = join(dir, 'object');
      await writeFile(file, bytes);
      await run(process.execPath, [WRANGLER, 'r2', 'object', 'put', `${bucket}/${key}`, '--file', file, `--${target}`, ...(target === 'local' && options.persistTo ? ['--persist-to', options.persistTo] : [])], {
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
        cwd: new URL('../../', import.meta.url).pathname,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
