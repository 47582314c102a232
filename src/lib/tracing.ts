// Traces of the request path, exported as OTLP/HTTP JSON (Datadog, Honeycomb, an OpenTelemetry Collector...).
// Workers have no full OpenTelemetry SDK, so this is the small part of one the API needs: W3C trace context
// in and out, span ids and parent links, attributes, status, and one export per request in waitUntil.
//
// The active span travels in AsyncLocalStorage (nodejs_compat), so code anywhere below a request can open a
// child with `span(name, fn)` without being handed a tracer. Outside a traced request `span` just runs `fn`;
// with no exporter configured nothing is recorded at all, so tracing costs the hot path nothing when off.
//
// Clock: inside a Worker, Date.now() only advances across I/O (a Spectre mitigation), so a span measures the
// I/O it waited for and pure CPU work shows as zero. That is what the request path's latency is made of.
import { AsyncLocalStorage } from 'node:async_hooks';

export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue | null | undefined>;

export const SpanKind = { internal: 1, server: 2, client: 3, producer: 4 } as const;
export type SpanKindName = keyof typeof SpanKind;

const STATUS_UNSET = 0;
const STATUS_ERROR = 2;

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: SpanKindName;
  startMs: number;
  endMs?: number;
  attributes: Attributes;
  status: { code: number; message?: string };
}

/** One request's spans; its root is the server span of the request itself. */
export class Trace {
  readonly spans: SpanRecord[] = [];
  readonly root: SpanRecord;
  private readonly pending: Promise<unknown>[] = [];

  constructor(name: string, attributes: Attributes, parent?: TraceParent) {
    this.root = this.start(name, 'server', attributes, parent ? { traceId: parent.traceId, spanId: parent.spanId } : undefined);
  }

  get traceId(): string {
    return this.root.traceId;
  }

  start(name: string, kind: SpanKindName, attributes: Attributes = {}, parent?: Pick<SpanRecord, 'traceId' | 'spanId'>): SpanRecord {
    const record: SpanRecord = {
      traceId: parent?.traceId ?? randomHex(16),
      spanId: randomHex(8),
      ...(parent ? { parentSpanId: parent.spanId } : {}),
      name,
      kind,
      startMs: Date.now(),
      attributes: { ...attributes },
      status: { code: STATUS_UNSET },
    };
    this.spans.push(record);
    return record;
  }

  /** Work that outlives the response but belongs to the trace (deferred writes); the export waits for it. */
  track(work: Promise<unknown>): void {
    this.pending.push(work.catch(() => undefined));
  }

  async settled(): Promise<void> {
    // Tracked work may track more work (a deferred write opening the pool), so drain until stable.
    for (let seen = 0; seen < this.pending.length; ) {
      const batch = this.pending.slice(seen);
      seen = this.pending.length;
      await Promise.all(batch);
    }
  }
}

export function endSpan(record: SpanRecord, error?: unknown): void {
  if (record.endMs !== undefined) return;
  record.endMs = Date.now();
  if (error !== undefined) {
    record.status = { code: STATUS_ERROR, message: error instanceof Error ? error.message : String(error) };
    record.attributes['exception.type'] = error instanceof Error ? error.name : typeof error;
  }
}

interface ActiveContext {
  trace: Trace;
  span: SpanRecord;
}

const storage = new AsyncLocalStorage<ActiveContext>();

/** Runs `fn` with `trace`'s root span active. */
export function runInTrace<T>(trace: Trace, fn: () => T): T {
  return storage.run({ trace, span: trace.root }, fn);
}

/** The trace of the current request, when it is being recorded. */
export function activeTrace(): Trace | undefined {
  return storage.getStore()?.trace;
}

/**
 * Runs `fn` as a child span of the active span (the name says what is done: `inference`, `kv.get`...). Errors
 * mark the span and propagate unchanged. Without an active trace this is a plain call.
 */
export function span<T>(name: string, fn: () => T | Promise<T>, attributes: Attributes = {}, kind: SpanKindName = 'internal'): Promise<T> {
  const active = storage.getStore();
  if (!active) {
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  }
  const record = active.trace.start(name, kind, attributes, active.span);
  return storage.run({ trace: active.trace, span: record }, async () => {
    try {
      const result = await fn();
      endSpan(record);
      return result;
    } catch (error) {
      endSpan(record, error);
      throw error;
    }
  });
}

/** Sets attributes on the active span (e.g. a cache result known only inside a service). */
export function setSpanAttributes(attributes: Attributes): void {
  const active = storage.getStore();
  if (active) Object.assign(active.span.attributes, attributes);
}

