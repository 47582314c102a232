// The per-request service container. Handlers reach services through c.get('services'); services take
// plain arguments and know nothing of Hono, so cron jobs and queue consumers build the same container.
import type { Config } from '../env';
import { createDatabase, type Database, type DatabaseHandle } from '../db/client';
import type { Logger } from '../lib/logging';
import { MatchesService } from './matches';
import { OddsService } from './odds';
import { SportsService } from './sports';
import { SystemService } from './system';

export interface Services {
  system: SystemService;
  sports: SportsService;
  matches: MatchesService;
  odds: OddsService;
  /** Ends the request's database pool, if one was opened. */
  close(): Promise<void>;
}

export function createServices(config: Config, logger: Logger): Services {
  let handle: DatabaseHandle | undefined;
  // Opening a pool costs a connection; routes that never touch Postgres (/health, cache hits) must not pay it.
  const db = (): Database => (handle ??= createDatabase(config.DATABASE_URL, config.WS_PROXY, logger)).db;
  return {
    system: new SystemService(db),
    sports: new SportsService(db),
    matches: new MatchesService(db),
    odds: new OddsService(db),
    close: async () => {
      await handle?.end();
    },
  };
}
