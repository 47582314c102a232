// What terraform/modules/observability asks of the code: the monitors (name, routing, query, thresholds, the
// runbook section they link to) and, from their queries and the dashboards', every metric with the attributes
// it is filtered and grouped by, and every log search with the fields it filters and groups by. The one
// reading of the module that the contract test (test/worker/observability-contract.test.ts, which drives the
// code and compares), the runbook check and `npm run docs:alerts` share.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTerraformTree } from './infra-consistency';
import { RESOURCE_TAGS } from './observability-match';

export const OBSERVABILITY_MODULE = 'modules/observability';

/** Values the module's scope locals stand for when a query is read (any environment's would do). */
const EXAMPLE = { service: 'senzu-api', environment: 'production' };


export type Routing = 'page' | 'warn' | 'component';

export interface Monitor {
  /** The resource name, which is also the runbook anchor. */
  id: string;
  name: string;
  type: string;
  /** The query with the module's locals and variables written out (`${var.x}` stays as `var.x`). */
  query: string;
  routing: Routing;
  runbookAnchor: string | null;
  thresholds: Record<string, unknown>;
}

/** A metric as one query uses it: the attributes it filters on (value, or null for "any") and groups by. */
export interface MetricUse {
  source: string;
  metric: string;
  /** Data point attribute → the value the query filters on (a Datadog tag value), or null when it only groups. */
  attributes: Record<string, string | null>;
  resourceTags: string[];
}

export type LogCondition = { field: string; op: 'exists' } | { field: string; op: 'equals'; value: string } | { field: string; op: '>'; value: number };

/** A log search as one monitor or widget uses it: every condition, and the fields it groups by. */
export interface LogUse {
  source: string;
  query: string;
  conditions: LogCondition[];
  groupBy: string[];
}

export interface ObservabilityContract {
  /** The module's default service tag: what the Worker reports as service.name unless OTEL_SERVICE_NAME says otherwise. */
  service: unknown;
  monitors: Monitor[];
  metrics: MetricUse[];
  logs: LogUse[];
}

type Hcl = Record<string, unknown>;

const one = (value: unknown): Hcl => (Array.isArray(value) ? (value[0] as Hcl) : (value as Hcl)) ?? {};

/**
 * Writes out the module's locals and variables as a query uses them: service and environment as an example
 * environment, other variables as their defaults (the values production passes too); any other expression
 * stays as its bare text.
 */
function expand(text: string, locals: Hcl, defaults: Hcl): string {
  let out = text;
  for (let i = 0; i < 5 && out.includes('${'); i++) {
    out = out.replace(/\$\{local\.(\w+)\}/g, (_, name: string) => (typeof locals[name] === 'string' ? (locals[name] as string) : `local.${name}`));
    out = out.replace(/\$\{var\.service\}/g, EXAMPLE.service).replace(/\$\{var\.environment\}/g, EXAMPLE.environment);
    out = out.replace(/\$\{var\.(\w+)\}/g, (whole, name: string) => (typeof defaults[name] === 'number' ? String(defaults[name]) : whole));
  }
  return out.replace(/\$\{([^}]*)\}/g, '$1');
}

const METRIC_QUERY = /\b(?:avg|sum|min|max|count|p\d{1,2}(?:\.\d+)?):([A-Za-z][\w.]*)\{([^}]*)\}(?:\s*by\s*\{([^}]*)\})?/g;

export function metricUses(source: string, query: string): MetricUse[] {
  const uses: MetricUse[] = [];
  for (const match of query.matchAll(METRIC_QUERY)) {
    const attributes: Record<string, string | null> = {};
    const resourceTags: string[] = [];
    const tag = (key: string, value: string | null) => {
      if (key in RESOURCE_TAGS) resourceTags.push(key);
      else attributes[key] = value;
    };
    for (const filter of match[2]!.split(',').map((f) => f.trim().replace(/^!/, ''))) {
      if (!filter || filter === '*') continue;
      const colon = filter.indexOf(':');
      tag(colon === -1 ? filter : filter.slice(0, colon), colon === -1 ? null : filter.slice(colon + 1));
    }
    for (const group of (match[3] ?? '').split(',').map((g) => g.trim())) if (group && !(group in attributes)) tag(group, null);
    uses.push({ source, metric: match[1]!, attributes, resourceTags: [...new Set(resourceTags)] });
  }
  return uses;
}

