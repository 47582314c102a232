// npm run bench:ingest [-- --rows N] [--chunk N] [--batch N]
//
// How fast the production odds write path (writeOdds, src/services/ingestion/odds-writer.ts, through drizzle over
// node-postgres, as the CLIs run it) stores odds, against `COPY ... FROM STDIN` of the same rows into an identical table as the baseline
// measured in the same run. Target: writeOdds within 3× of COPY.
//
// The rows are generated in The Odds API's format: the stand-in's replay of 2023/24 (five leagues, real
// fixtures and bookmakers, prices moving from the pre-match to the closing price), polled at as many capture
// times as it takes to reach --rows; each poll's events are validated against the provider schema, mapped by
// outcome name, and resolved to matches by the production resolver. writeOdds is called once per --chunk
// rows (a cron run's write), each call one transaction of --batch-row INSERT ... unnest statements.
// Database: a fresh one on DATABASE_URL's server (dropped afterwards), or a throwaway embedded PostgreSQL when
// unset (with fsync on, as a real server would run).
import { createRequire } from 'node:module';
import { pipeline } from 'node:stream/promises';
import { Readable, type Writable } from 'node:stream';
import pg from 'pg';
import { REPO_DATA_DIR } from '../scripts/lib/football-data/seed';
import { startTemporaryPostgres } from '../scripts/lib/embedded-postgres';
import { createFreshDatabase } from '../scripts/lib/fresh-database';
import { nodeDatabase } from '../scripts/lib/db';
import { migrate } from '../scripts/lib/migrate';
import { loadSeason, quoteMarket, type ReplayEvent } from '../scripts/lib/odds-api-standin';
import { THE_ODDS_API_PROVIDER } from '../src/providers/the-odds-api/client';
import { OddsEventsSchema, type OddsApiOddsEvent } from '../src/providers/the-odds-api/schemas';
import type { OddsMarket, OddsOutcome } from '../src/providers/types';
import { resolveFixtures } from '../src/services/ingestion/match-resolver';
import { DEFAULT_ODDS_BATCH_ROWS, phaseAt, writeOdds, type ResolvedOddsRow } from '../src/services/ingestion/odds-writer';

