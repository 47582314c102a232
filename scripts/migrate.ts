// npm run db:migrate — applies migrations/*.sql to DATABASE_URL (or to the embedded database of `npm start`).
import { exitWithUsageOnHelp } from './lib/cli';
import { openLocalDatabase } from './lib/local-database';
import { migrate } from './lib/migrate';

exitWithUsageOnHelp(`usage: npm run db:migrate
Applies migrations/*.sql not yet applied to DATABASE_URL, or, when it is unset, to the embedded database of
npm start (.data/pglite), then loads the sports declared in data/sports/*.json (docs/sports.md).`);

const database = await openLocalDatabase();
try {
  const result = await migrate(database.url);
  console.log(
    result.applied.length
      ? `applied ${result.applied.length} migration(s): ${result.applied.join(', ')}`
      : `up to date (${result.skipped.length} migration(s) already applied)`,
  );
  for (const s of result.sports) {
    const changes = s.competitionsCreated + s.competitionsUpdated + s.teamsCreated + s.teamsUpdated + s.aliasesCreated + s.aliasesMoved;
    console.log(
      changes || s.sportCreated
        ? `sport ${s.sport}: ${s.sportCreated ? 'created, ' : ''}competitions +${s.competitionsCreated} ~${s.competitionsUpdated}, ` +
            `teams +${s.teamsCreated} ~${s.teamsUpdated}, aliases +${s.aliasesCreated} ~${s.aliasesMoved}`
        : `sport ${s.sport}: up to date`,
    );
  }
} catch (error) {
  console.error(`db:migrate failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await database.stop();
}
