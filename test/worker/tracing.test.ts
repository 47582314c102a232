// Traces and metrics over OTLP/HTTP to a real loopback receiver (scripts/lib/otlp-receiver.ts, started by
// test/global-setup.ts): the spans of a request form the expected tree (server span → Durable Object, KV, R2,
// inference, Postgres), carry the caller's W3C trace context, and the request log line names the same trace.
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { matchOddsName } from '../../durable-objects/match-odds';
import { SCHEDULES } from '../../src/jobs/schedules';
import { configFrom } from '../../src/env';
import worker from '../../src/index';
import { flushMetrics, metrics, recordJobOutcome } from '../../src/lib/metrics';
import { otlpSettingsFrom } from '../../src/lib/tracing';
import type { ReceivedMetric, ReceivedSpan } from '../../scripts/lib/otlp-receiver';
import { promote, registerUser, type TestUser } from './support/auth';
import { livePath, ticketFor } from './support/live';
import { randomIp } from './support/http';
import { withDb } from './support/models';
import { insertPricedMatch, uploadDefaultBundle } from './support/predictable-match';

const RECEIVER = inject('otlpReceiver');
const telemetryEnv = { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: RECEIVER, OTEL_METRIC_EXPORT_INTERVAL: '0' };
const SERVER = 2;
const CLIENT = 3;

afterEach(() => vi.restoreAllMocks());

const hex = (bytes: number) => [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');

/** One request with telemetry on, its trace context set by "the caller"; returns once waitUntil work is done. */
async function tracedRequest(path: string, headers: Record<string, string> = {}) {
  const traceId = hex(16);
  const callerSpanId = hex(8);
  const logged: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => void logged.push(String(line)));
  const ctx = createExecutionContext();
  const request = new Request(`http://api.test${path}`, {
    headers: { traceparent: `00-${traceId}-${callerSpanId}-01`, 'cf-connecting-ip': randomIp(), ...headers },
  });
  const res = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, telemetryEnv, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  vi.restoreAllMocks();
  const lines = logged.map((l) => JSON.parse(l) as Record<string, unknown>);
  const received = (await (await fetch(`${RECEIVER}/received/traces?traceId=${traceId}`)).json()) as { spans: ReceivedSpan[]; rejected: string[] };
  return { res, text, traceId, callerSpanId, lines, spans: received.spans, rejected: received.rejected };
}

async function receivedMetrics(): Promise<ReceivedMetric[]> {
  return ((await (await fetch(`${RECEIVER}/received/metrics`)).json()) as { metrics: ReceivedMetric[] }).metrics;
}

/**
 * The receiver keeps everything since the run began (earlier tests of this file exported too), so counts are
 * compared before and after the one request under test: a sum's points add `asInt`, a histogram's `count`.
 */
function total(metrics: ReceivedMetric[], name: string, where: (attributes: Record<string, unknown>) => boolean): number {
  return metrics
    .filter((m) => m.name === name)
    .flatMap((m) => m.dataPoints)
    .filter((p) => where(p.attributes))
    .reduce((n, p) => n + Number(p.asInt ?? p.count), 0);
}

/** The spans as a tree of names under the root, children sorted, for a readable failure diff. */
function treeOf(spans: ReceivedSpan[], root: ReceivedSpan): unknown {
  const children = spans.filter((s) => s.parentSpanId === root.spanId);
  return { [root.name]: [...new Set(children.map((c) => JSON.stringify(treeOf(spans, c))))].sort().map((c) => JSON.parse(c)) };
}

