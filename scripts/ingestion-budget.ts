// npm run ingestion:budget — what the odds job would spend on The Odds API with the polling tiers and budget of
// src/services/ingestion/budget.ts, replayed over a real season's kick-offs from data/football-data/. The
// runbook's arithmetic (docs/runbooks/ingestion.md) comes from this command. With --nba, an NBA season from
// data/nba/ is polled beside football (its first tip-off moved onto the football season's first day, as npm start
// replays them), each call at the NBA's own markets × regions from data/sports/basketball.json.
//   npm run ingestion:budget -- [--season 2324] [--divisions E0,SP1] [--regions 2] [--markets 3] [--window-hours 48] [--monthly 20000] [--nba 2021-22]
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { exitWithUsageOnHelp } from './lib/cli';
import { loadSeason, sportInfo } from './lib/odds-api-standin/season';
import { loadNbaSeason } from './lib/odds-api-standin/nba';
import { budgetAllowance, estimateOddsCredits, oddsCallCost, oddsRequestFor, pollTiers } from '../src/services/ingestion/budget';

exitWithUsageOnHelp(`usage: npm run ingestion:budget -- [--season 2324] [--divisions E0,SP1] [--regions 2] [--markets 3] [--window-hours 48] [--monthly 20000] [--nba 2021-22]
Replays a season's kick-offs (data/football-data/) through the odds job's polling tiers and prints the
credits it would spend per month against the monthly budget. --regions and --markets are football's; --nba
adds an NBA season (data/nba/) on the same calendar, at the markets and region of data/sports/basketball.json.`);

const { values } = parseArgs({
  options: {
    season: { type: 'string', default: '2324' },
    divisions: { type: 'string', default: 'E0' },
    regions: { type: 'string', default: '2' },
    markets: { type: 'string', default: '3' },
    'window-hours': { type: 'string', default: '48' },
    monthly: { type: 'string', default: '20000' },
    nba: { type: 'string' },
  },
});

const dataDir = fileURLToPath(new URL('../data/football-data/', import.meta.url));
const divisions = values.divisions!.split(',');
const tiers = pollTiers(Number(values['window-hours']));
const perCall = oddsCallCost(Number(values.markets), Number(values.regions));
const monthly = Number(values.monthly);

console.log(`polling tiers: ${tiers.map((t) => `kick-off within ${t.withinMinutes / 60} h → every ${t.everyMinutes} min`).join('; ')}`);
console.log(`one football /odds call = ${values.markets} markets × ${values.regions} regions = ${perCall} credits; /events is free; /scores?daysFrom=3 costs 2 a day`);
const nbaRequest = oddsRequestFor('basketball_nba', '');
if (values.nba) console.log(`one NBA /odds call = ${nbaRequest.markets.join(',')} in ${nbaRequest.regions} = ${nbaRequest.cost} credits`);
console.log(`monthly budget ${monthly}: by day d of a 30-day month, ${monthly}·(d + 1)/30 may be spent (${budgetAllowance(monthly, new Date(Date.UTC(2024, 3, 1)))} on the 1st)\n`);

let seasonTotal = 0;
const rows: string[] = [];
const kickoffsByDivision = divisions.map((d) => ({
  division: d,
  perCall,
  kickoffs: loadSeason({ dataDir, season: values.season!, divisions: [d] }).map((e) => e.commenceTime),
}));
if (values.nba) {
  const nba = loadNbaSeason({ dataDir: fileURLToPath(new URL('../data/nba/', import.meta.url)), season: values.nba }).map((e) => e.commenceTime);
  const footballStart = Math.min(...kickoffsByDivision.flatMap((k) => k.kickoffs.map((t) => t.getTime())));
  const shift = Math.round((footballStart - nba[0]!.getTime()) / 86_400_000) * 86_400_000;
  kickoffsByDivision.push({ division: 'NBA', perCall: nbaRequest.cost, kickoffs: nba.map((t) => new Date(t.getTime() + shift)) });
}
const all = kickoffsByDivision.flatMap((k) => k.kickoffs).sort((a, b) => a.getTime() - b.getTime());
const first = all[0]!;
const last = all[all.length - 1]!;
for (let m = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1); m <= last.getTime(); ) {
  const start = new Date(m);
  const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
  let credits = 0;
  let polls = 0;
  // One call per competition and due run: each competition is polled on its own schedule.
  for (const { kickoffs, perCall: cost } of kickoffsByDivision) {
    const estimate = estimateOddsCredits(kickoffs, start, end, tiers, cost);
    credits += estimate.credits;
    polls += estimate.polls;
  }
  const days = (end.getTime() - start.getTime()) / 86_400_000;
  const scores = days * 2 * kickoffsByDivision.length;
  const matches = all.filter((k) => k >= start && k < end).length;
  seasonTotal += credits + scores;
  rows.push(`${start.toISOString().slice(0, 7)}  ${String(matches).padStart(4)}  ${String(polls).padStart(5)}  ${String(credits).padStart(7)}  ${String(scores).padStart(6)}  ${String(credits + scores).padStart(7)}  ${credits + scores <= monthly ? 'within' : 'OVER'}`);
  m = end.getTime();
}
console.log(`${kickoffsByDivision.map((k) => sportInfo(k.division).key).join(', ')} ${values.season}${values.nba ? ` (NBA ${values.nba}, moved onto it)` : ''}`);
console.log('month    matches  polls  odds-cr  scores    total  budget');
for (const row of rows) console.log(row);
console.log(`\nseason total: ${seasonTotal} credits`);
