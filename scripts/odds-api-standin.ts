// npm run standin:odds-api -- [--port 8790] [--season 2324] [--key standin-key] [--start 2023-08-11T12:00:00Z] [--speed 1]
// Serves The Odds API v4 on loopback, replaying a season of data/football-data/ as if live. The replay clock
// starts at --start (default: a day before the season's first match) and runs --speed times real time.
import { parseArgs } from 'node:util';
import { exitWithUsageOnHelp } from './lib/cli';
import { startOddsApiStandin, loadSeason } from './lib/odds-api-standin';
import { fileURLToPath } from 'node:url';

exitWithUsageOnHelp(`usage: npm run standin:odds-api -- [--port 8790] [--season 2324] [--key standin-key] [--start 2023-08-11T12:00:00Z] [--speed 1]
Serves The Odds API v4 on loopback, replaying a season of data/football-data/ as if live, from --start (default:
a day before the season's first match) at --speed times real time.`);

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.ODDS_API_STANDIN_PORT ?? '8790' },
    season: { type: 'string', default: '2324' },
    key: { type: 'string', default: process.env.ODDS_API_KEY ?? 'standin-key' },
    start: { type: 'string' },
    speed: { type: 'string', default: '1' },
  },
});

const events = loadSeason({ dataDir: fileURLToPath(new URL('../data/football-data', import.meta.url)), season: values.season! });
if (!events.length) throw new Error(`no matches found for season ${values.season}`);
const start = values.start ? Date.parse(values.start) : events[0]!.commenceTime.getTime() - 86_400_000;
if (Number.isNaN(start)) throw new Error(`--start ${values.start} is not a date`);
const speed = Number(values.speed);
if (!(speed > 0)) throw new Error(`--speed ${values.speed} must be a positive number`);
const startedAt = Date.now();
const now = () => new Date(start + (Date.now() - startedAt) * speed);

const standin = await startOddsApiStandin({ events, apiKey: values.key!, port: Number(values.port), now });
console.log(`The Odds API stand-in: ${standin.url} (apiKey ${standin.apiKey})`);
console.log(`replaying ${events.length} matches of ${values.season}; clock ${now().toISOString()} at ${speed}x`);
console.log(`try: curl '${standin.url}/v4/sports/soccer_epl/odds?apiKey=${standin.apiKey}&regions=eu&markets=h2h,spreads,totals'`);
console.log(`faults: curl -X POST ${standin.url}/__control -d '{"mode":"server_error","count":2}'`);

const stop = () => void standin.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
