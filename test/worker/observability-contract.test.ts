// One source of truth for names: every metric (with the attributes it is filtered and grouped by) and every
// log field that terraform/modules/observability's monitors and dashboards query must be emitted by the code.
// The queries come from the module itself (read by global-setup through scripts/lib/observability-contract.ts);
// this file drives the code paths that emit them, in workerd: requests (a 503, a cache miss and hit, a
// rate-limit refusal, an export the collector refuses), the ingestion crons (unresolved names, a failure, a
// budget skip), a prediction write on its last attempt, and the daily settlement of a model behind the market.
// Metrics come back through the loopback OTLP receiver, logs from the Worker's stdout. A renamed metric,
// attribute or log field fails here, not on a dashboard.
import { createExecutionContext, createMessageBatch, createScheduledController, env, getQueueResult, waitOnExecutionContext } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { SCHEDULES } from '../../src/jobs/schedules';
import { configFrom } from '../../src/env';
import worker from '../../src/index';
import { forgetActiveRun, forgetRuntime } from '../../src/services/predictions/model-service';
import { PredictionStore } from '../../src/services/predictions/store';
import type { MatchPrediction, PredictedOutcome } from '../../src/services/predictions/types';
import type { ObservabilityContract } from '../../scripts/lib/observability-contract';
import { describeLogUse, describeMetricUse, logUseMet, metricUseMet, type EmittedMetric } from '../../scripts/lib/observability-match';
import type { ReceivedMetric } from '../../scripts/lib/otlp-receiver';
import { promote, registerUser } from './support/auth';
import { randomIp } from './support/http';
import { insertModelRun, withDb } from './support/models';
import { insertPricedMatch, uploadDefaultBundle } from './support/predictable-match';

const RECEIVER = inject('otlpReceiver');
// A service name of this file's own: the receiver holds every file's exports, and only this file's count here.
const SERVICE = `senzu-contract-${crypto.randomUUID().slice(0, 8)}`;
const telemetryEnv = { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: RECEIVER, OTEL_METRIC_EXPORT_INTERVAL: '0', OTEL_SERVICE_NAME: SERVICE };
const STANDIN_CLOCK = Date.parse('2023-09-29T12:00:00Z');

const lines: Record<string, unknown>[] = [];

beforeAll(() => {
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
    try {
      lines.push(JSON.parse(String(line)) as Record<string, unknown>);
    } catch {
      // Not a structured line (a library's own output): no monitor reads it.
    }
  });
});
afterAll(() => vi.restoreAllMocks());

async function request(path: string, init: { env?: Record<string, unknown>; headers?: Record<string, string> } = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://api.test${path}`, { headers: { 'cf-connecting-ip': randomIp(), ...init.headers } }) as Request<unknown, IncomingRequestCfProperties>,
    (init.env ?? telemetryEnv) as typeof env,
    ctx,
  );
  await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  return res;
}

async function cron(cron: string, scheduledTime: number, overrides: Record<string, string> = {}): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime, cron }), { ...telemetryEnv, ...overrides } as typeof env, ctx);
  await waitOnExecutionContext(ctx);
}

async function emittedMetrics(): Promise<EmittedMetric[]> {
  const { metrics } = (await (await fetch(`${RECEIVER}/received/metrics`)).json()) as { metrics: ReceivedMetric[] };
  return metrics.filter((m) => m.resource['service.name'] === SERVICE);
}

/**
 * The job rows a cron left, to check that a scenario happened. Deliberately not the log lines: their fields are
 * what the final test checks, and a renamed field must fail there, with the monitors that read it.
 */
async function jobRows(kind: string, status: string): Promise<Array<{ stats: Record<string, unknown> }>> {
  return withDb(
    async (db) =>
      (await db.execute<{ stats: Record<string, unknown> }>(sql`select stats from ingestion_jobs where kind = ${kind} and status = ${status} order by started_at`)).rows,
  );
}