function expectWellFormedTree(spans: ReceivedSpan[], traceId: string, callerSpanId: string): ReceivedSpan {
  const roots = spans.filter((s) => s.parentSpanId === callerSpanId);
  expect(roots, 'exactly one server span, a child of the caller\'s span').toHaveLength(1);
  const root = roots[0]!;
  expect(root.kind).toBe(SERVER);
  const ids = new Set(spans.map((s) => s.spanId));
  expect(ids.size, 'span ids are unique').toBe(spans.length);
  for (const s of spans) {
    expect(s.traceId).toBe(traceId);
    if (s !== root) expect(ids.has(s.parentSpanId!), `${s.name}'s parent is in the trace`).toBe(true);
    expect(BigInt(s.startTimeUnixNano) >= BigInt(root.startTimeUnixNano), `${s.name} starts within the request`).toBe(true);
    expect(s.resource).toMatchObject({ 'service.name': 'senzu-api', 'deployment.environment.name': 'test', 'cloud.platform': 'cloudflare_workers' });
  }
  return root;
}

describe('OTLP traces of the request path', () => {
  let matchId: number;
  beforeAll(async () => {
    matchId = await withDb(async (db) => Number((await db.execute<{ id: string }>(sql`select min(id) as id from matches`)).rows[0]!.id));
  });

  it('GET /matches/{matchId}: server span → RateLimiter RPC and the Postgres query, joined to the caller\'s trace', async () => {
    const { res, traceId, callerSpanId, lines, spans, rejected } = await tracedRequest(`/matches/${matchId}`);
    expect(res.status).toBe(200);
    expect(rejected).toEqual([]);
    const root = expectWellFormedTree(spans, traceId, callerSpanId);
    expect(root.name).toBe('GET /matches/{matchId}');
    expect(root.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/matches/{matchId}',
      'url.path': `/matches/${matchId}`,
      'http.response.status_code': 200,
      'senzu.tier': 'anonymous',
      'senzu.request_id': res.headers.get('x-request-id'),
    });
    expect(treeOf(spans, root)).toEqual({ 'GET /matches/{matchId}': [{ 'do.RATE_LIMITER.consume': [] }, { 'pg.query': [] }] });

    const limiter = spans.find((s) => s.name === 'do.RATE_LIMITER.consume')!;
    expect(limiter.kind).toBe(CLIENT);
    expect(limiter.attributes).toMatchObject({ 'cloudflare.binding.name': 'RATE_LIMITER', 'rpc.method': 'consume' });
    expect(String(limiter.attributes['cloudflare.durable_object.name'])).toMatch(/^ip:10\./);
    const query = spans.find((s) => s.name === 'pg.query')!;
    expect(query.kind).toBe(CLIENT);
    expect(query.attributes).toMatchObject({ 'db.system': 'postgresql', 'db.operation': 'SELECT' });
    expect(String(query.attributes['db.statement'])).toContain('"matches"');
    // Children end before the server span does (nothing of this request was deferred).
    for (const s of spans) expect(BigInt(s.endTimeUnixNano) <= BigInt(root.endTimeUnixNano)).toBe(true);

    const line = lines.find((l) => l.msg === 'request')!;
    expect(line).toMatchObject({ traceId, requestId: res.headers.get('x-request-id'), route: '/matches/{matchId}', status: 200, tier: 'anonymous', cache: null, modelRun: null });
  });

  it('marks a failed request: the error code on the server span and the log line, status ok below 500', async () => {
    const { res, traceId, callerSpanId, lines, spans } = await tracedRequest('/matches/999999999');
    expect(res.status).toBe(404);
    const root = expectWellFormedTree(spans, traceId, callerSpanId);
    expect(root.attributes).toMatchObject({ 'http.response.status_code': 404, 'error.type': 'not-found' });
    expect(root.status.code ?? 0).toBe(0);
    expect(lines.find((l) => l.msg === 'request')).toMatchObject({ traceId, status: 404, errorCode: 'not-found' });
  });

  it('starts a new trace when the caller sends none or a malformed traceparent', async () => {
    const logged: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void logged.push(String(line)));
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request('http://api.test/health', { headers: { traceparent: '00-00000000000000000000000000000000-0000000000000000-01' } }) as Request<unknown, IncomingRequestCfProperties>,
      telemetryEnv,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    vi.restoreAllMocks();
    expect(res.status).toBe(200);
    const line = logged.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request')!;
    expect(line.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(line.traceId).not.toBe('0'.repeat(32));
    const { spans } = (await (await fetch(`${RECEIVER}/received/traces?traceId=${line.traceId}`)).json()) as { spans: ReceivedSpan[] };
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({ name: 'GET /health', kind: SERVER });
    expect(spans[0]!.parentSpanId).toBeUndefined();
  });

  it('records no trace when the caller did not sample it, but logs its trace id and still counts the request', async () => {
    const healthRequests = async () => total(await receivedMetrics(), 'senzu.http.requests', (a) => a['http.route'] === '/health');
    const before = await healthRequests();
    const traceId = hex(16);
    const logged: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void logged.push(String(line)));
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request('http://api.test/health', { headers: { traceparent: `00-${traceId}-${hex(8)}-00` } }) as Request<unknown, IncomingRequestCfProperties>,
      telemetryEnv,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    vi.restoreAllMocks();
    expect(res.status).toBe(200);
    expect(logged.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request')).toMatchObject({ traceId });
    const { spans } = (await (await fetch(`${RECEIVER}/received/traces?traceId=${traceId}`)).json()) as { spans: ReceivedSpan[] };
    expect(spans).toEqual([]);
    expect(await healthRequests()).toBe(before + 1);
  });

  it('exports request counts and latency by route as OTLP delta metrics', async () => {
    const route = (a: Record<string, unknown>) => a['http.route'] === '/matches/{matchId}';
    const ok = (a: Record<string, unknown>) => route(a) && a['http.response.status_code'] === 200;
    const before = await receivedMetrics();
    const { res } = await tracedRequest(`/matches/${matchId}`);
    expect(res.status).toBe(200);
    const metrics = await receivedMetrics();
    const requests = metrics.filter((m) => m.name === 'senzu.http.requests');
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((m) => m.kind === 'sum' && m.temporality === 1)).toBe(true);
    // Delta temporality: the export after this request carries this request, once, and nothing counted before.
    expect(total(metrics, 'senzu.http.requests', route)).toBe(total(before, 'senzu.http.requests', route) + 1);
    expect(total(metrics, 'http.server.request.duration', ok)).toBe(total(before, 'http.server.request.duration', ok) + 1);
    expect(metrics.find((m) => m.name === 'http.server.request.duration')).toMatchObject({ kind: 'histogram', unit: 's', temporality: 1 });
  });
});

