// A corrupt or missing model artifact in R2 is a 503 problem and a log line, never a crash: the isolate
// remembers the broken bundle for a while instead of re-downloading it on every request, and heals once
// the artifact is fixed. This file's R2 is its own, so the other prediction tests keep the good bundle.
import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { BUNDLE_FILES } from '../../src/services/inference/bundle';
import { forgetActiveRun, forgetRuntime } from '../../src/services/predictions/model-service';
import { api, PROBLEM } from './support/http';
import { promote, registerUser, type TestUser } from './support/auth';
import { withDb } from './support/models';

const bundle = inject('defaultBundle');
const bytes = (name: string) => Uint8Array.from(atob(bundle.files[name]!), (c) => c.charCodeAt(0));
const key = (name: string) => `models/${bundle.id}/${name}`;
let pro: TestUser;
let matchId: number;

beforeAll(async () => {
  for (const name of Object.keys(bundle.files)) if (name !== 'parity.json') await env.MODELS.put(key(name), bytes(name));
  pro = await promote(await registerUser('pred-503'), { tier: 'pro' });
  const startAt = new Date(Math.ceil((Date.now() + 72 * 3_600_000) / 60_000) * 60_000);
  matchId = await withDb(async (db) => {
    const rows = await db.execute<{ id: string }>(sql`
      insert into matches (sport_id, competition_id, season, home_team_id, away_team_id, start_at, status, provider, external_match_id)
      select sport_id, competition_id, null, away_team_id, home_team_id, ${startAt.toISOString()}::timestamptz, 'scheduled', 'prediction-test', ${`unavailable-${Date.now()}`}
      from matches where season = '2023-24' order by start_at, id limit 1 returning id`);
    return Number(rows.rows[0]!.id);
  });
}, 60_000);

async function expectUnavailable() {
  forgetActiveRun();
  forgetRuntime(bundle.runId);
  const res = await api(`/matches/${matchId}/predictions`, { token: pro.accessToken });
  const text = await res.text();
  expect(res.status, text).toBe(503);
  expect(res.headers.get('content-type')).toBe(PROBLEM);
  expect(res.headers.get('retry-after')).toBe('30');
  expect(JSON.parse(text)).toMatchObject({ type: 'https://docs.senzu.ai/problems/unavailable', status: 503 });
}

describe('a broken model bundle', () => {
  it('answers 503 with a log line for a corrupt artifact, and serves again once it is fixed', async () => {
    const corrupt = bytes(BUNDLE_FILES.h2h);
    corrupt[100] = corrupt[100]! ^ 0xff;
    await env.MODELS.put(key(BUNDLE_FILES.h2h), corrupt);
    const log = vi.spyOn(console, 'log');
    await expectUnavailable();
    const lines = log.mock.calls.map((c) => String(c[0]));
    log.mockRestore();
    expect(lines.some((l) => l.includes('"model unavailable"') && l.includes('sha256'))).toBe(true);

    await env.MODELS.put(key(BUNDLE_FILES.h2h), bytes(BUNDLE_FILES.h2h));
    forgetRuntime(bundle.runId);
    const healed = await api(`/matches/${matchId}/predictions`, { token: pro.accessToken });
    expect(healed.status, await healed.clone().text()).toBe(200);
    expect(healed.headers.get('x-model-run')).toBe(bundle.runId);
  }, 60_000);

  it('answers 503 for a missing artifact and for a bundle.json that is not the registered one', async () => {
    await env.MODELS.delete(key(BUNDLE_FILES.ou25));
    await env.PREDICTIONS.delete(`pred:v2:${bundle.runId}:${matchId}`);
    await expectUnavailable();
    await env.MODELS.put(key(BUNDLE_FILES.ou25), bytes(BUNDLE_FILES.ou25));

    const manifest = JSON.parse(new TextDecoder().decode(bytes('bundle.json'))) as Record<string, unknown>;
    await env.MODELS.put(key('bundle.json'), JSON.stringify({ ...manifest, createdAt: 'edited' }));
    await expectUnavailable();
  }, 60_000);
});
