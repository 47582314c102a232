// The Terraform tree and wrangler.toml must name the same things (scripts/lib/infra-consistency.ts). The
// real tree passes; copies with one deliberate change show the check reports exactly that change.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInfraConsistency, formatMismatch, tfFiles } from '../../scripts/lib/infra-consistency';

const ROOT = new URL('../../', import.meta.url).pathname;
const TERRAFORM = join(ROOT, 'terraform');
const wranglerToml = () => readFile(join(ROOT, 'wrangler.toml'), 'utf8');

describe('terraform/ and wrangler.toml', () => {
  it('parse, and name the same bindings, buckets, queues, Durable Object classes and cron schedules', async () => {
    const report = await checkInfraConsistency({ terraformDir: TERRAFORM, wranglerToml: await wranglerToml() });
    expect(report.mismatches.map(formatMismatch)).toEqual([]);
    expect(report.files).toEqual((await tfFiles(TERRAFORM)).map((f) => f.slice(TERRAFORM.length + 1)));
    expect(report.files).toEqual(
      expect.arrayContaining(['modules/cloudflare/main.tf', 'modules/neon/main.tf', 'modules/aws/main.tf', 'modules/observability/main.tf']),
    );
    expect(report.scopes).toEqual(['module defaults', 'module wiring', 'production', 'staging']);
  });
});