/** Reserved log attributes the log pipeline sets (service, env from the Logpush job), not the code. */
const RESERVED_LOG_TAGS = new Set(['service', 'env', 'source', 'host', 'status']);

export function logUse(source: string, search: string, groupBy: string[]): LogUse {
  const conditions: LogCondition[] = [];
  for (const m of search.matchAll(/@([\w.]+):("(?:[^"\\]|\\.)*"|\S+)/g)) {
    const field = m[1]!;
    const raw = m[2]!;
    if (raw === '*') conditions.push({ field, op: 'exists' });
    else if (raw.startsWith('>')) conditions.push({ field, op: '>', value: Number(raw.slice(1)) });
    else conditions.push({ field, op: 'equals', value: raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw });
  }
  for (const m of search.matchAll(/(?:^|\s)(\w+):/g)) if (!RESERVED_LOG_TAGS.has(m[1]!)) throw new Error(`${source}: "${m[1]}:" is not an attribute search (@${m[1]}) nor a reserved tag`);
  return { source, query: search, conditions, groupBy: groupBy.map((g) => g.replace(/^@/, '')) };
}

/** A log monitor's query: logs("<search>")…by("@a,@b")… */
function logMonitorUse(source: string, query: string): LogUse {
  const search = /^logs\("((?:[^"\\]|\\.)*)"\)/.exec(query);
  if (!search) throw new Error(`${source}: a log alert query must start with logs("…")`);
  const by = /\.by\("([^"]*)"\)/.exec(query);
  return logUse(source, search[1]!.replace(/\\"/g, '"'), by ? by[1]!.split(',').map((f) => f.trim()) : []);
}

function routingOf(message: string): Routing {
  if (message.includes('${local.notify_page}')) return 'page';
  if (message.includes('${local.notify_warn}')) return 'warn';
  return 'component';
}

/** Every metric and log query of a dashboard definition (the JSON Datadog's API takes). */
function dashboardUses(source: string, dashboard: unknown, metrics: MetricUse[], logs: LogUse[]): void {
  const walk = (node: unknown, title: string) => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, title));
    if (!node || typeof node !== 'object') return;
    const o = node as Hcl;
    const here = typeof o.title === 'string' ? o.title : title;
    if (typeof o.q === 'string') metrics.push(...metricUses(`${source}: ${here}`, o.q));
    const logQuery = o.log_query as Hcl | undefined;
    if (logQuery) {
      const search = String((logQuery.search as Hcl | undefined)?.query ?? '');
      const groups = ((logQuery.group_by as Hcl[] | undefined) ?? []).map((g) => String(g.facet));
      logs.push(logUse(`${source}: ${here}`, search, groups));
    }
    for (const [key, value] of Object.entries(o)) if (key !== 'log_query') walk(value, here);
  };
  walk(dashboard, '');
}

