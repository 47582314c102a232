// GET /predictions, the value finder. It runs on matches and a model run of its own (kick-offs in 2030,
// status scheduled), so no other test's predictions and no settlement run can change what it lists: four
// football matches (1X2 and totals 2.5) and, by a second run that predicts both sports, two NBA games (moneyline,
// spreads at two lines, a total) and the first football match.
import { sql } from 'drizzle-orm';
import { predictions as predictionsTable } from '../../src/db/schema';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { PredictionListItem } from '../../src/schemas/prediction-list';
import { ensureMonthPartitions } from '../../src/services/partitions';
import { PredictionStore } from '../../src/services/predictions/store';
import type { MatchPrediction, OutcomePrediction, PredictedOutcome, PredictionAnchor } from '../../src/services/predictions/types';
import { promote, registerUser, type TestUser } from './support/auth';
import { api, PROBLEM, type Page } from './support/http';
import { insertModelRun, withDb } from './support/models';

/** The anchor these hand-made predictions say they started from. */
const ANCHOR: PredictionAnchor = { source: 'pinnacle', bookmakers: ['pinnacle'], marginMethod: 'shin', lastUpdate: '2023-08-11T12:00:00.000Z', hoursToKickoff: 7 };

const HOUR = 3_600_000;

interface OwnMatch {
  id: number;
  kickoff: Date;
  competitionId: number;
}

let premium: TestUser;
let free: TestUser;
let runId: string;
let own: OwnMatch[];
/** The NBA games, and the sports of both kinds of match. */
let nba: OwnMatch[];
/** The run that predicted both sports. */
let twoSportRunId: string;
let footballSportId: number;
let basketballSportId: number;
/** The NBA rows as written: market, outcome, point and EV (all priced). */
let nbaExpected: Array<{ matchId: number; market: 'h2h' | 'spreads' | 'totals'; outcome: string; point: number | null; expectedValue: number; kickoff: string }>;
/** What the value finder should list: the outcomes of each match's latest prediction. */
let expected: Array<{ matchId: number; market: string; outcome: string; expectedValue: number | null; kickoff: string }>;

/** Deterministic, distinct EVs per (match, outcome); `revision` changes them, so a stale row would show. */
function outcome<O extends PredictedOutcome>(index: number, o: O, revision: number, p: number, withPrice: boolean): OutcomePrediction<O> {
  const price = withPrice ? 1.5 + ((index * 7 + o.length * 3 + revision * 5) % 23) / 10 : null;
  const ev = price === null ? null : p * price - 1;
  const kelly = ev === null ? null : ev > 0 ? ev / (price! - 1) : 0;
  return {
    outcome: o,
    probability: p,
    fairOdds: 1 / p,
    bestPrice: price,
    bestBookmaker: price === null ? null : 'pinnacle',
    bestPriceNet: price,
    marketProbability: p * 0.97,
    expectedValue: ev,
    kellyFraction: kelly,
    kellyStake: kelly === null ? null : kelly / 4,
  };
}

function predictionOf(index: number, match: OwnMatch, predictedAt: Date, revision: number): MatchPrediction {
  // The last match has no odds on totals: those outcomes have no EV and stay out of an EV-sorted list.
  const totalsPriced = index !== own.length - 1;
  return {
    matchId: match.id,
    model: { runId, name: 'value-finder-test', featureVersion: 'v1' },
    modelRunId: runId,
    featureVersion: 'v1',
    predictedAt: predictedAt.toISOString(),
    kickoff: match.kickoff.toISOString(),
    kellyMultiplier: 0.25,
    exchangeCommission: 0.05,
    markets: [
      {
        kind: '1x2',
        market: 'h2h',
        point: null,
        anchor: ANCHOR,
        outcomes: [outcome(index, 'home', revision, 0.45, true), outcome(index, 'draw', revision, 0.27, true), outcome(index, 'away', revision, 0.28, true)],
      },
      { kind: 'total', market: 'totals', point: 2.5, anchor: ANCHOR, outcomes: [outcome(index, 'over', revision, 0.55, totalsPriced), outcome(index, 'under', revision, 0.45, totalsPriced)] },
    ],
  };
}

