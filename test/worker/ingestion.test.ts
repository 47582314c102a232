// The live ingestion jobs end to end inside workerd: the Cron Triggers against a loopback The Odds API
// (Ligue 1 2023/24 replayed on a clock the test moves), real Postgres, the MatchOdds DOs, KV and the feature
// queue. Every fault the provider can produce ends in a recorded failed job, no partial rows, and a next
// run that completes; the budget skips runs it cannot afford; the admin routes list and start runs.
import { createScheduledController, env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { runScheduled } from '../../cron';
import { runIngestion } from '../../cron/ingestion';
import { SCHEDULES, type ScheduleName } from '../../cron/schedules';
import { configFrom, type Env } from '../../src/env';
import { createLogger } from '../../src/lib/logging';
import { TheOddsApiClient } from '../../src/providers/the-odds-api/client';
import { JobRunner, type JobResult } from '../../src/services/jobs';
import { predictionCacheKey } from '../../src/services/predictions/cache';
import { promote, registerUser, type TestUser } from './support/auth';
import { api, expectProblem, reader, type Page } from './support/http';
import { connectLive, ticketFor } from './support/live';
import { withDb } from './support/models';

const silent = createLogger({}, () => undefined);
const STANDIN = inject('ingestionStandinUrl');
const KEY = inject('ingestionStandinKey');
const LIGUE_1 = 'soccer_france_ligue_one';

// Friday 6 October 2023: Strasbourg v Nantes kicks off at 19:00 UTC, the rest of the round over the weekend.
const T0 = '2023-10-06T12:00:00.000Z';

async function control(body: Record<string, unknown>): Promise<{ requests: number; creditsUsed: number }> {
  const res = await fetch(`${STANDIN}/__control`, { method: body ? 'POST' : 'GET', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return res.json();
}

async function standinState(): Promise<{ requests: number; creditsUsed: number }> {
  return (await fetch(`${STANDIN}/__control`)).json();
}

async function setClock(at: string): Promise<void> {
  await control({ now: at });
}

function cron(schedule: ScheduleName, at: string, overrides: Record<string, string> = {}): Promise<JobResult[]> {
  return runScheduled(createScheduledController({ scheduledTime: Date.parse(at), cron: SCHEDULES[schedule] }), { ...env, ...overrides } as Env, silent);
}

/** One odds run with a client that gives up fast, so the retried faults fail within the test's time. */
function oddsRun(at: string): Promise<JobResult> {
  const now = new Date(at);
  const provider = new TheOddsApiClient({
    apiKey: KEY,
    baseUrl: STANDIN,
    regions: 'uk,eu',
    markets: ['h2h', 'spreads', 'totals'],
    now: () => now,
    timeoutMs: 400,
    maxAttempts: 2,
    baseDelayMs: 5,
    maxDelayMs: 20,
    maxRetryAfterMs: 2000,
  });
  return withDb((db) => runIngestion('odds', { runner: new JobRunner(() => db, silent), now, config: configFrom(env), env, db: () => db, logger: silent, provider }));
}

async function one<T>(text: ReturnType<typeof sql>): Promise<T> {
  return withDb(async (db) => (await db.execute(text)).rows[0] as T);
}

const ligueOddsRows = () =>
  one<{ n: number }>(sql`
    select count(*)::int as n from odds_snapshots o join matches m on m.id = o.match_id join competitions c on c.id = m.competition_id
    where c.key = ${LIGUE_1} and o.provider = 'the-odds-api'`).then((r) => r.n);

const jobRow = (id: string) =>
  one<{ status: string; trigger: string; kind: string; provider: string; error: string | null; credits_used: number; credits_remaining: number | null; duration_ms: number | null; stats: Record<string, unknown> }>(
    sql`select status, trigger, kind, provider, error, credits_used, credits_remaining, duration_ms, stats from ingestion_jobs where id = ${id}`,
  );

let strasbourgNantes: number;

beforeAll(async () => {
  await control({ reset: true });
  await setClock(T0);
});

describe('the fixtures cron (hourly, free /events)', () => {
  it('creates the upcoming matches once and records the run', async () => {
    const [first] = await cron('fixtures', T0);
    expect(first).toMatchObject({ kind: 'fixtures', provider: 'the-odds-api', status: 'succeeded', creditsUsed: 0 });
    expect(first!.stats.fixtures).toBeGreaterThan(0);
    expect(first!.stats.created).toBe(first!.stats.fixtures);
    expect(first!.stats.unresolved).toBe(0);

    const match = await one<{ id: string; start_at: string; status: string }>(sql`
      select m.id::text as id, m.start_at, m.status from matches m
      join teams h on h.id = m.home_team_id join teams a on a.id = m.away_team_id
      where h.name = 'Strasbourg' and a.name = 'Nantes' and m.start_at between '2023-10-06T17:00Z' and '2023-10-06T21:00Z'`);
    expect(match.status).toBe('scheduled');
    strasbourgNantes = Number(match.id);

    const row = await jobRow(first!.id);
    expect(row).toMatchObject({ status: 'succeeded', trigger: 'cron', kind: 'fixtures', provider: 'the-odds-api', credits_used: 0, error: null });
    expect(row.duration_ms).toBeGreaterThanOrEqual(0);

    const [again] = await cron('fixtures', T0);
    expect(again).toMatchObject({ status: 'succeeded' });
    expect(again!.stats).toMatchObject({ created: 0, existing: first!.stats.fixtures });
  });
});

describe('the odds cron (every 5 minutes)', () => {
  it('stores the window once, feeds MatchOdds, clears the cached prediction and charges markets × regions', async () => {
    const runId = inject('defaultBundle').runId;
    const cacheKey = predictionCacheKey(runId, strasbourgNantes);
    await env.PREDICTIONS.put(cacheKey, 'stale prediction');
    const before = await ligueOddsRows();

    const [result] = await cron('odds', T0);
    expect(result, result?.error).toMatchObject({ kind: 'odds', status: 'succeeded', creditsUsed: 6 });
    expect(result!.creditsRemaining).toEqual(expect.any(Number));
    expect(result!.stats.inserted, JSON.stringify(result!.stats)).toBeGreaterThan(0);
    expect(result!.stats.inserted).toBe(result!.stats.rows);
    expect(result!.stats.matchesChanged).toBeGreaterThan(0);
    expect(await ligueOddsRows()).toBe(before + Number(result!.stats.inserted));

    // Every changed match reached its MatchOdds object (the stream test below sees the update arrive). Its
    // state does not stay: these 2023 kick-offs are long past by the real clock, so the eviction alarm fires.
    expect(result!.stats.liveStateFailures).toBe(0);
    // Deleted by the job; the queue consumer may already have warmed a fresh prediction under the same key.
    expect(await env.PREDICTIONS.get(cacheKey)).not.toBe('stale prediction');
    expect((await jobRow(result!.id)).credits_used).toBe(6);
  });

  it('stores nothing twice when the same payload arrives again', async () => {
    const before = await ligueOddsRows();
    const [result] = await cron('odds', T0);
    expect(result).toMatchObject({ status: 'succeeded' });
    expect(result!.stats, JSON.stringify(result!.stats)).toMatchObject({ inserted: 0 });
    expect(result!.stats.duplicates).toBe(result!.stats.rows);
    expect(await ligueOddsRows()).toBe(before);
  });

  it('skips a run that is not due, without calling the provider', async () => {
    const requests = (await standinState()).requests;
    // 12:05: the next kick-off is ~7 h away, polled every 30 minutes.
    const [result] = await cron('odds', '2023-10-06T12:05:00.000Z');
    expect(result).toMatchObject({ status: 'skipped', creditsUsed: 0 });
    expect(result!.stats.reason).toMatch(/not due/);
    expect((await standinState()).requests).toBe(requests);
  });

  it('skips a run the monthly budget cannot afford, and records why', async () => {
    const requests = (await standinState()).requests;
    const [result] = await cron('odds', '2023-10-06T14:00:00.000Z', { ODDS_API_MONTHLY_CREDITS: '50' });
    expect(result).toMatchObject({ status: 'skipped', creditsUsed: 0 });
    expect(result!.stats.reason).toMatch(/over budget: \d+ of 50 monthly credits spent, 10 allowed by now, this run needs 6/);
    expect((await standinState()).requests).toBe(requests);
    expect(await jobRow(result!.id)).toMatchObject({ status: 'skipped', credits_used: 0 });
  });

  it('sends a connected WebSocket client the update of the next poll', async () => {
    const premium = await registerUser('ingest-live').then((u) => promote(u, { tier: 'premium' }));
    const client = await connectLive(strasbourgNantes, await ticketFor(premium, strasbourgNantes));
    const first = await client.next();
    expect(first.type).toBe('state');
    const T1 = '2023-10-06T16:00:00.000Z';
    await setClock(T1);
    const [result] = await cron('odds', T1);
    expect(result, result?.error).toMatchObject({ status: 'succeeded' });
    const update = await client.next(5000);
    expect(update.type).toBe('update');
    if (update.type !== 'update') return;
    expect(update.matchId).toBe(strasbourgNantes);
    expect(update.changed.length).toBeGreaterThan(0);
    expect(update.changed.every((line) => line.capturedAt === T1)).toBe(true);
    client.ws.close();
  });
});

describe('provider faults', () => {
  // Retried faults fail only once every attempt has (the test client makes 2); the others fail at once.
  const FAULTS = [
    { mode: 'server_error', count: 2, error: /^server_error \(HTTP 500[^)]*\) after 2 attempt/ },
    { mode: 'timeout', count: 2, error: /^timeout after 2 attempt/ },
    { mode: 'rate_limit', count: 2, error: /^rate_limited \(HTTP 429[^)]*\) after 2 attempt/ },
    { mode: 'out_of_credits', count: 1, error: /^out_of_credits \(HTTP 401 OUT_OF_USAGE_CREDITS\) after 1 attempt/ },
    { mode: 'malformed', count: 1, error: /^invalid_payload .*after 1 attempt/ },
    { mode: 'truncated', count: 1, error: /^invalid_payload .*truncated/ },
    { mode: 'missing_outcomes', count: 1, error: /^invalid_payload .*outcomes/ },
    { mode: 'bad_price', count: 1, error: /^invalid_payload .*price/ },
  ] as const;

  // From 17:05 the next kick-off (19:00) is under 2 h away, so every 5-minute run is due.
  it.each(FAULTS.map((f, i) => ({ ...f, at: new Date(Date.parse('2023-10-06T17:05:00.000Z') + i * 5 * 60_000).toISOString() })))(
    '$mode: a recorded failed job, no partial rows, then a run that completes',
    async ({ mode, count, error, at }) => {
      await setClock(at);
      await control({ mode, count, path: '/odds', retryAfter: 1 });
      const before = await ligueOddsRows();

      const failed = await oddsRun(at);
      expect(failed.status, JSON.stringify(failed)).toBe('failed');
      expect(failed.error).toMatch(error);
      expect(await ligueOddsRows()).toBe(before);
      const row = await jobRow(failed.id);
      expect(row).toMatchObject({ status: 'failed', kind: 'odds' });
      expect(row.error).toMatch(error);

      const retried = await oddsRun(at);
      expect(retried.status, retried.error).toBe('succeeded');
      expect(retried.stats.inserted).toBeGreaterThan(0);
      expect(await ligueOddsRows()).toBe(before + Number(retried.stats.inserted));
    },
  );

  it('names the field of a payload that is rejected', async () => {
    const at = '2023-10-06T17:50:00.000Z';
    await setClock(at);
    await control({ mode: 'bad_price', count: 1, path: '/odds' });
    const failed = await oddsRun(at);
    expect(failed.status).toBe('failed');
    expect(failed.stats).toMatchObject({ errorKind: 'invalid_payload' });
    expect(String(failed.stats.path)).toMatch(/bookmakers\[\d+\]\.markets\[\d+\]\.outcomes/);
    await control({ reset: true });
  });
});

describe('the results cron (daily)', () => {
  it('finishes the played matches with their scores', async () => {
    const at = '2023-10-07T10:00:00.000Z';
    await setClock(at);
    const results = await cron('daily', at);
    const resultsJob = results.find((r) => r.kind === 'results');
    expect(resultsJob, JSON.stringify(results)).toMatchObject({ status: 'succeeded', provider: 'the-odds-api', creditsUsed: 2 });
    expect(resultsJob!.stats.updated).toBeGreaterThanOrEqual(1);
    const match = await one<{ status: string; home_score: number; away_score: number }>(sql`select status, home_score, away_score from matches where id = ${strasbourgNantes}`);
    // data/football-data/F1_2324.csv: Strasbourg 1–2 Nantes.
    expect(match).toEqual({ status: 'finished', home_score: 1, away_score: 2 });

    const again = (await cron('daily', at)).find((r) => r.kind === 'results');
    expect(again!.stats.updated).toBe(0);
  });
});

describe('the admin ingestion routes', () => {
  let admin: TestUser;
  const { getJson } = reader(() => ({ token: admin.accessToken }));
  beforeAll(async () => {
    admin = await registerUser('ingest-admin').then((u) => promote(u, { role: 'admin' }));
  });

  it('lists the runs newest first, filtered and cursor-paginated', async () => {
    const first = await getJson<Page<{ id: string; kind: string; status: string; startedAt: string; creditsUsed: number }>>('/admin/ingestion/jobs?kind=odds&limit=3');
    expect(first.data).toHaveLength(3);
    expect(first.data.every((j) => j.kind === 'odds')).toBe(true);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await getJson<Page<{ id: string; startedAt: string }>>(`/admin/ingestion/jobs?kind=odds&limit=3&cursor=${first.nextCursor}`);
    expect(second.data.length).toBeGreaterThan(0);
    expect(second.data.map((j) => j.id)).not.toContain(first.data[0]!.id);
    expect(Date.parse(second.data[0]!.startedAt)).toBeLessThanOrEqual(Date.parse(first.data[2]!.startedAt));

    const skipped = await getJson<Page<{ status: string; stats: { reason?: string } }>>('/admin/ingestion/jobs?status=skipped&limit=100');
    expect(skipped.data.length).toBeGreaterThanOrEqual(2);
    expect(skipped.data.every((j) => j.status === 'skipped' && typeof j.stats.reason === 'string')).toBe(true);

    await expectProblem('/admin/ingestion/jobs?status=exploded', 400, { token: admin.accessToken });
    await expectProblem(`/admin/ingestion/jobs?kind=fixtures&cursor=${first.nextCursor}`, 400, { token: admin.accessToken });
  });

  it('starts a run by hand and answers with the recorded job', async () => {
    const res = await api('/admin/ingestion/run', { method: 'POST', token: admin.accessToken, json: { kind: 'fixtures' } });
    const body = (await res.json()) as { id: string; kind: string; trigger: string; status: string };
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body).toMatchObject({ kind: 'fixtures', trigger: 'manual', status: 'succeeded' });
    expect(await jobRow(body.id)).toMatchObject({ trigger: 'manual', kind: 'fixtures' });

    const bad = await api('/admin/ingestion/run', { method: 'POST', token: admin.accessToken, json: { kind: 'everything' } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/problem\+json/);
  });
});
