// Compares the Terraform tree with wrangler.toml: the names Terraform creates (bucket, queues, script) and
// the names the Worker binds to (bindings, Durable Object classes, cron schedules) must be the same, or a
// deploy binds to something that does not exist. Used by test/node/terraform-consistency.test.ts.
//
// What is compared, per scope:
// - "module defaults": the variable defaults of terraform/modules/cloudflare against the top level of
//   wrangler.toml (the defaults are what an environment gets when it passes nothing);
// - "<env>": the inputs terraform/environments/<env> passes to the cloudflare module (over the defaults)
//   against wrangler.toml [env.<env>]. Every Terraform environment needs a wrangler environment and back.
// - "module wiring": the cloudflare module's resources take their names from those variables, so a name
//   hardcoded in a resource cannot slip past the comparison above.
// - per environment too: the observability module's environment, service and prediction_queue_max_retries
//   against the Worker's ENVIRONMENT, OTEL_SERVICE_NAME and PREDICTION_QUEUE consumer max_retries (the tags its
//   monitors filter on, and the attempt its dead-letter monitor counts from).
// Queues are compared one producer binding at a time (field "queues.<binding>"): the binding, its queue, the
// dead-letter queue and the consumer settings of that queue, so a drift names the queue it is in.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parse as parseToml } from 'smol-toml';

export interface Mismatch {
  scope: string;
  field: string;
  terraform: unknown;
  wrangler: unknown;
}

export interface ConsistencyReport {
  /** Every .tf file parsed, relative to the terraform directory. */
  files: string[];
  /** Scopes compared: "module defaults", "module wiring" and one per environment. */
  scopes: string[];
  mismatches: Mismatch[];
}

type Hcl = Record<string, unknown>;
type Toml = Record<string, unknown>;

const CLOUDFLARE_MODULE = 'modules/cloudflare';

// @cdktf/hcl2json's typings carry `/// <reference lib="dom" />`, which would replace the Workers globals
// (crypto.subtle.timingSafeEqual, BufferSource) in the one tsconfig this repo type-checks. A specifier
// TypeScript cannot follow keeps its typings out; the signature is declared here instead.
const HCL2JSON = '@cdktf/hcl2json';
type ParseHcl = (filename: string, contents: string) => Promise<Record<string, unknown>>;
let parseHclCached: ParseHcl | undefined;
async function parseHcl(filename: string, contents: string): Promise<Record<string, unknown>> {
  parseHclCached ??= ((await import(HCL2JSON)) as { parse: ParseHcl }).parse;
  return parseHclCached(filename, contents);
}

export async function tfFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === '.terraform') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await tfFiles(path)));
    else if (entry.isFile() && entry.name.endsWith('.tf')) out.push(path);
  }
  return out.sort();
}