export async function readObservabilityContract(terraformDir: string): Promise<ObservabilityContract> {
  const tree = await parseTerraformTree(terraformDir);
  const files = [...tree.entries()].filter(([path]) => path.startsWith(`${OBSERVABILITY_MODULE}/`)).map(([, hcl]) => hcl);
  if (files.length === 0) throw new Error(`${OBSERVABILITY_MODULE} has no .tf files`);
  const locals: Hcl = Object.assign({}, ...files.flatMap((f) => ((f.locals as Hcl[] | undefined) ?? []).map(one)));
  const defaults: Hcl = Object.fromEntries(
    files.flatMap((f) => Object.entries((f.variable as Hcl | undefined) ?? {})).map(([name, body]) => [name, one(body).default]),
  );
  const expandText = (text: string) => expand(text, locals, defaults);
  const monitors: Monitor[] = [];
  const metrics: MetricUse[] = [];
  const logs: LogUse[] = [];
  for (const file of files) {
    const resources = (file.resource as Hcl | undefined) ?? {};
    for (const [id, bodies] of Object.entries((resources.datadog_monitor as Hcl | undefined) ?? {})) {
      const body = one(bodies);
      const message = String(body.message ?? '');
      const query = expandText(String(body.query ?? ''));
      const anchor = /#(\w+)/.exec(expandText(message).split('Runbook:')[1] ?? '');
      const monitor: Monitor = {
        id,
        name: expandText(String(body.name ?? '')),
        type: String(body.type),
        query,
        routing: routingOf(message),
        runbookAnchor: anchor ? anchor[1]! : null,
        thresholds: Object.fromEntries(Object.entries(one(body.monitor_thresholds ?? {})).map(([k, v]) => [k, typeof v === 'string' ? expandText(v) : v])),
      };
      monitors.push(monitor);
      if (monitor.type === 'log alert') logs.push(logMonitorUse(`monitor ${id}`, query));
      else if (monitor.type !== 'composite') metrics.push(...metricUses(`monitor ${id}`, query));
    }
    for (const [id, bodies] of Object.entries((resources.datadog_dashboard_json as Hcl | undefined) ?? {})) {
      const call = String(one(bodies).dashboard ?? '');
      const template = /templatefile\("\$\{path\.module\}\/([^"]+)"/.exec(call);
      if (!template) throw new Error(`datadog_dashboard_json.${id}: the dashboard must be a templatefile() of a file in the module`);
      const text = await readFile(join(terraformDir, OBSERVABILITY_MODULE, template[1]!), 'utf8');
      // The template's variables as templatefile() passes them (name = var.x), written out like a query's.
      const passed = Object.fromEntries([...call.matchAll(/(\w+)\s*=\s*var\.(\w+)/g)].map((m) => [m[1]!, m[2]!]));
      const filled = text.replace(/\$\{(\w+)\}/g, (whole, name: string) => (passed[name] ? expandText(`\${var.${passed[name]}}`) : whole));
      if (filled.includes('${')) throw new Error(`datadog_dashboard_json.${id}: ${template[1]} uses a variable templatefile() does not pass`);
      dashboardUses(`dashboard ${id}`, JSON.parse(filled), metrics, logs);
    }
  }
  monitors.sort((a, b) => a.id.localeCompare(b.id));
  return { service: defaults.service, monitors, metrics, logs };
}

// --- the runbook's alert table ---------------------------------------------------------------------------

export const ALERTS_BEGIN = '<!-- alerts:begin (generated from terraform/modules/observability by npm run docs:alerts; do not edit) -->';
export const ALERTS_END = '<!-- alerts:end -->';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

type Alerting = Pick<ObservabilityContract, 'monitors' | 'logs'>;

/**
 * The alert table: one row per monitor, in the module's words; then the log attributes the monitors and
 * dashboards search or group by, which Datadog needs as facets (measures for a numeric range).
 */