describe('OTLP trace of a prediction request', () => {
  const bundle = inject('defaultBundle');
  let pro: TestUser;
  let matchId: number;

  beforeAll(async () => {
    await uploadDefaultBundle();
    pro = await promote(await registerUser('trace-pro'), { tier: 'pro' });
    // 50 h ahead: predictions.test.ts inserts the same pair of teams 48 h ahead, and (home, away, kick-off) is unique.
    matchId = await insertPricedMatch({ hoursAhead: 50, provider: 'tracing-test' });
  }, 60_000);

  it('a miss: server span → RateLimiter, KV, MatchOdds, R2 and inference, Postgres, and the deferred writes; a hit: KV only', async () => {
    const lookups = (metrics: ReceivedMetric[], result: string) => total(metrics, 'senzu.prediction.cache.lookups', (a) => a['cache.result'] === result);
    const inferences = (metrics: ReceivedMetric[]) => total(metrics, 'senzu.inference.duration', (a) => a['model.run'] === bundle.runId);
    // The route's latency histogram is split by the same result, so the hit and the miss are monitored apart.
    const latencies = (metrics: ReceivedMetric[], result: string) =>
      total(metrics, 'http.server.request.duration', (a) => a['http.route'] === '/matches/{matchId}/predictions' && a['cache.result'] === result);
    const before = await receivedMetrics();
    const miss = await tracedRequest(`/matches/${matchId}/predictions`, { authorization: `Bearer ${pro.accessToken}` });
    expect(miss.res.status, miss.text).toBe(200);
    expect(miss.res.headers.get('x-cache')).toBe('MISS');
    expect(miss.rejected).toEqual([]);
    const root = expectWellFormedTree(miss.spans, miss.traceId, miss.callerSpanId);
    expect(root.name).toBe('GET /matches/{matchId}/predictions');
    expect(root.attributes).toMatchObject({ 'senzu.tier': 'pro', 'senzu.cache': 'MISS', 'senzu.model_run': bundle.runId, 'http.response.status_code': 200 });

    const names = (parent: ReceivedSpan) => new Set(miss.spans.filter((s) => s.parentSpanId === parent.spanId).map((s) => s.name));
    const direct = names(root);
    for (const expected of ['do.RATE_LIMITER.consume', 'kv.get', 'kv.put', 'do.MATCH_ODDS.state', 'inference', 'pg.query']) {
      expect(direct, `${expected} under the server span; tree: ${JSON.stringify(treeOf(miss.spans, root))}`).toContain(expected);
    }
    // The miss reads KV for this match twice: the keys that could hold its prediction (every active run's, the
    // isolate not knowing the match's sport yet, and the market-only one), then its feature state and its published
    // live odds in one bulk read. Neither is there (the state comes from Postgres, the live odds from the object).
    const keysOf = (s: ReceivedSpan) => `${s.attributes['cloudflare.kv.key'] ?? s.attributes['cloudflare.kv.keys']}`.split(',');
    const matchReads = miss.spans.filter((s) => s.name.startsWith('kv.get') && keysOf(s).some((k) => k.endsWith(`:${matchId}`)));
    expect(matchReads.map(keysOf), JSON.stringify(matchReads.map((s) => s.attributes))).toEqual([
      expect.arrayContaining([`pred:v2:${bundle.runId}:${matchId}`, `pred:v2:market-only:${matchId}`]),
      [`feat:match:${matchId}`, `odds:v1:match:${matchId}`],
    ]);
    expect(BigInt(matchReads[0]!.startTimeUnixNano) <= BigInt(matchReads[1]!.startTimeUnixNano)).toBe(true);
    expect(keysOf(matchReads[0]!).every((k) => k.startsWith('pred:v2:') && k.endsWith(`:${matchId}`))).toBe(true);
    const inference = miss.spans.find((s) => s.name === 'inference')!;
    expect(inference.kind).toBe(1);
    expect(inference.attributes['model.run']).toBe(bundle.runId);
    // The bundle comes from R2 the first time this isolate runs the model.
    const r2 = miss.spans.filter((s) => s.name === 'r2.get');
    for (const read of r2) expect(read.attributes).toMatchObject({ 'cloudflare.binding.name': 'MODELS', 'cloudflare.r2.operation': 'get' });
    // Loading the model (R2 reads, ORT's first initialisation, the sessions) is a span of its own, so its time is
    // not read as the MatchOdds call's that runs beside it.
    const load = miss.spans.find((s) => s.name === 'model.load');
    expect(r2.length, 'this miss is the isolate\'s first run of the model').toBeGreaterThan(0);
    expect(load, `a model.load span; tree: ${JSON.stringify(treeOf(miss.spans, root))}`).toBeDefined();
    expect(load!.parentSpanId).toBe(root.spanId);
    expect(load!.attributes['model.run']).toBe(bundle.runId);
    for (const read of r2) expect(read.parentSpanId).toBe(load!.spanId);
    // Persisting the prediction starts after the response, still inside the trace: a send to the write queue,
    // whose consumer inserts it. The request itself inserts nothing.
    const send = miss.spans.find((s) => s.name === 'queue.send' && s.attributes['cloudflare.binding.name'] === 'PREDICTION_QUEUE');
    expect(send, `a queue.send to PREDICTION_QUEUE; tree: ${JSON.stringify(treeOf(miss.spans, root))}`).toBeDefined();
    expect(send!.parentSpanId).toBe(root.spanId);
    const inserts = miss.spans.filter((s) => s.name === 'pg.query' && s.attributes['db.operation'] === 'INSERT');
    expect(inserts.map((s) => s.attributes['db.statement'])).toEqual([]);
    const cacheWrite = miss.spans.find((s) => s.name === 'kv.put' && String(s.attributes['cloudflare.kv.key']).startsWith('pred:v2:'))!;
    expect(cacheWrite.attributes['cloudflare.kv.key']).toBe(`pred:v2:${bundle.runId}:${matchId}`);
    const missLine = miss.lines.find((l) => l.msg === 'request')!;
    // The isolate's cache counters, and where the feature state came from, ride on the request's own line
    // (logger.annotate), not lines of their own.
    expect(missLine).toMatchObject({
      traceId: miss.traceId,
      tier: 'pro',
      cache: 'MISS',
      modelRun: bundle.runId,
      status: 200,
      isolateHits: expect.any(Number),
      isolateMisses: expect.any(Number),
      featureState: 'store: missing in KV',
    });
    expect(miss.lines.filter((l) => l.requestId === missLine.requestId).map((l) => l.msg)).toEqual(['request']);

    const hit = await tracedRequest(`/matches/${matchId}/predictions`, { authorization: `Bearer ${pro.accessToken}` });
    expect(hit.res.headers.get('x-cache')).toBe('HIT');
    const hitRoot = expectWellFormedTree(hit.spans, hit.traceId, hit.callerSpanId);
    const hitNames = hit.spans.filter((s) => s !== hitRoot).map((s) => s.name);
    // A hit reads its prediction's key alone (the isolate knows the match's sport now), nothing a miss would need.
    const hitReads = hit.spans.filter((s) => s.name.startsWith('kv.get'));
    expect(hitReads.map((s) => [s.name, s.attributes['cloudflare.kv.key']])).toEqual([['kv.get', `pred:v2:${bundle.runId}:${matchId}`]]);
    expect(hitNames).toContain('do.RATE_LIMITER.consume');
    expect(hitNames, 'a cache hit runs no model and no query').not.toContain('inference');
    expect(hitNames).not.toContain('pg.query');
    expect(hit.lines.find((l) => l.msg === 'request')).toMatchObject({ cache: 'HIT', modelRun: bundle.runId, isolateHits: (missLine.isolateHits as number) + 1, isolateMisses: missLine.isolateMisses });

    // One miss, one hit, and the model ran once (for the miss).
    const after = await receivedMetrics();
    expect(lookups(after, 'MISS')).toBe(lookups(before, 'MISS') + 1);
    expect(lookups(after, 'HIT')).toBe(lookups(before, 'HIT') + 1);
    expect(inferences(after)).toBe(inferences(before) + 1);
    expect(latencies(after, 'MISS')).toBe(latencies(before, 'MISS') + 1);
    expect(latencies(after, 'HIT')).toBe(latencies(before, 'HIT') + 1);
  }, 120_000);

  it('the live odds upgrade: server span → the MatchOdds fetch that opens the socket', async () => {
    const ticket = await ticketFor(pro, matchId);
    const live = await tracedRequest(livePath(matchId, ticket), { upgrade: 'websocket' });
    expect(live.res.status, live.text).toBe(101);
    const ws = live.res.webSocket!;
    const first = new Promise<string>((resolve) => ws.addEventListener('message', (event) => resolve(event.data as string), { once: true }));
    ws.accept();
    expect(JSON.parse(await first)).toMatchObject({ type: 'state', matchId });
    ws.close(1000, 'done');

    const root = expectWellFormedTree(live.spans, live.traceId, live.callerSpanId);
    expect(root.name).toBe('GET /matches/{matchId}/odds/live');
    expect(root.attributes).toMatchObject({ 'http.response.status_code': 101 });
    const stream = live.spans.find((s) => s.name === 'do.MATCH_ODDS.fetch');
    expect(stream, `tree: ${JSON.stringify(treeOf(live.spans, root))}`).toBeDefined();
    expect(stream!.parentSpanId).toBe(root.spanId);
    expect(stream!.kind).toBe(CLIENT);
    expect(stream!.attributes).toMatchObject({ 'cloudflare.binding.name': 'MATCH_ODDS', 'cloudflare.durable_object.name': matchOddsName(matchId), 'rpc.method': 'fetch' });
  });
});

