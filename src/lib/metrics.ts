// Metrics as OTLP/HTTP JSON, to the same collector as the traces (Datadog's OTLP intake, or an OpenTelemetry
// Collector in front of it). Counters and histograms are delta temporality: each export carries what happened
// since the previous one in this isolate, so isolates never double count and no state outlives an isolate
// except what is unexported (at most one flush interval's worth is lost when an isolate is evicted).
//
// Recording is a few map updates; nothing is recorded while no exporter is configured.
import { postOtlp, INSTRUMENTATION_SCOPE, msToUnixNano, otlpAttributes, type Attributes, type OtlpSettings } from './tracing';

/** Seconds; the OpenTelemetry HTTP semantic conventions' recommended boundaries. */
export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export const METRIC = {
  requestDuration: 'http.server.request.duration',
  requests: 'senzu.http.requests',
  cacheLookups: 'senzu.prediction.cache.lookups',
  inferenceDuration: 'senzu.inference.duration',
  jobRuns: 'senzu.ingestion.jobs',
  creditsRemaining: 'senzu.provider.credits_remaining',
} as const;

const DESCRIPTIONS: Record<string, { description: string; unit: string }> = {
  [METRIC.requestDuration]: { description: 'Duration of HTTP requests, by route, method and status', unit: 's' },
  [METRIC.requests]: { description: 'HTTP requests, by route, method and status class', unit: '{request}' },
  [METRIC.cacheLookups]: { description: 'Prediction cache lookups, by result (HIT or MISS)', unit: '{lookup}' },
  [METRIC.inferenceDuration]: { description: 'Time to run the model for one match (features to probabilities)', unit: 's' },
  [METRIC.jobRuns]: { description: 'Ingestion and scheduled job runs, by kind, provider and status', unit: '{run}' },
  [METRIC.creditsRemaining]: { description: 'Provider request credits left this month, as last reported by the provider', unit: '{credit}' },
};

interface SumPoint {
  attributes: Attributes;
  value: number;
}
interface HistogramPoint {
  attributes: Attributes;
  count: number;
  sum: number;
  min: number;
  max: number;
  buckets: number[];
}
interface GaugePoint {
  attributes: Attributes;
  value: number;
  atMs: number;
}

/** The isolate's unexported measurements. */
export class MetricsRecorder {
  private sums = new Map<string, Map<string, SumPoint>>();
  private histograms = new Map<string, Map<string, HistogramPoint>>();
  private gauges = new Map<string, Map<string, GaugePoint>>();
  private windowStartMs = Date.now();
  private lastFlushMs = 0;
  enabled = false;

  add(name: string, attributes: Attributes, value = 1): void {
    if (!this.enabled) return;
    const point = pointFor(this.sums, name, attributes, () => ({ attributes, value: 0 }));
    point.value += value;
  }

  record(name: string, attributes: Attributes, value: number): void {
    if (!this.enabled) return;
    const point = pointFor(this.histograms, name, attributes, () => ({
      attributes,
      count: 0,
      sum: 0,
      min: Infinity,
      max: -Infinity,
      buckets: new Array<number>(DURATION_BUCKETS_S.length + 1).fill(0),
    }));
    point.count += 1;
    point.sum += value;
    point.min = Math.min(point.min, value);
    point.max = Math.max(point.max, value);
    let bucket = DURATION_BUCKETS_S.findIndex((bound) => value <= bound);
    if (bucket === -1) bucket = DURATION_BUCKETS_S.length;
    point.buckets[bucket]! += 1;
  }

  gauge(name: string, attributes: Attributes, value: number): void {
    if (!this.enabled) return;
    const point = pointFor(this.gauges, name, attributes, () => ({ attributes, value, atMs: Date.now() }));
    point.value = value;
    point.atMs = Date.now();
  }

  get isEmpty(): boolean {
    return this.sums.size === 0 && this.histograms.size === 0 && this.gauges.size === 0;
  }

  /** Whether `intervalMs` has passed since the last export (0: every time). */
  due(intervalMs: number, nowMs = Date.now()): boolean {
    return !this.isEmpty && nowMs - this.lastFlushMs >= intervalMs;
  }

