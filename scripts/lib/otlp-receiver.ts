// A loopback OTLP/HTTP receiver (JSON encoding), the stand-in for Datadog's OTLP intake or a collector in
// tests. It accepts what a collector accepts (POST /v1/traces and /v1/metrics, application/json, ids as hex
// per the OTLP JSON mapping) and refuses what one refuses, and lets a test read back what it received:
// GET /received/traces?traceId=… (spans, flattened with their resource) and GET /received/metrics.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  resource: Record<string, unknown>;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, unknown>;
  status: { code?: number; message?: string };
}

export interface ReceivedMetric {
  resource: Record<string, unknown>;
  name: string;
  unit?: string;
  kind: 'sum' | 'gauge' | 'histogram';
  temporality?: number;
  dataPoints: Array<Record<string, unknown> & { attributes: Record<string, unknown> }>;
}

export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  metrics: ReceivedMetric[];
  /** Requests refused with 400, with the reason (a test can assert there were none). */
  rejected: string[];
  close(): Promise<void>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean; arrayValue?: { values: OtlpValue[] } };
type OtlpKeyValue = { key: string; value: OtlpValue };

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const UINT64 = /^\d+$/;

class Invalid extends Error {}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Invalid(message);
}

function value(v: OtlpValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) {
    check(UINT64.test(String(v.intValue).replace(/^-/, '')), `intValue ${v.intValue} is not an integer`);
    return Number(v.intValue);
  }
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return v.arrayValue.values.map(value);
  throw new Invalid(`attribute value ${JSON.stringify(v)} has no known type`);
}

function attributes(list: OtlpKeyValue[] | undefined): Record<string, unknown> {
  check(list === undefined || Array.isArray(list), 'attributes must be an array');
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) {
    check(typeof kv.key === 'string' && kv.value && typeof kv.value === 'object', `malformed attribute ${JSON.stringify(kv)}`);
    out[kv.key] = value(kv.value);
  }
  return out;
}

function parseTraces(body: any): ReceivedSpan[] {
  check(Array.isArray(body?.resourceSpans), 'resourceSpans must be an array');
  const spans: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans) {
    const resource = attributes(rs.resource?.attributes);
    check(Array.isArray(rs.scopeSpans), 'scopeSpans must be an array');
    for (const ss of rs.scopeSpans) {
      check(Array.isArray(ss.spans), 'spans must be an array');
      for (const s of ss.spans) {
        check(HEX32.test(s.traceId), `traceId ${s.traceId} is not 32 lowercase hex digits`);
        check(HEX16.test(s.spanId), `spanId ${s.spanId} is not 16 lowercase hex digits`);
        check(s.parentSpanId === undefined || s.parentSpanId === '' || HEX16.test(s.parentSpanId), `parentSpanId ${s.parentSpanId} is malformed`);
        check(typeof s.name === 'string' && s.name.length > 0, 'a span needs a name');
        check(UINT64.test(s.startTimeUnixNano) && UINT64.test(s.endTimeUnixNano), 'times must be unsigned 64-bit decimal strings');
        check(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano), `span ${s.name} ends before it starts`);
        check(Number.isInteger(s.kind) && s.kind >= 0 && s.kind <= 5, `span kind ${s.kind} is not a SpanKind`);
        spans.push({
          resource,
          scope: ss.scope?.name ?? '',
          traceId: s.traceId,
          spanId: s.spanId,
          ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: s.startTimeUnixNano,
          endTimeUnixNano: s.endTimeUnixNano,
          attributes: attributes(s.attributes),
          status: s.status ?? {},
        });
      }
    }
  }
  return spans;
}

function parseMetrics(body: any): ReceivedMetric[] {
  check(Array.isArray(body?.resourceMetrics), 'resourceMetrics must be an array');
  const metrics: ReceivedMetric[] = [];
  for (const rm of body.resourceMetrics) {
    const resource = attributes(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        check(typeof m.name === 'string' && m.name.length > 0, 'a metric needs a name');
        const kind = (['sum', 'gauge', 'histogram'] as const).find((k) => m[k] !== undefined);
        check(kind, `metric ${m.name} is not a sum, gauge or histogram`);
        const data = m[kind];
        check(Array.isArray(data.dataPoints), `metric ${m.name} has no dataPoints`);
        const dataPoints = data.dataPoints.map((p: any) => {
          check(UINT64.test(p.timeUnixNano), `metric ${m.name}: timeUnixNano must be a decimal string`);
          if (kind === 'histogram') {
            check(Array.isArray(p.bucketCounts) && Array.isArray(p.explicitBounds), `histogram ${m.name} needs bucketCounts and explicitBounds`);
            check(p.bucketCounts.length === p.explicitBounds.length + 1, `histogram ${m.name}: bucketCounts must be one longer than explicitBounds`);
            const total = p.bucketCounts.reduce((s: number, c: string) => s + Number(c), 0);
            check(total === Number(p.count), `histogram ${m.name}: buckets sum to ${total}, count is ${p.count}`);
          }
          return { ...p, attributes: attributes(p.attributes) };
        });
        metrics.push({ resource, name: m.name, unit: m.unit, kind, temporality: data.aggregationTemporality, dataPoints });
      }
    }
  }
  return metrics;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function reply(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const metrics: ReceivedMetric[] = [];
  const rejected: string[] = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://receiver');
    try {
      if (req.method === 'POST' && (url.pathname === '/v1/traces' || url.pathname === '/v1/metrics')) {
        if (!req.headers['content-type']?.startsWith('application/json')) {
          rejected.push(`${url.pathname}: content-type ${req.headers['content-type']}`);
          return reply(res, 415, { code: 3, message: 'only application/json is accepted here' });
        }
        const body = JSON.parse(await readBody(req));
        if (url.pathname === '/v1/traces') spans.push(...parseTraces(body));
        else metrics.push(...parseMetrics(body));
        // ExportTraceServiceResponse / ExportMetricsServiceResponse: an empty object is full success.
        return reply(res, 200, {});
      }
      if (req.method === 'GET' && url.pathname === '/received/traces') {
        const traceId = url.searchParams.get('traceId');
        return reply(res, 200, { spans: traceId ? spans.filter((s) => s.traceId === traceId) : spans, rejected });
      }
      if (req.method === 'GET' && url.pathname === '/received/metrics') return reply(res, 200, { metrics, rejected });
      return reply(res, 404, { code: 5, message: `no route ${req.method} ${url.pathname}` });
    } catch (error) {
      const message = error instanceof Invalid || error instanceof SyntaxError ? error.message : String(error);
      rejected.push(`${url.pathname}: ${message}`);
      return reply(res, 400, { code: 3, message });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    metrics,
    rejected,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