beforeAll(async () => {
  [premium, free] = await Promise.all([
    registerUser('vf-premium').then((u) => promote(u, { tier: 'premium' })),
    registerUser('vf-free'),
  ]);
  runId = (await insertModelRun({ name: `value-finder-${crypto.randomUUID()}` })).id;
  const tag = crypto.randomUUID();
  own = await withDb(async (db) => {
    // A football competition: the first by id may be the NBA, which db:migrate seeds from its data file.
    const [competition] = (
      await db.execute<{ id: number; sport_id: number }>(
        sql`select c.id, c.sport_id from competitions c join sports s on s.id = c.sport_id where s.key = 'soccer' order by c.id limit 1`,
      )
    ).rows;
    const teamIds = (await db.execute<{ id: number }>(sql`select id from teams where sport_id = ${competition!.sport_id} order by id limit 8`)).rows.map((t) => t.id);
    // A random minute in 2030, so reruns against the same database never collide on (home, away, start_at).
    const base = Date.UTC(2030, 0, 1) + Math.floor(Math.random() * 500_000) * 60_000;
    const created: OwnMatch[] = [];
    for (let i = 0; i < 4; i++) {
      const kickoff = new Date(base + i * 3 * HOUR);
      const [row] = (
        await db.execute<{ id: number }>(sql`
          insert into matches (sport_id, competition_id, season, home_team_id, away_team_id, start_at, provider, external_match_id)
          values (${competition!.sport_id}, ${competition!.id}, '2029-30', ${teamIds[2 * i]!}, ${teamIds[2 * i + 1]!}, ${kickoff.toISOString()}::timestamptz,
                  'value-finder-test', ${`${tag}-${i}`})
          returning id::int as id`)
      ).rows;
      created.push({ id: row!.id, kickoff, competitionId: competition!.id });
    }
    return created;
  });
  const now = Date.now();
  twoSportRunId = (await insertModelRun({ name: `value-finder-two-sports-${crypto.randomUUID()}` })).id;
  ({ nba, footballSportId, basketballSportId } = await withDb(async (db) => {
    const [sport] = (await db.execute<{ id: number }>(sql`select id::int as id from sports where key = 'basketball'`)).rows;
    const [football] = (await db.execute<{ id: number }>(sql`select id::int as id from sports where key = 'soccer'`)).rows;
    const base = own[0]!.kickoff.getTime() + 30 * 60_000;
    const games: OwnMatch[] = [];
    for (const [i, [home, away]] of [['bos', 'lal'], ['mia', 'den']].entries()) {
      const [row] = (
        await db.execute<{ id: number; competition_id: number }>(sql`
          insert into matches (sport_id, competition_id, season, home_team_id, away_team_id, start_at, provider, external_match_id)
          select c.sport_id, c.id, '2029-30',
                 (select id from teams t where t.sport_id = c.sport_id and t.key = ${home}),
                 (select id from teams t where t.sport_id = c.sport_id and t.key = ${away}),
                 ${new Date(base + i * 3 * HOUR).toISOString()}::timestamptz, 'value-finder-test', ${`${tag}-nba-${i}`}
          from competitions c where c.key = 'basketball_nba'
          returning id::int as id, competition_id::int as competition_id`)
      ).rows;
      games.push({ id: row!.id, kickoff: new Date(base + i * 3 * HOUR), competitionId: row!.competition_id });
    }
    return { nba: games, footballSportId: football!.id, basketballSportId: sport!.id };
  }));
  // The NBA predictions as rows: spreads home/away at −4.5/+4.5 and −5/+5 (each side's own handicap), a total and
  // the moneyline. Written directly: what a market-only or an NBA-model prediction persists.
  nbaExpected = nba.flatMap((m, i) =>
    (
      [
        ['h2h', 'home', null],
        ['h2h', 'away', null],
        ['spreads', 'home', -4.5],
        ['spreads', 'away', 4.5],
        ['spreads', 'home', -5],
        ['spreads', 'away', 5],
        ['totals', 'over', 221.5],
        ['totals', 'under', 221.5],
      ] as const
    ).map(([market, outcome, point], j) => ({
      matchId: m.id,
      market,
      outcome,
      point,
      // Distinct, some above and some below 0.
      expectedValue: Math.round(((i * 8 + j) * 37) % 29) / 100 - 0.1,
      kickoff: m.kickoff.toISOString(),
    })),
  );
  await withDb(async (db) => {
    const predictedAt = new Date(now - HOUR);
    await ensureMonthPartitions(db, 'predictions', predictedAt, predictedAt);
    await db.insert(predictionsTable).values(
      nbaExpected.map((e) => ({
        matchId: e.matchId,
        modelRunId: twoSportRunId,
        market: e.market,
        outcome: e.outcome,
        point: e.point,
        probability: 0.5,
        marketProbability: 0.49,
        bestPrice: (1 + e.expectedValue) / 0.5,
        bestBookmaker: 'draftkings',
        bestPriceNet: (1 + e.expectedValue) / 0.5,
        expectedValue: e.expectedValue,
        kellyFraction: 0,
        kellyStake: 0,
        predictedAt,
        kickoff: new Date(e.kickoff),
        featureVersion: 'v1',
        marginMethod: 'multiplicative' as const,
        kellyMultiplier: 0.25,
      })),
    );
  });
  await withDb(async (db) => {
    const store = new PredictionStore(() => db);
    for (const [i, m] of own.entries()) {
      await store.persist(predictionOf(i, m, new Date(now - 2 * HOUR), 1)); // superseded
      await store.persist(predictionOf(i, m, new Date(now - HOUR), 2)); // the latest
    }
    await store.persist({ ...predictionOf(0, own[0]!, new Date(now - HOUR), 2), modelRunId: twoSportRunId });
  });
  expected = own.flatMap((m, i) =>
    predictionOf(i, m, new Date(now), 2).markets.flatMap((market) =>
      market.outcomes.map((o) => ({ matchId: m.id, market: market.market, outcome: o.outcome, expectedValue: o.expectedValue, kickoff: m.kickoff.toISOString() })),
    ),
  );
});

