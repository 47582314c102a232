// The GitHub workflows are valid YAML and contain the steps docs/deploy.md and the README rely on. Steps are
// found by what they run (`run:` text or `uses:` action), not by their names, so renaming a step is free
// but dropping `npm test` is not.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const WORKFLOWS = new URL('../../.github/workflows/', import.meta.url).pathname;

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  'runs-on': string;
  needs?: string | string[];
  environment?: unknown;
  container?: { image: string } | string;
  services?: Record<string, { image: string; env?: Record<string, string> }>;
  env?: Record<string, string>;
  steps: Step[];
  strategy?: { matrix?: Record<string, unknown> };
  defaults?: { run?: { 'working-directory'?: string } };
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

async function workflow(file: string): Promise<Workflow> {
  const parsed = parse(await readFile(join(WORKFLOWS, file), 'utf8'), { strict: true, uniqueKeys: true }) as Workflow;
  expect(parsed.jobs, `${file} has jobs`).toBeTypeOf('object');
  for (const [id, job] of Object.entries(parsed.jobs)) {
    expect(job['runs-on'], `${file}: job ${id} has runs-on`).toBeTruthy();
    expect(Array.isArray(job.steps) && job.steps.length > 0, `${file}: job ${id} has steps`).toBe(true);
    for (const step of job.steps) expect(Boolean(step.uses) !== Boolean(step.run), `${file}: ${id}: a step has exactly one of uses/run`).toBe(true);
  }
  return parsed;
}

/** Index of the first step whose run text matches, or -1. */
function stepIndex(job: Job, pattern: RegExp): number {
  return job.steps.findIndex((s) => typeof s.run === 'string' && pattern.test(s.run));
}

function usesIndex(job: Job, action: string): number {
  return job.steps.findIndex((s) => s.uses?.split('@')[0] === action);
}