/** Parses every .tf file below `dir`; the key is the path relative to `dir`. A syntax error throws. */
export async function parseTerraformTree(dir: string): Promise<Map<string, Hcl>> {
  const parsed = new Map<string, Hcl>();
  for (const file of await tfFiles(dir)) {
    const rel = relative(dir, file);
    try {
      parsed.set(rel, (await parseHcl(rel, await readFile(file, 'utf8'))) as Hcl);
    } catch (error) {
      throw new Error(`${rel}: not valid HCL: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return parsed;
}

/** The blocks of one kind (variable, module, resource.<type>) across the files of one directory: name → body. */
function blocks(files: Hcl[], ...path: string[]): Map<string, Hcl> {
  const out = new Map<string, Hcl>();
  for (const file of files) {
    let node: unknown = file;
    for (const key of path) node = (node as Hcl | undefined)?.[key];
    if (!node || typeof node !== 'object') continue;
    for (const [name, bodies] of Object.entries(node as Hcl)) {
      const body = Array.isArray(bodies) ? bodies[0] : bodies;
      if (body && typeof body === 'object') out.set(name, body as Hcl);
    }
  }
  return out;
}

function filesIn(tree: Map<string, Hcl>, dir: string): Hcl[] {
  return [...tree.entries()].filter(([path]) => path.split('/').slice(0, -1).join('/') === dir).map(([, hcl]) => hcl);
}

/** The settings of the cloudflare module that wrangler.toml must agree with. */
interface CloudflareSettings {
  script_name?: unknown;
  compatibility_date?: unknown;
  kv_binding?: unknown;
  r2_binding?: unknown;
  r2_bucket_name?: unknown;
  queues?: unknown;
  durable_objects?: unknown;
  durable_object_migration_tag?: unknown;
  cron_schedules?: unknown;
}

/** Both sides in one shape; sqlite_classes is derived (Terraform: the DO classes; wrangler: the migrations). */
type Comparable = CloudflareSettings & { sqlite_classes: unknown[] };

/** What a side says about one queue; the module's `queues` entries have exactly this shape. */
interface QueueSettings {
  queue_name: unknown;
  dead_letter_queue_name?: unknown;
  consumer?: { max_batch_size: unknown; max_batch_timeout: unknown; max_retries: unknown };
}

/** Stands for the side that has no queue under a binding. */
const NOT_DECLARED = 'not declared';

const SETTINGS: (keyof CloudflareSettings)[] = [
  'script_name',
  'compatibility_date',
  'kv_binding',
  'r2_binding',
  'r2_bucket_name',
  'queues',
  'durable_objects',
  'durable_object_migration_tag',
  'cron_schedules',
];

/** `${var.x}` resolved against the directory's variable defaults; any other expression stays as written. */
function resolve(value: unknown, variables: Map<string, Hcl>): unknown {
  if (typeof value !== 'string') return value;
  const match = /^\$\{var\.([A-Za-z0-9_-]+)\}$/.exec(value);
  if (!match) return value;
  const variable = variables.get(match[1]!);
  return variable && 'default' in variable ? variable.default : value;
}

/** What wrangler.toml says, for the top level or one environment (wrangler environments inherit no bindings). */
function wranglerSettings(toml: Toml, env?: string): Comparable {
  const top = toml;
  const section = env ? ((toml.env as Toml | undefined)?.[env] as Toml | undefined) ?? {} : toml;
  const queueSection = (section.queues as Toml | undefined) ?? {};
  const producers = (queueSection.producers as Toml[] | undefined) ?? [];
  const consumers = (queueSection.consumers as Toml[] | undefined) ?? [];
  // The module binds, creates and consumes every queue of an entry together, so wrangler's producers and
  // consumers are joined on the queue name. A consumer whose queue has no producer binding cannot be an entry
  // of the module: it gets a key of its own, which Terraform never has, and is reported.
  const consumerOf = new Map(consumers.map((c) => [c.queue, c]));
  const queueSettings = (queue: unknown, c: Toml | undefined): QueueSettings => ({
    queue_name: queue,
    dead_letter_queue_name: c?.dead_letter_queue,
    consumer: c && { max_batch_size: c.max_batch_size, max_batch_timeout: c.max_batch_timeout, max_retries: c.max_retries },
  });
  const queues: Record<string, QueueSettings> = {};
  for (const p of producers) queues[String(p.binding)] = queueSettings(p.queue, consumerOf.get(p.queue));
  const produced = new Set(producers.map((p) => p.queue));
  for (const c of consumers) if (!produced.has(c.queue)) queues[`(consumer without producer) ${String(c.queue)}`] = queueSettings(c.queue, c);
  const kv = (section.kv_namespaces as Toml[] | undefined) ?? [];
  const r2 = (section.r2_buckets as Toml[] | undefined) ?? [];
  const durableObjects = (((section.durable_objects as Toml | undefined)?.bindings as Toml[] | undefined) ?? []).map((b) => ({
    name: b.name,
    class_name: b.class_name,
    script_name: b.script_name,
  }));
  const migrations = (section.migrations as Toml[] | undefined) ?? [];
  const crons = ((section.triggers as Toml | undefined)?.crons as unknown[] | undefined) ?? [];
  return {
    script_name: env ? (section.name ?? `${String(top.name)}-${env}`) : top.name,
    compatibility_date: section.compatibility_date ?? top.compatibility_date,
    kv_binding: kv.map((k) => k.binding),
    r2_binding: r2.map((b) => b.binding),
    r2_bucket_name: r2.map((b) => b.bucket_name),
    queues,
    durable_objects: durableObjects,
    durable_object_migration_tag: migrations.at(-1)?.tag,
    cron_schedules: crons,
    // The SQLite classes the migrations create: they must be exactly the bound classes.
    sqlite_classes: migrations.flatMap((m) => (m.new_sqlite_classes as unknown[] | undefined) ?? []),
  };
}

/** The Terraform side in the same shape as wranglerSettings, so the two compare with one deep-equal. */
function terraformSettings(settings: CloudflareSettings): Comparable {
  const durableObjects = settings.durable_objects && typeof settings.durable_objects === 'object' ? (settings.durable_objects as Toml) : {};
  return {
    script_name: settings.script_name,
    compatibility_date: settings.compatibility_date,
    kv_binding: [settings.kv_binding],
    r2_binding: [settings.r2_binding],
    r2_bucket_name: [settings.r2_bucket_name],
    queues: settings.queues,
    durable_objects: Object.entries(durableObjects).map(([name, class_name]) => ({ name, class_name, script_name: undefined })),
    durable_object_migration_tag: settings.durable_object_migration_tag,
    cron_schedules: settings.cron_schedules,
    sqlite_classes: Object.values(durableObjects),
  };
}

/** Order does not matter for lists of names and schedules; canonical JSON with sorted arrays and keys. */
function canonical(value: unknown): string {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.entries(v as Toml)
          .filter(([, x]) => x !== undefined)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, x]) => [k, norm(x)]),
      );
    return v;
  };
  return JSON.stringify(norm(value));
}

function isMap(value: unknown): value is Toml {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

/** One mismatch per producer binding whose queue differs; a `queues` that is not a literal map is one mismatch. */
function compareQueues(scope: string, terraform: unknown, wrangler: Record<string, QueueSettings>): Mismatch[] {
  if (!isMap(terraform)) return [{ scope, field: 'queues', terraform, wrangler }];
  const bindings = [...new Set([...Object.keys(terraform), ...Object.keys(wrangler)])].sort();
  const out: Mismatch[] = [];
  for (const binding of bindings) {
    const t = binding in terraform ? terraform[binding] : NOT_DECLARED;
    const w = binding in wrangler ? wrangler[binding] : NOT_DECLARED;
    if (canonical(t) !== canonical(w)) out.push({ scope, field: `queues.${binding}`, terraform: t, wrangler: w });
  }
  return out;
}

function compare(scope: string, terraform: CloudflareSettings, wrangler: Comparable, fields: string[]): Mismatch[] {
  const t: Toml = { ...terraformSettings(terraform) };
  const w: Toml = { ...wrangler };
  const out: Mismatch[] = [];
  for (const field of [...fields, 'sqlite_classes']) {
    if (field !== 'sqlite_classes' && !(field in terraform)) continue;
    if (field === 'queues') out.push(...compareQueues(scope, t.queues, wrangler.queues as Record<string, QueueSettings>));
    else if (canonical(t[field]) !== canonical(w[field])) out.push({ scope, field, terraform: t[field], wrangler: w[field] });
  }
  return out;
}

/** HCL expressions as hcl2json returns them, with the alignment whitespace of `terraform fmt` collapsed. */
function oneLine(value: unknown): unknown {
  return typeof value === 'string' ? value.replace(/\s+/g, ' ') : value;
}

/**
 * The module's resources must take the compared names and settings from its variables, not from literals.
 * Each expectation lists what the resources of one type must hold in one attribute, one entry per resource
 * block: a value that must be exactly that expression, or a pattern the one-line expression must match.
 */
function checkWiring(moduleFiles: Hcl[]): Mismatch[] {
  const expectations: { resource: string; attribute: string; expected: unknown[] }[] = [
    { resource: 'cloudflare_workers_script', attribute: 'script_name', expected: ['${var.script_name}'] },
    {
      resource: 'cloudflare_workers_script',
      attribute: 'bindings',
      // One queue binding per created queue, named by its key; a second `type = "queue"` would be a binding
      // written by hand next to the generated ones.
      expected: [/^(?!(?:.*?type = "queue"){2}).*\[ for (\w+), (\w+) in cloudflare_queue\.queue : \{ type = "queue" name = \1 queue_name = \2\.queue_name \} \]/],
    },
    { resource: 'cloudflare_r2_bucket', attribute: 'name', expected: ['${var.r2_bucket_name}'] },
    // Both queue resources iterate over var.queues, so each entry gets its queue and its dead-letter queue.
    { resource: 'cloudflare_queue', attribute: 'for_each', expected: ['${var.queues}', '${var.queues}'] },
    { resource: 'cloudflare_queue', attribute: 'queue_name', expected: ['${each.value.queue_name}', '${each.value.dead_letter_queue_name}'] },
    { resource: 'cloudflare_queue_consumer', attribute: 'for_each', expected: ['${var.queues}'] },
    { resource: 'cloudflare_queue_consumer', attribute: 'queue_id', expected: ['${cloudflare_queue.queue[each.key].id}'] },
    { resource: 'cloudflare_queue_consumer', attribute: 'dead_letter_queue', expected: ['${cloudflare_queue.dead_letter[each.key].queue_name}'] },
    {
      resource: 'cloudflare_queue_consumer',
      attribute: 'settings',
      expected: [
        {
          batch_size: '${each.value.consumer.max_batch_size}',
          max_retries: '${each.value.consumer.max_retries}',
          max_wait_time_ms: '${each.value.consumer.max_batch_timeout * 1000}',
        },
      ],
    },
    { resource: 'cloudflare_workers_cron_trigger', attribute: 'schedules', expected: [/\bin var\.cron_schedules\b/] },
  ];
  const matches = (found: unknown, expected: unknown) =>
    expected instanceof RegExp ? typeof found === 'string' && expected.test(oneLine(found) as string) : canonical(found) === canonical(expected);
  const out: Mismatch[] = [];
  for (const { resource, attribute, expected } of expectations) {
    const found = [...blocks(moduleFiles, 'resource', resource).values()].map((body) => body[attribute]);
    // Each resource block answers for one expected entry: two blocks matching the same entry do not count twice.
    const unmatched = [...found];
    const ok =
      found.length === expected.length &&
      expected.every((e) => {
        const i = unmatched.findIndex((f) => matches(f, e));
        if (i >= 0) unmatched.splice(i, 1);
        return i >= 0;
      });
    if (!ok)
      out.push({
        scope: 'module wiring',
        field: `${resource}.${attribute}`,
        terraform: found.map(oneLine),
        wrangler: expected.map((e) => (e instanceof RegExp ? String(e) : e)),
      });
  }
  return out;
}

const OBSERVABILITY_MODULE = 'modules/observability';

/**
 * Each environment uses the observability module once, and tells it what the Worker of that environment
 * reports: the env and service tags its monitors filter on (ENVIRONMENT and OTEL_SERVICE_NAME of wrangler.toml
 * [env.<env>.vars]; without OTEL_SERVICE_NAME the module's default, which the contract test pins to the
 * code's), and the PREDICTION_QUEUE consumer's max_retries (the dead-letter monitor counts attempts beyond it).
 */
function compareObservability(env: string, files: Hcl[], wrangler: Comparable, vars: Toml, moduleDefaults: Map<string, Hcl>): Mismatch[] {
  const modules = [...blocks(files, 'module').values()].filter((m) => String(m.source ?? '').replace(/\/+$/, '').endsWith(OBSERVABILITY_MODULE));
  if (modules.length !== 1) return [{ scope: env, field: 'module "observability"', terraform: `${modules.length} uses of ${OBSERVABILITY_MODULE}`, wrangler: 'exactly one' }];
  const inputs = modules[0]!;
  const locals: Hcl = Object.assign({}, ...files.flatMap((f) => ((f.locals as Hcl[] | undefined) ?? []).map((l) => (Array.isArray(l) ? l[0] : l) as Hcl)));
  const value = (input: unknown) => {
    const local = typeof input === 'string' ? /^\$\{local\.(\w+)\}$/.exec(input) : null;
    return local ? locals[local[1]!] : input;
  };
  const queue = (wrangler.queues as Record<string, QueueSettings> | undefined)?.PREDICTION_QUEUE;
  const pairs: Array<[string, unknown, unknown]> = [
    ['environment', value(inputs.environment), vars.ENVIRONMENT],
    ['service', value(inputs.service ?? moduleDefaults.get('service')?.default), vars.OTEL_SERVICE_NAME ?? moduleDefaults.get('service')?.default],
    ['prediction_queue_max_retries', inputs.prediction_queue_max_retries, queue?.consumer?.max_retries],
  ];
  return pairs.filter(([, t, w]) => t !== w).map(([field, terraform, wrangler]) => ({ scope: env, field: `observability.${field}`, terraform, wrangler }));
}

export async function checkInfraConsistency(options: { terraformDir: string; wranglerToml: string }): Promise<ConsistencyReport> {
  const tree = await parseTerraformTree(options.terraformDir);
  const toml = parseToml(options.wranglerToml) as Toml;
  const mismatches: Mismatch[] = [];
  const scopes: string[] = [];

  const moduleFiles = filesIn(tree, CLOUDFLARE_MODULE);
  if (moduleFiles.length === 0) throw new Error(`${CLOUDFLARE_MODULE} has no .tf files`);
  const moduleVariables = blocks(moduleFiles, 'variable');
  const defaults: CloudflareSettings = {};
  for (const field of SETTINGS) {
    const variable = moduleVariables.get(field);
    if (!variable) mismatches.push({ scope: 'module defaults', field, terraform: 'no such variable', wrangler: 'required' });
    else if ('default' in variable) defaults[field] = variable.default;
  }
  scopes.push('module defaults');
  mismatches.push(...compare('module defaults', defaults, wranglerSettings(toml), Object.keys(defaults)));

  scopes.push('module wiring');
  mismatches.push(...checkWiring(moduleFiles));

  const envDirs = [...new Set([...tree.keys()].filter((p) => p.startsWith('environments/')).map((p) => p.split('/')[1]!))].sort();
  for (const env of envDirs) {
    const files = filesIn(tree, `environments/${env}`);
    const variables = blocks(files, 'variable');
    const modules = [...blocks(files, 'module').values()].filter((m) => String(m.source ?? '').replace(/\/+$/, '').endsWith(CLOUDFLARE_MODULE));
    scopes.push(env);
    if (modules.length !== 1) {
      mismatches.push({ scope: env, field: 'module "cloudflare"', terraform: `${modules.length} uses of ${CLOUDFLARE_MODULE}`, wrangler: 'exactly one' });
      continue;
    }
    if (!(toml.env as Toml | undefined)?.[env]) {
      mismatches.push({ scope: env, field: 'environment', terraform: `environments/${env}`, wrangler: `no [env.${env}] section` });
      continue;
    }
    const inputs = modules[0]!;
    const settings: CloudflareSettings = { ...defaults };
    for (const field of SETTINGS) if (field in inputs) settings[field] = resolve(inputs[field], variables);
    const wrangler = wranglerSettings(toml, env);
    mismatches.push(...compare(env, settings, wrangler, SETTINGS));
    const vars = ((((toml.env as Toml | undefined)?.[env] as Toml | undefined)?.vars as Toml | undefined) ?? {}) as Toml;
    mismatches.push(...compareObservability(env, files, wrangler, vars, blocks(filesIn(tree, OBSERVABILITY_MODULE), 'variable')));
  }
  for (const env of Object.keys((toml.env as Toml | undefined) ?? {})) {
    if (!envDirs.includes(env))
      mismatches.push({ scope: env, field: 'environment', terraform: `no terraform/environments/${env}`, wrangler: `[env.${env}]` });
  }

  return { files: [...tree.keys()], scopes, mismatches };
}

export function formatMismatch(m: Mismatch): string {
  return `${m.scope}: ${m.field} differs: terraform ${JSON.stringify(m.terraform)} vs wrangler.toml ${JSON.stringify(m.wrangler)}`;
}
