// The live ingestion jobs end to end inside workerd: the Cron Triggers against a loopback The Odds API
// (Ligue 1 2023/24 replayed on a clock the test moves), real Postgres, the MatchOdds DOs, KV and the feature
// queue. Every fault the provider can produce ends in a recorded failed job, no partial rows, and a next
// run that completes; the budget skips runs it cannot afford; the admin routes list and start runs.
//
// The replay is deterministic, so the counts are known: kick-offs come from the repo's CSV (read here by hand),
// and what the job should store is what the stand-in answers for the job's own query (read here too).
/// <reference types="vite/client" />
import { createScheduledController, env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { runScheduled } from '../../src/jobs/scheduled';
import { runIngestion } from '../../src/jobs/ingestion';
import { SCHEDULES, type ScheduleName } from '../../src/jobs/schedules';
import { configFrom, type Env } from '../../src/env';
import { createLogger } from '../../src/lib/logging';
import { TheOddsApiClient } from '../../src/providers/the-odds-api/client';
import { JobRunner, type JobResult } from '../../src/services/jobs';
import { liveOddsKey, predictionCacheKey } from '../../src/services/predictions/cache';
import { promote, registerUser, type TestUser } from './support/auth';
import { api, expectProblem, reader, type Page } from './support/http';
import { connectLive, ticketFor } from './support/live';
import { withDb } from './support/models';
import ligue1Csv from '../../data/football-data/F1_2324.csv?raw';

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

const HOUR = 3_600_000;

/**
 * Ligue 1 2023/24 kick-offs between two instants, from the CSV. Its times are UK time: British Summer Time
 * (UTC+1) until 29 October 2023, and this file never asks about later weeks.
 */
function kickoffsBetween(from: string, to: string): Array<{ home: string; away: string; at: number }> {
  if (Date.parse(to) >= Date.parse('2023-10-29T01:00:00Z')) throw new Error('kickoffsBetween knows British Summer Time only');
  const [header, ...lines] = ligue1Csv.trim().split(/\r?\n/);
  const column = (name: string) => header!.split(',').indexOf(name);
  const [date, time, home, away] = ['Date', 'Time', 'HomeTeam', 'AwayTeam'].map(column) as [number, number, number, number];
  return lines
    .map((line) => {
      const f = line.split(',');
      const [d, m, y] = f[date]!.split('/').map(Number) as [number, number, number];
      const [hh, mm] = f[time]!.split(':').map(Number) as [number, number];
      return { home: f[home]!, away: f[away]!, at: Date.UTC(y, m - 1, d, hh - 1, mm) };
    })
    .filter((k) => k.at >= Date.parse(from) && k.at <= Date.parse(to));
}

interface PayloadEvent {
  commence_time: string;
  home_team: string;
  away_team: string;
  bookmakers: Array<{ key: string; markets: Array<{ key: string; outcomes: Array<{ name: string; price: number; point?: number }> }> }>;
}

/** The stand-in's answer, at its current clock, to the odds job's query for the window starting at `at`. */
async function providerOdds(at: string, windowMinutes: number): Promise<PayloadEvent[]> {
  const seconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const query = new URLSearchParams({
    apiKey: KEY,
    regions: 'uk,eu',
    markets: 'h2h,spreads,totals',
    oddsFormat: 'decimal',
    dateFormat: 'iso',
    commenceTimeFrom: seconds(Date.parse(at)),
    commenceTimeTo: seconds(Date.parse(at) + windowMinutes * 60_000),
  });
  const res = await fetch(`${STANDIN}/v4/sports/${LIGUE_1}/odds?${query}`);
  expect(res.status).toBe(200);
  return res.json();
}

/** One line per bookmaker, market and outcome, as the job stores them: `bookmaker|market|outcome|point|price`. */
function payloadLines(events: PayloadEvent[]): string[] {
  return events.flatMap((e) =>
    e.bookmakers.flatMap((b) =>
      b.markets.flatMap((m) =>
        m.outcomes.map((o) => {
          const outcome = m.key === 'totals' ? o.name.toLowerCase() : o.name === e.home_team ? 'home' : o.name === e.away_team ? 'away' : 'draw';
          return `${b.key}|${m.key}|${outcome}|${m.key === 'h2h' ? null : (o.point ?? null)}|${o.price}`;
        }),
      ),
    ),
  );
}

/** The odds runs this file saw skipped (not due, over budget), which the admin list must show. */
const skippedOddsRuns: string[] = [];

beforeAll(async () => {
  await control({ reset: true });
  await setClock(T0);
});

describe('the fixtures cron (hourly, free /events)', () => {
  it('creates the upcoming matches once and records the run', async () => {
    const [first] = await cron('fixtures', T0);
    expect(first).toMatchObject({ kind: 'fixtures', provider: 'the-odds-api', status: 'succeeded', creditsUsed: 0 });
    // Every Ligue 1 kick-off of the next 14 days (round 8, 6–8 October; round 9 starts on the 20th, past the horizon).
    const upcoming = kickoffsBetween(T0, new Date(Date.parse(T0) + 14 * 24 * HOUR).toISOString());
    expect(upcoming.length).toBeGreaterThan(0);
    expect(first!.stats.fixtures).toBe(upcoming.length);
    expect(first!.stats.created).toBe(upcoming.length);
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
    await env.PREDICTIONS.put(liveOddsKey(strasbourgNantes), 'stale copy');
    const before = await ligueOddsRows();

    const [result] = await cron('odds', T0);
    expect(result, result?.error).toMatchObject({ kind: 'odds', status: 'succeeded', creditsUsed: 6 });
    expect(result!.creditsRemaining).toEqual(expect.any(Number));
    // Seven hours before the first kick-off the whole 48 h tier is polled: every line the provider quotes for
    // the kick-offs in it is stored, and every one of those matches is new to MatchOdds.
    expect(result!.stats.window).toBe(`${LIGUE_1}:2880m`);
    const payload = await providerOdds(T0, 2880);
    expect(payload).toHaveLength(kickoffsBetween(T0, new Date(Date.parse(T0) + 48 * HOUR).toISOString()).length);
    const lines = payloadLines(payload).length;
    expect(lines).toBeGreaterThan(0);
    expect(result!.stats, JSON.stringify(result!.stats)).toMatchObject({ events: payload.length, rows: lines, inserted: lines, matchesChanged: payload.length });
    expect(await ligueOddsRows()).toBe(before + lines);

    // Every changed match reached its MatchOdds object (the stream test below sees the update arrive). Its
    // state does not stay: these 2023 kick-offs are long past by the real clock, so the eviction alarm fires.
    expect(result!.stats.liveStateFailures).toBe(0);
    // Deleted by the job; the queue consumer may already have warmed a fresh prediction under the same key.
    expect(await env.PREDICTIONS.get(cacheKey)).not.toBe('stale prediction');
    // The job publishes a changed match's live odds for misses to read until its kick-off; by the real clock
    // these kick-offs are past, so it publishes none (the planted copy goes), and a miss would ask the object.
    expect(await env.PREDICTIONS.get(liveOddsKey(strasbourgNantes))).toBeNull();
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
    skippedOddsRuns.push(result!.id);
    expect(result!.stats.reason).toMatch(/not due/);
    expect((await standinState()).requests).toBe(requests);
  });

  it('skips a run the monthly budget cannot afford, and records why', async () => {
    const requests = (await standinState()).requests;
    const [result] = await cron('odds', '2023-10-06T14:00:00.000Z', { ODDS_API_MONTHLY_CREDITS: '50' });
    expect(result).toMatchObject({ status: 'skipped', creditsUsed: 0 });
    skippedOddsRuns.push(result!.id);
    expect(result!.stats.reason).toMatch(/over budget: \d+ of 50 monthly credits spent, 10 allowed by now, this run needs 6/);
    expect((await standinState()).requests).toBe(requests);
    expect(await jobRow(result!.id)).toMatchObject({ status: 'skipped', credits_used: 0 });
  });

  it('sends a connected WebSocket client the update of the next poll', async () => {
    const premium = await registerUser('ingest-live').then((u) => promote(u, { tier: 'premium' }));
    const client = await connectLive(strasbourgNantes, await ticketFor(premium, strasbourgNantes));
    const first = await client.next();
    expect(first.type).toBe('state');
    if (first.type !== 'state') return;
    const T1 = '2023-10-06T16:00:00.000Z';
    await setClock(T1);
    const [result] = await cron('odds', T1);
    expect(result, result?.error).toMatchObject({ status: 'succeeded' });
    const update = await client.next(5000);
    expect(update.type).toBe('update');
    if (update.type !== 'update') return;
    expect(update.matchId).toBe(strasbourgNantes);
    // The update carries every line the provider quotes at 16:00 that the state the client was sent did not
    // hold at that price: new lines and moved prices. (That state may be empty: the 12:00 prices of a 2023 match
    // are evicted at once, its kick-off being long past by the real clock.)
    const line = (l: { bookmaker: string; market: string; outcome: string; point: number | null; price: number }) => `${l.bookmaker}|${l.market}|${l.outcome}|${l.point}|${l.price}`;
    const held = new Set(first.lines.map(line));
    const quoted = payloadLines((await providerOdds(T1, 2880)).filter((e) => e.commence_time === '2023-10-06T19:00:00Z'));
    const expected = quoted.filter((l) => !held.has(l));
    expect(expected.length).toBeGreaterThan(0);
    expect(update.changed.map(line).sort()).toEqual(expected.sort());
    expect(update.changed.every((l) => l.capturedAt === T1)).toBe(true);
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
      // Under two hours to Strasbourg v Nantes: the 2 h tier alone, that match's lines, all new (prices moved).
      expect(retried.stats.window).toBe(`${LIGUE_1}:120m`);
      const lines = payloadLines(await providerOdds(at, 120)).length;
      expect(lines).toBeGreaterThan(0);
      expect(retried.stats).toMatchObject({ events: 1, rows: lines, inserted: lines });
      expect(await ligueOddsRows()).toBe(before + lines);
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
    // The stand-in reports a match completed two hours after kick-off; of the last three days that is
    // Strasbourg v Nantes alone (Friday 19:00; the next kick-off is Saturday 15:00).
    const played = kickoffsBetween(new Date(Date.parse(at) - 72 * HOUR).toISOString(), new Date(Date.parse(at) - 2 * HOUR).toISOString());
    expect(played.map((k) => `${k.home} v ${k.away}`)).toEqual(['Strasbourg v Nantes']);
    expect(resultsJob!.stats).toMatchObject({ completed: played.length, updated: played.length });
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

    // Other files' jobs share the database, so the list holds at least this file's two skipped odds runs.
    const skipped = await getJson<Page<{ id: string; status: string; stats: { reason?: string } }>>('/admin/ingestion/jobs?status=skipped&limit=100');
    expect(skipped.data.map((j) => j.id)).toEqual(expect.arrayContaining(skippedOddsRuns));
    expect(skippedOddsRuns).toHaveLength(2);
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
