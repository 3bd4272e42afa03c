import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Pids whose environment points ATOCORE_DATA_DIR somewhere under `dir` (a drill root's service and CLI calls). */
export function processesUnder(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').some((v) => v.startsWith(`ATOCORE_DATA_DIR=${dir}`))) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** Whether any process of the group still lives (zombies do not count: on some machines nothing reaps orphans). */
export function groupAlive(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so read after the last ")"
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') return true;
    } catch {
      // gone
    }
  }
  return false;
}

/** Polls until `done()` or the time is up; returns whether it became true. */
export async function eventually(done: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!done()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/**
 * A program that ignores SIGTERM, SIGINT and SIGHUP (its `sleep` inherits that), writes its
 * pid (its process group, when started in a group of its own) to a file and waits: a backup
 * CLI or service that will not stop when asked. `ready()` says when the pid file is whole.
 */
export function stubbornScript(dir: string): { argv: string; pidFile: string; ready(): boolean; pid(): number } {
  const script = join(dir, 'stubborn.sh');
  const pidFile = join(dir, 'stubborn.pid');
  writeFileSync(script, `trap '' TERM INT HUP\necho $$ > '${pidFile}.tmp' && mv '${pidFile}.tmp' '${pidFile}'\nsleep 600 &\nwait\n`);
  return {
    argv: `sh ${script}`,
    pidFile,
    ready: () => existsSync(pidFile),
    pid: () => Number(readFileSync(pidFile, 'utf8').trim()),
  };
}
