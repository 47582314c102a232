// What every CLI of package.json does with `--help` or `-h`: prints its usage on stdout and exits 0, before it
// opens a database, reads a file or starts a server (test/node/cli-help.test.ts runs each one).

/** When the arguments ask for help, prints `usage` and exits 0; otherwise returns. */
export function exitWithUsageOnHelp(usage: string, argv: readonly string[] = process.argv.slice(2)): void {
  if (!argv.includes('--help') && !argv.includes('-h')) return;
  console.log(usage);
  process.exit(0);
}
