import { randomBytes } from 'node:crypto';
import { describeFileKind } from '../common/file-kind.js';
import { accessSync, closeSync, constants, lstatSync, openSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { chmod, chown, mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { Socket } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { formatDuration } from '../common/duration.js';
import { errorMessage, UsageError } from '../common/errors.js';
import { describeForeignLink, foreignLinkOn } from './foreign-links.js';

/**
 * How a file the user names is written, decided from what the path is *now* (lstat first):
 * - a regular file, or nothing yet: a temp file in the same directory, renamed over it
 *   (whole or not at all);
 * - a character device (`/dev/null`, a terminal) or a FIFO: written through, never
 *   replaced; a FIFO only when a reader is there;
 * - `/dev/stdout`, `/dev/fd/N`, `/proc/…/fd/N` leading to a regular file: appended to
 *   through the link (the shell's redirection), not replaced;
 * - a symbolic link otherwise: followed; the same rules apply to what it points at, and
 *   the link stays; but never one that another user planted in a sticky world-writable
 *   directory (the kernel's fs.protected_symlinks rule, foreign-links.ts), wherever in the
 *   path it is;
 * - a directory, a block device, a socket: refused.
 */
export type OutputKind = 'file' | 'device' | 'fifo' | 'append';

export interface OutputPlace {
  readonly kind: OutputKind;
  /** what is written: the resolved file for `file`, else the path as given */
  readonly path: string;
  /** `file`: it does not exist yet */
  readonly missing: boolean;
  /** `file` that exists: its mode and owner, kept by the replacement */
  readonly existing: Pick<Stats, 'mode' | 'uid' | 'gid'> | null;
}

/** Which kinds a use takes: report files take all; the ledger (read, then rewritten) only files. */
export interface OutputRules {
  readonly writeThrough: boolean;
}

/** The path cannot be written as asked; the message names the path and why. */
export class OutputRefused extends Error {}

/** A FIFO with no reader, a device that does not take the bytes: bounded. */
export const WRITE_THROUGH_TIMEOUT_MS = 30_000;

const FD_LINK = /^\/(?:proc\/(?:self|thread-self|\d+)\/fd\/\d+|dev\/fd\/\d+|dev\/stdout|dev\/stderr)$/;

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}


/** Where a dangling link chain ends (the file it would create). */
function linkEnd(path: string): string {
  let current = path;
  for (let hops = 0; hops < 40; hops++) {
    let stats: Stats;
    try {
      stats = lstatSync(current);
    } catch (error) {
      if (code(error) === 'ENOENT') return current;
      throw error;
    }
    if (!stats.isSymbolicLink()) return current;
    current = resolve(dirname(current), readlinkSync(current));
  }
  throw new OutputRefused(`${path}: too many levels of symbolic links`);
}

/** A place that does not exist yet: its nearest existing ancestor must be a directory. */
function missingPlace(path: string, given: string): OutputPlace {
  let parent = dirname(path);
  for (;;) {
    try {
      const stats = statSync(parent);
      if (!stats.isDirectory()) throw new OutputRefused(`${given}: ${parent} is not a directory`);
      break;
    } catch (error) {
      if (error instanceof OutputRefused) throw error;
      if (code(error) === 'ENOTDIR') throw new OutputRefused(`${given}: a parent of ${parent} is not a directory`);
      if (code(error) !== 'ENOENT' || dirname(parent) === parent) throw new OutputRefused(`${given}: cannot use ${parent}: ${errorMessage(error)}`);
      parent = dirname(parent);
    }
  }
  return { kind: 'file', path, missing: true, existing: null };
}

function placeOf(stats: Stats, path: string, given: string, rules: OutputRules): OutputPlace {
  if (stats.isFile()) return { kind: 'file', path, missing: false, existing: { mode: stats.mode, uid: stats.uid, gid: stats.gid } };
  if (stats.isDirectory()) throw new OutputRefused(`${given} is a directory, not a file`);
  if (stats.isCharacterDevice() || stats.isFIFO()) {
    if (!rules.writeThrough) throw new OutputRefused(`${given} is ${describeFileKind(stats)}, not a regular file`);
    return { kind: stats.isFIFO() ? 'fifo' : 'device', path: given, missing: false, existing: null };
  }
  throw new OutputRefused(`${given} is ${describeFileKind(stats)}; refusing to write a report there`);
}

/** A link on the way that another user planted in /tmp or the like: refused before anything is followed. */
function refuseForeignLinks(path: string): void {
  const uid = process.geteuid?.();
  if (uid === undefined) return; // no owners to compare off POSIX
  const found = foreignLinkOn(path, uid);
  if (found) throw new OutputRefused(found.link === path ? describeForeignLink(found) : `${path}: ${describeForeignLink(found)}`);
}

/** What writing to `path` would do, decided now (before the run and again when writing). Throws OutputRefused. */
export function outputPlace(path: string, rules: OutputRules): OutputPlace {
  refuseForeignLinks(path);
  let own: Stats;
  try {
    own = lstatSync(path);
  } catch (error) {
    if (code(error) === 'ENOENT') return missingPlace(path, path);
    if (code(error) === 'ENOTDIR') throw new OutputRefused(`${path}: a parent is not a directory`);
    throw new OutputRefused(`${path}: ${errorMessage(error)}`);
  }
  if (!own.isSymbolicLink()) return placeOf(own, path, path, rules);
  let target: Stats;
  try {
    target = statSync(path);
  } catch (error) {
    if (code(error) === 'ENOENT') return missingPlace(linkEnd(path), path);
    if (code(error) === 'ELOOP') throw new OutputRefused(`${path}: too many levels of symbolic links`);
    throw new OutputRefused(`${path}: ${errorMessage(error)}`);
  }
  // the shell's redirection (/dev/stdout, /dev/fd/N): append through it, never rename over the file behind it
  if (target.isFile() && FD_LINK.test(path)) {
    if (!rules.writeThrough) throw new OutputRefused(`${path} is a file descriptor link, not a regular file`);
    return { kind: 'append', path, missing: false, existing: null };
  }
  if (target.isFile()) return placeOf(target, realpathSync(path), path, rules);
  return placeOf(target, path, path, rules);
}

/**
 * The check before a run: the path names a place this run can write (by the rules above),
 * and a file could be created next to it. A bad place is a UsageError naming `flag`.
 */
export function checkOutputPlace(path: string, flag: string, rules: OutputRules): OutputPlace {
  let place: OutputPlace;
  try {
    place = outputPlace(path, rules);
  } catch (error) {
    throw new UsageError(`${flag}: ${errorMessage(error)}`);
  }
  if (place.kind !== 'file') {
    try {
      accessSync(place.path, constants.W_OK);
    } catch (error) {
      throw new UsageError(`${flag}: cannot write to ${path}: ${errorMessage(error)}`);
    }
    return place;
  }
  // found out now, not after a whole run: can a file be created there? (missing folders are created later)
  let dir = dirname(place.path);
  while (dir !== dirname(dir)) {
    try {
      statSync(dir);
      break;
    } catch {
      dir = dirname(dir);
    }
  }
  const probe = join(dir, `.atocore-drill-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    writeFileSync(probe, '', { flag: 'wx' });
    rmSync(probe, { force: true });
  } catch (error) {
    throw new UsageError(`${flag}: cannot write under ${dir}: ${errorMessage(error)}`);
  }
  return place;
}

/** Temp file in the target's directory, renamed over it; removed whatever goes wrong. */
async function replaceFile(place: OutputPlace, content: string | Uint8Array): Promise<void> {
  const dir = dirname(place.path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(place.path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    // wx: never through something planted at the temp name
    const handle = await open(temp, 'wx', place.existing ? place.existing.mode & 0o7777 : 0o666);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (place.existing) {
      await chmod(temp, place.existing.mode & 0o7777);
      // a root run keeps the owner of a file it replaces; anyone else cannot, and need not
      await chown(temp, place.existing.uid, place.existing.gid).catch(() => undefined);
    }
    await rename(temp, place.path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** `work`, or an Error saying `what` did not finish within `timeoutMs`; `onTimeout` lets go of what the work holds. */
export function bounded<T>(work: Promise<T>, timeoutMs: number, what: string, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`${what} did not finish within ${formatDuration(timeoutMs)}`));
    }, timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Through a device or a redirection: opened for writing, never created, never renamed over; the open is bounded too (a terminal line can block it). */
async function writeThroughFile(path: string, content: string | Uint8Array, flags: number, timeoutMs: number): Promise<void> {
  let handle: FileHandle | null = null;
  let timedOut = false;
  const close = (): void => {
    const current = handle;
    handle = null;
    void current?.close().catch(() => undefined);
  };
  const work = (async () => {
    const opened = await open(path, flags);
    if (timedOut) {
      void opened.close().catch(() => undefined);
      return;
    }
    handle = opened;
    await opened.writeFile(content);
  })();
  try {
    await bounded(work, timeoutMs, `writing to ${path}`, () => {
      timedOut = true;
      close();
    });
  } finally {
    close();
  }
}

/** Into a FIFO whose reader is there now (non-blocking open: ENXIO when none), bounded in time. */
async function writeFifo(path: string, content: string | Uint8Array, timeoutMs: number): Promise<void> {
  let fd: number;
  try {
    // non-blocking: opening a FIFO for writing never waits for a reader
    fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    if (code(error) === 'ENXIO') throw new Error(`${path} is a FIFO with no reader`);
    throw error;
  }
  // a socket on the FIFO's descriptor waits for the reader (poll), where a plain write would fail with EAGAIN
  let socket: Socket;
  try {
    socket = new Socket({ fd, readable: false, writable: true });
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  const done = new Promise<void>((resolveDone, reject) => {
    socket.once('error', reject);
    socket.once('finish', resolveDone);
  });
  socket.end(content);
  try {
    await bounded(done, timeoutMs, `writing to the FIFO ${path} (its reader stopped reading)`, () => socket.destroy());
  } finally {
    socket.destroy();
  }
}

/**
 * Writes `content` to the place `path` names now (see OutputKind). Throws an Error whose
 * message names the path; a replaced file's temp file never stays behind.
 */
export async function writeOutputFile(path: string, content: string | Uint8Array, rules: OutputRules, timeoutMs = WRITE_THROUGH_TIMEOUT_MS): Promise<void> {
  const place = outputPlace(path, rules);
  try {
    switch (place.kind) {
      case 'file':
        return await replaceFile(place, content);
      case 'device':
        return await writeThroughFile(place.path, content, constants.O_WRONLY | constants.O_NOCTTY, timeoutMs);
      case 'append':
        return await writeThroughFile(place.path, content, constants.O_WRONLY | constants.O_APPEND | constants.O_NOCTTY, timeoutMs);
      case 'fifo':
        return await writeFifo(place.path, content, timeoutMs);
    }
  } catch (error) {
    const message = errorMessage(error);
    throw new OutputRefused(message.includes(path) || message.includes(place.path) ? message : `${path}: ${message}`);
  }
}