describe('.github/workflows/ci.yml', () => {
  it('runs on push and pull requests', async () => {
    const wf = await workflow('ci.yml');
    expect(Object.keys(wf.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
  });

  it('tests with Node 20 against a postgres:15 service: npm ci, the Python packages, typecheck, then npm test', async () => {
    const { jobs } = await workflow('ci.yml');
    const job = Object.values(jobs).find((j) => stepIndex(j, /^npm test\s*$/m) !== -1);
    expect(job, 'a job runs the README test command `npm test`').toBeDefined();
    const test = job!;
    expect(Object.values(test.services ?? {}).map((s) => s.image)).toContain('postgres:15');
    const databaseUrl = test.env?.DATABASE_URL ?? test.steps[stepIndex(test, /^npm test/m)]?.env?.DATABASE_URL;
    expect(databaseUrl).toMatch(/^postgres(ql)?:\/\/postgres:[^@]+@(postgres|localhost|127\.0\.0\.1):5432\//);
    const setupNode = test.steps[usesIndex(test, 'actions/setup-node')];
    expect(String(setupNode?.with?.['node-version'])).toBe('20');

    const order = [
      usesIndex(test, 'actions/checkout'),
      stepIndex(test, /apt-get install[^\n]*python3-xgboost[^\n]*python3-sklearn[^\n]*python3-onnx/),
      stepIndex(test, /^npm ci\b/m),
      stepIndex(test, /^npm run typecheck\s*$/m),
      stepIndex(test, /^npm test\s*$/m),
    ];
    expect(order.every((i) => i >= 0), `steps present: ${order.join(', ')}`).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});

describe('.github/workflows/terraform.yml', () => {
  it('checks formatting and validates every environment without a backend', async () => {
    const wf = await workflow('terraform.yml');
    expect(Object.keys(wf.on)).toContain('push');
    const jobs = Object.values(wf.jobs);
    for (const job of jobs) expect(usesIndex(job, 'hashicorp/setup-terraform'), 'every job sets up terraform').toBeGreaterThanOrEqual(0);
    expect(jobs.some((j) => stepIndex(j, /terraform fmt -check -recursive/) >= 0)).toBe(true);

    const validate = jobs.find((j) => stepIndex(j, /terraform validate/) >= 0)!;
    expect(validate).toBeDefined();
    expect(stepIndex(validate, /terraform init -backend=false/)).toBeGreaterThanOrEqual(0);
    expect(stepIndex(validate, /terraform init -backend=false/)).toBeLessThan(stepIndex(validate, /terraform validate/));
    expect(validate.strategy?.matrix?.environment).toEqual(['staging', 'production']);
    // validate reaches a module through the environments only: every environment is validated, and each one uses
    // every module (observability included), so each environment's validate covers all of them.
    const terraform = new URL('../../terraform/', import.meta.url).pathname;
    expect((await readdir(join(terraform, 'environments'))).sort()).toEqual(['production', 'staging']);
    for (const env of ['staging', 'production']) {
      const main = await readFile(join(terraform, 'environments', env, 'main.tf'), 'utf8');
      for (const module of await readdir(join(terraform, 'modules'))) expect(main, `${env} uses modules/${module}`).toContain(`source = "../../modules/${module}"`);
    }
    expect(validate.defaults?.run?.['working-directory']).toBe('terraform/environments/${{ matrix.environment }}');
  });
});

describe('.github/workflows/deploy.yml', () => {
  it('runs on v* tags, or by hand with a staging/production choice', async () => {
    const wf = await workflow('deploy.yml');
    expect((wf.on.push as { tags: string[] }).tags).toEqual(['v*']);
    const input = (wf.on.workflow_dispatch as { inputs: { environment: { options: string[] } } }).inputs.environment;
    expect(input.options).toEqual(['staging', 'production']);
  });

  it('installs, migrates the target database, then deploys with wrangler --env and the Cloudflare secrets', async () => {
    const { jobs } = await workflow('deploy.yml');
    const deploy = Object.values(jobs).find((j) => stepIndex(j, /wrangler deploy/) >= 0)!;
    expect(deploy).toBeDefined();
    expect(String(deploy.environment)).toMatch(/\$\{\{\s*needs\.target\.outputs\.environment\s*\}\}/);

    const install = stepIndex(deploy, /^npm ci\b/m);
    const migrate = stepIndex(deploy, /^npm run db:migrate\s*$/m);
    const wrangler = stepIndex(deploy, /npx wrangler deploy --env /);
    expect([install, migrate, wrangler].every((i) => i >= 0)).toBe(true);
    expect(install < migrate && migrate < wrangler).toBe(true);

    expect(deploy.steps[migrate]!.env?.DATABASE_URL).toBe('${{ secrets.DATABASE_URL }}');
    const wranglerEnv = deploy.steps[wrangler]!.env ?? {};
    expect(wranglerEnv.CLOUDFLARE_API_TOKEN).toBe('${{ secrets.CLOUDFLARE_API_TOKEN }}');
    expect(wranglerEnv.CLOUDFLARE_ACCOUNT_ID).toBe('${{ secrets.CLOUDFLARE_ACCOUNT_ID }}');
  });

  it('every environment it can pick is a wrangler.toml environment', async () => {
    const { jobs } = await workflow('deploy.yml');
    const pick = jobs.target!.steps.map((s) => s.run ?? '').join('\n');
    const picked = [...pick.matchAll(/environment=(\w+)/g)].map((m) => m[1]);
    const toml = await readFile(new URL('../../wrangler.toml', import.meta.url), 'utf8');
    for (const env of new Set([...picked, 'staging', 'production'])) expect(toml).toContain(`[env.${env}]`);
  });
});

describe('.github/workflows/archive.yml', () => {
  it('runs npm run archive on a schedule and by hand, against the production database and the S3 lake', async () => {
    const wf = await workflow('archive.yml');
    expect((wf.on.schedule as Array<{ cron: string }>).map((s) => s.cron)).toHaveLength(1);
    expect(Object.keys(wf.on)).toContain('workflow_dispatch');
    const job = Object.values(wf.jobs).find((j) => stepIndex(j, /npm run archive/) >= 0)!;
    expect(job).toBeDefined();
    const install = stepIndex(job, /^npm ci\b/m);
    const archive = stepIndex(job, /npm run archive/);
    expect(install >= 0 && install < archive).toBe(true);
    const env = job.steps[archive]!.env ?? {};
    expect(env.DATABASE_URL).toBe('${{ secrets.DATABASE_URL }}');
    expect(env.AWS_ACCESS_KEY_ID).toBe('${{ secrets.AWS_ACCESS_KEY_ID }}');
    expect(env.AWS_SECRET_ACCESS_KEY).toBe('${{ secrets.AWS_SECRET_ACCESS_KEY }}');
    expect(env.S3_BUCKET).toBeTruthy();
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.archive).toBe('tsx scripts/archive.ts');
  });
});
