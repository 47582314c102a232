// One real match is one match row, whichever provider brings it first: The Odds API stand-in's replay of
// 2023/24 (through the live client and the resolver, as the odds job runs them) and football-data's CSV of the
// same season (through the daily CSV job, with the Worker's own KV and feature queue), inside workerd against
// the real database of the run.
import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { FOOTBALL_DATA_JOB_KIND, footballDataJob } from '../../src/jobs/football-data';
import { createDatabase, type DatabaseHandle } from '../../src/db/client';
import { configFrom } from '../../src/env';
import { createLogger } from '../../src/lib/logging';
import { TheOddsApiClient } from '../../src/providers/the-odds-api';
import type { ProviderFixture } from '../../src/providers/types';
import { resolveFixtures } from '../../src/services/ingestion/match-resolver';
import { phaseAt, writeOddsInTransaction } from '../../src/services/ingestion/odds-writer';
import { JobRunner } from '../../src/services/jobs';
import { predictionCacheKey } from '../../src/services/predictions/cache';
import type { FeatureRecomputeMessage } from '../../src/env';

const silent = createLogger({}, () => undefined);
/** The stand-in's clock (test/global-setup.ts): Friday 29 September 2023, a weekend of five leagues ahead. */
const REPLAY_NOW = new Date('2023-09-29T12:00:00Z');
const csv = (file: string) => `${inject('footballDataCsvUrl')}/${file}`;

let handle: DatabaseHandle;
beforeAll(() => {
  const config = configFrom(env);
  handle = createDatabase(config.DATABASE_URL, config.WS_PROXY, silent);
});
afterAll(() => handle.end());

async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  return (await handle.db.execute(query)).rows as T[];
}

const client = () =>
  new TheOddsApiClient({ apiKey: inject('oddsApiKey'), baseUrl: inject('oddsApiBaseUrl'), regions: 'uk,eu', now: () => REPLAY_NOW, maxAttempts: 1 });

/** What the odds job does with a poll: resolve the fixtures and write their odds, in one transaction. */
async function ingestLive(competitionKey: string) {
  const { fixtures, odds } = await client().fetchOdds({ competitionKey });
  const commence = new Map(fixtures.map((f) => [f.eventId, f.commenceTime]));
  return handle.db.transaction(async (tx) => {
    const resolved = await resolveFixtures(tx, fixtures);
    const resolvedOdds = odds
      .filter((o) => resolved.matchIds.has(o.eventId))
      .map(({ eventId, lastUpdate: _lastUpdate, ...o }) => ({ ...o, matchId: resolved.matchIds.get(eventId)!, phase: phaseAt(o.capturedAt, commence.get(eventId)!) }));
    const written = await writeOddsInTransaction(tx, 'the-odds-api', resolvedOdds);
    return { fixtures, resolved, written };
  });
}

/** Matches of these two teams (by The Odds API's names) kicking off within ±36 h of the fixture. */
async function sameRealMatch(f: ProviderFixture) {
  return rows<{ id: string; provider: string; status: string; home_score: number | null; stats: unknown; fd_odds: number; oa_odds: number }>(sql`
    select m.id::text as id, m.provider, m.status, m.home_score, m.stats,
           (select count(*)::int from odds_snapshots s where s.match_id = m.id and s.provider = 'football-data') as fd_odds,
           (select count(*)::int from odds_snapshots s where s.match_id = m.id and s.provider = 'the-odds-api') as oa_odds
    from matches m
    join team_aliases h on h.team_id = m.home_team_id and h.provider = 'the-odds-api' and h.alias = ${f.homeTeam}
    join team_aliases a on a.team_id = m.away_team_id and a.provider = 'the-odds-api' and a.alias = ${f.awayTeam}
    where m.start_at between ${new Date(f.commenceTime.getTime() - 36 * 3_600_000).toISOString()}::timestamptz
                         and ${new Date(f.commenceTime.getTime() + 36 * 3_600_000).toISOString()}::timestamptz`);
}

/** The job as the daily cron runs it: its fan-out goes to the Worker's own KV namespace and feature queue. */
const runJob = (urls: string[]) =>
  footballDataJob({ timeoutMs: 10_000 })(new JobRunner(() => handle.db, silent), REPLAY_NOW, { FOOTBALL_DATA_CSV_URLS: urls }, { db: () => handle.db, env });

