import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import { configFrom, type Config, type Env } from '../env';
import { createLogger, type Logger } from '../lib/logging';
import { flushMetrics, METRIC, metrics, recordInference } from '../lib/metrics';
import { PROBLEM_CONTENT_TYPE } from '../lib/problem';
import {
  activeTrace,
  endSpan,
  otlpSettingsFrom,
  parseTraceparent,
  postOtlp,
  randomHex,
  runInTrace,
  Trace,
  tracedBinding,
  tracesPayload,
  type OtlpSettings,
} from '../lib/tracing';
import { createServices } from '../services';
import type { AppEnv } from '../types';

/**
 * One structured line per request, and (when an OTLP endpoint is configured) its trace and metrics. Runs
 * outermost, after requestId, so it sees the final status of every request, errors included.
 *
 * The line: requestId, traceId, method, route (the matched pattern in the OpenAPI document's form,
 * `/matches/{matchId}`; null when nothing matched), path, status,
 * durationMs, tier (anonymous without credentials), cache and modelRun (from the X-Cache and X-Model-Run
 * headers the prediction route sets; null elsewhere) and, for an error, errorCode: the problem's stable slug
 * (`not-found`, `rate-limited`, `internal`...), the last segment of its `type`. Services add their own fields to
 * it with `logger.annotate` (the prediction route: the isolate's cache counters) rather than logging a second
 * line: log lines are what Workers Logs bills and indexes, and each one costs the request a console write.
 */
export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  const otlp = telemetryOf(c.env);
  const incoming = parseTraceparent(c.req.header('traceparent'));
  // With telemetry off there is no trace to record, but the line still carries a trace id: the caller's
  // (so our line joins their trace) or a fresh one.
  // A caller that decided not to sample (flags 00) gets no recorded trace; metrics still count the request.
  const trace = otlp && (incoming?.sampled ?? true) ? new Trace(c.req.method, { 'http.request.method': c.req.method, 'url.path': c.req.path, 'senzu.request_id': c.get('requestId') }, incoming) : undefined;
  const traceId = trace?.traceId ?? incoming?.traceId ?? randomHex(16);
  const logger = createLogger({ requestId: c.get('requestId'), traceId });
  c.set('logger', logger);
  c.header('x-request-id', c.get('requestId'));
  if (trace) await runInTrace(trace, next);
  else await next();

  const matched = routePath(c, -1);
  const route = matched && matched !== '/*' && matched !== '*' ? openApiPath(matched) : null;
  const status = c.res.status;
  const durationMs = Math.round((performance.now() - started) * 100) / 100;
  const fields = {
    // What the handler's services added (annotate), beneath the fields every line has.
    ...logger.annotations,
    method: c.req.method,
    route,
    path: c.req.path,
    status,
    durationMs,
    tier: c.get('principal')?.tier ?? 'anonymous',
    cache: c.res.headers.get('x-cache'),
    modelRun: c.res.headers.get('x-model-run'),
    ...(status >= 400 ? { errorCode: await errorCodeOf(c.res) } : {}),
  };
  logger.info('request', fields);
  if (!otlp) return;

  metrics.add(METRIC.requests, { 'http.route': route ?? 'unmatched', 'http.request.method': fields.method, 'http.response.status_class': `${Math.floor(status / 100)}xx` });
  // The prediction route's latency is two populations (a KV read, or a model run), monitored apart.
  const cacheResult = fields.cache ? { 'cache.result': fields.cache } : {};
  metrics.record(
    METRIC.requestDuration,
    { 'http.route': route ?? 'unmatched', 'http.request.method': fields.method, 'http.response.status_code': status, ...cacheResult },
    durationMs / 1000,
  );
  if (fields.cache) metrics.add(METRIC.cacheLookups, { 'cache.result': fields.cache });
  if (!trace) {
    afterResponse(c, flushMetrics(otlp, configFrom(c.env).OTEL_METRIC_EXPORT_INTERVAL, exportFailed(logger)));
    return;
  }
  const root = trace.root;
  root.name = route ? `${fields.method} ${route}` : fields.method;
  Object.assign(root.attributes, {
    'http.route': route,
    'http.response.status_code': status,
    'senzu.tier': fields.tier,
    'senzu.cache': fields.cache,
    'senzu.model_run': fields.modelRun,
    'error.type': fields.errorCode,
  });
  if (status >= 500) root.status = { code: 2, message: fields.errorCode ?? String(status) };
  endSpan(root);
  afterResponse(c, exportTelemetry(trace, otlp, c.env, logger));
});