// pg-copy-streams ships no type declarations; this is the one function used.
const { from: copyFrom } = createRequire(import.meta.url)('pg-copy-streams') as { from: (text: string) => Writable };

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} needs a positive whole number`);
  return value;
}

const ROWS = option('rows', 1_000_000);
const CHUNK = option('chunk', 100_000);
const BATCH = option('batch', DEFAULT_ODDS_BATCH_ROWS);
const MARKETS: OddsMarket[] = ['h2h', 'spreads', 'totals'];

/** One poll of every event at `capturedAt`, as The Odds API's /odds endpoint would return it. */
function oddsPayload(events: ReplayEvent[], capturedAt: (e: ReplayEvent) => Date): OddsApiOddsEvent[] {
  return events.map((event) => {
    const at = capturedAt(event);
    const lastUpdate = new Date(at.getTime() - 60_000).toISOString().replace('.000Z', 'Z');
    const nameOf = (o: OddsOutcome) => ({ home: event.homeTeam, away: event.awayTeam, draw: 'Draw', over: 'Over', under: 'Under' })[o];
    return {
      id: event.id,
      sport_key: event.sportKey,
      sport_title: event.sportTitle,
      commence_time: event.commenceTime.toISOString().replace('.000Z', 'Z'),
      home_team: event.homeTeam,
      away_team: event.awayTeam,
      bookmakers: event.bookmakers.map((b) => ({
        key: b.key,
        title: b.title,
        last_update: lastUpdate,
        markets: MARKETS.flatMap((market) => {
          const quoted = quoteMarket(event, b, market, at);
          if (!quoted) return [];
          const outcomes = quoted.map((q) => (q.point === null ? { name: nameOf(q.outcome), price: q.price } : { name: nameOf(q.outcome), price: q.price, point: q.point }));
          return [{ key: market, last_update: lastUpdate, outcomes }];
        }),
      })),
    } as OddsApiOddsEvent;
  });
}

/** Provider payload → writer rows: outcomes by name, never by position (as the client maps them). */
function toRows(payload: OddsApiOddsEvent[], capturedAt: (eventId: string) => Date, matchIds: Map<string, string>): ResolvedOddsRow[] {
  const rows: ResolvedOddsRow[] = [];
  for (const event of payload) {
    const matchId = matchIds.get(event.id);
    if (!matchId) continue;
    const at = capturedAt(event.id);
    const phase = phaseAt(at, new Date(event.commence_time));
    for (const b of event.bookmakers) {
      for (const m of b.markets) {
        const market = m.key as OddsMarket;
        for (const o of m.outcomes) {
          const outcome: OddsOutcome =
            market === 'totals' ? (o.name === 'Over' ? 'over' : 'under') : o.name === event.home_team ? 'home' : o.name === event.away_team ? 'away' : 'draw';
          rows.push({ matchId, bookmaker: b.key, market, outcome, point: market === 'h2h' ? null : (o.point ?? null), price: o.price, phase, capturedAt: at });
        }
      }
    }
  }
  return rows;
}

const copyValue = (v: string | number | null) => (v === null ? '\\N' : String(v));

async function main() {
  const embedded = process.env.DATABASE_URL ? undefined : await startTemporaryPostgres({ ephemeral: false });
  const fresh = await createFreshDatabase(process.env.DATABASE_URL ?? embedded!.url, 'senzu_bench_ingest');
  const url = fresh.url;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  try {
    await migrate(url);
    const version = (await pool.query(`select version() as v`)).rows[0].v as string;

    // Fixtures: 2023/24 of the five leagues, resolved (and created: this database has no history) by the
    // production resolver, as a first odds run on a fresh deployment would.
    const events = loadSeason({ dataDir: REPO_DATA_DIR, season: '2324' });
    const fixtures = events.map((e) => ({ eventId: e.id, competitionKey: e.sportKey, commenceTime: e.commenceTime, homeTeam: e.homeTeam, awayTeam: e.awayTeam }));
    const resolved = await nodeDatabase(pool).transaction((tx) => resolveFixtures(tx, fixtures));
    if (resolved.unresolved > 0) throw new Error(`${resolved.unresolved} fixtures did not resolve`);

    // Polls from each event's opening capture to kick-off, as many as it takes to reach ROWS.
    const perPoll = toRows(oddsPayload(events, (e) => e.openAt), (id) => events.find((e) => e.id === id)!.openAt, resolved.matchIds).length;
    const polls = Math.ceil(ROWS / perPoll);
    const rows: ResolvedOddsRow[] = [];
    const byId = new Map(events.map((e) => [e.id, e]));
    const started = performance.now();
    for (let k = 0; k < polls && rows.length < ROWS; k++) {
      const at = (e: ReplayEvent) => new Date(e.openAt.getTime() + Math.round(((e.commenceTime.getTime() - e.openAt.getTime()) * k) / polls));
      const payload = oddsPayload(events, at);
      if (k === 0) OddsEventsSchema.parse(payload); // the generated format is the provider's
      for (const row of toRows(payload, (id) => at(byId.get(id)!), resolved.matchIds)) {
        if (rows.length >= ROWS) break;
        rows.push(row);
      }
    }
    console.log(
      `${rows.length.toLocaleString('en')} odds rows in The Odds API's format: ${events.length} fixtures of 2023/24, ${polls} polls ` +
        `(generated in ${((performance.now() - started) / 1000).toFixed(1)} s)\n${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PostgreSQL'}: ${version.split(' on ')[0]}\n`,
    );

    // Baseline table: odds_snapshots' definition (columns, checks, the NULLS NOT DISTINCT key, the index, the
    // foreign key, monthly partitions), with its partitions made before timing, as psql's COPY would need.
    await pool.query(`create table odds_snapshots_copy (like odds_snapshots including all) partition by range (captured_at)`);
    await pool.query(`alter table odds_snapshots_copy add foreign key (match_id) references matches (id) on delete cascade`);
    const months = [...new Set(rows.map((r) => r.capturedAt.toISOString().slice(0, 7) + '-01'))];
    await pool.query(`select ensure_month_partition('odds_snapshots_copy', m) from unnest($1::date[]) as m`, [months]);
    const lines: string[] = [];
    const block: string[] = [];
    for (const r of rows) {
      block.push(
        [r.matchId, THE_ODDS_API_PROVIDER, r.bookmaker, r.market, r.outcome, copyValue(r.point), r.price, r.phase, r.capturedAt.toISOString()].map((v) => copyValue(v)).join('\t'),
      );
      if (block.length === 10_000) lines.push(block.splice(0).join('\n') + '\n');
    }
    if (block.length > 0) lines.push(block.join('\n') + '\n');
    await pool.query('checkpoint').catch(() => undefined);

    // COPY first, then writeOdds: if anything, the later run pays for the first one's dirty pages.
    const copySql = `copy odds_snapshots_copy (match_id, provider, bookmaker, market, outcome, point, price, phase, captured_at)`;
    let copySeconds: number;
    const copyClient = await pool.connect();
    try {
      const t0 = performance.now();
      await pipeline(Readable.from(lines), copyClient.query(copyFrom(`${copySql} from stdin`) as never) as unknown as Writable);
      copySeconds = (performance.now() - t0) / 1000;
    } finally {
      copyClient.release();
    }
    await pool.query('checkpoint').catch(() => undefined);

    const writer = nodeDatabase(pool);
    let inserted = 0;
    const t1 = performance.now();
    for (let start = 0; start < rows.length; start += CHUNK) {
      inserted += (await writeOdds(writer, THE_ODDS_API_PROVIDER, rows.slice(start, start + CHUNK), { batchRows: BATCH })).inserted;
    }
    const writeSeconds = (performance.now() - t1) / 1000;

    // The same rows again: what a replayed poll costs (all duplicates, nothing written).
    const t2 = performance.now();
    let duplicates = 0;
    for (let start = 0; start < rows.length; start += CHUNK) {
      duplicates += (await writeOdds(writer, THE_ODDS_API_PROVIDER, rows.slice(start, start + CHUNK), { batchRows: BATCH })).duplicates;
    }
    const replaySeconds = (performance.now() - t2) / 1000;

    const stored = Number((await pool.query(`select count(*) as n from odds_snapshots`)).rows[0].n);
    const copied = Number((await pool.query(`select count(*) as n from odds_snapshots_copy`)).rows[0].n);
    if (stored !== rows.length || copied !== rows.length || inserted !== rows.length || duplicates !== rows.length) {
      throw new Error(`row counts disagree: generated ${rows.length}, writeOdds stored ${stored} (inserted ${inserted}, replay duplicates ${duplicates}), COPY ${copied}`);
    }

    const rate = (s: number) => Math.round(rows.length / s);
    const fmt = (n: number) => n.toLocaleString('en').padStart(11);
    console.log(`${'method'.padEnd(46)}  seconds       rows/s   × COPY time`);
    console.log(`${'COPY ... FROM STDIN (baseline)'.padEnd(46)} ${copySeconds.toFixed(2).padStart(8)} ${fmt(rate(copySeconds))}         1.00`);
    console.log(
      `${`writeOdds, ${CHUNK.toLocaleString('en')}-row calls, ${BATCH.toLocaleString('en')}-row batches`.padEnd(46)} ${writeSeconds.toFixed(2).padStart(8)} ${fmt(rate(writeSeconds))} ${(writeSeconds / copySeconds).toFixed(2).padStart(12)}`,
    );
    console.log(
      `${'writeOdds, same rows again (all duplicates)'.padEnd(46)} ${replaySeconds.toFixed(2).padStart(8)} ${fmt(rate(replaySeconds))} ${(replaySeconds / copySeconds).toFixed(2).padStart(12)}`,
    );
    const ratio = writeSeconds / copySeconds;
    console.log(`\nwriteOdds takes ${ratio.toFixed(2)}× COPY's time (target ≤ 3×): ${ratio <= 3 ? 'met' : 'NOT met'}`);
  } finally {
    await pool.end();
    await fresh.drop();
    await embedded?.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
