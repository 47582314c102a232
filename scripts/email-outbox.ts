// npm run email:outbox — local mail delivery: prints the mail the API queued (email verification) and marks it
// sent. In production a sender with a mail provider reads the same table; the API never talks to one inside a
// request, so a registration cannot half-happen because mail was down.
import pg from 'pg';
import { exitWithUsageOnHelp } from './lib/cli';
import { openLocalDatabase } from './lib/local-database';

exitWithUsageOnHelp(`usage: npm run email:outbox [-- --peek]
Prints every unsent mail of the email_outbox table (DATABASE_URL, or the embedded database of npm start) and
marks it sent. --peek prints without marking.`);

const peek = process.argv.includes('--peek');
const database = await openLocalDatabase();
const client = new pg.Client({ connectionString: database.url });
try {
  await client.connect();
  const { rows } = await client.query<{ id: string; recipient: string; subject: string; body: string; created_at: Date }>(
    peek
      ? 'SELECT id, recipient, subject, body, created_at FROM email_outbox WHERE sent_at IS NULL ORDER BY created_at'
      : 'UPDATE email_outbox SET sent_at = now() WHERE sent_at IS NULL RETURNING id, recipient, subject, body, created_at',
  );
  rows.sort((a, b) => a.created_at.getTime() - b.created_at.getTime());
  for (const mail of rows) console.log(`To: ${mail.recipient}\nSubject: ${mail.subject}\nDate: ${mail.created_at.toISOString()}\n\n${mail.body}\n${'-'.repeat(72)}`);
  console.log(`${rows.length} mail(s)${peek ? ' waiting' : ' delivered'}`);
} catch (error) {
  console.error(`email:outbox failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await client.end().catch(() => undefined);
  await database.stop();
}
