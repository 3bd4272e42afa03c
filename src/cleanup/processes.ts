import { readdirSync, readFileSync, statSync } from 'node:fs';
import { drillRootOfEnvironment } from './marks.js';
import { STAT, statFields } from './owner.js';

/** A process of this user that runs on a drill root (the service, a backup-CLI call, what they started). */
export interface DrillProcess {
  readonly pid: number;
  readonly pgid: number;
  readonly root: string;
  readonly command: string;
}

const COMMAND_CHARS = 160;

function environmentOf(pid: number): Map<string, string> | null {
  try {
    const env = new Map<string, string>();
    for (const entry of readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0')) {
      const at = entry.indexOf('=');
      if (at > 0) env.set(entry.slice(0, at), entry.slice(at + 1));
    }
    return env;
  } catch {
    return null;
  }
}

/** The command line for a message: NUL-separated, untrusted; cut and with control characters shown as `?`. */
export function commandOf(pid: number): string {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
    return text.length > COMMAND_CHARS ? `${text.slice(0, COMMAND_CHARS)}…` : text;
  } catch {
    return '?';
  }
}

/** Every process of this user (never another's) whose ATOCORE_* variables name a drill root. Linux /proc; empty elsewhere. */
export function findDrillProcesses(): DrillProcess[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const uid = process.getuid?.();
  const found: DrillProcess[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      if (uid !== undefined && statSync(`/proc/${pid}`).uid !== uid) continue;
    } catch {
      continue;
    }
    const env = environmentOf(pid);
    const root = env && drillRootOfEnvironment(env);
    const fields = statFields(pid);
    if (!root || !fields || fields[STAT.state] === 'Z') continue;
    found.push({ pid, pgid: Number(fields[STAT.pgrp]), root, command: commandOf(pid) });
  }
  return found;
}

/**
 * What to signal: the group when its leader is one of the drill's processes (the runtimes
 * start each in a group of its own), else the lone process.
 */
export function signalTargets(processes: readonly DrillProcess[]): Array<{ readonly group: boolean; readonly id: number; readonly members: readonly DrillProcess[] }> {
  const pids = new Set(processes.map((p) => p.pid));
  const targets = new Map<string, { group: boolean; id: number; members: DrillProcess[] }>();
  for (const p of processes) {
    const group = pids.has(p.pgid);
    const key = group ? `g${p.pgid}` : `p${p.pid}`;
    const target = targets.get(key) ?? { group, id: group ? p.pgid : p.pid, members: [] };
    target.members.push(p);
    targets.set(key, target);
  }
  // the leader first: it names the group in messages
  for (const target of targets.values()) target.members.sort((a, b) => (a.pid === target.id ? -1 : b.pid === target.id ? 1 : a.pid - b.pid));
  return [...targets.values()];
}

export function isRunning(pid: number): boolean {
  const fields = statFields(pid);
  return fields !== null && fields[STAT.state] !== 'Z';
}
