// GET /matches/{id}/predictions against real Postgres, the committed bundle in R2, KV, the MatchOdds DO and
// the queue consumer: parity with the evaluation code path, cache miss → hit, invalidation by new odds,
// tier shaping after the cache read, the free quota, and stored predictions for started matches.
import { createExecutionContext, createMessageBatch, env, getQueueResult } from 'cloudflare:test';
import { and, eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { featureMatrixFromInputs, loadFeatureInputs } from '../../scripts/lib/features/matrix';
import { matchOddsName, type ApplyResult, type LiveState, type OddsRowInput } from '../../durable-objects/match-odds';
import { createDatabase } from '../../src/db/client';
import { predictions as predictionsTable } from '../../src/db/schema';
import { configFrom, type Env, type FeatureRecomputeMessage } from '../../src/env';
import { workerFanOut } from '../../src/jobs/ingestion';
import { createLogger } from '../../src/lib/logging';
import { createServices } from '../../src/services';
import worker from '../../src/index';
import { BUNDLE_FILES, parseManifest } from '../../src/services/inference/bundle';
import { workerdOrt } from '../../src/services/inference/ort-workerd';
import { createModelRuntime } from '../../src/services/inference/runtime';
import {
  featureStateKey,
  invalidateMatchPredictions,
  LIVE_ODDS_MAX_TTL_SECONDS,
  liveOddsKey,
  marketOnlyCacheKey,
  PredictionCache,
  predictionCacheKey,
  resetPredictionMemos,
} from '../../src/services/predictions/cache';
import { PredictionStore } from '../../src/services/predictions/store';
import { advanceFeatureStore } from '../../src/services/feature-store';
import type { MatchPrediction, PredictionAnchor } from '../../src/services/predictions/types';
import { anchorProbabilities, marketAnchors, removeMargin } from '../../src/domain/odds';
import type { FeatureRow } from '../../scripts/lib/features/matrix';
import { api, PROBLEM } from './support/http';
import { promote, registerUser, type TestUser } from './support/auth';
import { withDb } from './support/models';
import { uploadDefaultBundle } from './support/predictable-match';

const bundle = inject('defaultBundle');
const nbaBundle = inject('nbaDefaultBundle');
const runId = bundle.runId;
const bytes = (name: string) => Uint8Array.from(atob(bundle.files[name]!), (c) => c.charCodeAt(0));

interface PredictionBody {
  matchId: number;
  model: { runId: string; name: string; featureVersion: string } | null;
  modelRunId: string | null;
  predictedAt: string;
  kickoff: string;
  source: 'live' | 'stored';
  view: 'basic' | 'full';
  kellyMultiplier: number;
  markets: Array<{ kind: string; market: string; point: number | null; anchor: PredictionAnchor; outcomes: Array<Record<string, number | string | null>> }>;
}

const HOUR = 3_600_000;
let pro: TestUser;
let free: TestUser;
let upcoming: { id: number; startAt: Date; capturedAt: Date };

/** A new fixture between two 2023-24 Premier League teams, kicking off in two days. */
async function createUpcomingMatch(tag: string, startAt: Date): Promise<number> {
  return withDb(async (db) => {
    const rows = await db.execute<{ id: string }>(sql`
      with pair as (
        select m.sport_id, m.competition_id, m.home_team_id, m.away_team_id
        from matches m where m.season = '2023-24' order by m.start_at desc, m.id limit 1
      )
      insert into matches (sport_id, competition_id, season, home_team_id, away_team_id, start_at, start_time_known, status, provider, external_match_id)
      select sport_id, competition_id, null, home_team_id, away_team_id, ${startAt.toISOString()}::timestamptz, true, 'scheduled', 'prediction-test', ${tag}
      from pair returning id`);
    return Number(rows.rows[0]!.id);
  });
}

/** Pre-match prices: the aggregates the features read, and real bookmakers for the best price. */
function priceRows(capturedAt: Date, homeBet365 = 2.25): OddsRowInput[] {
  const at = capturedAt.toISOString();
  const row = (bookmaker: string, market: 'h2h' | 'totals', outcome: string, price: number): OddsRowInput => ({
    bookmaker,
    market,
    outcome,
    point: market === 'totals' ? 2.5 : null,
    price,
    capturedAt: at,
  });
  return [
    row('pinnacle', 'h2h', 'home', 2.1), row('pinnacle', 'h2h', 'draw', 3.6), row('pinnacle', 'h2h', 'away', 3.7),
    row('market_avg', 'h2h', 'home', 2.05), row('market_avg', 'h2h', 'draw', 3.5), row('market_avg', 'h2h', 'away', 3.55),
    row('market_max', 'h2h', 'home', 2.25), row('market_max', 'h2h', 'draw', 3.75), row('market_max', 'h2h', 'away', 3.9),
    row('pinnacle', 'totals', 'over', 1.9), row('pinnacle', 'totals', 'under', 2.0),
    row('market_avg', 'totals', 'over', 1.87), row('market_avg', 'totals', 'under', 1.95),
    row('market_max', 'totals', 'over', 1.95), row('market_max', 'totals', 'under', 2.05),
    row('bet365', 'h2h', 'home', homeBet365), row('bet365', 'h2h', 'draw', 3.5), row('bet365', 'h2h', 'away', 3.5),
    row('unibet', 'h2h', 'home', 2.0), row('unibet', 'h2h', 'draw', 3.75), row('unibet', 'h2h', 'away', 3.9),
    row('bet365', 'totals', 'over', 1.95), row('bet365', 'totals', 'under', 1.9),
    row('unibet', 'totals', 'over', 1.88), row('unibet', 'totals', 'under', 2.05),
  ];
}

/** The same prices in Postgres (what the evaluation reads) and in the match's MatchOdds (what the Worker reads). */
async function writeOdds(matchId: number, startAt: Date, rows: OddsRowInput[]): Promise<ApplyResult> {
  await withDb(async (db) => {
    const day = rows[0]!.capturedAt.slice(0, 8) + '01';
    await db.execute(sql`select ensure_month_partitions('odds_snapshots'::regclass, ${day}::date, ${day}::date)`);
    for (const r of rows) {
      await db.execute(sql`
        insert into odds_snapshots (match_id, provider, bookmaker, market, outcome, point, price, phase, captured_at)
        values (${matchId}, 'prediction-test', ${r.bookmaker}, ${r.market}, ${r.outcome}, ${r.point}, ${r.price}, 'pre_match', ${r.capturedAt}::timestamptz)`);
    }
  });
  return oddsObject(matchId).applyOdds(rows, { matchId, startAt: startAt.toISOString() });
}

const oddsObject = (matchId: number) => env.MATCH_ODDS.get(env.MATCH_ODDS.idFromName(matchOddsName(matchId)));

async function predict(matchId: number, user: TestUser) {
  const res = await api(`/matches/${matchId}/predictions`, { token: user.accessToken });
  const text = await res.text();
  return { res, status: res.status, body: JSON.parse(text) as PredictionBody, text };
}

const outcome = (body: PredictionBody, market: string, name: string) =>
  body.markets.find((m) => m.market === market)!.outcomes.find((o) => o.outcome === name)!;

beforeAll(async () => {
  await uploadDefaultBundle();
  pro = await promote(await registerUser('pred-pro'), { tier: 'pro' });
  free = await registerUser('pred-free');
  const now = Date.now();
  const startAt = new Date(Math.ceil((now + 48 * HOUR) / 60_000) * 60_000);
  const capturedAt = new Date(Math.floor((now - HOUR) / 1000) * 1000);
  const id = await createUpcomingMatch(`upcoming-${now}`, startAt);
  await writeOdds(id, startAt, priceRows(capturedAt));
  upcoming = { id, startAt, capturedAt };
}, 60_000);

describe('GET /matches/{id}/predictions', () => {
  it('computes a miss (cold: feature state from Postgres), then serves the same prediction as a hit', async () => {
    const first = await predict(upcoming.id, pro);
    expect(first.status, first.text).toBe(200);
    expect(first.res.headers.get('x-cache')).toBe('MISS');
    expect(first.res.headers.get('x-model-run')).toBe(runId);
    expect(first.body).toMatchObject({ matchId: upcoming.id, modelRunId: runId, featureVersion: 'v1', source: 'live', view: 'full', kickoff: upcoming.startAt.toISOString() });
    // Football keeps its model and its two markets, now told apart by `kind`.
    expect(first.body.model).toEqual({ runId, name: expect.any(String), featureVersion: 'v1' });
    expect(first.body.model!.name.length).toBeGreaterThan(0);
    expect(first.body.markets.map((m) => [m.kind, m.market, m.point, m.outcomes.map((o) => o.outcome)])).toEqual([
      ['1x2', 'h2h', null, ['home', 'draw', 'away']],
      ['total', 'totals', 2.5, ['over', 'under']],
    ]);
    for (const market of first.body.markets) {
      const total = market.outcomes.reduce((s, o) => s + (o.probability as number), 0);
      expect(total).toBeCloseTo(1, 6);
    }
    // The deferred KV writes (feature state, prediction) land after the response.
    await expect.poll(() => env.PREDICTIONS.get(predictionCacheKey(runId, upcoming.id)), { timeout: 15_000, interval: 100 }).not.toBeNull();
    expect(await env.PREDICTIONS.get(featureStateKey(upcoming.id))).not.toBeNull();

    const second = await predict(upcoming.id, pro);
    expect(second.status).toBe(200);
    expect(second.res.headers.get('x-cache')).toBe('HIT');
    expect(second.body).toEqual(first.body);
  }, 60_000);

  it('gives the probabilities the evaluation code path gives for the same match and inputs', async () => {
    await invalidateMatchPredictions(env.PREDICTIONS, [runId], upcoming.id);
    const route = await predict(upcoming.id, pro);
    expect(route.status, route.text).toBe(200);
    expect(route.res.headers.get('x-cache')).toBe('MISS');

    // The evaluation CLI's path: every match and pre-kick-off price from Postgres, the shared timeline,
    // then the bundle through the shared runtime module.
    const config = configFrom(env);
    // The Worker's own pool (its error handling included): the server closing a connection after Terminate is
    // reported by the driver as an error event, which a bare Pool without a listener would throw.
    const handle = createDatabase(config.DATABASE_URL, config.WS_PROXY, createLogger({}, () => undefined));
    const pool = handle.pool;
    let row: FeatureRow;
    try {
      const day = upcoming.startAt.toISOString().slice(0, 10);
      const rows = featureMatrixFromInputs(await loadFeatureInputs(pool as never), { from: day, to: day });
      row = rows.find((r) => r.matchId === upcoming.id)!;
      expect(row.asOf.getTime()).toBe(upcoming.capturedAt.getTime());
    } finally {
      await handle.end();
    }
    const read = async (name: string) => (await env.MODELS.get(`models/${bundle.id}/${name}`))!.arrayBuffer();
    const manifest = parseManifest(JSON.parse(new TextDecoder().decode(await read('bundle.json'))));
    const runtime = await createModelRuntime(workerdOrt, manifest, {
      [BUNDLE_FILES.h2h]: await read(BUNDLE_FILES.h2h),
      [BUNDLE_FILES.ou25]: await read(BUNDLE_FILES.ou25),
    } as never);
    // The evaluation's anchors: the same prices through the same function, under the bundle's margin methods.
    const anchors = marketAnchors(row.odds, runtime.marginMethods);
    expect(anchors.h2h.source).toBe('pinnacle');
    const { h2h, ou25 } = await runtime.predict([{ features: row.values, anchors: anchorProbabilities(anchors) }]);
    expect(['home', 'draw', 'away'].map((o) => outcome(route.body, 'h2h', o).probability)).toEqual(h2h[0]);
    // The bundle's O/U order is [under, over].
    expect(['under', 'over'].map((o) => outcome(route.body, 'totals', o).probability)).toEqual(ou25[0]);
    // Beside each probability: the anchor it started from, Pinnacle's price with the model's own margin method.
    const pinnacleH2h = removeMargin([2.1, 3.6, 3.7], runtime.marginMethods.h2h).probabilities;
    expect(['home', 'draw', 'away'].map((o) => outcome(route.body, 'h2h', o).marketProbability)).toEqual(pinnacleH2h);
    expect(route.body.markets.find((m) => m.market === 'h2h')!.anchor).toEqual({
      source: 'pinnacle',
      bookmakers: ['pinnacle'],
      marginMethod: runtime.marginMethods.h2h,
      lastUpdate: upcoming.capturedAt.toISOString(),
      hoursToKickoff: (upcoming.startAt.getTime() - upcoming.capturedAt.getTime()) / HOUR,
    });
  }, 60_000);

  it('prices every outcome at the best real bookmaker and derives EV and Kelly from it', async () => {
    const { body } = await predict(upcoming.id, pro);
    const home = outcome(body, 'h2h', 'home');
    // bet365 2.25 ties market_max 2.25, but aggregates are never a best price.
    expect(home).toMatchObject({ bestPrice: 2.25, bestBookmaker: 'bet365' });
    const p = home.probability as number;
    expect(home.fairOdds).toBeCloseTo(1 / p, 12);
    expect(home.expectedValue).toBeCloseTo(p * 2.25 - 1, 12);
    const kelly = Math.max(0, (p * 2.25 - 1) / 1.25);
    expect(home.kellyFraction).toBeCloseTo(kelly, 12);
    expect(home.kellyStake).toBeCloseTo(kelly * body.kellyMultiplier, 12);
    expect(outcome(body, 'h2h', 'draw')).toMatchObject({ bestPrice: 3.75, bestBookmaker: 'unibet' });
    expect(outcome(body, 'totals', 'under')).toMatchObject({ bestPrice: 2.05, bestBookmaker: 'unibet' });
  });

  it('drops the cached prediction when new odds arrive, and the queue consumer warms it again', async () => {
    expect((await predict(upcoming.id, pro)).res.headers.get('x-cache')).toBe('HIT');
    const newer = new Date(upcoming.capturedAt.getTime() + 30 * 60_000);
    await writeOdds(upcoming.id, upcoming.startAt, priceRows(newer, 2.4).filter((r) => r.bookmaker === 'bet365'));
    // What the ingestion job does after writing the odds.
    await invalidateMatchPredictions(env.PREDICTIONS, [runId], upcoming.id);
    const after = await predict(upcoming.id, pro);
    expect(after.res.headers.get('x-cache')).toBe('MISS');
    expect(outcome(after.body, 'h2h', 'home')).toMatchObject({ bestPrice: 2.4, bestBookmaker: 'bet365' });

    await invalidateMatchPredictions(env.PREDICTIONS, [runId], upcoming.id);
    const ctx = createExecutionContext();
    const batch = createMessageBatch<FeatureRecomputeMessage>('senzu-feature-recompute', [
      { id: 'm1', timestamp: new Date(), attempts: 1, body: { matchId: upcoming.id, reason: 'odds' } },
    ]);
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(['m1']);
    const warmed = await env.PREDICTIONS.get<MatchPrediction>(predictionCacheKey(runId, upcoming.id), 'json');
    expect(warmed?.markets[0]!.outcomes[0]).toMatchObject({ bestPrice: 2.4 });
    const served = await predict(upcoming.id, pro);
    expect(served.res.headers.get('x-cache')).toBe('HIT');
    expect(served.body.predictedAt).toBe(warmed!.predictedAt);
  }, 60_000);

  it("memoises a KV hit in the isolate; new odds invalidated in the same isolate clear the memo at once", async () => {
    await invalidateMatchPredictions(env.PREDICTIONS, [runId], upcoming.id);
    expect((await predict(upcoming.id, pro)).res.headers.get('x-cache')).toBe('MISS');
    await expect.poll(() => env.PREDICTIONS.get(predictionCacheKey(runId, upcoming.id)), { timeout: 15_000, interval: 100 }).not.toBeNull();
    // This hit reads KV, and the isolate memoises what it read.
    const hit = await predict(upcoming.id, pro);
    expect(hit.res.headers.get('x-cache')).toBe('HIT');
    // The memo, not KV, answers now: an entry gone from KV behind the cache's back (another isolate's
    // invalidation, as this one sees it until PREDICTION_MEMO_TTL_MS passes) is still served. The documented staleness.
    await env.PREDICTIONS.delete(predictionCacheKey(runId, upcoming.id));
    const memoised = await predict(upcoming.id, pro);
    expect(memoised.res.headers.get('x-cache')).toBe('HIT');
    expect(memoised.body.predictedAt).toBe(hit.body.predictedAt);
    // New odds, invalidated in this isolate the way the odds job does it: the next request is a miss at the new price.
    const newer = new Date(upcoming.capturedAt.getTime() + 45 * 60_000);
    await writeOdds(upcoming.id, upcoming.startAt, priceRows(newer, 2.6).filter((r) => r.bookmaker === 'bet365'));
    await invalidateMatchPredictions(env.PREDICTIONS, [runId], upcoming.id);
    const after = await predict(upcoming.id, pro);
    expect(after.res.headers.get('x-cache')).toBe('MISS');
    expect(outcome(after.body, 'h2h', 'home')).toMatchObject({ bestPrice: 2.6, bestBookmaker: 'bet365' });
    // The miss's deferred cache write lands before the next test invalidates.
    await expect.poll(() => env.PREDICTIONS.get(predictionCacheKey(runId, upcoming.id)), { timeout: 15_000, interval: 100 }).not.toBeNull();
  }, 60_000);

  it("serves a cached prediction to an isolate that has not learnt the match's sport (it reads every key that could hold it)", async () => {
    await expect.poll(() => env.PREDICTIONS.get(predictionCacheKey(runId, upcoming.id)), { timeout: 15_000, interval: 100 }).not.toBeNull();
    const cached = JSON.parse((await env.PREDICTIONS.get(predictionCacheKey(runId, upcoming.id)))!) as MatchPrediction;
    // A fresh isolate: no memoised prediction, no known sport. The lookup cannot tell which key can hold the
    // match's prediction, so it reads all of them at once and serves the run's.
    resetPredictionMemos();
    const hit = await predict(upcoming.id, pro);
    expect(hit.res.headers.get('x-cache')).toBe('HIT');
    expect(hit.body).toMatchObject({ modelRunId: runId, predictedAt: cached.predictedAt });
  }, 60_000);

  it("never serves a market-only entry of a sport with an active run: the run's key alone is read, misses, and the model computes", async () => {
    // The earlier tests served this match, so the isolate has learnt its sport. A market-only entry for it (one
    // cached while football had no active run, say) is planted here with its sport, as the writer stores it: with
    // football's run active it is not served; the lookup goes to the run's key, misses, and computes the model's.
    expect((await predict(upcoming.id, pro)).status).toBe(200);
    await invalidateMatchPredictions(env.PREDICTIONS, [runId], upcoming.id);
    const planted: MatchPrediction = {
      matchId: upcoming.id, model: null, modelRunId: null, featureVersion: null, predictedAt: new Date().toISOString(),
      kickoff: upcoming.startAt.toISOString(), kellyMultiplier: 0.25, exchangeCommission: 0.02, markets: [],
    };
    await env.PREDICTIONS.put(marketOnlyCacheKey(upcoming.id), JSON.stringify(planted), { metadata: { sport: 'soccer' } });
    const after = await predict(upcoming.id, pro);
    expect(after.res.headers.get('x-cache')).toBe('MISS');
    expect(after.body.model?.runId).toBe(runId);
    await env.PREDICTIONS.delete(marketOnlyCacheKey(upcoming.id));
    await expect.poll(() => env.PREDICTIONS.get(predictionCacheKey(runId, upcoming.id)), { timeout: 15_000, interval: 100 }).not.toBeNull();
  }, 60_000);

  it('shapes by tier after the cache read: a pro miss followed by a free hit gets the free view', async () => {
    await invalidateMatchPredictions(env.PREDICTIONS, [runId], upcoming.id);
    const proMiss = await predict(upcoming.id, pro);
    expect(proMiss.res.headers.get('x-cache')).toBe('MISS');
    expect(proMiss.body.view).toBe('full');
    expect(outcome(proMiss.body, 'h2h', 'home')).toHaveProperty('expectedValue');
    await expect.poll(() => env.PREDICTIONS.get(predictionCacheKey(runId, upcoming.id)), { timeout: 15_000, interval: 100 }).not.toBeNull();

    const freeHit = await predict(upcoming.id, free);
    expect(freeHit.status, freeHit.text).toBe(200);
    expect(freeHit.res.headers.get('x-cache')).toBe('HIT');
    expect(freeHit.body.view).toBe('basic');
    expect(freeHit.body.predictedAt).toBe(proMiss.body.predictedAt);
    for (const market of freeHit.body.markets) {
      for (const o of market.outcomes) {
        expect(Object.keys(o).sort()).toEqual(['fairOdds', 'marketProbability', 'outcome', 'probability']);
      }
    }
    expect(outcome(freeHit.body, 'h2h', 'home').probability).toBe(outcome(proMiss.body, 'h2h', 'home').probability);
  }, 60_000);

  it('gives a free account 10 distinct matches per UTC day; the 11th is a 429 with the reset, repeats stay free', async () => {
    const user = await registerUser('pred-quota');
    const others = await withDb(async (db) =>
      (await db.execute<{ id: string }>(sql`select id from matches where season = '2023-24' order by start_at, id limit 9`)).rows.map((r) => Number(r.id)),
    );
    expect((await predict(upcoming.id, user)).status).toBe(200);
    // Finished matches without a stored prediction are 404s, but each still counts as a distinct match.
    for (const id of others) expect((await predict(id, user)).status).toBe(404);
    const eleventh = await api(`/matches/${others[0]! + 100_000}/predictions`, { token: user.accessToken });
    expect(eleventh.status).toBe(429);
    expect(eleventh.headers.get('content-type')).toBe(PROBLEM);
    expect(await eleventh.json()).toMatchObject({ type: 'https://docs.senzu.ai/problems/quota-exceeded', status: 429 });
    const now = Date.now();
    const secondsToMidnight = Math.ceil((Math.floor(now / 86_400_000 + 1) * 86_400_000 - now) / 1000);
    expect(Math.abs(Number(eleventh.headers.get('retry-after')) - secondsToMidnight)).toBeLessThanOrEqual(2);
    // A match already read today costs nothing, so it is still served.
    const again = await predict(upcoming.id, user);
    expect(again.status).toBe(200);
    expect(again.body.view).toBe('basic');
    // Paid tiers have no quota.
    for (const id of [...others, others[0]! + 100_000]) expect((await predict(id, pro)).status).toBe(404);
  }, 60_000);

  it('returns the stored pre-kick-off prediction of a match that has kicked off, never a new one', async () => {
    const [kickedOff] = await withDb(async (db) =>
      (await db.execute<{ id: string; start_at: string }>(sql`select id, start_at from matches where season = '2023-24' order by start_at desc, id desc limit 1`)).rows,
    );
    const matchId = Number(kickedOff!.id);
    const kickoff = new Date(kickedOff!.start_at);
    expect((await predict(matchId, pro)).status).toBe(404);

    const template = (await predict(upcoming.id, pro)).body;
    const stored = (predictedAt: Date, probability: number): MatchPrediction => ({
      matchId,
      model: { runId, name: 'stored-test', featureVersion: 'v1' },
      modelRunId: runId,
      featureVersion: 'v1',
      predictedAt: predictedAt.toISOString(),
      kickoff: kickoff.toISOString(),
      kellyMultiplier: 0.25,
      exchangeCommission: 0.05,
      markets: [
        {
          kind: '1x2',
          market: 'h2h',
          point: null,
          anchor: { source: 'pinnacle', bookmakers: ['pinnacle'], marginMethod: 'shin', lastUpdate: new Date(predictedAt.getTime() - HOUR).toISOString(), hoursToKickoff: 3 },
          outcomes: (['home', 'draw', 'away'] as const).map((o, i) => ({
            outcome: o,
            probability: i === 0 ? probability : (1 - probability) / 2,
            fairOdds: i === 0 ? 1 / probability : 2 / (1 - probability),
            bestPrice: 2.5,
            bestBookmaker: 'bet365',
            bestPriceNet: 2.5,
            marketProbability: 0.4,
            expectedValue: (i === 0 ? probability : (1 - probability) / 2) * 2.5 - 1,
            kellyFraction: 0,
            kellyStake: 0,
          })),
        },
      ],
    });
    expect(template.source).toBe('live');
    await withDb(async (db) => {
      const store = new PredictionStore(() => db);
      await store.persist(stored(new Date(kickoff.getTime() - 2 * HOUR), 0.41));
      await store.persist(stored(new Date(kickoff.getTime() - HOUR), 0.44));
      // A row after kick-off (e.g. from a clock skew) must never be what is served.
      await store.persist(stored(new Date(kickoff.getTime() + HOUR), 0.9));
    });
    const res = await predict(matchId, pro);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ source: 'stored', matchId, predictedAt: new Date(kickoff.getTime() - HOUR).toISOString() });
    expect(outcome(res.body, 'h2h', 'home').probability).toBeCloseTo(0.44, 10);
    // Read back from the rows: the run (with its registered name, which the rows do not hold) and the market's kind.
    expect(res.body.model).toEqual(template.model);
    expect(res.body.markets.map((m) => m.kind)).toEqual(['1x2']);
    const count = await withDb(async (db) => (await db.execute<{ n: number }>(sql`select count(distinct predicted_at)::int as n from predictions where match_id = ${matchId}`)).rows[0]!.n);
    expect(count).toBe(3);
  }, 60_000);

  it("reads the live odds the odds job published with the object's write; without a copy it asks the object", async () => {
    const now = Date.now();
    // Two hours ahead: the copy lives until kick-off.
    const startAt = new Date(Math.ceil((now + 2 * HOUR) / 1000) * 1000);
    const capturedAt = new Date(Math.floor((now - HOUR) / 1000) * 1000);
    const id = await createUpcomingMatch(`live-copy-${now}`, startAt);
    const bet365 = (r: OddsRowInput) => r.bookmaker === 'bet365';
    // The odds job's fan-out after its commit (pipeline.ts): the object's write, then the state it stored
    // published beside the deletion of the match's cached predictions.
    const fanOut = (ids: number[], states?: Map<number, LiveState>) =>
      withDb((db) => workerFanOut(env as unknown as Env, () => db).invalidatePredictions(ids, states));
    const first = await writeOdds(id, startAt, priceRows(capturedAt, 2.7));
    expect(first.state).toEqual(await oddsObject(id).state());
    await fanOut([id], new Map([[id, first.state!]]));
    expect(await env.PREDICTIONS.get(liveOddsKey(id), 'json')).toEqual(await oddsObject(id).state());
    expect((await env.PREDICTIONS.list({ prefix: liveOddsKey(id) })).keys).toEqual([{ name: liveOddsKey(id), expiration: startAt.getTime() / 1000 }]);
    const cacheWritten = () => expect.poll(() => env.PREDICTIONS.get(predictionCacheKey(runId, id)), { timeout: 15_000, interval: 100 }).not.toBeNull();

    const miss = await predict(id, pro);
    expect(miss.res.headers.get('x-cache')).toBe('MISS');
    expect(outcome(miss.body, 'h2h', 'home')).toMatchObject({ bestPrice: 2.7, bestBookmaker: 'bet365' });
    await cacheWritten();

    // Newer prices that reach the object and are not published (the job's publication failed after the object's
    // write, say): the copy is what a miss reads, so it keeps the published price.
    const newer = new Date(capturedAt.getTime() + 10 * 60_000);
    expect((await writeOdds(id, startAt, priceRows(newer, 2.9).filter(bet365))).changed.length).toBeGreaterThan(0);
    await env.PREDICTIONS.delete(predictionCacheKey(runId, id));
    const fromCopy = await predict(id, pro);
    expect(fromCopy.res.headers.get('x-cache')).toBe('MISS');
    expect(outcome(fromCopy.body, 'h2h', 'home')).toMatchObject({ bestPrice: 2.7 });
    await cacheWritten();

    // An invalidation without a state (a failed write to the object, a rescheduled or finished match) deletes
    // the copy with the predictions: the next miss asks the object, which holds the newer price.
    await fanOut([id]);
    expect(await env.PREDICTIONS.get(liveOddsKey(id))).toBeNull();
    const fromObject = await predict(id, pro);
    expect(fromObject.res.headers.get('x-cache')).toBe('MISS');
    expect(outcome(fromObject.body, 'h2h', 'home')).toMatchObject({ bestPrice: 2.9 });
    await cacheWritten();

    // A newer capture at the same prices changes the stored state and no price: it is published alone, and the
    // cached prediction stands.
    const later = new Date(capturedAt.getTime() + 20 * 60_000);
    const same = await writeOdds(id, startAt, priceRows(later, 2.9).filter(bet365));
    expect(same.changed).toEqual([]);
    expect(same.state?.updatedAt).toBe(later.toISOString());
    await fanOut([], new Map([[id, same.state!]]));
    expect((await env.PREDICTIONS.get<LiveState>(liveOddsKey(id), 'json'))?.updatedAt).toBe(later.toISOString());
    expect((await predict(id, pro)).res.headers.get('x-cache')).toBe('HIT');
    // A call that writes nothing stores no state, and hands none out.
    expect((await oddsObject(id).applyOdds(priceRows(later, 2.9).filter(bet365), { matchId: id, startAt: startAt.toISOString() })).state).toBeUndefined();
  }, 60_000);

  it('publishes a copy until kick-off, for at most LIVE_ODDS_MAX_TTL_SECONDS, and none for a kick-off under a minute away', async () => {
    const at = Math.floor(Date.now() / 1000) * 1000;
    const cache = new PredictionCache(env.PREDICTIONS, () => at);
    const id = 999_000_001;
    const base = await oddsObject(upcoming.id).state();
    const live = (startAt: number): LiveState => ({ ...base, matchId: id, startAt: new Date(startAt).toISOString() });
    const expirationOf = async () => (await env.PREDICTIONS.list({ prefix: liveOddsKey(id) })).keys[0]?.expiration ?? null;
    await cache.publishLiveOdds(id, live(at + 30 * HOUR));
    expect(await expirationOf()).toBe(at / 1000 + LIVE_ODDS_MAX_TTL_SECONDS);
    await cache.publishLiveOdds(id, live(at + 2 * 60_000));
    expect(await expirationOf()).toBe(at / 1000 + 120);
    // KV refuses an expiration under 60 s away: the copy goes instead, and a miss asks the object.
    await cache.publishLiveOdds(id, live(at + 30_000));
    expect(await expirationOf()).toBeNull();
    await cache.publishLiveOdds(id, live(at + 2 * 60_000));
    await cache.publishLiveOdds(id, undefined);
    expect(await expirationOf()).toBeNull();
  });

  it('answers 404 for an unknown match and 400 for a malformed id', async () => {
    const missing = await predict(999_999_999, pro);
    expect(missing.status).toBe(404);
    expect(missing.res.headers.get('content-type')).toBe(PROBLEM);
    expect((await api('/matches/abc/predictions', { token: pro.accessToken })).status).toBe(400);
    expect((await api(`/matches/${upcoming.id}/predictions`)).status).toBe(401);
  }, 30_000);
});