describe('OTLP metrics of scheduled jobs', () => {
  const runs = (metrics: ReceivedMetric[], kind: string, status: string) =>
    metrics
      .filter((m) => m.name === 'senzu.ingestion.jobs')
      .flatMap((m) => m.dataPoints)
      .filter((p) => p.attributes['job.kind'] === kind && p.attributes['job.status'] === status)
      .reduce((n, p) => n + Number(p.asInt), 0);

  it('a Cron Trigger exports the outcome of each job it ran', async () => {
    const before = runs(await receivedMetrics(), 'partition-upkeep', 'succeeded');
    const ctx = createExecutionContext();
    await worker.scheduled!(createScheduledController({ scheduledTime: Date.UTC(2031, 5, 15, 3, 30), cron: SCHEDULES.daily }), telemetryEnv, ctx);
    await waitOnExecutionContext(ctx);
    expect(runs(await receivedMetrics(), 'partition-upkeep', 'succeeded')).toBe(before + 1);
  });

  it('a run an admin starts is counted too, and exported with its request', async () => {
    const admin = await promote(await registerUser('trace-admin'), { role: 'admin' });
    const oddsRuns = (metrics: ReceivedMetric[]) => ['succeeded', 'skipped', 'failed'].reduce((n, status) => n + runs(metrics, 'odds', status), 0);
    const beforeMetrics = await receivedMetrics();
    const before = oddsRuns(beforeMetrics);
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request('http://api.test/admin/ingestion/run', {
        method: 'POST',
        headers: { authorization: `Bearer ${admin.accessToken}`, 'content-type': 'application/json', 'cf-connecting-ip': randomIp() },
        body: JSON.stringify({ kind: 'odds' }),
      }) as Request<unknown, IncomingRequestCfProperties>,
      telemetryEnv,
      ctx,
    );
    const run = (await res.json()) as { kind: string; status: string };
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(201);
    expect(run.kind).toBe('odds');
    const after = await receivedMetrics();
    expect(oddsRuns(after)).toBe(before + 1);
    expect(runs(after, 'odds', run.status)).toBe(runs(beforeMetrics, 'odds', run.status) + 1);
  });

  it('failed runs and the provider credits left are exported as a counter and a gauge', async () => {
    const settings = otlpSettingsFrom(configFrom(telemetryEnv as typeof env))!;
    const errors: string[] = [];
    const before = await receivedMetrics();
    metrics.enabled = true;
    recordJobOutcome({ kind: 'odds', provider: 'the-odds-api', status: 'failed', creditsRemaining: 4321 });
    recordJobOutcome({ kind: 'fixtures', provider: 'the-odds-api', status: 'skipped', creditsRemaining: null });
    await flushMetrics(settings, 0, (e) => errors.push(e), true);
    expect(errors).toEqual([]);
    const received = await receivedMetrics();
    expect(runs(received, 'odds', 'failed')).toBe(runs(before, 'odds', 'failed') + 1);
    expect(runs(received, 'fixtures', 'skipped')).toBe(runs(before, 'fixtures', 'skipped') + 1);
    const credits = received.filter((m) => m.name === 'senzu.provider.credits_remaining');
    expect(credits.every((m) => m.kind === 'gauge')).toBe(true);
    expect(credits.flatMap((m) => m.dataPoints).some((p) => p.attributes.provider === 'the-odds-api' && p.asDouble === 4321)).toBe(true);
  });

  it('a failed export is reported, never thrown', async () => {
    const errors: string[] = [];
    const settings = { ...otlpSettingsFrom(configFrom(telemetryEnv as typeof env))!, endpoint: `${RECEIVER}/nowhere` };
    metrics.enabled = true;
    recordJobOutcome({ kind: 'odds', provider: 'the-odds-api', status: 'succeeded' });
    await flushMetrics(settings, 0, (e) => errors.push(e), true);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/answered 404/);
  });
});
