// Every CLI of package.json answers --help with its usage on stdout and exit code 0, before it does any work:
// DATABASE_URL points at a port nothing listens on, so a CLI that opened its database first would fail. -h too:
// most CLIs take both through one helper (scripts/lib/cli.ts), which is run with -h once; a CLI that parses
// its own arguments is run with -h as well. (About a second of CPU per run, so not every CLI twice.)
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
const CLIS = Object.entries(scripts).flatMap(([name, command]) => {
  // `tsx scripts/x.ts`, or `exec node --import tsx scripts/x.ts` (npm start: no shell in between, see scripts/dev.ts)
  const file = /^(?:tsx|exec node --import tsx) (scripts\/[\w-]+\.ts)$/.exec(command)?.[1];
  return file ? [{ name, file, sharedHelp: /\bexitWithUsageOnHelp\(/.test(readFileSync(file, 'utf8')) }] : [];
});
const checked = CLIS;

function run(file: string, flag: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    // `node --import tsx` is what the tsx binary runs, without its extra launcher process.
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', file, '--', flag],
      { env: { ...process.env, DATABASE_URL: 'postgres://postgres@127.0.0.1:9/help-must-not-connect' }, timeout: 60_000 },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

describe('--help and -h', () => {
  it('covers every CLI of package.json', () => {
    expect(CLIS.map((c) => c.name).sort()).toEqual(
      [
        'start', 'db:migrate', 'import:football-data', 'import:nba', 'features:export', 'artifacts:sync', 'archive', 'model:train',
        'evaluate', 'model:register', 'standin:odds-api', 'client:generate', 'ingestion:budget', 'docs:alerts', 'email:outbox',
      ].sort(),
    );
  });

  const cases = [
    ...checked.map((c) => ({ ...c, flag: '--help' })),
    ...checked.filter((c, i) => !c.sharedHelp || i === checked.findIndex((x) => x.sharedHelp)).map((c) => ({ ...c, flag: '-h' })),
  ];
  it.concurrent.each(cases)('npm run $name -- $flag prints its usage and exits 0', async ({ name, file, flag }) => {
    const { code, stdout, stderr } = await run(file, flag);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.startsWith(name === 'start' ? 'usage: npm start' : `usage: npm run ${name}`), stdout).toBe(true);
  });
});