/** What the job sends to the real feature queue: the binding is watched, not replaced (spyOn calls through). */
function watchFeatureQueue(): () => FeatureRecomputeMessage[] {
  const sendBatch = vi.spyOn(env.FEATURE_QUEUE, 'sendBatch');
  return () => sendBatch.mock.calls.flatMap(([messages]) => [...messages].map((m) => m.body));
}
afterEach(() => vi.restoreAllMocks());

/** The cached prediction of each match under the active run, as the prediction route would read it. */
const ACTIVE_RUN = inject('defaultBundle').runId;
const cached = (ids: Iterable<string>) => Promise.all([...ids].map((id) => env.PREDICTIONS.get(predictionCacheKey(ACTIVE_RUN, Number(id)))));
const cacheStale = (ids: Iterable<string>) => Promise.all([...ids].map((id) => env.PREDICTIONS.put(predictionCacheKey(ACTIVE_RUN, Number(id)), 'stale prediction')));

const count = async (query: ReturnType<typeof sql>) => (await rows<{ n: number }>(query))[0]!.n;

describe('one match per real match', () => {
  it('a replayed Premier League fixture resolves to the match its CSV import created, and carries both providers’ odds', async () => {
    // Premier League 2023/24 was imported from its CSV by the global setup.
    const { fixtures, resolved, written } = await ingestLive('soccer_epl');
    expect(fixtures.length).toBeGreaterThanOrEqual(10);
    expect(resolved.created).toBe(0);
    expect(resolved.unresolved).toBe(0);
    expect(new Set(resolved.resolutions.map((r) => r.status))).toEqual(new Set(['matched']));
    expect(written.rows).toBeGreaterThan(fixtures.length * 5);
    for (const f of fixtures) {
      const same = await sameRealMatch(f);
      expect(same, `${f.homeTeam} v ${f.awayTeam}`).toHaveLength(1);
      expect(same[0]).toMatchObject({ id: resolved.matchIds.get(f.eventId), provider: 'football-data', status: 'finished' });
      expect(same[0]!.fd_odds).toBeGreaterThan(0);
      expect(same[0]!.oa_odds).toBeGreaterThan(0);
    }
  });

  it('a CSV arriving after the live fixtures puts its results, statistics and odds on the live matches, once', async () => {
    // La Liga 2023/24 has no CSV import yet: the live fixtures create its matches.
    const live = await ingestLive('soccer_spain_la_liga');
    expect(live.fixtures.length).toBeGreaterThanOrEqual(10);
    expect(live.resolved.created).toBe(live.fixtures.length);
    const liveIds = new Set(live.resolved.matchIds.values());

    // The live matches' predictions are cached (as if served before the results came in).
    await cacheStale(liveIds);
    const queued = watchFeatureQueue();
    const first = await runJob([csv('SP1_2324.csv')]);
    expect(first).toMatchObject({ status: 'succeeded', kind: FOOTBALL_DATA_JOB_KIND, provider: 'football-data' });
    expect(first.stats.matches).toEqual({ inserted: 380 - liveIds.size, updated: liveIds.size, unchanged: 0, resolvedToOtherProvider: liveIds.size });
    const season = await rows<{ id: string }>(sql`select m.id::text as id from matches m join competitions c on c.id = m.competition_id
                                                  where c.key = 'soccer_spain_la_liga' and m.season = '2023-24'`);
    expect(season).toHaveLength(380);
    // db:migrate named the competition from data/sports/soccer.json before either provider saw it.
    expect((await rows<{ name: string }>(sql`select name from competitions where key = 'soccer_spain_la_liga'`))[0]!.name).toBe('La Liga');
    for (const f of live.fixtures) {
      const same = await sameRealMatch(f);
      expect(same, `${f.homeTeam} v ${f.awayTeam}`).toHaveLength(1);
      expect(same[0]).toMatchObject({ id: live.resolved.matchIds.get(f.eventId), provider: 'the-odds-api', status: 'finished' });
      expect(same[0]!.home_score).not.toBeNull();
      expect(same[0]!.stats).toMatchObject({ home: { shots: expect.any(Number) }, away: { corners: expect.any(Number) } });
      expect(same[0]!.fd_odds).toBeGreaterThan(0);
      expect(same[0]!.oa_odds).toBeGreaterThan(0);
    }

    // Every match that got a result went on the feature queue once, for its result, and had its cached
    // prediction dropped from KV (a result warms no prediction, so the entries stay gone).
    expect(first.stats).toMatchObject({ recomputed: 380, fanOutFailures: 0 });
    expect(queued().map((m) => m.reason)).toEqual(season.map(() => 'result'));
    expect(queued().map((m) => String(m.matchId)).sort()).toEqual(season.map((m) => m.id).sort());
    expect(await cached(liveIds)).toEqual([...liveIds].map(() => null));

    // The next day's run finds everything in place and announces nothing: the cache stays, the queue gets no
    // message. The live feed's next poll still lands on the same matches.
    await cacheStale(liveIds);
    vi.restoreAllMocks();
    const queuedAgain = watchFeatureQueue();
    const again = await runJob([csv('SP1_2324.csv')]);
    expect(again.stats.matches).toEqual({ inserted: 0, updated: 0, unchanged: 380, resolvedToOtherProvider: liveIds.size });
    expect(again.stats.odds).toMatchObject({ inserted: 0, updated: 0 });
    expect(again.stats).toMatchObject({ recomputed: 0, fanOutFailures: 0 });
    expect(queuedAgain()).toEqual([]);
    expect(await cached(liveIds)).toEqual([...liveIds].map(() => 'stale prediction'));
    const poll = await ingestLive('soccer_spain_la_liga');
    expect(new Set(poll.resolved.matchIds.values())).toEqual(liveIds);
  }, 60_000);
});

