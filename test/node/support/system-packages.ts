// Tests that need a system package npm cannot install (Debian's Python ML stack, Chromium). On a developer's
// machine without it the file's tests are skipped, with one line on stderr naming the package and the command
// that installs it, so `npm test` passes on a fresh machine and says what it did not run. Under CI=true a
// missing package fails instead: .ci/run installs them, and a skip there would hide a test that never ran.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { expect, it } from 'vitest';

export interface SystemRequirement {
  /** The test file, for the message: `import.meta.url`. */
  testFile: string;
  /** What the tests use, e.g. "Debian's Python with xgboost, scikit-learn and onnx". */
  what: string;
  /** Debian package names, for the install command. */
  packages: string[];
  isAvailable(): boolean;
}

/** True when the file's tests can run; registers the CI failure or prints the skip line when they cannot. */
export function hasSystemPackages(requirement: SystemRequirement): boolean {
  if (requirement.isAvailable()) return true;
  const file = relative(process.cwd(), new URL(requirement.testFile).pathname);
  const install = `apt-get install -y ${requirement.packages.join(' ')}`;
  if (process.env.CI === 'true') {
    it(`has ${requirement.packages.join(', ')} installed (.ci/run installs them)`, () => {
      expect.fail(`CI=true, but ${requirement.what} is missing: ${install}`);
    });
  } else {
    process.stderr.write(`[test] skipped ${file}: it needs ${requirement.what} (${requirement.packages.join(', ')}); install with: ${install}\n`);
  }
  return false;
}

/** Debian's /usr/bin/python3 (not a pyenv one first on PATH) can import every module named. */
export function pythonCanImport(python: string, modules: string[]): boolean {
  return spawnSync(python, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' }).status === 0;
}

export const fileExists = (path: string) => () => existsSync(path);