/** Validated config and the per-request service container; the database pool is ended after the response. */
export const servicesMiddleware = createMiddleware<AppEnv>(async (c, next) => {
  const config = configFrom(c.env);
  c.set('config', config);
  const trace = activeTrace();
  const services = createServices(config, trace ? tracedEnv(c.env) : c.env, c.get('logger'));
  c.set('services', services);
  try {
    await next();
  } finally {
    const closing = services.close().catch((error: Error) => c.get('logger').warn('closing services failed', { error: error.message }));
    // The trace is exported once deferred work (cache writes, persisted predictions) has finished too.
    trace?.track(closing);
    // Awaiting pool.end() inside a request hangs on workerd; waitUntil lets the response go first.
    afterResponse(c, closing);
  }
});

function afterResponse(c: Context<AppEnv>, work: Promise<unknown>): void {
  let ctx: { waitUntil(p: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    ctx = undefined;
  }
  if (ctx) ctx.waitUntil(work);
  // Without an execution context (app.request in a test) there is nothing to wait for the work; let it run.
  else void work;
}

const telemetryCache = new WeakMap<object, OtlpSettings | null>();

/** The OTLP settings of this Worker's configuration, or undefined when telemetry is off (or the config is broken). */
export function telemetryOf(env: Env): OtlpSettings | undefined {
  const cached = telemetryCache.get(env);
  if (cached !== undefined) return cached ?? undefined;
  let settings: OtlpSettings | undefined;
  try {
    settings = otlpSettingsFrom(configFrom(env));
  } catch {
    // A broken configuration is reported by servicesMiddleware on the same request; telemetry stays off.
    settings = undefined;
  }
  telemetryCache.set(env, settings ?? null);
  if (settings) metrics.enabled = true;
  return settings;
}

async function exportTelemetry(trace: Trace, otlp: OtlpSettings, env: Env, logger: Logger): Promise<void> {
  await trace.settled();
  for (const record of trace.spans) {
    if (record.name === 'inference' && record.endMs !== undefined && typeof record.attributes['model.run'] === 'string') {
      recordInference(record.attributes['model.run'], (record.endMs - record.startMs) / 1000);
    }
  }
  const report = exportFailed(logger);
  const config = configFrom(env) as Config;
  await Promise.all([
    postOtlp(otlp, 'traces', tracesPayload(trace.spans, otlp.resource), report),
    flushMetrics(otlp, config.OTEL_METRIC_EXPORT_INTERVAL, report),
  ]);
}

/** The bindings the services use, each call a client span of the current trace. */
function tracedEnv(env: Env): Env {
  return {
    ...env,
    PREDICTIONS: tracedBinding(env.PREDICTIONS, 'PREDICTIONS', 'kv'),
    MODELS: tracedBinding(env.MODELS, 'MODELS', 'r2'),
    FEATURE_QUEUE: tracedBinding(env.FEATURE_QUEUE, 'FEATURE_QUEUE', 'queue'),
    PREDICTION_QUEUE: tracedBinding(env.PREDICTION_QUEUE, 'PREDICTION_QUEUE', 'queue'),
    RATE_LIMITER: tracedBinding(env.RATE_LIMITER, 'RATE_LIMITER', 'durable-object'),
    MATCH_ODDS: tracedBinding(env.MATCH_ODDS, 'MATCH_ODDS', 'durable-object'),
  };
}

/** The slug of a problem+json response (`https://docs.senzu.ai/problems/not-found` → `not-found`). */
async function errorCodeOf(response: Response): Promise<string> {
  if (!response.headers.get('content-type')?.startsWith(PROBLEM_CONTENT_TYPE)) return `http-${response.status}`;
  try {
    const body = (await response.clone().json()) as { type?: unknown };
    return typeof body.type === 'string' ? (body.type.split('/').pop() ?? body.type) : `http-${response.status}`;
  } catch {
    return `http-${response.status}`;
  }
}

/** Hono's `/matches/:matchId` (optionally `:id{regex}`) as the OpenAPI document writes it, `/matches/{matchId}`. */
function openApiPath(pattern: string): string {
  return pattern.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}');
}

const exportFailed = (logger: Logger) => (message: string) =>
  logger.warn('telemetry export failed', { errorCode: 'telemetry-export-failed', error: message });
