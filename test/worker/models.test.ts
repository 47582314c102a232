import { env } from 'cloudflare:test';
import { describe, expect, inject, it } from 'vitest';
import type { RollingGate } from '../../src/services/evaluation/gate';
import { ACTIVE_RUN_KV_KEY } from '../../src/services/predictions/model-service';
import { api, promote, registerUser } from './support/auth';
import { insertModelRun, withDb } from './support/models';
import { sql } from 'drizzle-orm';

const PROBLEM = 'application/problem+json';

/** The committed default bundle's own rolling-origin gate figures (evaluation.json, made by npm run model:train). */
const defaultBundle = inject('defaultBundle');
const committedGate = (): RollingGate =>
  (JSON.parse(atob(defaultBundle.files['evaluation.json']!)) as { gate: RollingGate }).gate;
/** The committed figures with one thing made worse, as a model behind the market would show them. */
function worse(change: (gate: RollingGate) => void): RollingGate {
  const gate = structuredClone(committedGate());
  change(gate);
  return gate;
}

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
    const run = await insertModelRun({ name: `eval-${Date.now()}`, gate: committedGate() });
    const premium = await promote(await registerUser('premium-models'), { tier: 'premium' });
    expect((await api(`/models/${run.id}/evaluations`, { token: premium.accessToken })).status).toBe(403);
    const pro = await promote(await registerUser('pro-models'), { tier: 'pro' });
    const evals = await api(`/models/${run.id}/evaluations`, { token: pro.accessToken });
    expect(evals.status).toBe(200);
    const body = await evals.json<{ data: Array<{ split: string; matchCount: number; metrics: { gate: RollingGate } }> }>();
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({ split: 'rolling', matchCount: committedGate().markets['1x2'].pooled.matches, metrics: { gate: committedGate() } });
    const backtest = await api(`/models/${run.id}/backtest`, { token: pro.accessToken });
    expect(backtest.status).toBe(200);
    expect(await backtest.json()).toEqual({ reliability: { h2h: [] }, strategies: [] });
    expect((await api(`/models/${crypto.randomUUID()}/evaluations`, { token: pro.accessToken })).status).toBe(404);
  });
});

describe('POST /models/{modelId}/activate', () => {
  it('activates a model whose rolling figures pass the gate and retires the previous one', async () => {
    const admin = await promote(await registerUser('admin-activate'), { role: 'admin' });
    const first = await insertModelRun({ name: `good-a-${Date.now()}`, gate: committedGate() });
    // Ahead of the market: better than its figures, so also through.
    const second = await insertModelRun({
      name: `good-b-${Date.now()}`,
      gate: worse((g) => {
        g.markets['1x2'].pooled.logLossDelta = -0.002;
        g.markets['1x2'].pooled.upper = -0.0005;
      }),
    });
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

  it('refuses a model behind the market on the pooled or per-season figures, or without them, unless forced with a recorded reason', async () => {
    const admin = await promote(await registerUser('admin-gate'), { role: 'admin' });
    const cases: Array<[string, RollingGate, RegExp]> = [
      ['pooled-ou', worse((g) => void (g.markets.ou25.pooled.logLossDelta = 0.0004)), /ou25: pooled log loss is worse than Pinnacle's by \+0\.00040 over \d+ matches/],
      [
        'season',
        worse((g) => Object.assign(g.markets['1x2'].seasons[1]!, { logLossDelta: 0.004, lower: 0.001, upper: 0.007 })),
        new RegExp(`1x2: in ${committedGate().seasons[1]} the model is worse than Pinnacle beyond noise, 95% interval \\[\\+0\\.00100, \\+0\\.00700\\]`),
      ],
      ['ece', worse((g) => void (g.markets['1x2'].pooled.modelEce = g.markets['1x2'].pooled.pinnacleEce + 0.0021)), /1x2: pooled ECE .* worse than Pinnacle's .* by more than 0\.002/],
    ];
    for (const [name, gate, reason] of cases) {
      const run = await insertModelRun({ name: `worse-${name}-${Date.now()}`, gate });
      const refused = await api(`/models/${run.id}/activate`, { method: 'POST', token: admin.accessToken });
      expect(refused.status, name).toBe(409);
      expect(refused.headers.get('content-type')).toBe(PROBLEM);
      expect((await refused.json<{ detail: string }>()).detail, name).toMatch(reason);
    }

    const unevaluated = await insertModelRun({ name: `noeval-${Date.now()}` });
    const noEvaluation = await api(`/models/${unevaluated.id}/activate`, { method: 'POST', token: admin.accessToken });
    expect(noEvaluation.status).toBe(409);
    expect((await noEvaluation.json<{ detail: string }>()).detail).toMatch(/no rolling-origin evaluation is stored/);

    const worse1 = await insertModelRun({ name: `worse-forced-${Date.now()}`, gate: worse((g) => void (g.markets['1x2'].pooled.logLossDelta = 0.01)) });
    const noReason = await api(`/models/${worse1.id}/activate`, { method: 'POST', token: admin.accessToken, json: { force: true } });
    expect(noReason.status).toBe(400);
    expect((await noReason.json<{ invalidParams: Array<{ name: string }> }>()).invalidParams[0]!.name).toBe('reason');

    const forced = await api(`/models/${worse1.id}/activate`, {
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
