// The 2-way report (the NBA's markets beside the margin-free closing line) and the gate over it, on hand-made
// rows whose figures are worked out here: pushes and missing lines are dropped from everything, the difference
// is paired on the same games, and the gate applies football's three conditions to the moneyline.
import { describe, expect, it } from 'vitest';
import { buildTwoWayReport, gateDecision, twoWayRollingGate, type TwoWayRow } from '../../src/services/evaluation';

const row = (i: number, label: 0 | 1 | null, model: number, closing: [number, number] | null): TwoWayRow => ({
  matchId: i,
  kickoff: new Date(Date.UTC(2022, 0, 1 + i)).toISOString(),
  label,
  model: [model, 1 - model],
  closing,
  marginMethod: 'multiplicative',
});

describe('buildTwoWayReport', () => {
  it('scores the model and the margin-free close on the same rows, dropping pushes and missing lines', () => {
    const rows = [row(0, 0, 0.6, [1.8, 2.1]), row(1, 1, 0.7, [1.5, 2.7]), row(2, null, 0.5, [1.91, 1.91]), row(3, 0, 0.9, null)];
    const m = buildTwoWayReport({ h2h: rows }, { bootstrapResamples: 200 }).markets.h2h!;
    expect(m.rows).toEqual({ input: 4, evaluated: 2, dropped: 2, droppedNoClosing: 1, voidPush: 1 });
    const fair = (a: number, b: number) => 1 / a / (1 / a + 1 / b);
    const close = [-Math.log(fair(1.8, 2.1)), -Math.log(1 - fair(1.5, 2.7))];
    const model = [-Math.log(0.6), -Math.log(0.3)];
    expect(m.metrics!.closing.logLoss).toBeCloseTo((close[0]! + close[1]!) / 2, 12);
    expect(m.metrics!.model.logLoss).toBeCloseTo((model[0]! + model[1]!) / 2, 12);
    expect(m.logLossDifference!.estimate).toBeCloseTo((model[0]! - close[0]! + model[1]! - close[1]!) / 2, 12);
    expect(m.logLossDifference!.rows).toBe(2);
    expect(m.marginMethods).toEqual({ multiplicative: 2 });
    expect(m.predictor).toBe('model');
  });

  it('does not depend on the order of the rows', () => {
    const rows = Array.from({ length: 40 }, (_, i) => row(i, (i % 3 === 0 ? 1 : 0) as 0 | 1, 0.55 + (i % 5) / 50, [1.7, 2.2]));
    const a = buildTwoWayReport({ h2h: rows });
    const b = buildTwoWayReport({ h2h: [...rows].reverse() });
    expect(b).toEqual(a);
  });

  it('refuses a row whose kick-off is not a date, naming the market and the match', () => {
    expect(() => buildTwoWayReport({ h2h: [row(0, 0, 0.6, [1.8, 2.1]), { ...row(7, 1, 0.4, [1.8, 2.1]), kickoff: 'Tuesday' }] })).toThrow(
      'market h2h, match 7: kickoff is not a date: "Tuesday"',
    );
  });
});

describe('the gate on a 2-way rolling evaluation', () => {
  const season = (name: string, model: number) => {
    const rows = Array.from({ length: 300 }, (_, i) => row(i, (i % 4 === 0 ? 1 : 0) as 0 | 1, model, [1.33, 3.6]));
    return { season: name, rows, report: buildTwoWayReport({ h2h: rows }) };
  };

  it('passes a model that is the close, and refuses one worse than it, naming the close', () => {
    const fair = 1 / 1.33 / (1 / 1.33 + 1 / 3.6);
    const same = [season('2020-21', fair), season('2021-22', fair)];
    const gate = twoWayRollingGate(same, buildTwoWayReport({ h2h: same.flatMap((s) => s.rows) }))!;
    expect(gateDecision(gate, ['h2h'])).toEqual({ passes: true, reasons: [] });

    const worse = [season('2020-21', fair), season('2021-22', 0.95)];
    const refused = gateDecision(twoWayRollingGate(worse, buildTwoWayReport({ h2h: worse.flatMap((s) => s.rows) })), ['h2h']);
    expect(refused.passes).toBe(false);
    expect(refused.reasons.join('\n')).toMatch(/h2h: pooled log loss is worse than the margin-free closing line/);
    expect(refused.reasons.join('\n')).toMatch(/h2h: in 2021-22 the model is worse than the margin-free closing line beyond noise/);
  });

  it('refuses when a season has no figures', () => {
    const s = season('2021-22', 0.7);
    expect(twoWayRollingGate([s, { season: '2022-23', report: buildTwoWayReport({}) }], s.report)).toBeNull();
    expect(gateDecision(null, ['h2h']).passes).toBe(false);
  });
});
