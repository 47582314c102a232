// terraform/modules/observability and docs/runbooks/observability.md say the same thing: every monitor that
// notifies links to its own section of the runbook, every section there has a monitor, and the runbook's
// alert table is the one `npm run docs:alerts` generates from the module. (That the code emits what these
// monitors query is test/worker/observability-contract.test.ts.)
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  readObservabilityContract,
  renderAlertTable,
  runbookProblems,
  thresholdProblems,
  withAlertTable,
  type Monitor,
  type ObservabilityContract,
} from '../../scripts/lib/observability-contract';

const ROOT = new URL('../../', import.meta.url).pathname;
const RUNBOOK = join(ROOT, 'docs/runbooks/observability.md');

let contract: ObservabilityContract;
let monitors: Monitor[];
let runbook: string;
/** The contract with other monitors, as if the module said something else. */
const withMonitors = (changed: Monitor[]) => ({ ...contract, monitors: changed });
beforeAll(async () => {
  contract = await readObservabilityContract(join(ROOT, 'terraform'));
  ({ monitors } = contract);
  runbook = await readFile(RUNBOOK, 'utf8');
});

describe('the observability module', () => {
  it('has a monitor for each signal the issue asks to be paged or warned on, each routed', () => {
    const byId = Object.fromEntries(monitors.map((m) => [m.id, m]));
    expect(Object.keys(byId)).toEqual(
      expect.arrayContaining([
        'error_rate', 'server_errors_by_route', 'prediction_latency_miss', 'prediction_latency_hit', 'cache_hit_rate', 'ingestion_failed',
        'ingestion_budget_skipped', 'provider_credits_low', 'unresolved_team_names', 'prediction_dead_letters', 'rate_limit_refusals',
        'model_behind_market',
      ]),
    );
    expect(byId.model_behind_market!.routing).toBe('page');
    expect(byId.model_behind_market!.query).toContain('.by("@modelRunId,@market")');
    // The composite's parts notify no one; everything else pages or warns.
    expect(monitors.filter((m) => m.routing === 'component').map((m) => m.id).sort()).toEqual(['cache_hit_rate_low', 'cache_lookup_volume']);
    expect(byId.cache_hit_rate!.query).toBe('datadog_monitor.cache_hit_rate_low.id && datadog_monitor.cache_lookup_volume.id');
  });

  it('compares each query with its critical threshold', () => {
    expect(thresholdProblems(monitors)).toEqual([]);
    const drifted = monitors.map((m) => (m.id === 'error_rate' ? { ...m, thresholds: { ...m.thresholds, critical: 2 } } : m));
    expect(thresholdProblems(drifted)).toEqual(['monitor error_rate: the query compares with 1, the critical threshold is 2']);
  });
});

describe('docs/runbooks/observability.md', () => {
  it('has a section for every monitor, a monitor for every section, and the generated alert table', () => {
    expect(runbookProblems(runbook, contract)).toEqual([]);
    expect(runbook).toContain(renderAlertTable(contract));
    expect(runbook).toMatch(/measures: `@attempts`, `@unresolved`\./);
  });

  it('reports a monitor without a section, and a section without a monitor', () => {
    const withoutSection = runbook.replace('<a id="model_behind_market"></a>', '');
    expect(runbookProblems(withoutSection, contract)).toEqual(['monitor model_behind_market has no section <a id="model_behind_market"></a> under "## Alerts"']);

    const fewerMonitors = withMonitors(monitors.filter((m) => m.id !== 'rate_limit_refusals'));
    expect(runbookProblems(withAlertTable(runbook, fewerMonitors), fewerMonitors)).toEqual(['the runbook section #rate_limit_refusals has no monitor']);
  });

  it('reports a stale alert table and a monitor that links to another section', () => {
    const raised = withMonitors(monitors.map((m) => (m.id === 'error_rate' ? { ...m, thresholds: { ...m.thresholds, warning: 0.75 } } : m)));
    expect(runbookProblems(runbook, raised)).toEqual(['the alert table is stale: run npm run docs:alerts']);

    const misLinked = withMonitors(monitors.map((m) => (m.id === 'ingestion_stalled' ? { ...m, runbookAnchor: 'ingestion_failed' } : m)));
    expect(runbookProblems(withAlertTable(runbook, misLinked), misLinked)).toEqual([
      'monitor ingestion_stalled links to #ingestion_failed, not to its own section #ingestion_stalled',
    ]);
  });
});
