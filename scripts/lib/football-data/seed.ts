// The first-start load of data/football-data/ for `npm start`. Recorded as one 'seed' row in
// ingestion_jobs, so it runs once; an interrupted seed resumes cheaply because the import is idempotent.
// `npm start` loads history only up to 2022/23: 2023/24 is what The Odds API stand-in replays as live.
import { basename } from 'node:path';
import pg from 'pg';
import { FOOTBALL_DATA_PROVIDER } from '../../../src/providers/football-data/parse';
import { expandPaths, importFootballData } from './import';

export const REPO_DATA_DIR = new URL('../../../data/football-data', import.meta.url).pathname;

/** Newest season first (files are named DIV_YYZZ.csv), so recent matches are there soonest. */
const bySeasonDescending = (a: string, b: string) => (seasonStartYear(b) ?? 0) - (seasonStartYear(a) ?? 0) || a.localeCompare(b);

/** `E0_2223.csv` → 2022; null when the name carries no season. */
export function seasonStartYear(path: string): number | null {
  const yy = basename(path).match(/_(\d{2})\d{2}\.csv$/i)?.[1];
  if (yy === undefined) return null;
  return Number(yy) + (Number(yy) >= 90 ? 1900 : 2000);
}

export interface SeedOptions {
  dir?: string;
  /** Skip files of seasons starting after this year (2022: up to 2022/23). */
  lastSeasonStart?: number;
}

export async function seedHistoricalData(databaseUrl: string, log: (msg: string) => void, options: SeedOptions = {}): Promise<'seeded' | 'already-seeded'> {
  const dir = options.dir ?? REPO_DATA_DIR;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  // An idle connection closed under it (npm start stopping the database) is not a crash: the query in flight
  // fails and the seed resumes on the next start.
  pool.on('error', () => undefined);
  try {
    const last = options.lastSeasonStart;
    // A seed that stopped at an earlier season (npm start's) does not satisfy one that wants more (model:train's).
    const done = await pool.query(
      `select 1 from ingestion_jobs where kind = 'seed' and provider = $1 and status = 'succeeded'
         and (stats->>'lastSeasonStart' is null or ($2::int is not null and (stats->>'lastSeasonStart')::int >= $2::int))
       limit 1`,
      [FOOTBALL_DATA_PROVIDER, last ?? null],
    );
    if (done.rowCount) {
      log('historical data already loaded');
      return 'already-seeded';
    }
    const files = (await expandPaths([dir])).filter((f) => last === undefined || (seasonStartYear(f) ?? 0) <= last).sort(bySeasonDescending);
    const until = last === undefined ? '' : ` up to ${last}/${String((last + 1) % 100).padStart(2, '0')}`;
    log(`loading ${files.length} historical files${until} from data/football-data (first start only)...`);
    let loaded = 0;
    const summary = await importFootballData(pool, files, {
      onFile: (f) => {
        loaded++;
        if (f.status === 'failed') log(`  ${f.file} failed: ${f.error}`);
        else if (loaded % 10 === 0 || loaded === files.length) log(`  ${loaded}/${files.length} files loaded`);
      },
    });
    // The live jobs write teams and matches at the same time (npm start fires them while this runs), so a
    // file can lose a deadlock; it is idempotent, so it simply goes again.
    for (let attempt = 1; attempt <= 2 && summary.failedFiles > 0; attempt++) {
      const failed = summary.files.filter((f) => f.status === 'failed').map((f) => files.find((p) => basename(p) === f.file)!);
      log(`  retrying ${failed.length} file(s)`);
      const retry = await importFootballData(pool, failed);
      for (const f of retry.files) summary.files[summary.files.findIndex((s) => s.file === f.file)] = f;
      for (const key of ['inserted', 'updated', 'unchanged'] as const) {
        summary.matches[key] += retry.matches[key];
        summary.odds[key] += retry.odds[key];
      }
      summary.failedFiles = retry.failedFiles;
    }
    if (summary.failedFiles > 0) throw new Error(`${summary.failedFiles} file(s) failed to import`);
    await pool.query(`insert into ingestion_jobs (kind, provider, status, finished_at, stats) values ('seed', $1, 'succeeded', now(), $2)`, [
      FOOTBALL_DATA_PROVIDER,
      { files: files.length, lastSeasonStart: last ?? null, matches: summary.matches, odds: summary.odds, durationMs: Math.round(summary.durationMs) },
    ]);
    log(
      `historical data loaded: ${summary.matches.inserted} matches, ${summary.odds.inserted} odds snapshots in ${(summary.durationMs / 1000).toFixed(0)} s`,
    );
    return 'seeded';
  } finally {
    await pool.end();
  }
}
