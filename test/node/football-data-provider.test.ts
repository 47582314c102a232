// football-data.co.uk behind the provider interface: real files over real loopback HTTP, every failure the
// daily job can meet, and the importer resolving CSV rows onto matches the live provider created first.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFootballDataCsvServer, type FootballDataCsvServer } from '../../scripts/lib/football-data/csv-server';
import { importFootballData } from '../../scripts/lib/football-data/import';
import { REPO_DATA_DIR } from '../../scripts/lib/football-data/seed';
import { nodeDatabase } from '../../scripts/lib/db';
import { loadSeason } from '../../scripts/lib/odds-api-standin';
import { decodeCsv, FootballDataProvider } from '../../src/providers/football-data/provider';
import { ProviderError, type ProviderFixture } from '../../src/providers/types';
import { resolveFixtures } from '../../src/services/ingestion/match-resolver';
import { isolatedDatabase } from './support/isolated-database';

let server: FootballDataCsvServer;
beforeAll(async () => {
  server = await startFootballDataCsvServer();
});
afterAll(() => server.close());

const provider = (...files: string[]) => new FootballDataProvider({ urls: files.map((f) => `${server.url}/${f}`), now: () => new Date('2024-05-01T00:00:00Z') });

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('FootballDataProvider over HTTP', () => {
  it('maps a season file to fixtures, odds by phase and results with statistics', async () => {
    const all = await provider('E0_2324.csv').fetchAll();
    expect(all.files).toEqual([{ file: `${server.url}/E0_2324.csv`, rows: 380, rejected: [], invalidPrices: [] }]);
    expect(all.calls).toMatchObject([{ endpoint: `${server.url}/E0_2324.csv`, status: 200 }]);
    const id = 'E0:2023-08-11:Burnley:Man City';
    expect(all.fixtures.find((f) => f.eventId === id)).toEqual({
      eventId: id,
      competitionKey: 'soccer_epl',
      commenceTime: new Date('2023-08-11T19:00:00Z'),
      homeTeam: 'Burnley',
      awayTeam: 'Man City',
      division: 'E0',
      season: '2023-24',
      startTimeKnown: true,
    });
    const odds = all.odds.filter((o) => o.eventId === id && o.bookmaker === 'market_max' && o.market === 'h2h' && o.outcome === 'home');
    // Pre-match prices were taken the Tuesday before; closing ones at kick-off.
    expect(odds.map((o) => [o.phase, o.price, o.capturedAt.toISOString()]).sort()).toEqual([
      ['closing', 10.5, '2023-08-11T19:00:00.000Z'],
      ['pre_match', 9.5, '2023-08-08T12:00:00.000Z'],
    ]);
    expect(all.odds.find((o) => o.eventId === id && o.bookmaker === 'pinnacle' && o.market === 'spreads' && o.outcome === 'home' && o.phase === 'closing')).toMatchObject({
      point: 1.5,
      price: 1.95,
    });
    expect(all.results.find((r) => r.eventId === id)).toMatchObject({
      completed: true,
      homeScore: 0,
      awayScore: 3,
      scores: [
        { name: 'Burnley', score: 0 },
        { name: 'Man City', score: 3 },
      ],
      homeHalfTimeScore: 0,
      awayHalfTimeScore: 2,
      stats: { home: { shots: 6, shotsOnTarget: 1 }, away: { shots: 17, shotsOnTarget: 8 } },
    });
  });

  it('answers the interface: fixtures and odds by competition and window, results by days back', async () => {
    const p = provider('E0_2324.csv', 'SP1_2324.csv');
    const window = { competitionKey: 'soccer_spain_la_liga', commenceTimeFrom: new Date('2023-09-29T00:00:00Z'), commenceTimeTo: new Date('2023-10-02T00:00:00Z') };
    const { fixtures } = await p.fetchFixtures(window);
    expect(fixtures.length).toBeGreaterThanOrEqual(8);
    for (const f of fixtures) {
      expect(f.competitionKey).toBe('soccer_spain_la_liga');
      expect(f.commenceTime >= window.commenceTimeFrom && f.commenceTime <= window.commenceTimeTo).toBe(true);
    }
    const { fixtures: oddsFixtures, odds } = await p.fetchOdds(window);
    expect(oddsFixtures).toEqual(fixtures);
    expect(new Set(odds.map((o) => o.eventId))).toEqual(new Set(fixtures.map((f) => f.eventId)));

    // Provider's clock 2024-05-01: the last three days of the Premier League season file.
    const { results } = await p.fetchResults({ competitionKey: 'soccer_epl', daysFrom: 3 });
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) expect(r.commenceTime >= new Date('2024-04-28T00:00:00Z') && r.commenceTime <= new Date('2024-05-01T00:00:00Z')).toBe(true);
    const byId = await p.fetchResults({ competitionKey: 'soccer_epl', eventIds: ['E0:2023-08-11:Burnley:Man City'] });
    expect(byId.results.map((r) => [r.homeScore, r.awayScore])).toEqual([[0, 3]]);
  });

  it('fails with not_found for a season the site has not published', async () => {
    const error = await failure(provider('E0_2324.csv', 'E0_2526.csv').fetchAll());
    expect(error.kind).toBe('not_found');
    expect(error.details).toMatchObject({ status: 404, endpoint: `${server.url}/E0_2526.csv` });
    expect(error.details.calls.map((c) => c.status)).toEqual([200, 404]);
  });

  it('fails with invalid_payload for a 200 that is not football-data CSV', async () => {
    server.put('maintenance.csv', '<!doctype html><p>Down for maintenance</p>\n');
    const error = await failure(provider('maintenance.csv').fetchAll());
    expect(error.kind).toBe('invalid_payload');
    expect(error.message).toMatch(/header has no Div column/);
  });

  it('fails with network when nothing listens, and invalid_payload for a body cut short', async () => {
    const closed = await startFootballDataCsvServer();
    const url = closed.url;
    await closed.close();
    expect((await failure(new FootballDataProvider({ urls: [`${url}/E0_2324.csv`] }).fetchAll())).kind).toBe('network');

    const cut = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': '100000' });
      res.write('Div,Date,HomeTeam,AwayTeam\nE0,11/08/2023,Burnley,Man City\n', () => res.socket?.destroy());
    });
    await new Promise<void>((resolve) => cut.listen(0, '127.0.0.1', resolve));
    try {
      const error = await failure(new FootballDataProvider({ urls: [`http://127.0.0.1:${(cut.address() as AddressInfo).port}/E0.csv`] }).fetchAll());
      expect(['invalid_payload', 'network']).toContain(error.kind);
      expect(error.message).toMatch(/truncated|terminated|closed|socket/i);
    } finally {
      cut.closeAllConnections();
      await new Promise<void>((resolve) => cut.close(() => resolve()));
    }
  });

  it('reads a Windows-1252 file as well as UTF-8', () => {
    const latin1 = Uint8Array.from([...'Div,HomeTeam\nSP1,Alav'].map((c) => c.charCodeAt(0)).concat(0xe9, 0x73, 0x0a));
    expect(decodeCsv(latin1.buffer)).toBe('Div,HomeTeam\nSP1,Alavés\n');
    expect(decodeCsv(new TextEncoder().encode('SP1,Alavés\n').buffer as ArrayBuffer)).toBe('SP1,Alavés\n');
  });
});