describe('what the monitors and dashboards query is what the code emits', () => {
  const contract = inject('observabilityContract') as ObservabilityContract | { error: string };
  let runId: string;
  let matchId: number;
  let pro: Awaited<ReturnType<typeof registerUser>>;

  beforeAll(async () => {
    pro = await promote(await registerUser('contract-pro'), { tier: 'pro' });
    runId = await withDb(async (db) => String((await db.execute<{ id: string }>(sql`select r.id from model_runs r join sports s on s.id = r.sport_id where r.status = 'active' and s.key = 'soccer'`)).rows[0]!.id));
    matchId = await insertPricedMatch({ hoursAhead: 50, provider: 'contract-test' });
  }, 60_000);

  it('reads the queries of terraform/modules/observability', () => {
    expect('error' in contract ? contract.error : null).toBeNull();
    const { metrics, logs, service } = contract as ObservabilityContract;
    expect(new Set(metrics.map((m) => m.metric)).size).toBeGreaterThanOrEqual(6);
    // The monitors' service tag, where wrangler.toml sets no OTEL_SERVICE_NAME, is the code's default
    // (the consistency test compares each environment's).
    expect(configFrom({ ...env, OTEL_SERVICE_NAME: undefined }).OTEL_SERVICE_NAME).toBe(service);
    expect(logs.length).toBeGreaterThanOrEqual(10);
  });

  it('requests: a 503 before the bundle is in R2, then a miss and a hit, a rate-limit refusal, a refused export', async () => {
    const auth = { authorization: `Bearer ${pro.accessToken}` };
    expect((await request(`/matches/${matchId}/predictions`, { headers: auth })).status).toBe(503);
    await uploadDefaultBundle();
    // The isolate remembers a broken bundle for a while; the bundle is there now.
    forgetActiveRun();
    forgetRuntime(runId);
    const miss = await request(`/matches/${matchId}/predictions`, { headers: auth });
    expect([miss.status, miss.headers.get('x-cache')]).toEqual([200, 'MISS']);
    const hit = await request(`/matches/${matchId}/predictions`, { headers: auth });
    expect([hit.status, hit.headers.get('x-cache')]).toEqual([200, 'HIT']);

    const limited = { ...telemetryEnv, ANONYMOUS_RATE_LIMIT: '1' };
    const ip = randomIp();
    const statuses = [];
    for (let i = 0; i < 2; i++) statuses.push((await request(`/matches/${matchId}`, { env: limited, headers: { 'cf-connecting-ip': ip } })).status);
    expect(statuses).toEqual([200, 429]);

    expect((await request('/health', { env: { ...telemetryEnv, OTEL_EXPORTER_OTLP_ENDPOINT: `${RECEIVER}/nowhere` } })).status).toBe(200);
  }, 120_000);

  it('a prediction write that fails on its last attempt is retried into the dead-letter queue, and says so', async () => {
    const cached = await env.PREDICTIONS.get<MatchPrediction>(`pred:v2:${runId}:${matchId}`, 'json');
    expect(cached, 'the miss above cached its prediction').not.toBeNull();
    // A match that does not exist: the insert fails on its foreign key, as a write to a deleted match would.
    const body = { ...cached!, matchId: 2_000_000_000 };
    const batch = createMessageBatch('senzu-prediction-writes', [{ id: 'contract-dead-letter', timestamp: new Date(), attempts: 11, body }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(['contract-dead-letter']);
  });

  it('ingestion: fixtures with names nobody aliased, a failed run, and an odds poll over budget', async () => {
    const standin = { ODDS_API_BASE_URL: inject('observabilityStandinUrl'), ODDS_API_KEY: inject('observabilityStandinKey'), ODDS_API_SPORTS: 'soccer_france_ligue_one' };
    await cron(SCHEDULES.fixtures, STANDIN_CLOCK, standin);
    expect(await jobRows('fixtures', 'succeeded')).toHaveLength(1);
    const unresolved = await withDb(async (db) => (await db.execute<{ name: string }>(sql`select name from unresolved_team_names`)).rows);
    expect(unresolved.map((r) => r.name)).toEqual(['FC Nowhere']);

    await cron(SCHEDULES.fixtures, STANDIN_CLOCK, { ...standin, ODDS_API_KEY: 'not-the-key' });
    expect(await jobRows('fixtures', 'failed')).toHaveLength(1);

    // A Premier League match two hours after the stand-in's clock makes the odds poll due; a plan of one
    // credit a month cannot pay for it.
    await withDb((db) =>
      db.execute(sql`
        insert into matches (sport_id, competition_id, season, home_team_id, away_team_id, start_at, start_time_known, status, provider, external_match_id)
        select sport_id, competition_id, null, away_team_id, home_team_id, ${new Date(STANDIN_CLOCK + 2 * 3_600_000).toISOString()}::timestamptz, true, 'scheduled', 'contract-test', 'contract-budget'
        from matches where season = '2023-24' order by start_at, id limit 1`),
    );
    await cron(SCHEDULES.odds, STANDIN_CLOCK, { ...standin, ODDS_API_SPORTS: 'soccer_epl', ODDS_API_MONTHLY_CREDITS: '1' });
    expect((await jobRows('odds', 'skipped')).map((r) => r.stats.reason)).toEqual([expect.stringMatching(/^over budget/)]);
  }, 120_000);

  it('settlement: a model run confidently wrong on a finished round is behind the market on both markets', async () => {
    const run = await insertModelRun({ name: `contract-behind-${crypto.randomUUID()}` });
    const finished = await withDb(
      async (db) =>
        (
          await db.execute<{ id: number; start_at: string; home_score: number; away_score: number }>(sql`
            select id::int as id, start_at, home_score, away_score from matches
            where season = '2023-24' and status = 'finished' order by start_at desc, id limit 10`)
        ).rows,
    );
    expect(finished).toHaveLength(10);
    await withDb(async (db) => {
      const store = new PredictionStore(() => db);
      for (const m of finished) await store.persist(wrongPrediction(run.id, m));
    });
    await cron(SCHEDULES.daily, Date.UTC(2024, 5, 20, 3, 30));
    const [settled] = await jobRows('settlement', 'succeeded');
    const behind = (settled!.stats.behindMarket as Array<{ modelRunId: string; market: string }>).filter((b) => b.modelRunId === run.id);
    expect(behind.map((b) => b.market).sort()).toEqual(['h2h', 'totals']);
  }, 120_000);

  it('every metric and log field the monitors and dashboards use was emitted', async () => {
    const { metrics, logs } = contract as ObservabilityContract;
    const emitted = await emittedMetrics();
    const unmet = [
      ...metrics.filter((use) => !metricUseMet(use, emitted)).map(describeMetricUse),
      ...logs.filter((use) => !logUseMet(use, lines)).map(describeLogUse),
    ];
    expect(unmet).toEqual([]);
  });
});

/**
 * The prediction of record an hour before kick-off of a model that gives the result that happened 5 %, beside a
 * market that gave every outcome the same chance: its log loss is worse on both markets.
 */
function wrongPrediction(modelRunId: string, m: { id: number; start_at: string; home_score: number; away_score: number }): MatchPrediction {
  const kickoff = new Date(m.start_at);
  const h2h: PredictedOutcome = m.home_score > m.away_score ? 'home' : m.home_score < m.away_score ? 'away' : 'draw';
  const totals: PredictedOutcome = m.home_score + m.away_score > 2.5 ? 'over' : 'under';
  const outcome = <O extends PredictedOutcome>(o: O, actual: PredictedOutcome, others: number, market: number) => {
    const probability = o === actual ? 0.05 : 0.95 / others;
    return { outcome: o, probability, fairOdds: 1 / probability, bestPrice: null, bestBookmaker: null, bestPriceNet: null, marketProbability: market, expectedValue: null, kellyFraction: null, kellyStake: null };
  };
  const anchor = { source: 'pinnacle' as const, bookmakers: ['pinnacle'], marginMethod: 'multiplicative' as const, lastUpdate: new Date(kickoff.getTime() - 2 * 3_600_000).toISOString(), hoursToKickoff: 2 };
  return {
    matchId: m.id,
    model: { runId: modelRunId, name: 'observability', featureVersion: 'v1' },
    modelRunId,
    featureVersion: 'v1',
    predictedAt: new Date(kickoff.getTime() - 3_600_000).toISOString(),
    kickoff: kickoff.toISOString(),
    kellyMultiplier: 0.25,
    exchangeCommission: 0.05,
    markets: [
      { kind: '1x2', market: 'h2h', point: null, anchor, outcomes: (['home', 'draw', 'away'] as const).map((o) => outcome(o, h2h, 2, 1 / 3)) },
      { kind: 'total', market: 'totals', point: 2.5, anchor, outcomes: (['over', 'under'] as const).map((o) => outcome(o, totals, 1, 1 / 2)) },
    ],
  };
}
