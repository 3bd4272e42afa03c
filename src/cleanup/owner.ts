import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * A process named so that it can be told apart from a later one with the same pid: the pid,
 * its start time since boot (Linux /proc), the boot and the host. Written into what the
 * harness creates so that `cleanup` never removes things of a run that is still going.
 */
export interface ProcessIdentity {
  readonly pid: number;
  /** field 22 of /proc/<pid>/stat (clock ticks after boot); null without /proc */
  readonly start: string | null;
  /** /proc/sys/kernel/random/boot_id; null without it */
  readonly boot: string | null;
  readonly host: string;
}

export type OwnerState = 'alive' | 'dead' | 'unknown';

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
export function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** state, ppid, pgrp, …: field n of stat(5) is index n - 3 here. */
export const STAT = { state: 0, pgrp: 2, starttime: 19 } as const;

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

export function identityOf(pid: number): ProcessIdentity {
  return { pid, start: statFields(pid)?.[STAT.starttime] ?? null, boot: bootId(), host: hostname() };
}

export function currentProcessIdentity(): ProcessIdentity {
  return identityOf(process.pid);
}

/**
 * Whether the process an identity names still runs. `unknown` when this machine cannot tell
 * (another host, no /proc): then only age decides.
 */
export function ownerState(owner: ProcessIdentity): OwnerState {
  if (owner.host !== hostname()) return 'unknown';
  const boot = bootId();
  if (owner.boot !== null && boot !== null && owner.boot !== boot) return 'dead';
  if (owner.start !== null && boot !== null) {
    const fields = statFields(owner.pid);
    if (fields === null) return 'dead';
    // the same pid, started at another time, is another process; a zombie has finished
    return fields[STAT.starttime] === owner.start && fields[STAT.state] !== 'Z' ? 'alive' : 'dead';
  }
  try {
    process.kill(owner.pid, 0);
    return 'alive';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH' ? 'dead' : 'alive';
  }
}

/** Wall-clock start of a process, from its start time in ticks after boot (USER_HZ is 100 on Linux); null without /proc. */
export function processStartedAtMs(pid: number): number | null {
  const ticks = Number(statFields(pid)?.[STAT.starttime]);
  if (!Number.isFinite(ticks)) return null;
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'latin1'))?.[1];
    return btime === undefined ? null : Number(btime) * 1_000 + (ticks / 100) * 1_000;
  } catch {
    return null;
  }
}
