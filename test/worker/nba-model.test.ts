// The NBA priced by its own model run, through the Worker: the stand-in replays NBA 2021/22 on the real clock, the
// fixtures and odds crons ingest it into a database of this file's own, which holds the archive's 2020/21 season
// (so the basketball feature store has a history) and both committed default runs, each its sport's active one
// (test/global-setup.ts). A premium user's prediction of an upcoming game is the NBA run's: the moneyline moved
// (here: not moved, the committed model has no trees) off the margin-free consensus under the run's margin method,
// the spreads and totals the market's; it is made from the game's nba-v1 vector, which is persisted beside it.
// Retiring the run turns the game market-only; activating it again through the gate brings the run back, and
// football's run stays active throughout.
import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { removeMargin, type MarginMethod } from '../../src/domain/odds';
import { eloEntering, NBA_FEATURE_INDEX, type NbaTeamState } from '../../src/services/features/basketball';
import { invalidateActiveRun } from '../../src/services/predictions/model-service';
import { predictionCacheKey } from '../../src/services/predictions/cache';
import type { components } from '../../client/openapi';
import { api } from './support/http';
import { promote, registerUser, type TestUser } from './support/auth';
import { withDb } from './support/models';
import { ingestNbaReplay, liveState, newOddsFor } from './support/nba-replay';
import { uploadDefaultBundle } from './support/predictable-match';

const nbaBundle = inject('nbaDefaultBundle');
const footballBundle = inject('defaultBundle');
const manifest = JSON.parse(atob(nbaBundle.files['bundle.json']!)) as { anchor: { h2h: { marginMethod: MarginMethod } }; featureNames: string[] };


type Prediction = components['schemas']['MatchPrediction'];
type Market = Prediction['markets'][number];
type Outcome = Market['outcomes'][number] & { point?: number };
const outcomesOf = (m: Market): Outcome[] => m.outcomes;

let premium: TestUser;
let admin: TestUser;
let game: number;
/** The runs of the default bundles in this file's database (the provided run ids are the main database's). */
let nbaRunId: string;
let footballRunId: string;


async function predict(matchId: number) {
  const res = await api(`/matches/${matchId}/predictions`, { token: premium.accessToken });
  const text = await res.text();
  return { res, status: res.status, text, body: JSON.parse(text) as Prediction };
}

beforeAll(async () => {
  await uploadDefaultBundle();
  const runIdOf = async (name: string) =>
    (await withDb(async (db) => (await db.execute<{ id: string }>(sql`select id from model_runs where name = ${name}`)).rows[0]!.id));
  [nbaRunId, footballRunId] = await Promise.all([runIdOf(nbaBundle.id), runIdOf(footballBundle.id)]);
  premium = await promote(await registerUser('nba-model-premium'), { tier: 'premium' });
  admin = await promote(await registerUser('nba-model-admin'), { role: 'admin' });
  game = await ingestNbaReplay();
}, 120_000);

