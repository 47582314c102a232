// The OpenAPI document exactly as the Worker serves it passes Redocly's recommended ruleset (`redocly lint`,
// @redocly/cli pinned in package.json) with no error. Generators and API portals read the document the way
// the linter does: an operation without `security` is ambiguous, a document without `servers` has no base URL.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT, startStatelessWorker } from '../../scripts/lib/openapi-document';

const run = promisify(execFile);
const REDOCLY = join(ROOT, 'node_modules/@redocly/cli/bin/cli.js');

interface Problem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: Array<{ pointer: string }>;
}

/**
 * Warnings that are understood and kept: the API declares no licence (it is not open), and the live odds stream
 * answers 101 Switching Protocols, which is what a WebSocket upgrade is, not a 2XX.
 */
const ACCEPTED_WARNINGS = ['info-license #/info', 'operation-2xx-response #/paths/~1matches~1{matchId}~1odds~1live/get/responses'];

describe('GET /openapi.json under redocly lint (recommended)', () => {
  it('has no errors, and no warnings beyond the accepted ones', async () => {
    const worker = await startStatelessWorker();
    const dir = await mkdtemp(join(tmpdir(), 'senzu-lint-'));
    try {
      const response = await worker.fetch('/openapi.json');
      expect(response.status).toBe(200);
      const file = join(dir, 'openapi.json');
      await writeFile(file, await response.text());
      // No telemetry and no update check: the lint must not reach for the network (measured: no connect() at all).
      const result = await run(process.execPath, [REDOCLY, 'lint', file, '--format=json'], {
        cwd: dir,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
        maxBuffer: 16 << 20,
      }).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '' }));
      const report = JSON.parse(result.stdout) as { totals: { errors: number; warnings: number }; problems: Problem[] };
      const describeProblem = (p: Problem) => `${p.ruleId} ${p.location[0]?.pointer ?? ''}`;
      expect(report.problems.filter((p) => p.severity === 'error').map((p) => `${describeProblem(p)}: ${p.message}`)).toEqual([]);
      expect(report.totals.errors).toBe(0);
      expect(report.problems.filter((p) => p.severity !== 'error').map(describeProblem).sort()).toEqual([...ACCEPTED_WARNINGS].sort());
    } finally {
      await worker.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
