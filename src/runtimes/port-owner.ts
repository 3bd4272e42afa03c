import { readdir, readFile, readlink } from 'node:fs/promises';

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

/** Whether the socket listening on `port` belongs to process group `pgid`. */
export async function portOwner(port: number, pgid: number | undefined): Promise<PortOwner> {
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
  return { kind: 'foreign', pids: holders };
}
