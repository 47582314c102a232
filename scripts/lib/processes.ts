// Asking about and stopping other processes by PID, without being fooled by a PID the kernel has since given
// to an unrelated program (Linux /proc; elsewhere only liveness is known).
import { readFileSync } from 'node:fs';

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, it just is not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie has exited and only waits for its parent to collect its status.
  return pid < 0 || processState(pid) !== 'Z';
}

function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

export function isGroupAlive(pgid: number): boolean {
  return isProcessAlive(-pgid);
}

/** The kernel's start time of a process (clock ticks since boot), which a reused PID does not share. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function processCommandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** Whether `pid` is still the process that was recorded with `startTime` (undefined: cannot tell, so alive). */
export function isSameProcess(pid: number, startTime: string | undefined): boolean {
  if (!isProcessAlive(pid)) return false;
  if (startTime === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === startTime;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends `signal` to a process (or, with `group`, its process group) and waits up to `timeoutMs` for it to go. */
export async function signalAndWait(pid: number, signal: NodeJS.Signals, timeoutMs: number, group = false): Promise<boolean> {
  const target = group ? -pid : pid;
  try {
    process.kill(target, signal);
  } catch {
    return true; // already gone
  }
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    if (!isProcessAlive(target)) return true;
    await sleep(50);
  }
  return !isProcessAlive(target);
}