describe('the consistency check on a deliberately broken copy', () => {
  let copy: string;
  beforeAll(async () => {
    copy = await mkdtemp(join(tmpdir(), 'senzu-tf-'));
  });
  afterAll(async () => {
    await rm(copy, { recursive: true, force: true });
  });

  async function brokenCopy(file: string, from: string, to: string): Promise<string> {
    const dir = await mkdtemp(join(copy, 'tree-'));
    await cp(TERRAFORM, dir, { recursive: true, filter: (src) => !src.includes('/.terraform') });
    const path = join(dir, file);
    const text = await readFile(path, 'utf8');
    expect(text, `${file} contains ${from}`).toContain(from);
    await writeFile(path, text.replace(from, to));
    return dir;
  }

  it('reports a changed cron schedule in one environment, and only there', async () => {
    const dir = await brokenCopy('environments/staging/main.tf', '"30 3 * * *"', '"30 4 * * *"');
    const { mismatches } = await checkInfraConsistency({ terraformDir: dir, wranglerToml: await wranglerToml() });
    expect(mismatches).toEqual([
      {
        scope: 'staging',
        field: 'cron_schedules',
        terraform: ['*/5 * * * *', '0 * * * *', '30 4 * * *'],
        wrangler: ['*/5 * * * *', '0 * * * *', '30 3 * * *'],
      },
    ]);
  });

  it('reports a renamed R2 bucket in the module defaults', async () => {
    const dir = await brokenCopy('modules/cloudflare/variables.tf', 'default     = "senzu-models"', 'default     = "senzu-model-artifacts"');
    const { mismatches } = await checkInfraConsistency({ terraformDir: dir, wranglerToml: await wranglerToml() });
    expect(mismatches).toEqual([
      { scope: 'module defaults', field: 'r2_bucket_name', terraform: ['senzu-model-artifacts'], wrangler: ['senzu-models'] },
    ]);
  });

  it('reports a renamed dead-letter queue and a renamed Durable Object class', async () => {
    let dir = await brokenCopy('environments/production/main.tf', '"senzu-feature-recompute-dlq"', '"senzu-dlq"');
    let { mismatches } = await checkInfraConsistency({ terraformDir: dir, wranglerToml: await wranglerToml() });
    expect(mismatches.map((m) => `${m.scope}/${m.field}`)).toEqual(['production/queues.FEATURE_QUEUE']);

    dir = await brokenCopy('environments/production/main.tf', 'MATCH_ODDS   = "MatchOdds"', 'MATCH_ODDS   = "MatchOddsV2"');
    ({ mismatches } = await checkInfraConsistency({ terraformDir: dir, wranglerToml: await wranglerToml() }));
    expect(mismatches.map((m) => `${m.scope}/${m.field}`)).toEqual(['production/durable_objects', 'production/sqlite_classes']);
  });

  // The second queue is what the single-queue check could not see: a checker that compared only the first
  // producer and consumer of each side would pass all of these.
  const PREDICTION_QUEUE = {
    queue_name: 'senzu-prediction-writes',
    dead_letter_queue_name: 'senzu-prediction-writes-dlq',
    consumer: { max_batch_size: 100, max_batch_timeout: 2, max_retries: 10 },
  };

  it('reports a changed PREDICTION_QUEUE consumer setting in one environment, and only there', async () => {
    const dir = await brokenCopy('environments/staging/main.tf', 'max_batch_size    = 100', 'max_batch_size    = 10');
    const { mismatches } = await checkInfraConsistency({ terraformDir: dir, wranglerToml: await wranglerToml() });
    expect(mismatches).toEqual([
      {
        scope: 'staging',
        field: 'queues.PREDICTION_QUEUE',
        terraform: { ...PREDICTION_QUEUE, consumer: { ...PREDICTION_QUEUE.consumer, max_batch_size: 10 } },
        wrangler: PREDICTION_QUEUE,
      },
    ]);
  });

  it('reports PREDICTION_QUEUE missing from one environment, and only there', async () => {
    const block = [
      '    PREDICTION_QUEUE = {',
      '      queue_name             = "senzu-prediction-writes"',
      '      dead_letter_queue_name = "senzu-prediction-writes-dlq"',
      '      consumer = {',
      '        max_batch_size    = 100',
      '        max_batch_timeout = 2',
      '        max_retries       = 10',
      '      }',
      '    }',
      '',
    ].join('\n');
    const dir = await brokenCopy('environments/production/main.tf', block, '');
    const { mismatches } = await checkInfraConsistency({ terraformDir: dir, wranglerToml: await wranglerToml() });
    expect(mismatches).toEqual([{ scope: 'production', field: 'queues.PREDICTION_QUEUE', terraform: 'not declared', wrangler: PREDICTION_QUEUE }]);
  });

  it('reports a wrangler.toml PREDICTION_QUEUE consumer that lost its dead-letter queue', async () => {
    const toml = await wranglerToml();
    const broken = toml.replace(/(\[\[env\.production\.queues\.consumers\]\]\nqueue = "senzu-prediction-writes"\n(?:.+\n)*?)dead_letter_queue = .*\n/, '$1');
    expect(broken).not.toBe(toml);
    const { mismatches } = await checkInfraConsistency({ terraformDir: TERRAFORM, wranglerToml: broken });
    expect(mismatches).toEqual([
      {
        scope: 'production',
        field: 'queues.PREDICTION_QUEUE',
        terraform: PREDICTION_QUEUE,
        wrangler: { ...PREDICTION_QUEUE, dead_letter_queue_name: undefined },
      },
    ]);
  });

  it('reports a name hardcoded in a module resource instead of taken from its variable', async () => {
    let dir = await brokenCopy('modules/cloudflare/main.tf', 'name       = var.r2_bucket_name', 'name       = "senzu-models-eu"');
    let { mismatches } = await checkInfraConsistency({ terraformDir: dir, wranglerToml: await wranglerToml() });
    expect(mismatches.map((m) => `${m.scope}/${m.field}`)).toEqual(['module wiring/cloudflare_r2_bucket.name']);

    dir = await brokenCopy('modules/cloudflare/main.tf', 'queue_name = each.value.dead_letter_queue_name', 'queue_name = "senzu-prediction-writes-dlq"');
    ({ mismatches } = await checkInfraConsistency({ terraformDir: dir, wranglerToml: await wranglerToml() }));
    expect(mismatches.map((m) => `${m.scope}/${m.field}`)).toEqual(['module wiring/cloudflare_queue.queue_name']);

    dir = await brokenCopy('modules/cloudflare/main.tf', 'batch_size       = each.value.consumer.max_batch_size', 'batch_size       = 100');
    ({ mismatches } = await checkInfraConsistency({ terraformDir: dir, wranglerToml: await wranglerToml() }));
    expect(mismatches.map((m) => `${m.scope}/${m.field}`)).toEqual(['module wiring/cloudflare_queue_consumer.settings']);
  });

  it('reports a queue binding written by hand next to the ones generated from var.queues', async () => {
    const dir = await brokenCopy(
      'modules/cloudflare/main.tf',
      '        bucket_name = cloudflare_r2_bucket.models.name\n      },\n',
      '        bucket_name = cloudflare_r2_bucket.models.name\n      },\n      {\n        type       = "queue"\n        name       = "PREDICTION_QUEUE"\n        queue_name = "senzu-prediction-writes"\n      },\n',
    );
    const { mismatches } = await checkInfraConsistency({ terraformDir: dir, wranglerToml: await wranglerToml() });
    expect(mismatches.map((m) => `${m.scope}/${m.field}`)).toEqual(['module wiring/cloudflare_workers_script.bindings']);
  });

  it('reports a wrangler.toml change too: a binding renamed, an environment without Terraform', async () => {
    const toml = (await wranglerToml())
      .replace('[[env.production.kv_namespaces]]\nbinding = "PREDICTIONS"', '[[env.production.kv_namespaces]]\nbinding = "PREDICTION_CACHE"')
      .concat('\n[env.preview]\nname = "senzu-api-preview"\n');
    const { mismatches } = await checkInfraConsistency({ terraformDir: TERRAFORM, wranglerToml: toml });
    expect(mismatches.map((m) => `${m.scope}/${m.field}`)).toEqual(['production/kv_binding', 'preview/environment']);
  });

  it('reports a dead-letter monitor that counts attempts against another max_retries than the consumer\'s', async () => {
    const dir = await brokenCopy('environments/staging/main.tf', 'prediction_queue_max_retries = 10', 'prediction_queue_max_retries = 5');
    const { mismatches } = await checkInfraConsistency({ terraformDir: dir, wranglerToml: await wranglerToml() });
    expect(mismatches).toEqual([{ scope: 'staging', field: 'observability.prediction_queue_max_retries', terraform: 5, wrangler: 10 }]);
  });

  it('reports monitors scoped to another environment than the Worker reports', async () => {
    const dir = await brokenCopy('environments/staging/main.tf', 'environment = "staging"', 'environment = "stage"');
    let { mismatches } = await checkInfraConsistency({ terraformDir: dir, wranglerToml: await wranglerToml() });
    expect(mismatches).toEqual([{ scope: 'staging', field: 'observability.environment', terraform: 'stage', wrangler: 'staging' }]);
    const toml = (await wranglerToml()).replace('ENVIRONMENT = "production"', 'ENVIRONMENT = "production"\nOTEL_SERVICE_NAME = "senzu"');
    expect(toml).toContain('OTEL_SERVICE_NAME = "senzu"');
    ({ mismatches } = await checkInfraConsistency({ terraformDir: TERRAFORM, wranglerToml: toml }));
    expect(mismatches).toEqual([{ scope: 'production', field: 'observability.service', terraform: 'senzu-api', wrangler: 'senzu' }]);
  });

  it('reports an environment without the observability module', async () => {
    const dir = await brokenCopy('environments/production/main.tf', 'source = "../../modules/observability"', 'source = "../../modules/observability-old"');
    const { mismatches } = await checkInfraConsistency({ terraformDir: dir, wranglerToml: await wranglerToml() });
    expect(mismatches.map((m) => `${m.scope}/${m.field}`)).toEqual(['production/module "observability"']);
  });

  it('fails on a .tf file that is not valid HCL', async () => {
    const dir = await brokenCopy('modules/aws/main.tf', 'resource "aws_s3_bucket" "lake" {', 'resource "aws_s3_bucket" "lake" {{');
    await expect(checkInfraConsistency({ terraformDir: dir, wranglerToml: await wranglerToml() })).rejects.toThrow(/modules\/aws\/main\.tf: not valid HCL/);
  });
});