  /** The OTLP body of everything recorded since the last call, and a fresh window. */
  drain(resource: Attributes, nowMs = Date.now()) {
    const start = msToUnixNano(this.windowStartMs);
    const time = msToUnixNano(nowMs);
    const metrics: unknown[] = [];
    for (const [name, points] of this.sums) {
      metrics.push({
        name,
        ...DESCRIPTIONS[name],
        sum: {
          aggregationTemporality: 1, // DELTA
          isMonotonic: true,
          dataPoints: [...points.values()].map((p) => ({ attributes: otlpAttributes(p.attributes), startTimeUnixNano: start, timeUnixNano: time, asInt: String(p.value) })),
        },
      });
    }
    for (const [name, points] of this.histograms) {
      metrics.push({
        name,
        ...DESCRIPTIONS[name],
        histogram: {
          aggregationTemporality: 1,
          dataPoints: [...points.values()].map((p) => ({
            attributes: otlpAttributes(p.attributes),
            startTimeUnixNano: start,
            timeUnixNano: time,
            count: String(p.count),
            sum: p.sum,
            min: p.min,
            max: p.max,
            bucketCounts: p.buckets.map(String),
            explicitBounds: DURATION_BUCKETS_S,
          })),
        },
      });
    }
    for (const [name, points] of this.gauges) {
      metrics.push({
        name,
        ...DESCRIPTIONS[name],
        gauge: { dataPoints: [...points.values()].map((p) => ({ attributes: otlpAttributes(p.attributes), timeUnixNano: msToUnixNano(p.atMs), asDouble: p.value })) },
      });
    }
    this.sums = new Map();
    this.histograms = new Map();
    this.gauges = new Map();
    this.windowStartMs = nowMs;
    this.lastFlushMs = nowMs;
    return { resourceMetrics: [{ resource: { attributes: otlpAttributes(resource) }, scopeMetrics: [{ scope: INSTRUMENTATION_SCOPE, metrics }] }] };
  }
}

function pointFor<P>(store: Map<string, Map<string, P>>, name: string, attributes: Attributes, create: () => P): P {
  let points = store.get(name);
  if (!points) store.set(name, (points = new Map()));
  const key = JSON.stringify(attributes);
  let point = points.get(key);
  if (!point) points.set(key, (point = create()));
  return point;
}

/** One recorder per isolate: requests, jobs and inference anywhere in the Worker add to it. */
export const metrics = new MetricsRecorder();

/** Exports what the isolate has recorded when the interval has passed (or always, with `force`). */
export async function flushMetrics(settings: OtlpSettings, intervalMs: number, onError: (message: string) => void, force = false): Promise<void> {
  if (metrics.isEmpty || (!force && !metrics.due(intervalMs))) return;
  await postOtlp(settings, 'metrics', metrics.drain(settings.resource), onError);
}

/** A job run's outcome, and the provider's credits left when it reported them. */
export function recordJobOutcome(job: { kind: string; provider: string; status: string; creditsRemaining?: number | null }): void {
  metrics.add(METRIC.jobRuns, { 'job.kind': job.kind, 'job.provider': job.provider, 'job.status': job.status });
  if (typeof job.creditsRemaining === 'number') metrics.gauge(METRIC.creditsRemaining, { provider: job.provider }, job.creditsRemaining);
}

/** Model run time for one prediction (features in, probabilities out). */
export function recordInference(modelRunId: string, seconds: number): void {
  metrics.record(METRIC.inferenceDuration, { 'model.run': modelRunId }, seconds);
}

/**
 * Around a Cron Trigger: recording is switched on before its jobs run (JobRunner records each outcome and the
 * provider credits it saw), and everything is exported right after, since a scheduled invocation may be the
 * isolate's last.
 */
export async function withJobMetrics<T>(settings: OtlpSettings | undefined, run: () => Promise<T>, onError: (message: string) => void): Promise<T> {
  if (!settings) return run();
  metrics.enabled = true;
  try {
    return await run();
  } finally {
    await flushMetrics(settings, 0, onError, true);
  }
}
