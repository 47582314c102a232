// The NBA through the Worker, as a new user meets it: The Odds API stand-in replays NBA 2021/22 on the real clock
// (test/global-setup.ts), the fixtures and odds crons ingest it into a database of this file's own (no model run
// in it), and a premium user's prediction of an upcoming game is market-only: `model: null`, the moneyline
// without a draw, every spread and total line the MatchOdds object holds, each with the margin-free consensus,
// the best price, EV and Kelly. The feature queue warms it after the odds job; it is cached under its own key,
// persisted with no model run, and served from the rows once the game has tipped off.
import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { workerFanOut } from '../../src/jobs/ingestion';
import { marketOnlyCacheKey } from '../../src/services/predictions/cache';
import type { components } from '../../client/openapi';
import { api, type Page } from './support/http';
import { promote, registerUser, type TestUser } from './support/auth';
import { withDb } from './support/models';
import { ingestNbaReplay, liveState, newOddsFor } from './support/nba-replay';



// The typed client's own types: what a user of client/ sees is what the Worker answers.
type Prediction = components['schemas']['MatchPrediction'];
type Market = Prediction['markets'][number];
type Outcome = Market['outcomes'][number] & { point?: number };
/** A market's outcomes, whatever its kind (a spread's carry their point). */
const outcomesOf = (m: Market): Outcome[] => m.outcomes;

let premium: TestUser;
let free: TestUser;
let basketballId: number;
/** An upcoming NBA game with h2h, spreads and totals in its MatchOdds object. */
let game: number;



async function predict(matchId: number, user: TestUser) {
  const res = await api(`/matches/${matchId}/predictions`, { token: user.accessToken });
  const text = await res.text();
  return { res, status: res.status, text, body: JSON.parse(text) as Prediction };
}

beforeAll(async () => {
  [premium, free] = await Promise.all([registerUser('nba-premium').then((u) => promote(u, { tier: 'premium' })), registerUser('nba-free')]);
  // The hourly job's fixtures, then the five-minute odds job: what `npm start` runs against the same stand-in.
  game = await ingestNbaReplay();
}, 120_000);

