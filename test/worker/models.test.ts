import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { ACTIVE_RUN_KV_KEY } from '../../src/services/predictions/model-service';
import { api, promote, registerUser } from './support/auth';
import { insertModelRun, withDb } from './support/models';
import { sql } from 'drizzle-orm';

const PROBLEM = 'application/problem+json';

describe('model registry routes', () => {
  it('lists runs and shows one with its metadata; unknown and malformed ids are problems', async () => {
    const run = await insertModelRun({ name: `listed-${Date.now()}` });
    const list = await (await api('/models')).json<{ data: Array<{ id: string; status: string }> }>();
    expect(list.data.find((m) => m.id === run.id)).toMatchObject({ status: 'candidate' });
    const one = await api(`/models/${run.id}`);
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ id: run.id, featureVersion: 'v1', metadata: { id: expect.stringMatching(/^listed-/) } });
    const missing = await api(`/models/${crypto.randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe(PROBLEM);
    const bad = await api('/models/not-a-uuid');
    expect(bad.status).toBe(400);
    expect((await bad.json<{ invalidParams: Array<{ name: string }> }>()).invalidParams[0]!.name).toBe('modelId');
  });

  it('serves evaluations and backtests to pro only', async () => {
    const run = await insertModelRun({ name: `eval-${Date.now()}`, gate: { matches: 380, modelLogLoss: 0.97, pinnacleLogLoss: 0.98 } });
    const premium = await promote(await registerUser('premium-models'), { tier: 'premium' });
    expect((await api(`/models/${run.id}/evaluations`, { token: premium.accessToken })).status).toBe(403);
    const pro = await promote(await registerUser('pro-models'), { tier: 'pro' });
    const evals = await api(`/models/${run.id}/evaluations`, { token: pro.accessToken });
    expect(evals.status).toBe(200);
    const body = await evals.json<{ data: Array<{ split: string; matchCount: number; metrics: { gate: { modelLogLoss: number } } }> }>();
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({ split: 'test-2023-24', matchCount: 380, metrics: { gate: { modelLogLoss: 0.97 } } });
    const backtest = await api(`/models/${run.id}/backtest`, { token: pro.accessToken });
    expect(backtest.status).toBe(200);
    expect(await backtest.json()).toEqual({ reliability: { h2h: [] }, strategies: [] });
    expect((await api(`/models/${crypto.randomUUID()}/evaluations`, { token: pro.accessToken })).status).toBe(404);
  });
});

describe('POST /models/{modelId}/activate', () => {
  it('activates a model that is no worse than Pinnacle and retires the previous one', async () => {
    const admin = await promote(await registerUser('admin-activate'), { role: 'admin' });
    const first = await insertModelRun({ name: `good-a-${Date.now()}`, gate: { matches: 380, modelLogLoss: 0.98, pinnacleLogLoss: 0.98 } });
    const second = await insertModelRun({ name: `good-b-${Date.now()}`, gate: { matches: 380, modelLogLoss: 0.95, pinnacleLogLoss: 0.98 } });
    const a = await api(`/models/${first.id}/activate`, { method: 'POST', token: admin.accessToken });
    expect(a.status).toBe(200);
    expect(await a.json()).toMatchObject({ id: first.id, status: 'active', activationForced: false });
    // Serving's copy of the active run (KV, 60 s) goes with the activation, so the next prediction uses the new run.
    await env.PREDICTIONS.put(ACTIVE_RUN_KV_KEY, JSON.stringify({ id: first.id }));
    const b = await api(`/models/${second.id}/activate`, { method: 'POST', token: admin.accessToken, json: {} });
    expect(b.status).toBe(200);
    expect(await env.PREDICTIONS.get(ACTIVE_RUN_KV_KEY)).toBeNull();
    const statuses = await withDb((db) =>
      db.execute<{ id: string; status: string }>(sql`select id, status from model_runs where id in (${first.id}, ${second.id})`),
    );
    expect(Object.fromEntries(statuses.rows.map((r) => [r.id, r.status]))).toEqual({ [first.id]: 'retired', [second.id]: 'active' });
    const active = await withDb((db) => db.execute<{ n: number }>(sql`select count(*)::int as n from model_runs where status = 'active'`));
    expect(active.rows[0]!.n).toBe(1);
  });

  it('refuses a model worse than Pinnacle, or without a test evaluation, unless forced with a recorded reason', async () => {
    const admin = await promote(await registerUser('admin-gate'), { role: 'admin' });
    const worse = await insertModelRun({ name: `worse-${Date.now()}`, gate: { matches: 380, modelLogLoss: 0.99, pinnacleLogLoss: 0.98 } });
    const refused = await api(`/models/${worse.id}/activate`, { method: 'POST', token: admin.accessToken });
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toBe(PROBLEM);
    expect((await refused.json<{ detail: string }>()).detail).toMatch(/log loss 0\.99000 is worse than Pinnacle's 0\.98000 on the same 380 matches/);

    const unevaluated = await insertModelRun({ name: `noeval-${Date.now()}` });
    expect((await api(`/models/${unevaluated.id}/activate`, { method: 'POST', token: admin.accessToken })).status).toBe(409);

    const noReason = await api(`/models/${worse.id}/activate`, { method: 'POST', token: admin.accessToken, json: { force: true } });
    expect(noReason.status).toBe(400);
    expect((await noReason.json<{ invalidParams: Array<{ name: string }> }>()).invalidParams[0]!.name).toBe('reason');

    const forced = await api(`/models/${worse.id}/activate`, {
      method: 'POST',
      token: admin.accessToken,
      json: { force: true, reason: 'market feed outage; previous model is broken' },
    });
    expect(forced.status).toBe(200);
    expect(await forced.json()).toMatchObject({ status: 'active', activationForced: true, activationReason: 'market feed outage; previous model is broken' });
  });

  it('answers 404 for an unknown model', async () => {
    const admin = await promote(await registerUser('admin-404'), { role: 'admin' });
    expect((await api(`/models/${crypto.randomUUID()}/activate`, { method: 'POST', token: admin.accessToken })).status).toBe(404);
  });
});
