// What `wrangler dev` (the CLI) decides about the Worker's build and wrangler's startWorker leaves to its caller:
// the Node.js compatibility mode, from wrangler.toml's compatibility date and flags. Without it the bundler
// runs without Node.js compatibility (`node:async_hooks` and the other built-ins unresolved, with a warning),
// and the bundle is not the one `wrangler dev` and `wrangler deploy` build.
import { getNodeCompat } from 'miniflare';

type Config = { compatibility_date?: string; compatibility_flags?: string[] };

/** The CLI's own rule (wrangler's validateNodeCompatMode): miniflare's reading of the date and flags. */
export const nodejsCompatMode = (config: Config) => getNodeCompat(config.compatibility_date ?? '2000-01-01', config.compatibility_flags ?? []).mode;