describe('the NBA replayed through the Worker', () => {
  it('lists basketball among the sports, and its upcoming games among the scheduled matches', async () => {
    const sports = await (await api('/sports')).json<{ data: Array<{ id: number; key: string }> }>();
    basketballId = sports.data.find((s) => s.key === 'basketball')!.id;
    expect(basketballId).toBeTypeOf('number');
    const res = await api(`/matches?sportId=${basketballId}&status=scheduled&limit=100`);
    expect(res.status).toBe(200);
    const page = await res.json<Page<{ id: number; sportId: number; status: string; startAt: string }>>();
    expect(page.data.length).toBeGreaterThan(0);
    expect(page.data.every((m) => m.sportId === basketballId && m.status === 'scheduled')).toBe(true);
    expect(page.data.some((m) => Date.parse(m.startAt) > Date.now())).toBe(true);
  });

  it("gives a premium user a market-only prediction, warmed by the feature queue after the odds job: model null, the moneyline, every spread and total line, each priced at its best book", async () => {
    // The odds job's feature messages reach the queue's consumer, which warms the game's market-only prediction
    // (no model run needed) and persists it: the first request is already a hit.
    await expect.poll(() => env.PREDICTIONS.get(marketOnlyCacheKey(game)), { timeout: 15_000, interval: 100 }).not.toBeNull();
    const { res, status, text, body } = await predict(game, premium);
    expect(status, text).toBe(200);
    expect(res.headers.get('x-cache')).toBe('HIT');
    expect(res.headers.get('x-model-run')).toBe('none');
    const persisted = await withDb(async (db) =>
      (await db.execute<{ n: number }>(sql`select count(*)::int as n from predictions where match_id = ${game} and model_run_id is null and predicted_at = ${body.predictedAt}::timestamptz`)).rows[0]!.n,
    );
    expect(persisted, 'the warm-up persisted what it cached').toBeGreaterThan(0);
    expect(body).toMatchObject({ matchId: game, model: null, modelRunId: null, featureVersion: null, source: 'live', view: 'full' });

    const live = await liveState(game);
    // Order: the moneyline, then spreads by line, then totals by line.
    const kinds = body.markets.map((m) => m.kind);
    expect(kinds[0]).toBe('moneyline');
    expect(kinds.filter((k) => k === 'spread').length).toBeGreaterThanOrEqual(1);
    expect(kinds.filter((k) => k === 'total').length).toBeGreaterThanOrEqual(1);
    expect(kinds).toEqual([...kinds].sort((a, b) => ['moneyline', 'spread', 'total'].indexOf(a) - ['moneyline', 'spread', 'total'].indexOf(b)));
    for (const kind of ['spread', 'total']) {
      const points = body.markets.filter((m) => m.kind === kind).map((m) => m.point!);
      expect(points).toEqual([...points].sort((a, b) => a - b));
      expect(new Set(points).size).toBe(points.length);
    }
    // Every line the object holds is a market, and no other.
    const heldLines = new Set(live.lines.map((l) => `${l.market}|${l.market === 'spreads' && l.outcome === 'away' ? -l.point! : (l.point ?? '')}`));
    expect(new Set(body.markets.map((m) => `${m.market}|${m.point ?? ''}`))).toEqual(heldLines);

    const moneyline = body.markets[0]!;
    expect(moneyline).toMatchObject({ market: 'h2h', point: null });
    expect(moneyline.outcomes.map((o) => o.outcome)).toEqual(['home', 'away']);

    for (const m of body.markets) {
      const consensus = live.consensus.find((c) => c.market === m.market && c.point === m.point);
      // The stand-in's US books: no Pinnacle, so each complete line is anchored on the consensus.
      expect(m.anchor.source).toBe(consensus ? 'consensus' : 'none');
      expect(m.anchor.marginMethod).toBe('multiplicative');
      if (consensus) {
        const total = m.outcomes.reduce((s, o) => s + o.probability!, 0);
        expect(total).toBeCloseTo(1, 12);
      }
      for (const o of outcomesOf(m)) {
        const expected = consensus?.outcomes.find((c) => c.outcome === o.outcome)?.probability ?? null;
        expect(o.probability).toBe(expected);
        expect(o.marketProbability).toBe(expected);
        if (m.kind === 'spread') expect(o.point).toBe(o.outcome === 'home' ? m.point : -m.point!);
        // The best price among the books quoting this side of this line (no exchange among them: net = price).
        const side = m.kind === 'spread' ? o.point : m.point;
        const quotes = live.lines.filter((l) => l.market === m.market && l.outcome === o.outcome && l.point === side);
        const best = Math.max(...quotes.map((l) => l.price));
        expect(o.bestPrice).toBe(best);
        expect(o.bestPriceNet).toBe(best);
        expect(quotes.find((l) => l.price === best)!.bookmaker).toBe(o.bestBookmaker);
        if (o.probability !== null) {
          const ev = o.probability * best - 1;
          expect(o.expectedValue).toBeCloseTo(ev, 12);
          expect(o.kellyFraction).toBeCloseTo(ev > 0 ? ev / (best - 1) : 0, 12);
          expect(o.kellyStake).toBeCloseTo(o.kellyFraction! * body.kellyMultiplier, 12);
          expect(o.fairOdds).toBeCloseTo(1 / o.probability, 12);
        }
      }
    }
    // The moneyline is a complete book at the stand-in's books.
    expect(moneyline.outcomes.every((o) => o.probability !== null && o.expectedValue !== null)).toBe(true);
  });

  it('hides price, EV and Kelly from a free user, keeping each spread side its handicap', async () => {
    const { status, body } = await predict(game, free);
    expect(status).toBe(200);
    expect(body.view).toBe('basic');
    expect(body.model).toBeNull();
    for (const m of body.markets) {
      for (const o of m.outcomes) {
        expect(Object.keys(o).sort()).toEqual(['fairOdds', 'marketProbability', 'outcome', 'probability', ...(m.kind === 'spread' ? ['point'] : [])].sort());
      }
    }
  });

  it('is cached under its own key, and new odds delete it even with no model run at all', async () => {
    await expect.poll(() => env.PREDICTIONS.get(marketOnlyCacheKey(game)), { timeout: 15_000, interval: 100 }).not.toBeNull();
    const hit = await predict(game, premium);
    expect(hit.res.headers.get('x-cache')).toBe('HIT');
    expect(hit.body.model).toBeNull();
    // The odds job's own fan-out after new odds for the game: it looks the cached runs up in this database, which
    // has none, and must still delete the market-only entry.
    await newOddsFor(game);
    expect(await env.PREDICTIONS.get(marketOnlyCacheKey(game))).toBeNull();
    expect((await predict(game, premium)).res.headers.get('x-cache')).toBe('MISS');
  });

  it('is persisted with no model run, one row per outcome, a spread row at its side handicap; after tip-off it is served from those rows', async () => {
    const live = (await predict(game, premium)).body;
    const priced = live.markets.flatMap((m) => outcomesOf(m).filter((o) => o.probability !== null).map((o) => ({ m, o })));
    type Row = { model_run_id: string | null; feature_version: string | null; market: string; outcome: string; point: number | null; probability: number };
    const rows = () =>
      withDb(async (db) =>
        (
          await db.execute<Row>(
            sql`select model_run_id, feature_version, market, outcome, point::float8 as point, probability from predictions where match_id = ${game} and predicted_at = ${live.predictedAt}::timestamptz`,
          )
        ).rows,
      );
    await expect.poll(async () => (await rows()).length, { timeout: 15_000, interval: 250 }).toBe(priced.length);
    const stored = await rows();
    expect(stored.every((r) => r.model_run_id === null && r.feature_version === null)).toBe(true);
    for (const { m, o } of priced) {
      const point = m.kind === 'spread' ? o.point! : m.point;
      const row = stored.find((r) => r.market === m.market && r.outcome === o.outcome && r.point === point);
      expect(row, `${m.market} ${o.outcome} ${point}`).toBeDefined();
      expect(row!.probability).toBe(o.probability);
    }

    // Tip-off moves to just after that prediction, and the fixtures job fans the change out (the cache invalidated,
    // the feature queue told): from then on requests are served the stored one, never a new one.
    await withDb((db) => db.execute(sql`update matches set start_at = ${live.predictedAt}::timestamptz + interval '1 millisecond' where id = ${game}`));
    await newOddsFor(game);
    await withDb((db) => workerFanOut(env as unknown as Env, () => db).enqueueFeatureRecompute([{ matchId: game, reason: 'fixture' }]));
    await expect.poll(async () => (await predict(game, premium)).body.source, { timeout: 15_000, interval: 200 }).toBe('stored');
    const after = await predict(game, premium);
    expect(after.status, after.text).toBe(200);
    expect(after.body).toMatchObject({ source: 'stored', model: null, modelRunId: null, predictedAt: live.predictedAt });
    const shape = (p: Prediction) =>
      p.markets.filter((m) => m.anchor.source !== 'none').map((m) => [m.kind, m.market, m.point, outcomesOf(m).map((o) => [o.outcome, o.point ?? null, o.probability])]);
    expect(shape(after.body)).toEqual(shape(live));
  });
});
