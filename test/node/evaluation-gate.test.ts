// The activation gate's rules on the committed default bundle's own rolling-origin evaluation: what it reads from
// the reports, what passes, and each condition that refuses.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultBundleDir } from '../../scripts/lib/models/bundle-files';
import type { RollingEvaluation } from '../../scripts/lib/models/rolling';
import { ECE_TOLERANCE, gateDecision, ROUNDING, rollingGate, type RollingGate } from '../../src/services/evaluation/gate';

let evaluation: RollingEvaluation;
beforeAll(async () => {
  evaluation = JSON.parse(await readFile(join(await defaultBundleDir(), 'evaluation.json'), 'utf8'));
});
const changed = (change: (g: RollingGate) => void) => {
  const g = structuredClone(evaluation.gate!);
  change(g);
  return gateDecision(g);
};

describe('the activation gate', () => {
  it("reads the pooled and per-season figures of the rolling evaluation's reports", () => {
    const gate = rollingGate(evaluation.seasons, evaluation.pooled.report)!;
    expect(gate).toEqual(evaluation.gate);
    expect(gate.seasons).toEqual(['2020-21', '2021-22', '2022-23', '2023-24']);
    for (const market of ['1x2', 'ou25'] as const) {
      const pooled = evaluation.pooled.report.markets[market]!;
      expect(gate.markets[market].pooled).toEqual({
        matches: pooled.logLossDifference!.rows,
        logLossDelta: pooled.logLossDifference!.estimate,
        lower: pooled.logLossDifference!.lower,
        upper: pooled.logLossDifference!.upper,
        modelEce: pooled.metrics!.model.ece,
        pinnacleEce: pooled.metrics!.pinnacle.ece,
      });
      expect(gate.markets[market].pooled.matches).toBe(evaluation.seasons.reduce((n, s) => n + s.report.markets[market]!.rows.evaluated, 0));
    }
  });

  it('passes the committed bundle', () => {
    expect(gateDecision(evaluation.gate)).toEqual({ passes: true, reasons: [] });
  });

  it('refuses a pooled log loss behind Pinnacle, a season behind it beyond noise, or a worse ECE, and says which', () => {
    expect(changed((g) => void (g.markets['1x2'].pooled.logLossDelta = 0.0001)).reasons).toEqual([
      expect.stringMatching(/^1x2: pooled log loss is worse than Pinnacle's by \+0\.00010 over \d+ matches$/),
    ]);
    expect(changed((g) => Object.assign(g.markets.ou25.seasons[2]!, { lower: 0.0002, upper: 0.004 })).reasons).toEqual([
      'ou25: in 2022-23 the model is worse than Pinnacle beyond noise, 95% interval [+0.00020, +0.00400]',
    ]);
    expect(changed((g) => void (g.markets.ou25.pooled.modelEce = g.markets.ou25.pooled.pinnacleEce + ECE_TOLERANCE + 1e-4)).passes).toBe(false);
    // Within the tolerance, a slightly worse ECE is not a refusal.
    expect(changed((g) => void (g.markets.ou25.pooled.modelEce = g.markets.ou25.pooled.pinnacleEce + ECE_TOLERANCE - 1e-4)).passes).toBe(true);
  });

  it('treats differences below floating-point rounding as none, and nothing above it', () => {
    expect(changed((g) => void (g.markets['1x2'].pooled.logLossDelta = ROUNDING / 2)).passes).toBe(true);
    expect(changed((g) => void (g.markets['1x2'].pooled.logLossDelta = ROUNDING * 2)).passes).toBe(false);
  });

  it('refuses a model without a rolling evaluation', () => {
    expect(gateDecision(null).passes).toBe(false);
    expect(gateDecision({ kind: 'test-season' } as unknown as RollingGate).reasons[0]).toMatch(/no rolling-origin evaluation/);
  });
});
