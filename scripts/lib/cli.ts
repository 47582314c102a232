// What every CLI of package.json does with `--help` or `-h`: prints its usage on stdout and exits 0, before it
// opens a database, reads a file or starts a server (test/node/cli-help.test.ts runs each one).

/** When the arguments ask for help, prints `usage` and exits 0; otherwise returns. */
export function exitWithUsageOnHelp(usage: string, argv: readonly string[] = process.argv.slice(2)): void {
  if (!argv.includes('--help') && !argv.includes('-h')) return;
  console.log(usage);
  process.exit(0);
}

export type SportArgument = 'football' | 'basketball';

/**
 * `--sport`'s value: football (also spelt soccer, its The Odds API group) or basketball. Anything else is the
 * caller's error type, made from one message.
 */
export function sportArgument(value: string, error: (message: string) => Error): SportArgument {
  if (value === 'basketball') return 'basketball';
  if (value === 'football' || value === 'soccer') return 'football';
  throw error(`--sport must be football or basketball, not ${value}`);
}
