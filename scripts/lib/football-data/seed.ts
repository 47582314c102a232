// The first-start load of data/football-data/ for `npm start`. Recorded as one 'seed' row in
// ingestion_jobs, so it runs once; an interrupted seed resumes cheaply because the import is idempotent.
import { basename } from 'node:path';
import pg from 'pg';
import { FOOTBALL_DATA_PROVIDER } from '../../../src/providers/football-data/parse';
import { expandPaths, importFootballData } from './import';

export const REPO_DATA_DIR = new URL('../../../data/football-data', import.meta.url).pathname;

/** Newest season first (files are named DIV_YYZZ.csv), so recent matches are there soonest. */
const bySeasonDescending = (a: string, b: string) => {
  const season = (p: string) => basename(p).match(/_(\d{4})\.csv$/i)?.[1] ?? '';
  return season(b).localeCompare(season(a)) || a.localeCompare(b);
};

export async function seedHistoricalData(databaseUrl: string, log: (msg: string) => void, dir = REPO_DATA_DIR): Promise<'seeded' | 'already-seeded'> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  try {
    const done = await pool.query(`select 1 from ingestion_jobs where kind = 'seed' and provider = $1 and status = 'succeeded' limit 1`, [
      FOOTBALL_DATA_PROVIDER,
    ]);
    if (done.rowCount) {
      log('historical data already loaded');
      return 'already-seeded';
    }
    const files = (await expandPaths([dir])).sort(bySeasonDescending);
    log(`loading ${files.length} historical files from data/football-data (first start only)...`);
    let loaded = 0;
    const summary = await importFootballData(pool, files, {
      onFile: (f) => {
        loaded++;
        if (f.status === 'failed') log(`  ${f.file} failed: ${f.error}`);
        else if (loaded % 10 === 0 || loaded === files.length) log(`  ${loaded}/${files.length} files loaded`);
      },
    });
    if (summary.failedFiles > 0) throw new Error(`${summary.failedFiles} file(s) failed to import`);
    await pool.query(`insert into ingestion_jobs (kind, provider, status, finished_at, stats) values ('seed', $1, 'succeeded', now(), $2)`, [
      FOOTBALL_DATA_PROVIDER,
      { files: files.length, matches: summary.matches, odds: summary.odds, durationMs: Math.round(summary.durationMs) },
    ]);
    log(
      `historical data loaded: ${summary.matches.inserted} matches, ${summary.odds.inserted} odds snapshots in ${(summary.durationMs / 1000).toFixed(0)} s`,
    );
    return 'seeded';
  } finally {
    await pool.end();
  }
}