describe('prediction writes (PREDICTION_QUEUE)', () => {
  /** The predicted_at instants of the match's rows in Postgres, one per persisted prediction. */
  const persistedAt = (matchId: number) =>
    withDb(async (db) =>
      (
        await db.execute<{ at: string }>(
          sql`select distinct to_char(predicted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at from predictions where match_id = ${matchId} order by 1`,
        )
      ).rows.map((r) => r.at),
    );

  it("persists a miss's prediction through the queue consumer, not on the request", async () => {
    await invalidateMatchPredictions(env.PREDICTIONS, [runId], upcoming.id);
    const miss = await predict(upcoming.id, pro);
    expect(miss.res.headers.get('x-cache')).toBe('MISS');
    // The queue delivers within its max_batch_timeout; the consumer writes all five outcomes.
    await expect.poll(() => persistedAt(upcoming.id), { timeout: 15_000, interval: 250 }).toContain(miss.body.predictedAt);
    const rows = await withDb(async (db) =>
      (await db.execute<{ n: number }>(sql`select count(*)::int as n from predictions where match_id = ${upcoming.id} and predicted_at = ${miss.body.predictedAt}::timestamptz`)).rows[0]!.n,
    );
    expect(rows).toBe(5);
    // Beside it, the vector it was served from, with its feature version.
    const vectors = await withDb(async (db) =>
      (
        await db.execute<{ feature_version: string; n: number }>(
          sql`select feature_version, array_length(values, 1) as n from served_feature_vectors where match_id = ${upcoming.id} and predicted_at = ${miss.body.predictedAt}::timestamptz and model_run_id = ${runId}::uuid`,
        )
      ).rows,
    );
    expect(vectors).toEqual([{ feature_version: 'v1', n: 72 }]);
  }, 60_000);

  it('writes a batch once, acknowledges what it wrote or cannot parse, and retries only the prediction Postgres refuses', async () => {
    const template = (await predict(upcoming.id, pro)).body as unknown as MatchPrediction;
    const base = Date.parse(template.predictedAt) - 10 * HOUR;
    const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
    const { view: _view, source: _source, ...prediction } = template as MatchPrediction & { view?: string; source?: string };
    const first = { ...prediction, predictedAt: at(1) };
    const second = { ...prediction, predictedAt: at(2) };
    // A match that does not exist: the foreign key refuses it, and only it.
    const orphan = { ...prediction, matchId: 987_654_321, predictedAt: at(3) };
    const batch = createMessageBatch<unknown>('senzu-prediction-writes', [
      { id: 'p1', timestamp: new Date(), attempts: 1, body: first },
      { id: 'p2', timestamp: new Date(), attempts: 1, body: second },
      { id: 'p1-again', timestamp: new Date(), attempts: 2, body: first },
      { id: 'orphan', timestamp: new Date(), attempts: 1, body: orphan },
      { id: 'malformed', timestamp: new Date(), attempts: 1, body: { ...second, markets: 'none' } },
      // A free-tier response (no prices, EV or Kelly) is not a prediction to store.
      {
        id: 'shaped',
        timestamp: new Date(),
        attempts: 1,
        body: { ...second, predictedAt: at(5), markets: second.markets.map((m) => ({ ...m, outcomes: m.outcomes.map(({ outcome, probability, fairOdds, marketProbability }) => ({ outcome, probability, fairOdds, marketProbability })) })) },
      },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(['orphan']);
    expect([...result.explicitAcks].sort()).toEqual(['malformed', 'p1', 'p1-again', 'p2', 'shaped']);
    expect(await persistedAt(upcoming.id)).not.toContain(at(5));
    const persisted = await persistedAt(upcoming.id);
    expect(persisted).toEqual(expect.arrayContaining([first.predictedAt, second.predictedAt]));
    const counts = await withDb(async (db) =>
      (
        await db.execute<{ n: number }>(
          sql`select count(*)::int as n from predictions where match_id = ${upcoming.id} and predicted_at in (${first.predictedAt}::timestamptz, ${second.predictedAt}::timestamptz) group by predicted_at`,
        )
      ).rows.map((r) => r.n),
    );
    // The redelivered p1 added nothing.
    expect(counts).toEqual([5, 5]);

    // Replaying the dead-letter queue runs the same consumer; a queue the Worker has no consumer for is
    // retried (towards its dead-letter queue), never acknowledged unread.
    const replayed = { ...prediction, predictedAt: at(4) };
    const dlq = createMessageBatch<unknown>('senzu-prediction-writes-dlq', [{ id: 'dead', timestamp: new Date(), attempts: 1, body: replayed }]);
    const dlqCtx = createExecutionContext();
    await worker.queue(dlq, env, dlqCtx);
    expect((await getQueueResult(dlq, dlqCtx)).explicitAcks).toEqual(['dead']);
    expect(await persistedAt(upcoming.id)).toContain(replayed.predictedAt);
    const stray = createMessageBatch<unknown>('senzu-something-else', [{ id: 's1', timestamp: new Date(), attempts: 1, body: replayed }]);
    const strayCtx = createExecutionContext();
    await worker.queue(stray, env, strayCtx);
    const strayResult = await getQueueResult(stray, strayCtx);
    expect(strayResult).toMatchObject({ retryBatch: { retry: true }, explicitAcks: [] });
  }, 60_000);

  it('writes a batch larger than a parameter per value could carry (65,535 parameters), whole', async () => {
    const template = (await predict(upcoming.id, pro)).body as unknown as MatchPrediction;
    const { view: _view, source: _source, ...prediction } = template as MatchPrediction & { view?: string; source?: string };
    const perPrediction = prediction.markets.reduce((n, m) => n + m.outcomes.length, 0);
    const base = Date.parse(template.predictedAt) - 40 * HOUR;
    // More rows than the 2,849 of 23 parameters one statement takes.
    const count = Math.ceil(3_000 / perPrediction);
    const batch = Array.from({ length: count }, (_, i) => ({ ...prediction, predictedAt: new Date(base + i * 1000).toISOString() }));
    await withDb((db) => new PredictionStore(() => db).persistMany(batch));
    const rows = await withDb(async (db) =>
      (
        await db.execute<{ n: number }>(
          sql`select count(*)::int as n from predictions where match_id = ${upcoming.id} and predicted_at between ${batch[0]!.predictedAt}::timestamptz and ${batch[count - 1]!.predictedAt}::timestamptz`,
        )
      ).rows[0]!.n,
    );
    expect(rows).toBe(count * perPrediction);
  }, 60_000);

  it('stores every field of a prediction as served, and its vector as given (a missing feature as NaN)', async () => {
    const template = (await predict(upcoming.id, pro)).body as unknown as MatchPrediction;
    const { view: _view, source: _source, ...served } = template as MatchPrediction & { view?: string; source?: string };
    const prediction = { ...served, predictedAt: new Date(Date.parse(template.predictedAt) - 30 * HOUR).toISOString() };
    await withDb((db) => new PredictionStore(() => db).persistMany([{ ...prediction, features: [null, 0.25, -3.5, 1024, 0.125] }]));
    const at = new Date(prediction.predictedAt);
    const rows = await withDb((db) =>
      db.select().from(predictionsTable).where(and(eq(predictionsTable.matchId, upcoming.id), eq(predictionsTable.predictedAt, at))),
    );
    const expected = prediction.markets.flatMap((m) =>
      m.anchor.source === 'none'
        ? []
        : m.outcomes
            .filter((o) => o.probability !== null)
            .map((o) => ({
              market: m.market,
              outcome: o.outcome,
              point: m.point,
              probability: o.probability,
              marketProbability: o.marketProbability,
              bestPrice: o.bestPrice,
              bestBookmaker: o.bestBookmaker,
              bestPriceNet: o.bestPriceNet === null ? null : Number(o.bestPriceNet.toFixed(4)),
              expectedValue: o.expectedValue,
              kellyFraction: o.kellyFraction,
              kellyStake: o.kellyStake,
              kellyMultiplier: prediction.kellyMultiplier,
              exchangeCommission: prediction.exchangeCommission,
              marginMethod: m.anchor.marginMethod,
              anchorSource: m.anchor.source,
              anchorBookmakers: m.anchor.bookmakers,
              anchorLastUpdate: new Date(m.anchor.lastUpdate!),
              anchorHoursToKickoff: m.anchor.hoursToKickoff,
              modelRunId: prediction.modelRunId,
              featureVersion: prediction.featureVersion,
              kickoff: new Date(prediction.kickoff),
              predictedAt: at,
              settledAt: null,
              won: null,
            })),
    );
    expect(expected.length).toBe(5);
    const key = (r: { market: string; outcome: string }) => `${r.market}|${r.outcome}`;
    expect([...rows].sort((a, b) => key(a).localeCompare(key(b)))).toMatchObject([...expected].sort((a, b) => key(a).localeCompare(key(b))));
    const vector = await withDb(async (db) =>
      (
        await db.execute<{ values: string; feature_version: string }>(
          sql`select values::text as values, feature_version from served_feature_vectors where match_id = ${upcoming.id} and predicted_at = ${prediction.predictedAt}::timestamptz`,
        )
      ).rows,
    );
    expect(vector).toEqual([{ values: '{NaN,0.25,-3.5,1024,0.125}', feature_version: prediction.featureVersion }]);
  }, 60_000);

  it("the warm-up's write: one prediction Postgres refuses is logged and the others stand; if all are refused, the batch fails", async () => {
    const template = (await predict(upcoming.id, pro)).body as unknown as MatchPrediction;
    const { view: _view, source: _source, ...prediction } = template as MatchPrediction & { view?: string; source?: string };
    const base = Date.parse(template.predictedAt) - 20 * HOUR;
    const good = { sport: 'soccer', prediction: { ...prediction, predictedAt: new Date(base).toISOString() } };
    // A match that does not exist: the foreign key refuses it, and only it.
    const orphan = { sport: 'soccer', prediction: { ...prediction, matchId: 987_654_322, predictedAt: new Date(base + 60_000).toISOString() } };
    const logs: string[] = [];
    const services = createServices(configFrom(env), env, createLogger({}, (line) => logs.push(line)));
    try {
      expect(await services.predictions.writer.warm([orphan, good])).toBe(1);
      await expect(services.predictions.writer.warm([orphan])).rejects.toThrow(/insert into "predictions"/);
    } finally {
      await services.close();
    }
    expect(await persistedAt(upcoming.id)).toContain(good.prediction.predictedAt);
    expect(logs.filter((l) => l.includes('"errorCode":"prediction-write-failed"') && l.includes('"matchId":987654322'))).toHaveLength(2);
  }, 60_000);

  it('writes the prediction directly when the queue refuses it, so nothing is lost', async () => {
    await invalidateMatchPredictions(env.PREDICTIONS, [runId], upcoming.id);
    const logs: string[] = [];
    const logger = createLogger({}, (line) => logs.push(line));
    const refusing = { send: () => Promise.reject(new Error('Queue senzu-prediction-writes is unavailable')) };
    const services = createServices(configFrom(env), { ...env, PREDICTION_QUEUE: refusing as unknown as typeof env.PREDICTION_QUEUE }, logger);
    let predictedAt: string;
    try {
      const result = await services.predictions.forMatch(upcoming.id);
      expect(result.cache).toBe('MISS');
      predictedAt = result.prediction.predictedAt;
    } finally {
      await services.close();
    }
    expect(await persistedAt(upcoming.id)).toContain(predictedAt);
    expect(logs.some((l) => l.includes('"errorCode":"prediction-queue-unavailable"'))).toBe(true);
  }, 60_000);
});

describe("a match of another sport: its own sport's run and store", () => {
  it("is priced by the NBA's run, never football's (no book quotes it yet, so no market), and its result enters the basketball store only", async () => {
    // An upcoming and a finished NBA game between two teams basketball.json declares (db:migrate loads it).
    const [upcomingGame, finished] = await withDb(async (db) => {
      const insert = (startAt: Date, status: 'scheduled' | 'finished', score: number | null) =>
        db.execute<{ id: string }>(sql`
          with nba as (
            select c.sport_id, c.id as competition_id,
                   (select id from teams t where t.sport_id = c.sport_id and t.key = 'bos') as home,
                   (select id from teams t where t.sport_id = c.sport_id and t.key = 'lal') as away
            from competitions c join sports s on s.id = c.sport_id where s.key = 'basketball' limit 1)
          insert into matches (sport_id, competition_id, season, home_team_id, away_team_id, start_at, start_time_known, status, home_score, away_score, provider, external_match_id)
          select sport_id, competition_id, null, home, away, ${startAt.toISOString()}::timestamptz, true, ${status}, ${score}, ${score === null ? null : score - 7},
                 'other-sport-test', ${`other-sport-${status}-${Date.now()}`}
          from nba returning id`);
      const up = await insert(new Date(Date.now() + 30 * 3_600_000), 'scheduled', null);
      const done = await insert(new Date(Date.now() - 30 * 3_600_000), 'finished', 110);
      return [Number(up.rows[0]!.id), Number(done.rows[0]!.id)];
    });
    // Both default runs are active, one per sport: the NBA's prices the game, with its features; with no odds yet
    // there is nothing to price. (test/worker/market-only.test.ts has NBA games with odds and no run.)
    const res = await predict(upcomingGame, pro);
    expect(res.status, res.text).toBe(200);
    expect(res.res.headers.get('x-model-run')).toBe(nbaBundle.runId);
    expect(res.body).toMatchObject({ matchId: upcomingGame, model: { runId: nbaBundle.runId, featureVersion: 'nba-v1' }, modelRunId: nbaBundle.runId, source: 'live', markets: [] });
    // A finished NBA game predicted by no one before tip-off has nothing stored to serve.
    const started = await api(`/matches/${finished}/predictions`, { token: pro.accessToken });
    expect(started.status).toBe(404);
    expect(started.headers.get('content-type')).toBe(PROBLEM);
    // The stores' advance (what the hourly job runs) applies the NBA result to the basketball store: its two teams'
    // nba-v1 states, and no football state of them.
    await withDb((db) => advanceFeatureStore(db, Date.now()));
    const teams = await withDb(async (db) => {
      const result = await db.execute<{ versions: string[] | null; applied: string | null }>(sql`
        select (select array_agg(distinct s.feature_version) from feature_team_states s join matches m on s.team_id in (m.home_team_id, m.away_team_id) where m.id = ${finished}) as versions,
               (select features_applied_at from matches where id = ${finished})::text as applied`);
      return result.rows[0]!;
    });
    expect(teams.versions).toEqual(['nba-v1']);
    expect(teams.applied).not.toBeNull();
  }, 60_000);
});
