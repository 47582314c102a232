// The training pipeline's Python: Debian's interpreter by default, because the `python3` first on PATH may be
// another build without xgboost and onnx (models/README.md). Shared by model:train and the rolling evaluation.
import { spawn } from 'node:child_process';

export const PYTHON = process.env.SENZU_PYTHON ?? '/usr/bin/python3';
export const PYTHON_MODULES = ['xgboost', 'onnx', 'numpy', 'scipy', 'sklearn'];
export const PYTHON_INSTALL_HINT =
  '  Debian/Ubuntu: apt-get install -y python3-xgboost python3-sklearn python3-onnx python3-numpy\n' +
  '  elsewhere: see models/README.md (pip equivalents), and set SENZU_PYTHON to that interpreter';
export const TRAIN_PY = new URL('../../../models/train.py', import.meta.url).pathname;

/** Runs a command with inherited output (stdout to `stdout`), rejecting with its exit status. */
export function runCommand(command: string, args: string[], options: { cwd?: string; quiet?: boolean } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', options.quiet ? 'ignore' : 'inherit', 'inherit'], env: process.env });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${signal ?? code}`))));
  });
}

/** Null when the interpreter can import the pipeline's modules, else what to do about it. */
export async function pythonProblem(): Promise<string | null> {
  try {
    await runCommand(PYTHON, ['-c', `import ${PYTHON_MODULES.join(', ')}`], { quiet: true });
    return null;
  } catch {
    return `${PYTHON} cannot import ${PYTHON_MODULES.join(', ')}.\n${PYTHON_INSTALL_HINT}`;
  }
}