async function list(query: string, user: TestUser = premium): Promise<Page<PredictionListItem>> {
  const res = await api(`/predictions?modelId=${runId}${query}`, { token: user.accessToken });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

async function walk(query: string): Promise<PredictionListItem[]> {
  const items: PredictionListItem[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<PredictionListItem> = await list(`${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

const key = (i: { matchId: number; market: string; outcome: string }) => `${i.matchId}|${i.market}|${i.outcome}`;

describe('GET /predictions (value finder)', () => {
  it('lists the outcomes of each match\'s latest prediction by EV, highest first, leaving out outcomes without a price', async () => {
    const page = await list('&limit=100');
    // Ties on EV go to the higher row id, i.e. the outcome written later.
    const priced = expected
      .map((e, index) => ({ ...e, index }))
      .filter((e) => e.expectedValue !== null)
      .sort((a, b) => b.expectedValue! - a.expectedValue! || b.index - a.index);
    expect(page.data.map(key)).toEqual(priced.map(key));
    expect(page.data.map((i) => i.expectedValue)).toEqual(priced.map((e) => e.expectedValue));
    expect(page.nextCursor).toBeNull();
    const first = page.data[0]!;
    expect(first).toMatchObject({ modelRunId: runId, settlement: null, bestBookmaker: 'pinnacle' });
    expect(first.fairOdds).toBeCloseTo(1 / first.probability, 12);
    // A bookmaker's price is what it pays: the net price is the quoted one, and EV is computed at it.
    expect(first.bestPriceNet).toBe(first.bestPrice);
    expect(first.expectedValue).toBeCloseTo(first.probability * first.bestPriceNet! - 1, 12);
    expect(first.homeTeam.name).toEqual(expect.any(String));
  });

  it('filters on minimum EV, market, competition and kick-off range', async () => {
    const minEv = 0.1;
    const aboveMin = await list(`&minEv=${minEv}&limit=100`);
    expect(aboveMin.data.map(key).sort()).toEqual(expected.filter((e) => e.expectedValue !== null && e.expectedValue >= minEv).map(key).sort());
    expect(aboveMin.data.length).toBeGreaterThan(0);

    const totals = await list('&market=totals&sort=kickoff&limit=100');
    expect(totals.data.map(key)).toEqual(expected.filter((e) => e.market === 'totals').map(key));

    const window = await list(`&sort=kickoff&from=${encodeURIComponent(own[1]!.kickoff.toISOString())}&to=${encodeURIComponent(own[3]!.kickoff.toISOString())}&limit=100`);
    expect([...new Set(window.data.map((i) => i.matchId))]).toEqual([own[1]!.id, own[2]!.id]);

    expect((await list(`&competitionId=${own[0]!.competitionId}&limit=100`)).data.length).toBeGreaterThan(0);
    expect((await list('&competitionId=999999999&limit=100')).data).toEqual([]);
  });

  it('sorts by kick-off both ways', async () => {
    const ascending = await list('&sort=kickoff&limit=100');
    expect(ascending.data.map(key)).toEqual(expected.map(key));
    const descending = await list('&sort=-kickoff&limit=100');
    expect(descending.data.map((i) => i.kickoff)).toEqual([...expected.map((e) => e.kickoff)].reverse());
  });

  it('pages with a cursor without skipping or repeating a row, in either sort', async () => {
    const byEv = await walk('&limit=3');
    expect(byEv.map(key)).toEqual((await list('&limit=100')).data.map(key));
    const byKickoff = await walk('&sort=kickoff&limit=4');
    expect(byKickoff.map(key)).toEqual(expected.map(key));
    expect(new Set(byKickoff.map((i) => i.id)).size).toBe(byKickoff.length);
  });

  it('refuses a cursor replayed with other filters or another sort, and bad parameters, with a problem', async () => {
    const { nextCursor } = await list('&limit=2');
    expect(nextCursor).not.toBeNull();
    for (const query of [
      `&limit=2&minEv=0.2&cursor=${nextCursor}`,
      `&limit=2&sort=kickoff&cursor=${nextCursor}`,
      '&cursor=not-a-cursor',
      '&minEv=lots',
      '&minEv=1e3',
      '&market=moneyline',
      '&sportId=0',
      '&sportId=basketball',
      '&sort=value',
      '&settled=yes',
      '&from=2030-02-01&to=2030-01-01',
    ]) {
      const res = await api(`/predictions?modelId=${runId}${query}`, { token: premium.accessToken });
      expect(res.status, query).toBe(400);
      expect(res.headers.get('content-type')).toBe(PROBLEM);
    }
    const badModel = await api('/predictions?modelId=42', { token: premium.accessToken });
    expect(badModel.status).toBe(400);
  });

  it('lists nothing as settled before the matches are played', async () => {
    expect((await list('&settled=true&limit=100')).data).toEqual([]);
  });

  it('defaults to the active model', async () => {
    // The same match predicted by the active (default) run too: only that run's prediction is listed.
    const activeRunId = inject('defaultBundle').runId;
    const match = own[0]!;
    await withDb((db) => new PredictionStore(() => db).persist({ ...predictionOf(0, match, new Date(Date.now() - 30 * 60_000), 3), modelRunId: activeRunId }));
    const window = `from=${encodeURIComponent(match.kickoff.toISOString())}&to=${encodeURIComponent(new Date(match.kickoff.getTime() + 60_000).toISOString())}`;
    const res = await api(`/predictions?limit=100&sort=kickoff&${window}`, { token: premium.accessToken });
    expect(res.status).toBe(200);
    const page = await res.json<Page<PredictionListItem>>();
    // The window holds this match alone: its five outcomes, each from the active run.
    expect(page.data.map((i) => [i.matchId, i.modelRunId])).toEqual(Array.from({ length: 5 }, () => [match.id, activeRunId]));
    // Named, the file's own run lists its own five for the same match (every() alone would pass on an empty page).
    const named = (await (await api(`/predictions?limit=100&sort=kickoff&${window}&modelId=${runId}`, { token: premium.accessToken })).json<Page<PredictionListItem>>()).data;
    expect(named.map((i) => [i.matchId, i.modelRunId])).toEqual(Array.from({ length: 5 }, () => [match.id, runId]));
  });

  it('filters by sport and by a line market, each item with its point, and pages within the filter', async () => {
    const of = async (query: string) => {
      const res = await api(`/predictions?modelId=${twoSportRunId}${query}`, { token: premium.accessToken });
      expect(res.status, await res.clone().text()).toBe(200);
      return res.json<Page<PredictionListItem>>();
    };
    const row = (i: { matchId: number; market: string; outcome: string; point: number | null }) => `${i.matchId}|${i.market}|${i.outcome}|${i.point}`;
    // Unfiltered, the run lists both sports: the NBA rows and the football match's five.
    const all = await of('&sort=kickoff&limit=100');
    expect(all.data).toHaveLength(nbaExpected.length + 5);
    expect(new Set(all.data.map((i) => i.sportId))).toEqual(new Set([footballSportId, basketballSportId]));

    const spreads = await of(`&sportId=${basketballSportId}&market=spreads&sort=kickoff&limit=100`);
    const expectedSpreads = nbaExpected.filter((e) => e.market === 'spreads');
    expect(spreads.data.map(row)).toEqual(expectedSpreads.map(row));
    expect(spreads.data.map((i) => i.point)).toEqual([-4.5, 4.5, -5, 5, -4.5, 4.5, -5, 5]);
    expect(spreads.data.every((i) => i.sportId === basketballSportId && i.modelRunId === twoSportRunId)).toBe(true);

    // Spreads alone, whatever the sport: football has none.
    expect((await of('&market=spreads&sort=kickoff&limit=100')).data.map(row)).toEqual(expectedSpreads.map(row));

    // By EV within the sport: every NBA market, highest first.
    const byEv = await of(`&sportId=${basketballSportId}&limit=100`);
    expect(byEv.data.map((i) => i.expectedValue)).toEqual(nbaExpected.map((e) => e.expectedValue).sort((a, b) => b - a));
    expect(byEv.data.map(row).sort()).toEqual(nbaExpected.map(row).sort());

    const football = await of(`&sportId=${footballSportId}&sort=kickoff&limit=100`);
    expect(football.data.map((i) => [i.matchId, i.market])).toEqual([
      [own[0]!.id, 'h2h'],
      [own[0]!.id, 'h2h'],
      [own[0]!.id, 'h2h'],
      [own[0]!.id, 'totals'],
      [own[0]!.id, 'totals'],
    ]);
    // An unknown sport lists nothing, as an unknown competition does.
    expect((await of('&sportId=999999999&limit=100')).data).toEqual([]);

    // A cursor walks the filtered list, and belongs to its sport: replayed for another, it is refused.
    const walked: PredictionListItem[] = [];
    let cursor: string | null = null;
    let first: string | null = null;
    do {
      const page: Page<PredictionListItem> = await of(`&sportId=${basketballSportId}&market=spreads&sort=kickoff&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      walked.push(...page.data);
      cursor = page.nextCursor;
      first ??= cursor;
    } while (cursor);
    expect(walked.map(row)).toEqual(expectedSpreads.map(row));
    for (const query of [`&sportId=${footballSportId}&market=spreads`, '&market=spreads', `&sportId=${basketballSportId}&market=totals`]) {
      const res = await api(`/predictions?modelId=${twoSportRunId}${query}&sort=kickoff&limit=3&cursor=${encodeURIComponent(first!)}`, { token: premium.accessToken });
      expect(res.status, query).toBe(400);
      expect(res.headers.get('content-type')).toBe(PROBLEM);
    }
  });

  // Market-only rows: no model run (migration 0015). They are the predictions of record of a sport only while it
  // has no active run: the NBA's default run is active on this database, so its market-only rows stay out, and a
  // sport with no run at all (ice hockey, made here) shows its own.
  it("without modelId, lists market-only predictions (modelRunId null) of a sport with no active run beside the active runs', and never with a named run", async () => {
    const insertMarketOnly = (matchId: number, kickoff: Date) =>
      withDb((db) =>
        db.execute(sql`
          insert into predictions (match_id, model_run_id, feature_version, market, outcome, point, probability, market_probability, best_price, best_price_net,
                                   expected_value, predicted_at, kickoff, margin_method, kelly_multiplier)
          values (${matchId}, null, null, 'spreads', 'home', -3, 0.5, 0.5, 2.0, 2.0, 0, now() - interval '20 minutes', ${kickoff.toISOString()}::timestamptz, 'multiplicative', 0.25),
                 (${matchId}, null, null, 'spreads', 'away', 3, 0.5, 0.5, 1.96, 1.96, -0.02, now() - interval '20 minutes', ${kickoff.toISOString()}::timestamptz, 'multiplicative', 0.25),
                 -- An earlier prediction priced −2.5, a line the books no longer quote: it is not part of the latest one.
                 (${matchId}, null, null, 'spreads', 'home', -2.5, 0.5, 0.5, 2.2, 2.2, 0.1, now() - interval '40 minutes', ${kickoff.toISOString()}::timestamptz, 'multiplicative', 0.25),
                 (${matchId}, null, null, 'spreads', 'away', 2.5, 0.5, 0.5, 1.8, 1.8, -0.1, now() - interval '40 minutes', ${kickoff.toISOString()}::timestamptz, 'multiplicative', 0.25)`),
      );
    const windowOf = (kickoff: Date) => `from=${encodeURIComponent(kickoff.toISOString())}&to=${encodeURIComponent(new Date(kickoff.getTime() + 60_000).toISOString())}`;
    const listed = async (query: string) => {
      const res = await api(`/predictions?${query}`, { token: premium.accessToken });
      expect(res.status).toBe(200);
      return (await res.json<Page<PredictionListItem>>()).data.map((i) => [i.matchId, i.modelRunId, i.outcome, i.point, i.expectedValue]);
    };

    // An NBA game's market-only rows: the NBA has an active run, so they are no prediction of record.
    const game = nba[1]!;
    await insertMarketOnly(game.id, game.kickoff);
    expect(await listed(`${windowOf(game.kickoff)}&sportId=${basketballSportId}&market=spreads&limit=100`)).toEqual([]);

    // A sport no run prices: its game's latest market-only prediction is listed.
    const hockey = await withDb(async (db) => {
      const key = `icehockey_${crypto.randomUUID().replace(/-/g, '_')}`;
      const [row] = (
        await db.execute<{ id: number; sport_id: number }>(sql`
          with s as (insert into sports (key, name) values (${key}, 'Ice Hockey (value finder test)') returning id),
               c as (insert into competitions (sport_id, key, name) select id, ${`${key}_league`}, 'Test League' from s returning id, sport_id),
               h as (insert into teams (sport_id, name) select id, 'Home Skaters' from s returning id),
               a as (insert into teams (sport_id, name) select id, 'Away Skaters' from s returning id)
          insert into matches (sport_id, competition_id, season, home_team_id, away_team_id, start_at, provider, external_match_id)
          select c.sport_id, c.id, '2029-30', h.id, a.id, ${new Date(game.kickoff.getTime() + 7 * HOUR).toISOString()}::timestamptz, 'value-finder-test', ${`${key}-game`}
          from c, h, a returning id::int as id, sport_id::int as sport_id`)
      ).rows;
      return { id: row!.id, sportId: row!.sport_id, kickoff: new Date(game.kickoff.getTime() + 7 * HOUR) };
    });
    await insertMarketOnly(hockey.id, hockey.kickoff);
    expect(await listed(`${windowOf(hockey.kickoff)}&sportId=${hockey.sportId}&market=spreads&limit=100`)).toEqual([
      [hockey.id, null, 'home', -3, 0],
      [hockey.id, null, 'away', 3, -0.02],
    ]);
    // Beside the active runs' rows: the same window without a sport lists it too.
    expect(await listed(`${windowOf(hockey.kickoff)}&market=spreads&limit=100`)).toEqual([
      [hockey.id, null, 'home', -3, 0],
      [hockey.id, null, 'away', 3, -0.02],
    ]);
    const named = await api(`/predictions?${windowOf(game.kickoff)}&modelId=${twoSportRunId}&market=spreads&sort=kickoff&limit=100`, { token: premium.accessToken });
    expect((await named.json<Page<PredictionListItem>>()).data.map((i) => [i.modelRunId, i.point])).toEqual([
      [twoSportRunId, -4.5],
      [twoSportRunId, 4.5],
      [twoSportRunId, -5],
      [twoSportRunId, 5],
    ]);
  });

  it('is a premium feature: a free caller gets 403', async () => {
    const res = await api('/predictions', { token: free.accessToken });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
  });
});
