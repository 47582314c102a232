// npm run docs:alerts: rewrites the alert table of docs/runbooks/observability.md from
// terraform/modules/observability, so the runbook and the monitors cannot drift apart
// (test/node/observability-terraform.test.ts fails while the committed table is stale).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exitWithUsageOnHelp } from './lib/cli';
import { readObservabilityContract, withAlertTable } from './lib/observability-contract';

const ROOT = new URL('../', import.meta.url).pathname;
const RUNBOOK = join(ROOT, 'docs/runbooks/observability.md');

exitWithUsageOnHelp('usage: npm run docs:alerts\n\nRewrites the alert table of docs/runbooks/observability.md from terraform/modules/observability.');

const contract = await readObservabilityContract(join(ROOT, 'terraform'));
const { monitors } = contract;
const runbook = await readFile(RUNBOOK, 'utf8');
const updated = withAlertTable(runbook, contract);
if (updated !== runbook) await writeFile(RUNBOOK, updated);
console.log(`${RUNBOOK}: ${monitors.length} monitors${updated === runbook ? ', unchanged' : ', table rewritten'}`);