// ---------------------------------------------------------------------------------------------------------
// W3C Trace Context (https://www.w3.org/TR/trace-context/)

export interface TraceParent {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** Parses a `traceparent` header; anything malformed, all-zero or of version ff is ignored (a new trace starts). */
export function parseTraceparent(header: string | null | undefined): TraceParent | undefined {
  const match = header?.trim().toLowerCase().match(TRACEPARENT);
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === 'ff' || (version === '00' && rest)) return undefined;
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return undefined;
  return { traceId: traceId!, spanId: spanId!, sampled: (parseInt(flags!, 16) & 1) === 1 };
}

export function formatTraceparent(traceId: string, spanId: string, sampled = true): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/** The `traceparent` to send on an outbound request so the callee joins the current trace. */
export function outboundTraceparent(): string | undefined {
  const active = storage.getStore();
  return active ? formatTraceparent(active.trace.traceId, active.span.spanId) : undefined;
}

export function randomHex(bytes: number): string {
  const buffer = crypto.getRandomValues(new Uint8Array(bytes));
  let hex = '';
  for (const byte of buffer) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

// ---------------------------------------------------------------------------------------------------------
// Bindings: the KV namespace, the R2 bucket, the Durable Object namespaces and the queue are wrapped where
// the services are built, so every call to them is a client span without the services knowing.

type Binding = 'kv' | 'r2' | 'durable-object' | 'queue';

const TRACED_METHODS: Record<Exclude<Binding, 'durable-object'>, Set<string>> = {
  kv: new Set(['get', 'getWithMetadata', 'put', 'delete', 'list']),
  r2: new Set(['get', 'head', 'put', 'delete', 'list', 'createMultipartUpload']),
  queue: new Set(['send', 'sendBatch']),
};

/** `binding` is the name in wrangler.toml; `kind` says what it is. The result behaves like the binding. */
export function tracedBinding<T extends object>(target: T, bindingName: string, kind: Binding): T {
  if (kind === 'durable-object') return tracedNamespace(target, bindingName);
  const methods = TRACED_METHODS[kind];
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object) as unknown;
      if (typeof value !== 'function') return value;
      if (typeof property !== 'string' || !methods.has(property)) return value.bind(object);
      return (...args: unknown[]) =>
        span(`${kind}.${property}`, () => Reflect.apply(value, object, args), bindingAttributes(kind, bindingName, property, args), 'client');
    },
  });
}

function bindingAttributes(kind: Binding, bindingName: string, operation: string, args: unknown[]): Attributes {
  const key = typeof args[0] === 'string' ? args[0] : undefined;
  if (kind === 'kv') {
    // A bulk read names its keys in one attribute (OTLP attributes here are scalars).
    const keys = Array.isArray(args[0]) ? args[0].join(',') : undefined;
    return { 'cloudflare.binding.name': bindingName, 'cloudflare.kv.operation': operation, 'cloudflare.kv.key': key, 'cloudflare.kv.keys': keys };
  }
  if (kind === 'r2') return { 'cloudflare.binding.name': bindingName, 'cloudflare.r2.operation': operation, 'cloudflare.r2.key': key };
  return { 'cloudflare.binding.name': bindingName, 'messaging.system': 'cloudflare_queues', 'messaging.operation.name': operation };
}

function tracedNamespace<T extends object>(namespace: T, bindingName: string): T {
  return new Proxy(namespace, {
    get(object, property) {
      const value = Reflect.get(object, property, object) as unknown;
      if (typeof value !== 'function') return value;
      if (property === 'get' || property === 'getByName') {
        return (...args: unknown[]) => {
          const id = args[0] as { name?: string; toString(): string } | string;
          const objectName = typeof id === 'string' ? id : (id.name ?? id.toString());
          return tracedStub(Reflect.apply(value, object, args) as object, bindingName, objectName);
        };
      }
      return value.bind(object);
    },
  });
}

/** Every RPC method call (and `fetch`) on the stub becomes a span `do.<binding>.<method>`. */
function tracedStub<T extends object>(stub: T, bindingName: string, objectName: string): T {
  return new Proxy(stub, {
    get(object, property) {
      const value = Reflect.get(object, property, object) as unknown;
      // `then` must stay undefined, or awaiting a stub would call it; ids and names are not calls.
      if (typeof property !== 'string' || property === 'then' || typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        span(
          `do.${bindingName}.${property}`,
          () => Reflect.apply(value, object, args),
          { 'cloudflare.binding.name': bindingName, 'cloudflare.durable_object.name': objectName, 'rpc.method': property },
          'client',
        );
    },
  });
}

// ---------------------------------------------------------------------------------------------------------
// Postgres: one span per query. The pool's `query` and every pooled client's `query` are wrapped (drizzle uses
// the pool for plain statements and a checked-out client for transactions).

interface Queryable {
  query: (...args: unknown[]) => unknown;
}

export function traceQueries(queryable: Queryable): void {
  const original = queryable.query;
  queryable.query = function tracedQuery(this: unknown, ...args: unknown[]) {
    // Callback-style calls (the driver's internals) pass through untouched.
    if (typeof args[args.length - 1] === 'function' || !storage.getStore()) return Reflect.apply(original, this, args);
    const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string } | undefined)?.text ?? '');
    return span('pg.query', () => Reflect.apply(original, this, args) as Promise<unknown>, dbAttributes(text), 'client');
  };
}

