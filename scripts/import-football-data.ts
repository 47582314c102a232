// npm run import:football-data -- <files or directories>
// Loads football-data.co.uk CSV files into DATABASE_URL (or the embedded database of `npm start`).
import pg from 'pg';
import { exitWithUsageOnHelp } from './lib/cli';
import { expandPaths, importFootballData, type FileSummary, type ImportSummary } from './lib/football-data/import';
import { openLocalDatabase } from './lib/local-database';
import { migrate } from './lib/migrate';

const USAGE = 'usage: npm run import:football-data -- <file.csv | directory> [...]\n  e.g. npm run import:football-data -- data/football-data';
const args = process.argv.slice(2).filter((a) => a !== '--');
exitWithUsageOnHelp(USAGE, args);
if (args.length === 0) {
  console.error(USAGE);
  process.exit(2);
}

let paths: string[];
try {
  paths = await expandPaths(args);
} catch (error) {
  console.error(`import:football-data: ${(error as Error).message}`);
  process.exit(2);
}
if (paths.length === 0) {
  console.error(`import:football-data: no .csv files in ${args.join(' ')}`);
  process.exit(2);
}

const database = await openLocalDatabase();
const pool = new pg.Pool({ connectionString: database.url, max: 2 });
try {
  await migrate(database.url);
  const summary = await importFootballData(pool, paths, { onFile: printFile });
  printSummary(summary);
  if (summary.failedFiles > 0) process.exitCode = 1;
} catch (error) {
  console.error(`import:football-data failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await pool.end();
  await database.stop();
}

function printFile(f: FileSummary) {
  if (f.status === 'failed') {
    console.error(`${f.file}: FAILED, nothing written (job ${f.jobId}): ${f.error}`);
    return;
  }
  console.log(
    `${f.file}: matches +${f.matches.inserted} ~${f.matches.updated} =${f.matches.unchanged}, ` +
      `odds +${f.odds.inserted} ~${f.odds.updated} =${f.odds.unchanged}, rejected ${f.rejected.length}` +
      (f.invalidPrices.length ? `, invalid prices skipped ${f.invalidPrices.length}` : ''),
  );
  for (const r of f.rejected) console.warn(`  ${r.file}:${r.line}: rejected: ${r.reason}`);
  for (const r of f.invalidPrices) console.warn(`  ${r.file}:${r.line}: price skipped: ${r.reason}`);
}

function printSummary(s: ImportSummary) {
  const inserted = s.matches.inserted + s.odds.inserted;
  const updated = s.matches.updated + s.odds.updated;
  const unchanged = s.matches.unchanged + s.odds.unchanged;
  console.log(
    `\n${s.files.length} file(s) in ${(s.durationMs / 1000).toFixed(1)} s: inserted ${inserted}, updated ${updated}, ` +
      `unchanged ${unchanged}, rejected ${s.rejected.length} row(s)` +
      (s.invalidPrices.length ? `, ${s.invalidPrices.length} invalid price(s) skipped` : '') +
      (s.failedFiles ? `, ${s.failedFiles} file(s) FAILED` : ''),
  );
  console.log(
    `  matches: ${s.matches.inserted} inserted, ${s.matches.updated} updated, ${s.matches.unchanged} unchanged; ` +
      `odds snapshots: ${s.odds.inserted} inserted, ${s.odds.updated} updated, ${s.odds.unchanged} unchanged; teams created: ${s.teamsCreated}`,
  );
}