describe('the importer after the live provider', () => {
  const db = isolatedDatabase();

  it('puts a CSV row onto the match the live provider created, keeping the exact kick-off a date-only row lacks', async () => {
    // 2018/19 rows carry dates only; The Odds API knew Man United v Leicester kicked off at 19:00 UTC.
    const live: ProviderFixture = {
      eventId: 'e'.repeat(32),
      competitionKey: 'soccer_epl',
      commenceTime: new Date('2018-08-10T19:00:00Z'),
      homeTeam: 'Manchester United',
      awayTeam: 'Leicester City',
    };
    const created = await resolveFixtures(nodeDatabase(db.pool), [live]);
    expect(created.resolutions[0]!.status).toBe('created');
    const matchId = created.matchIds.get(live.eventId)!;

    const summary = await importFootballData(db.pool, [`${REPO_DATA_DIR}/E0_1819.csv`]);
    expect(summary.failedFiles).toBe(0);
    expect(summary.matches).toEqual({ inserted: 379, updated: 1, unchanged: 0 });
    expect(summary.files[0]!.resolvedToOtherProvider).toBe(1);
    const row = (
      await db.pool.query(
        `select provider, external_match_id, start_at, start_time_known, status, home_score, away_score, season, referee, stats->'home'->>'shots' as shots
         from matches where id = $1`,
        [matchId],
      )
    ).rows[0];
    expect(row).toEqual({
      provider: 'the-odds-api',
      external_match_id: live.eventId,
      start_at: new Date('2018-08-10T19:00:00Z'),
      start_time_known: true,
      status: 'finished',
      home_score: 2,
      away_score: 1,
      season: '2018-19',
      referee: 'A Marriner',
      shots: '8',
    });
    const csvOdds = await db.pool.query(`select count(*)::int as n from odds_snapshots where match_id = $1 and provider = 'football-data'`, [matchId]);
    expect(csvOdds.rows[0].n).toBeGreaterThan(20);
    expect((await db.pool.query(`select count(*)::int as n from matches where external_match_id = 'E0:2018-08-10:Man United:Leicester'`)).rows[0].n).toBe(0);

    // Idempotent through the resolver too: the second run finds the same match and changes nothing.
    const again = await importFootballData(db.pool, [`${REPO_DATA_DIR}/E0_1819.csv`]);
    expect(again.matches).toEqual({ inserted: 0, updated: 0, unchanged: 380 });
    expect(again.odds).toMatchObject({ inserted: 0, updated: 0 });
  });

  it('and the other way round: a replayed fixture after the import resolves to the CSV match', async () => {
    await importFootballData(db.pool, [`${REPO_DATA_DIR}/D1_2324.csv`]);
    const events = loadSeason({ dataDir: REPO_DATA_DIR, season: '2324', divisions: ['D1'] }).slice(0, 30);
    const fixtures: ProviderFixture[] = events.map((e) => ({ eventId: e.id, competitionKey: e.sportKey, commenceTime: e.commenceTime, homeTeam: e.homeTeam, awayTeam: e.awayTeam }));
    const resolved = await resolveFixtures(nodeDatabase(db.pool), fixtures);
    expect(resolved.created).toBe(0);
    const csvIds = await db.pool.query<{ id: string; external_match_id: string }>(
      `select id::text as id, external_match_id from matches where provider = 'football-data' and external_match_id = any($1::text[])`,
      [events.map((e) => e.footballData!.externalId)],
    );
    const byExternal = new Map(csvIds.rows.map((r) => [r.external_match_id, r.id]));
    expect(events.map((e) => resolved.matchIds.get(e.id))).toEqual(events.map((e) => byExternal.get(e.footballData!.externalId)));
  });
});
