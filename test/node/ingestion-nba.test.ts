// basketball_nba through the real ingestion jobs (fixtures, odds, results) against The Odds API stand-in on
// loopback, on a migrated database of the file's own: the NBA's fixtures land in the NBA competition with
// basketball's teams, its spreads and totals are stored at each quoted point, its results land, and a second
// poll adds nothing. Then the resolver's NBA rule: a live game joins the archive's date-only game of its US
// date, never the same pair's game of the next day.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeDatabase } from '../../scripts/lib/db';
import { importNbaArchive, NBA_DATA_DIR } from '../../scripts/lib/nba/import';
import { loadNbaSeason, startOddsApiStandin, type OddsApiStandin, type ReplayEvent } from '../../scripts/lib/odds-api-standin';
import type { MatchMeta } from '../../durable-objects/match-odds';
import type { Database } from '../../src/db/client';
import { createLogger } from '../../src/lib/logging';
import { TheOddsApiClient } from '../../src/providers/the-odds-api/client';
import { oddsRequestFor, pollTiers } from '../../src/services/ingestion/budget';
import { resolveFixtures } from '../../src/services/ingestion/match-resolver';
import { ingestFixtures, ingestOdds, ingestResults, type IngestionDeps } from '../../src/services/ingestion/pipeline';
import { JobContext } from '../../src/services/jobs';
import { isolatedDatabase } from './support/isolated-database';

const db = isolatedDatabase();
let standin: OddsApiStandin;
let events: ReplayEvent[];
let clock = new Date('2021-11-10T12:00:00Z');

beforeAll(async () => {
  events = loadNbaSeason({ dataDir: NBA_DATA_DIR, season: '2021-22' });
  standin = await startOddsApiStandin({ events, now: () => clock, shuffle: false });
});
afterAll(() => standin?.close());

/** The meta of every MatchOdds call, newest last. */
const metas: MatchMeta[] = [];

function deps(): IngestionDeps & { applied: number[] } {
  const applied: number[] = [];
  return {
    applied,
    db: () => nodeDatabase(db.pool) as unknown as Database,
    provider: new TheOddsApiClient({ apiKey: standin.apiKey, baseUrl: standin.url, regions: 'uk,eu', now: () => clock, maxAttempts: 1 }),
    fanOut: {
      async applyOdds(matchId, rows, meta) {
        applied.push(matchId);
        metas.push(meta);
        return { changed: rows.map(() => true) } as never;
      },
      invalidatePredictions: async () => undefined,
      enqueueFeatureRecompute: async () => undefined,
    },
    settings: {
      sports: ['basketball_nba'],
      monthlyCredits: 20_000,
      oddsRequest: (key) => oddsRequestFor(key, 'uk,eu'),
      pollTiers: pollTiers(48),
      fixturesHorizonDays: 2,
    },
    logger: createLogger({}, () => undefined),
    now: clock,
  };
}

const run = async (work: typeof ingestOdds) => {
  const job = new JobContext('test');
  const outcome = await work(job, deps());
  return { outcome, credits: job.calls.reduce((sum, c) => sum + (c.requestsLast ?? 0), 0), calls: job.calls };
};

