// npm run import:nba -- <files or directories>
// Loads the NBA archive's CSV files (data/nba/README.md) into DATABASE_URL (or the embedded database of `npm start`).
import pg from 'pg';
import { exitWithUsageOnHelp } from './lib/cli';
import { openLocalDatabase } from './lib/local-database';
import { migrate } from './lib/migrate';
import { expandPaths, importNbaArchive, type NbaFileSummary, type NbaImportSummary } from './lib/nba/import';

const USAGE = `usage: npm run import:nba -- <file.csv | directory> [...]
  e.g. npm run import:nba -- data/nba
Imports NBA games with their final scores and closing lines (moneyline, spread and total, as odds snapshots of
provider sbr-nba, bookmaker consensus, phase closing). Idempotent: a second run adds nothing. Rows that cannot be
read are skipped and reported as file:line.`;
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
  console.error(`import:nba: ${(error as Error).message}`);
  process.exit(2);
}
if (paths.length === 0) {
  console.error(`import:nba: no .csv files in ${args.join(' ')}`);
  process.exit(2);
}

const database = await openLocalDatabase();
const pool = new pg.Pool({ connectionString: database.url, max: 2 });
try {
  // Also loads data/sports/basketball.json: the NBA, its teams and their aliases.
  await migrate(database.url);
  const summary = await importNbaArchive(pool, paths, { onFile: printFile });
  printSummary(summary);
  if (summary.failedFiles > 0) process.exitCode = 1;
} catch (error) {
  console.error(`import:nba failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await pool.end();
  await database.stop();
}

function printFile(f: NbaFileSummary) {
  if (f.status === 'failed') {
    console.error(`${f.file}: FAILED, nothing written (job ${f.jobId}): ${f.error}`);
    return;
  }
  console.log(
    `${f.file}: matches +${f.matches.inserted} ~${f.matches.updated} =${f.matches.unchanged}, ` +
      `odds +${f.odds.inserted} ~${f.odds.updated} =${f.odds.unchanged} -${f.odds.removed}, rejected ${f.rejected.length}` +
      (f.invalidPrices.length ? `, invalid lines skipped ${f.invalidPrices.length}` : ''),
  );
  for (const r of f.rejected) console.warn(`  ${r.file}:${r.line}: rejected: ${r.reason}`);
  for (const r of f.invalidPrices) console.warn(`  ${r.file}:${r.line}: line skipped: ${r.reason}`);
}

function printSummary(s: NbaImportSummary) {
  console.log(
    `\n${s.files.length} file(s) in ${(s.durationMs / 1000).toFixed(1)} s: ${s.matches.inserted + s.odds.inserted} new, ` +
      `${s.matches.updated + s.odds.updated} updated, ${s.odds.removed} removed, ${s.matches.unchanged + s.odds.unchanged} unchanged, ` +
      `rejected ${s.rejected.length} row(s)` +
      (s.invalidPrices.length ? `, ${s.invalidPrices.length} invalid line(s) skipped` : '') +
      (s.failedFiles ? `, ${s.failedFiles} file(s) FAILED` : ''),
  );
  console.log(
    `  matches: ${s.matches.inserted} inserted, ${s.matches.updated} updated, ${s.matches.unchanged} unchanged; ` +
      `odds snapshots: ${s.odds.inserted} inserted, ${s.odds.updated} updated, ${s.odds.removed} removed, ${s.odds.unchanged} unchanged`,
  );
}