function dbAttributes(text: string): Attributes {
  const statement = text.replace(/\s+/g, ' ').trim();
  return {
    'db.system': 'postgresql',
    'db.operation': statement.split(' ', 1)[0]?.toUpperCase(),
    // Statements are parameterised ($1...), so the text holds no user data; long ones are cut.
    'db.statement': statement.length > 1000 ? `${statement.slice(0, 1000)}…` : statement,
  };
}

// ---------------------------------------------------------------------------------------------------------
// OTLP/HTTP JSON export (https://opentelemetry.io/docs/specs/otlp/#otlphttp). Ids are hex strings and
// 64-bit integers decimal strings, as the JSON mapping requires.

export interface OtlpSettings {
  /** Base URL: `/v1/traces` and `/v1/metrics` are appended. */
  endpoint: string;
  headers: Record<string, string>;
  resource: Attributes;
}

export type OtlpAttribute = { key: string; value: { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean } };

export function otlpAttributes(attributes: Attributes): OtlpAttribute[] {
  const out: OtlpAttribute[] = [];
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined) continue;
    if (typeof value === 'string') out.push({ key, value: { stringValue: value } });
    else if (typeof value === 'boolean') out.push({ key, value: { boolValue: value } });
    else if (Number.isInteger(value)) out.push({ key, value: { intValue: String(value) } });
    else out.push({ key, value: { doubleValue: value } });
  }
  return out;
}

export const msToUnixNano = (ms: number): string => `${BigInt(Math.round(ms * 1000)) * 1000n}`;

export const INSTRUMENTATION_SCOPE = { name: 'senzu-api', version: '0.1.0' };

export function tracesPayload(spans: SpanRecord[], resource: Attributes) {
  return {
    resourceSpans: [
      {
        resource: { attributes: otlpAttributes(resource) },
        scopeSpans: [
          {
            scope: INSTRUMENTATION_SCOPE,
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
              name: s.name,
              kind: SpanKind[s.kind],
              startTimeUnixNano: msToUnixNano(s.startMs),
              endTimeUnixNano: msToUnixNano(s.endMs ?? s.startMs),
              attributes: otlpAttributes(s.attributes),
              status: s.status.message ? s.status : { code: s.status.code },
            })),
          },
        ],
      },
    ],
  };
}

/** POSTs an OTLP JSON body; a failed export is reported to `onError`, never thrown into the request. */
export async function postOtlp(settings: OtlpSettings, signal: 'traces' | 'metrics', body: unknown, onError: (message: string) => void): Promise<void> {
  const url = `${settings.endpoint.replace(/\/+$/, '')}/v1/${signal}`;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...settings.headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    // Drain the body so the connection is released.
    const text = await response.text();
    if (!response.ok) onError(`OTLP ${signal} export to ${url} answered ${response.status}: ${text.slice(0, 200)}`);
  } catch (error) {
    onError(`OTLP ${signal} export to ${url} failed: ${(error as Error).message}`);
  }
}

/** `OTEL_EXPORTER_OTLP_HEADERS` format: `key=value,key2=value2`, values URL-encoded. */
export function parseOtlpHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (raw ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    headers[decodeURIComponent(pair.slice(0, at).trim()).toLowerCase()] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}

/** The OTLP settings of a validated config, or undefined when no endpoint is configured (telemetry off). */
export function otlpSettingsFrom(config: {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_HEADERS: string;
  OTEL_SERVICE_NAME: string;
  ENVIRONMENT: string;
}): OtlpSettings | undefined {
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  return {
    endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    headers: parseOtlpHeaders(config.OTEL_EXPORTER_OTLP_HEADERS),
    resource: {
      'service.name': config.OTEL_SERVICE_NAME,
      'service.version': INSTRUMENTATION_SCOPE.version,
      'deployment.environment.name': config.ENVIRONMENT,
      'cloud.provider': 'cloudflare',
      'cloud.platform': 'cloudflare_workers',
    },
  };
}