describe('basketball_nba through the ingestion jobs', () => {
  it('files the fixtures under the NBA with basketball teams', async () => {
    const { outcome } = await run(ingestFixtures);
    const upcoming = events.filter((e) => e.commenceTime > clock && e.commenceTime.getTime() <= clock.getTime() + 2 * 86_400_000);
    expect(outcome.stats).toMatchObject({ fixtures: upcoming.length, created: upcoming.length, unresolved: 0 });
    const { rows } = await db.pool.query(
      `select m.external_match_id as id, c.key as competition, s.key as sport, h.key as home, a.key as away, m.season, m.start_time_known
       from matches m join competitions c on c.id = m.competition_id join sports s on s.id = m.sport_id
       join teams h on h.id = m.home_team_id join teams a on a.id = m.away_team_id where m.provider = 'the-odds-api'`,
    );
    expect(rows).toHaveLength(upcoming.length);
    for (const e of upcoming) {
      expect(rows.find((r) => r.id === e.id)).toEqual({ id: e.id, competition: 'basketball_nba', sport: 'basketball', home: e.nba!.homeCode, away: e.nba!.awayCode, season: '2021-22', start_time_known: true });
    }
    expect(Number((await db.pool.query(`select count(*) as n from unresolved_team_names`)).rows[0].n)).toBe(0);
  });

  it('stores h2h without a draw, and spreads and totals at every quoted point; a second poll stores nothing new', async () => {
    const next = events.find((e) => e.commenceTime > clock)!;
    clock = new Date(next.commenceTime.getTime() - 60 * 60_000);
    metas.length = 0;
    const first = await run(ingestOdds);
    expect(first.outcome.stats).toMatchObject({ sports: 1, unresolved: 0, duplicates: 0 });
    // MatchOdds learns the sport's h2h book: the moneyline is complete without a draw.
    expect(metas.length).toBeGreaterThan(0);
    for (const meta of metas) expect(meta.h2hOutcomes).toEqual(['home', 'away']);
    // One call: h2h, spreads and totals in the us region.
    expect(first.calls.map((c) => c.endpoint)).toEqual(['/v4/sports/basketball_nba/odds']);
    expect(first.credits).toBe(3);
    const { rows } = await db.pool.query(
      `select o.market, o.outcome, o.point::float8 as point, count(*)::int as n from odds_snapshots o join matches m on m.id = o.match_id
       where m.external_match_id = $1 group by 1, 2, 3 order by 1, 2, 3`,
      [next.id],
    );
    expect(rows.filter((r) => r.market === 'h2h').map((r) => [r.outcome, r.point])).toEqual([['away', null], ['home', null]]);
    const homeSpreads = rows.filter((r) => r.market === 'spreads' && r.outcome === 'home');
    const books = next.bookmakers.length;
    expect(homeSpreads.reduce((n, r) => n + r.n, 0)).toBe(books);
    // The books shade the line: the same side at different points is a row per point.
    const shaded = events.filter((e) => e.commenceTime.getTime() === next.commenceTime.getTime());
    const { rows: points } = await db.pool.query(
      `select m.external_match_id as id, count(distinct o.point)::int as points from odds_snapshots o join matches m on m.id = o.match_id
       where o.market = 'spreads' and o.outcome = 'home' and m.external_match_id = any($1) group by 1`,
      [shaded.map((e) => e.id)],
    );
    expect(points.some((p) => p.points >= 2)).toBe(true);
    for (const r of rows.filter((x) => x.market !== 'h2h')) expect(r.point).not.toBeNull();

    const again = await run(ingestOdds);
    expect(again.outcome.stats).toMatchObject({ inserted: 0, created: 0 });
    expect((again.outcome.stats as { duplicates: number }).duplicates).toBe((first.outcome.stats as { rows: number }).rows);
  });

  it("lands the results, the archive's scores, once; a second poll changes nothing", async () => {
    const next = events.find((e) => e.commenceTime > clock)!;
    clock = new Date(next.commenceTime.getTime() + 4 * 3_600_000);
    const first = await run(ingestResults);
    expect((first.outcome.stats as { updated: number }).updated).toBeGreaterThanOrEqual(1);
    const { rows } = await db.pool.query(`select status, home_score, away_score from matches where external_match_id = $1`, [next.id]);
    expect(rows[0]).toEqual({ status: 'finished', home_score: next.homeScore, away_score: next.awayScore });
    const again = await run(ingestResults);
    expect(again.outcome.stats).toMatchObject({ updated: 0, unresolved: 0 });
  });
});

describe('the NBA resolver rule', () => {
  it("joins a live game to the archive's game of its US date, not the same pair's game the next day", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'senzu-nba-'));
    try {
      const header = 'season,date,regular,playoffs,away,home,score_away,score_home,q1_away,q2_away,q3_away,q4_away,ot_away,q1_home,q2_home,q3_home,q4_home,ot_home,whos_favored,spread,total,moneyline_away,moneyline_home,h2_spread,h2_total,id_spread,id_total';
      // The same pair, home and away alike, on consecutive days (as the 2020/21 two-game series had them).
      const row = (date: string) => `2022,${date},True,False,lal,gs,100,110,25,25,25,25,0,30,30,25,25,0,home,4.5,220,160,-180,2,110,1,0`;
      const file = join(dir, 'nba_2021-22.csv');
      await writeFile(file, [header, row('2022-01-20'), row('2022-01-21')].join('\n') + '\n');
      const summary = await importNbaArchive(db.pool, [file]);
      expect(summary.failedFiles).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const { rows: archive } = await db.pool.query(`select id::text as id, external_match_id as ext from matches where provider = 'sbr-nba' order by start_at`);
    expect(archive.map((r) => r.ext)).toEqual(['2022-01-20:lal@gs', '2022-01-21:lal@gs']);
    const fixture = (eventId: string, at: string) => ({ eventId, competitionKey: 'basketball_nba', commenceTime: new Date(at), homeTeam: 'Golden State Warriors', awayTeam: 'Los Angeles Lakers' });
    // 7 pm Pacific on the 20th is 03:00 UTC on the 21st: 3 h from the 21st's date-only game, 27 h from the 20th's.
    const resolved = await resolveFixtures(nodeDatabase(db.pool), [
      fixture('a'.repeat(32), '2022-01-21T03:00:00Z'),
      fixture('b'.repeat(32), '2022-01-22T03:00:00Z'),
      fixture('c'.repeat(32), '2022-01-23T03:00:00Z'),
    ]);
    expect(resolved.resolutions.map((r) => [r.status, r.matchId])).toEqual([
      ['matched', archive[0].id],
      ['matched', archive[1].id],
      ['created', expect.any(String)],
    ]);
  });
});