export function renderAlertTable({ monitors, logs }: Alerting): string {
  // Notifying monitors first; the components (of a composite) after them.
  const rows = [...monitors.filter((m) => m.routing !== 'component'), ...monitors.filter((m) => m.routing === 'component')]
    .map((m) => {
      const thresholds = Object.entries(m.thresholds)
        .map(([k, v]) => `${k} ${String(v)}`)
        .join(', ');
      // "[production] Senzu API: 5xx on {{http.route.name}}" → "Senzu API: 5xx on {http.route}"
      const title = m.name.replace(/^\[[^\]]*\]\s*/, '').replace(/\{\{([\w.]+)\.name\}\}/g, '{$1}');
      const query = m.type === 'composite' ? m.query.replace(/datadog_monitor\.(\w+)\.id/g, '$1') : m.query;
      const monitor = m.runbookAnchor ? `[${cell(title)}](#${m.runbookAnchor})` : `${cell(title)} (\`${m.id}\`)`;
      return `| ${monitor} | ${m.routing} | ${m.type} | \`${cell(query)}\` | ${cell(thresholds)} |`;
    });
  const fields = new Set(logs.flatMap((l) => [...l.conditions.map((c) => c.field), ...l.groupBy]));
  const measures = new Set(logs.flatMap((l) => l.conditions.filter((c) => c.op === '>').map((c) => c.field)));
  const list = (names: Iterable<string>) => [...names].sort().map((n) => `\`@${n}\``).join(', ');
  const facets = `Log facets the monitors and dashboards use: ${list([...fields].filter((f) => !measures.has(f)))}; measures: ${list(measures)}.`;
  return [ALERTS_BEGIN, '| monitor | routing | type | query (production) | thresholds |', '|---|---|---|---|---|', ...rows, '', facets, ALERTS_END].join('\n');
}

/** The runbook with its alert table replaced by a fresh rendering. */
export function withAlertTable(runbook: string, alerting: Alerting): string {
  const start = runbook.indexOf(ALERTS_BEGIN);
  const end = runbook.indexOf(ALERTS_END);
  if (start === -1 || end < start) throw new Error('the runbook has no alert table markers');
  return runbook.slice(0, start) + renderAlertTable(alerting) + runbook.slice(end + ALERTS_END.length);
}

// --- the runbook against the monitors --------------------------------------------------------------------

/** What is wrong between the runbook and the monitors; empty when they agree. */
export function runbookProblems(runbook: string, alerting: Alerting): string[] {
  const { monitors } = alerting;
  const problems: string[] = [];
  const alerts = runbook.slice(runbook.indexOf('## Alerts'));
  if (!runbook.includes('## Alerts')) return ['the runbook has no "## Alerts" section'];
  const sectionEnd = alerts.slice(1).search(/\n## /);
  const section = sectionEnd === -1 ? alerts : alerts.slice(0, sectionEnd + 1);
  const anchors = new Set([...section.matchAll(/<a id="([\w-]+)"><\/a>/g)].map((m) => m[1]!));
  for (const m of monitors) {
    if (m.routing === 'component') continue;
    if (m.runbookAnchor !== m.id) problems.push(`monitor ${m.id} links to #${m.runbookAnchor ?? '(nothing)'}, not to its own section #${m.id}`);
    if (!anchors.has(m.id)) problems.push(`monitor ${m.id} has no section <a id="${m.id}"></a> under "## Alerts"`);
  }
  const notifying = new Set(monitors.filter((m) => m.routing !== 'component').map((m) => m.id));
  for (const anchor of anchors) if (!notifying.has(anchor)) problems.push(`the runbook section #${anchor} has no monitor`);
  let expected: string | undefined;
  try {
    expected = withAlertTable(runbook, alerting);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (expected !== undefined && expected !== runbook) problems.push('the alert table is stale: run npm run docs:alerts');
  return problems;
}

/** A metric or log monitor's critical threshold must be the number its query compares with (Datadog refuses otherwise). */
export function thresholdProblems(monitors: Monitor[]): string[] {
  const problems: string[] = [];
  for (const m of monitors) {
    if (m.type === 'composite') continue;
    const compared = /[<>]=?\s*([^<>]+?)\s*$/.exec(m.query)?.[1];
    const critical = String(m.thresholds.critical ?? '');
    if (compared === undefined || compared !== critical) problems.push(`monitor ${m.id}: the query compares with ${compared}, the critical threshold is ${critical || '(none)'}`);
  }
  return problems;
}
