// Whether what the code emitted satisfies what the monitors and dashboards query (the uses of
// scripts/lib/observability-contract.ts). Pure, so the workerd contract test can run it on the metrics the
// OTLP receiver got and the log lines it captured.
import type { LogCondition, LogUse, MetricUse } from './observability-contract';

/** Datadog tags that come from the OTLP resource, not from a data point's attributes. */
export const RESOURCE_TAGS: Record<string, string> = { service: 'service.name', env: 'deployment.environment.name' };

/** Datadog's tag value normalisation: lowercase; characters a tag cannot hold become underscores. */
export function datadogTagValue(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9_\-:./]/g, '_');
}

export interface EmittedMetric {
  name: string;
  resource: Record<string, unknown>;
  dataPoints: Array<{ attributes: Record<string, unknown> }>;
}

/** A data point satisfies a use when it has every attribute the query names, with the value it filters on. */
export function metricUseMet(use: MetricUse, emitted: readonly EmittedMetric[]): boolean {
  return emitted.some(
    (m) =>
      m.name === use.metric &&
      use.resourceTags.every((tag) => m.resource[RESOURCE_TAGS[tag]!] !== undefined) &&
      m.dataPoints.some((p) =>
        Object.entries(use.attributes).every(([key, value]) => p.attributes[key] !== undefined && (value === null || datadogTagValue(String(p.attributes[key])) === value)),
      ),
  );
}

function conditionMet(line: Record<string, unknown>, c: LogCondition): boolean {
  const value = line[c.field];
  if (value === undefined || value === null) return false;
  if (c.op === 'exists') return true;
  if (c.op === '>') return typeof value === 'number' && value > c.value;
  return String(value) === c.value;
}

/** A log line satisfies a use when it meets every condition of the search and has every field it groups by. */
export function logUseMet(use: LogUse, lines: readonly Record<string, unknown>[]): boolean {
  return lines.some((line) => use.conditions.every((c) => conditionMet(line, c)) && use.groupBy.every((f) => line[f] !== undefined && line[f] !== null));
}

export function describeMetricUse(use: MetricUse): string {
  const attributes = Object.entries(use.attributes).map(([k, v]) => (v === null ? k : `${k}:${v}`));
  return `${use.source}: ${use.metric}{${attributes.join(',')}}`;
}

export function describeLogUse(use: LogUse): string {
  return `${use.source}: ${use.query}${use.groupBy.length ? ` by ${use.groupBy.join(',')}` : ''}`;
}