describe('the NBA replay priced by the NBA run', () => {
  it("prices the moneyline by the run off the consensus under the run's margin method, and leaves spreads and totals the market's", async () => {
    // The feature queue warms the run's prediction after the odds job: the first request is a hit.
    await expect.poll(() => env.PREDICTIONS.get(predictionCacheKey(nbaRunId, game)), { timeout: 15_000, interval: 100 }).not.toBeNull();
    const { res, status, text, body } = await predict(game);
    expect(status, text).toBe(200);
    expect(res.headers.get('x-cache')).toBe('HIT');
    expect(res.headers.get('x-model-run')).toBe(nbaRunId);
    expect(body).toMatchObject({ matchId: game, model: { runId: nbaRunId, name: nbaBundle.id, featureVersion: 'nba-v1' }, modelRunId: nbaRunId, featureVersion: 'nba-v1' });

    const live = await liveState(game);
    const kinds = body.markets.map((m) => m.kind);
    expect(kinds[0]).toBe('moneyline');
    expect(kinds).toContain('spread');
    expect(kinds).toContain('total');
    for (const m of body.markets) {
      const consensus = live.consensus.find((c) => c.market === m.market && c.point === m.point);
      expect(m.anchor.source).toBe(consensus ? 'consensus' : 'none');
      for (const o of outcomesOf(m)) {
        if (m.kind === 'moneyline') {
          // The run's anchor: the consensus's median prices under its margin method; its trees (none) move it.
          expect(m.anchor.marginMethod).toBe(manifest.anchor.h2h.marginMethod);
          const medians = (['home', 'away'] as const).map((side) => consensus!.outcomes.find((c) => c.outcome === side)!.medianPrice);
          const anchor = removeMargin(medians, manifest.anchor.h2h.marginMethod).probabilities[o.outcome === 'home' ? 0 : 1]!;
          expect(o.marketProbability).toBeCloseTo(anchor, 12);
          expect(o.probability).toBeCloseTo(anchor, 12);
        } else {
          expect(m.anchor.marginMethod).toBe('multiplicative');
          expect(o.probability).toBe(consensus?.outcomes.find((c) => c.outcome === o.outcome)?.probability ?? null);
        }
        if (o.probability !== null && typeof o.bestPriceNet === 'number') {
          expect(o.expectedValue).toBeCloseTo(o.probability * o.bestPriceNet - 1, 12);
          expect(o.fairOdds).toBeCloseTo(1 / o.probability, 12);
        }
      }
    }
    const moneyline = body.markets[0]!;
    expect(moneyline.outcomes.map((o) => o.outcome)).toEqual(['home', 'away']);
    expect(moneyline.outcomes.every((o) => o.probability !== null && o.expectedValue !== null)).toBe(true);
  });

  it("persists the run's rows with the game's nba-v1 vector, whose ratings are the store's teams entering the new season and whose lines are the live consensus", async () => {
    const { body } = await predict(game);
    type VectorRow = { feature_version: string; values: Array<number | null> };
    const vector = () =>
      withDb(async (db) =>
        (
          await db.execute<VectorRow>(
            sql`select feature_version, values::float8[] as values from served_feature_vectors where match_id = ${game} and model_run_id = ${nbaRunId}::uuid and predicted_at = ${body.predictedAt}::timestamptz`,
          )
        ).rows[0],
      );
    await expect.poll(vector, { timeout: 15_000, interval: 250 }).toBeDefined();
    const served = (await vector())!;
    expect(served.feature_version).toBe('nba-v1');
    const at = (name: keyof typeof NBA_FEATURE_INDEX) => served.values[NBA_FEATURE_INDEX[name]];
    const values = (v: number | null | undefined) => (v === null || v === undefined ? NaN : Number(v));

    const rows = await withDb(async (db) =>
      (
        await db.execute<{ side: string; state: NbaTeamState | null; season: string }>(sql`
          select side, s.state, m.season from matches m
          cross join lateral (values ('home', m.home_team_id), ('away', m.away_team_id)) as t(side, team_id)
          left join feature_team_states s on s.feature_version = 'nba-v1' and s.team_id = t.team_id
          where m.id = ${game}`)
      ).rows,
    );
    for (const r of rows) {
      // Both teams played 2020/21 in the archive: their stored states carry it into 2021/22.
      expect(r.state, `${r.side} team state`).not.toBeNull();
      expect(r.state!.season).toBe('2020-21');
      expect(values(at(r.side === 'home' ? 'elo_home' : 'elo_away'))).toBeCloseTo(eloEntering(r.state!, r.season), 3);
      expect(at(r.side === 'home' ? 'season_games_home' : 'season_games_away')).toBe(0);
    }
    expect(values(at('elo_home'))).not.toBe(1500);

    const live = await liveState(game);
    const h2h = live.consensus.find((c) => c.market === 'h2h')!;
    const [home, away] = (['home', 'away'] as const).map((o) => h2h.outcomes.find((c) => c.outcome === o)!.medianPrice);
    expect(values(at('mkt_p_home'))).toBeCloseTo(1 / home! / (1 / home! + 1 / away!), 5);
    const quotedMost = (market: 'spreads' | 'totals') => Math.max(...live.consensus.filter((c) => c.market === market).map((c) => c.bookmakers));
    const spreadLines = live.consensus.filter((c) => c.market === 'spreads' && c.bookmakers === quotedMost('spreads')).map((c) => c.point);
    const totalLines = live.consensus.filter((c) => c.market === 'totals' && c.bookmakers === quotedMost('totals')).map((c) => c.point);
    expect(spreadLines).toContain(at('mkt_spread_home'));
    expect(totalLines).toContain(at('mkt_total'));

    type Row = { model_run_id: string | null; feature_version: string | null; market: string };
    const persisted = await withDb(async (db) =>
      (await db.execute<Row>(sql`select model_run_id, feature_version, market from predictions where match_id = ${game} and predicted_at = ${body.predictedAt}::timestamptz`)).rows,
    );
    expect(new Set(persisted.map((r) => r.market))).toEqual(new Set(['h2h', 'spreads', 'totals']));
    expect(persisted.every((r) => r.model_run_id === nbaRunId && r.feature_version === 'nba-v1')).toBe(true);
  });

  it("turns market-only when the NBA run is retired, and the run's again once an admin activates it through the gate; football's run stays active", async () => {
    await withDb((db) => db.execute(sql`update model_runs set status = 'retired', retired_at = now() where id = ${nbaRunId}::uuid`));
    await invalidateActiveRun(env.PREDICTIONS);
    await newOddsFor(game);
    // The isolate's copy of the active runs lives ACTIVE_RUN_ISOLATE_TTL_MS; the poll waits it out.
    await expect.poll(async () => (await predict(game)).body.model, { timeout: 30_000, interval: 500 }).toBeNull();
    const marketOnly = (await predict(game)).body;
    expect(marketOnly.markets[0]!.anchor.marginMethod).toBe('multiplicative');

    const activated = await api(`/models/${nbaRunId}/activate`, { method: 'POST', token: admin.accessToken, json: {} });
    expect(activated.status, await activated.clone().text()).toBe(200);
    expect(await activated.json()).toMatchObject({ id: nbaRunId, sport: 'basketball', status: 'active', activationForced: false });
    await newOddsFor(game);
    await expect.poll(async () => (await predict(game)).body.model?.runId ?? null, { timeout: 30_000, interval: 500 }).toBe(nbaRunId);

    const models = await (await api('/models', { token: admin.accessToken })).json<{ data: Array<{ id: string; sport: string; status: string }> }>();
    const active = models.data.filter((m) => m.status === 'active').map((m) => [m.sport, m.id]);
    expect(active.sort()).toEqual([
      ['basketball', nbaRunId],
      ['soccer', footballRunId],
    ]);
  }, 90_000);
});