describe('the daily football-data job', () => {
  const jobRow = async (id: string) =>
    (await rows<{ status: string; error: string | null; stats: Record<string, unknown> }>(sql`select status, error, stats from ingestion_jobs where id = ${id}`))[0]!;

  it('records itself as skipped when no CSV URL is configured', async () => {
    const result = await runJob([]);
    expect(result).toMatchObject({ status: 'skipped', stats: { reason: 'no URLs configured' } });
    expect(await jobRow(result.id)).toMatchObject({ status: 'skipped' });
  });

  it('fails visibly and writes nothing when one of the files cannot be fetched', async () => {
    // Serie A would import (380 new matches) were the second file not missing.
    const serieA = sql`select count(*)::int as n from matches m join competitions c on c.id = m.competition_id
                       where c.key = 'soccer_italy_serie_a' and m.season = '2023-24'`;
    const matches = await count(serieA);
    const result = await runJob([csv('I1_2324.csv'), csv('I1_2526.csv')]);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/not_found \(HTTP 404\).*I1_2526\.csv/);
    expect(await jobRow(result.id)).toMatchObject({ status: 'failed', stats: { errorKind: 'not_found' } });
    expect(await count(serieA)).toBe(matches);
  }, 30_000);

  it('refuses a file that is not football-data CSV, writing nothing', async () => {
    await fetch(csv('junk.csv'), { method: 'PUT', body: '<html><body>Service unavailable</body></html>\n' });
    const result = await runJob([csv('junk.csv')]);
    expect(result).toMatchObject({ status: 'failed', stats: { errorKind: 'invalid_payload' } });
    expect(result.error).toMatch(/not a football-data\.co\.uk file/);
  });

  it('leaves no partial rows when the database refuses a row halfway through', async () => {
    // A real file under an unseen division code, whose 200th match carries a price numeric(10,3) cannot hold.
    const lines = (await (await fetch(csv('D1_2324.csv'))).text()).split('\n');
    const header = lines[0]!.split(',');
    const b365h = header.indexOf('B365H');
    const altered = lines.map((line, i) => {
      if (i === 0 || line.trim() === '') return line;
      const cells = line.split(',');
      cells[0] = 'ZZ9';
      if (i === 200) cells[b365h] = '123456789';
      return cells.join(',');
    });
    await fetch(csv('ZZ9_2324.csv'), { method: 'PUT', body: altered.join('\n') });
    const result = await runJob([csv('ZZ9_2324.csv')]);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/numeric field overflow/);
    expect(await count(sql`select count(*)::int as n from competitions where key = 'football_data_zz9'`)).toBe(0);
    expect(await count(sql`select count(*)::int as n from matches where external_match_id like 'ZZ9:%'`)).toBe(0);
  }, 30_000);
});
