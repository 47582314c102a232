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
    expect(report.files).toEqual(expect.arrayContaining(['modules/cloudflare/main.tf', 'modules/neon/main.tf', 'modules/aws/main.tf']));
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
    expect(mismatches.map((m) => `${m.scope}/${m.field}`)).toEqual(['production/dead_letter_queue_name']);

    dir = await brokenCopy('environments/production/main.tf', 'MATCH_ODDS   = "MatchOdds"', 'MATCH_ODDS   = "MatchOddsV2"');
    ({ mismatches } = await checkInfraConsistency({ terraformDir: dir, wranglerToml: await wranglerToml() }));
    expect(mismatches.map((m) => `${m.scope}/${m.field}`)).toEqual(['production/durable_objects', 'production/sqlite_classes']);
  });

  it('reports a name hardcoded in a module resource instead of taken from its variable', async () => {
    const dir = await brokenCopy('modules/cloudflare/main.tf', 'name       = var.r2_bucket_name', 'name       = "senzu-models-eu"');
    const { mismatches } = await checkInfraConsistency({ terraformDir: dir, wranglerToml: await wranglerToml() });
    expect(mismatches.map((m) => `${m.scope}/${m.field}`)).toEqual(['module wiring/cloudflare_r2_bucket.name']);
  });

  it('reports a wrangler.toml change too: a binding renamed, an environment without Terraform', async () => {
    const toml = (await wranglerToml())
      .replace('[[env.production.kv_namespaces]]\nbinding = "PREDICTIONS"', '[[env.production.kv_namespaces]]\nbinding = "PREDICTION_CACHE"')
      .concat('\n[env.preview]\nname = "senzu-api-preview"\n');
    const { mismatches } = await checkInfraConsistency({ terraformDir: TERRAFORM, wranglerToml: toml });
    expect(mismatches.map((m) => `${m.scope}/${m.field}`)).toEqual(['production/kv_binding', 'preview/environment']);
  });

  it('fails on a .tf file that is not valid HCL', async () => {
    const dir = await brokenCopy('modules/aws/main.tf', 'resource "aws_s3_bucket" "lake" {', 'resource "aws_s3_bucket" "lake" {{');
    await expect(checkInfraConsistency({ terraformDir: dir, wranglerToml: await wranglerToml() })).rejects.toThrow(/modules\/aws\/main\.tf: not valid HCL/);
  });
});
