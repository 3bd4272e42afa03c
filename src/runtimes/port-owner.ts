import { closeSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import { open, readdir, readFile, readlink } from 'node:fs/promises';

/**
 * Who listens on a loopback TCP port, read from Linux's /proc (no library reads this; `ss`
 * and `lsof` are not on every runner). Used to prove that what answers on the drill's port is
 * the process the drill started, not something that took the port in between.
 */
export type PortOwner =
  /** no listening socket on the port */
  | { readonly kind: 'free' }
  /** a listening socket held by a process of the given group */
  | { readonly kind: 'ours' }
  /** a listening socket held by processes outside the group (pids when readable) */
  | { readonly kind: 'foreign'; readonly pids: readonly number[] }
  /**
   * a listening socket held by processes outside the group that carry the run's own mark in
   * their environment: started by the drill's command, they left its group (a daemon)
   */
  | { readonly kind: 'escaped'; readonly pids: readonly number[] }
  /** this system has no /proc/net/tcp: the owner cannot be told */
  | { readonly kind: 'unknown'; readonly why: string };

const LISTEN = '0A';

/** Inodes of sockets listening on `port`, from /proc/net/tcp and tcp6; null without /proc. */
export async function listeningInodes(port: number): Promise<Set<string> | null> {
  const inodes = new Set<string>();
  let readable = false;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await readFile(table, 'utf8');
      readable = true;
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (!local || fields[3] !== LISTEN) continue;
      const hexPort = local.slice(local.lastIndexOf(':') + 1);
      if (Number.parseInt(hexPort, 16) === port && fields[9] && fields[9] !== '0') inodes.add(fields[9]);
    }
  }
  return readable ? inodes : null;
}

/** True once `pid` is gone or a zombie (killed, waiting for its parent to reap it): it runs no more. */
export async function hasExited(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function processGroupOf(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(rest[2]);
    return Number.isInteger(pgrp) ? pgrp : null;
  } catch {
    return null;
  }
}

async function socketInodesOf(pid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match) inodes.add(match[1]!);
  }
  return inodes;
}

/** An environment variable and the value that marks a process as the run's own. */
export interface EnvironmentMark {
  readonly name: string;
  readonly value: string;
}

/** A process environment is at most a few MiB (the kernel's limit on argv and environment together). */
const ENVIRON_MAX_BYTES = 4 * 1024 * 1024;

/** `pid`'s environment between NULs (bounded), or null when it cannot be read (gone, another user's). */
async function readEnvironment(pid: number): Promise<Buffer | null> {
  let handle;
  try {
    handle = await open(`/proc/${pid}/environ`, 'r');
  } catch {
    return null;
  }
  try {
    const chunks: Buffer[] = [Buffer.from([0])];
    let length = 0;
    while (length < ENVIRON_MAX_BYTES) {
      const { bytesRead, buffer } = await handle.read({ buffer: Buffer.alloc(64 * 1024) });
      if (bytesRead === 0) break;
      chunks.push(buffer.subarray(0, bytesRead));
      length += bytesRead;
    }
    chunks.push(Buffer.from([0]));
    return Buffer.concat(chunks);
  } catch {
    return null;
  } finally {
    await handle.close().catch(() => {});
  }
}

/** Whether `pid`'s environment holds `name=value`; false when it cannot be read (gone, another user's). */
export async function carriesMark(pid: number, mark: EnvironmentMark): Promise<boolean> {
  // entries are NUL-separated: the mark matches one whole entry
  return (await readEnvironment(pid))?.includes(Buffer.from(`\0${mark.name}=${mark.value}\0`)) ?? false;
}

/**
 * SIGKILL to every process (but this one) whose environment holds the mark, at once and
 * synchronously: what a second signal does before the harness exits.
 */
export function killCarryingNow(mark: EnvironmentMark, under?: string): void {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return;
  }
  const wanted = [Buffer.from(`\0${mark.name}=${mark.value}\0`), ...(under === undefined ? [] : environmentNeedlesUnder(under))];
  const buffer = Buffer.alloc(ENVIRON_MAX_BYTES);
  for (const name of names) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let fd: number | undefined;
    try {
      fd = openSync(`/proc/${name}/environ`, 'r');
      buffer[0] = 0;
      const length = readSync(fd, buffer, 1, ENVIRON_MAX_BYTES - 2, null);
      buffer[length + 1] = 0;
      const environment = buffer.subarray(0, length + 2);
      const cwd = under === undefined ? null : cwdOf(Number(name));
      if (wanted.some((needle) => environment.includes(needle)) || (cwd !== null && under !== undefined && isUnder(cwd, under))) process.kill(Number(name), 'SIGKILL');
    } catch {
      // gone, or not ours
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

function cwdOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}

/** A variable whose value is `dir` or lies under it, as it reads in /proc/PID/environ. */
function environmentNeedlesUnder(dir: string): Buffer[] {
  return [Buffer.from(`=${dir}/`), Buffer.from(`=${dir}\0`)];
}

/**
 * Pids (other than this process) with a variable naming `dir` or a path under it, or working
 * in it: what was started for a drill root, even when it dropped the run's own mark from its
 * environment (or its whole environment, as `env -i`, `sudo` and `su -` do).
 */
export async function processesReferencing(dir: string): Promise<number[]> {
  const needles = environmentNeedlesUnder(dir);
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((name) => /^\d+$/.test(name)).map(Number);
  const found: number[] = [];
  for (const pid of pids) {
    if (pid === process.pid) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => null);
    const environment = cwd !== null && isUnder(cwd, dir) ? null : await readEnvironment(pid);
    if ((cwd !== null && isUnder(cwd, dir)) || (environment && needles.some((needle) => environment.includes(needle)))) found.push(pid);
  }
  return found;
}

function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/** Pids (other than this process) whose environment holds the mark; empty without /proc. */
export async function processesCarrying(mark: EnvironmentMark): Promise<number[]> {
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((name) => /^\d+$/.test(name)).map(Number);
  const found: number[] = [];
  for (const pid of pids) {
    if (pid !== process.pid && (await carriesMark(pid, mark))) found.push(pid);
  }
  return found;
}

/** Pids that carry the mark but are not in process group `pgid`: the run's processes that left it. */
export async function escapedProcesses(pgid: number, mark: EnvironmentMark): Promise<number[]> {
  const escaped: number[] = [];
  for (const pid of await processesCarrying(mark)) {
    if ((await processGroupOf(pid)) !== pgid) escaped.push(pid);
  }
  return escaped;
}

/**
 * Whether the socket listening on `port` belongs to process group `pgid`; holders outside the
 * group that carry `mark` are the run's own processes that left the group.
 */
export async function portOwner(port: number, pgid: number | undefined, mark?: EnvironmentMark): Promise<PortOwner> {
  const listening = await listeningInodes(port);
  if (listening === null) return { kind: 'unknown', why: 'this system has no /proc/net/tcp' };
  if (listening.size === 0) return { kind: 'free' };
  const holders: number[] = [];
  let ours = false;
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((name) => /^\d+$/.test(name)).map(Number);
  for (const pid of pids) {
    const sockets = await socketInodesOf(pid);
    if (![...listening].some((inode) => sockets.has(inode))) continue;
    if (pgid !== undefined && (await processGroupOf(pid)) === pgid) ours = true;
    else holders.push(pid);
  }
  if (ours) return { kind: 'ours' };
  if (mark && holders.length > 0 && (await Promise.all(holders.map((pid) => carriesMark(pid, mark)))).every(Boolean)) return { kind: 'escaped', pids: holders };
  return { kind: 'foreign', pids: holders };
}
