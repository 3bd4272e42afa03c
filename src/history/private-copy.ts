import { closeSync, constants, fstatSync, lstatSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorMessage, InfrastructureError, UsageError } from '../common/errors.js';

/**
 * A history this user cannot write (a read-only mount, a restored cache or archive, another
 * user's folder) is read from a private copy. SQLite cannot read a WAL database in place
 * without its `-shm` beside it: where it cannot create one the open fails, and where it can
 * (a read-only file in a writable folder) a read-only connection leaves `-shm` and `-wal`
 * behind. SQLite's `immutable` open would avoid both but ignores a `-wal` a crashed writer
 * left, losing the runs in it. The copy holds the file and its `-wal` (never the `-shm`:
 * SQLite rebuilds it from the `-wal`), in a folder of its own (mode 0700) under the system's
 * temp folder, removed when the history is closed. Nothing is written beside the user's file.
 */

/** The file and its -wal together: a history is a few hundred kilobytes for thousands of runs. */
export const HISTORY_COPY_LIMIT_BYTES = 256 * 1024 * 1024;

/** A file that changes while it is copied (its owner appending) is copied again, this many times at most. */
const COPY_TRIES = 3;

const CHUNK_BYTES = 1024 * 1024;

/** The read errors that are the machine's, not the file's. */
const MACHINE_ERRNOS: ReadonlySet<string> = new Set(['EIO', 'ENOMEM', 'EMFILE', 'ENFILE']);

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** What any write to a file changes (size, times, inode); 'none' when it is not there. */
function signature(path: string): string {
  try {
    const s = lstatSync(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (error) {
    if (errno(error) === 'ENOENT') return 'none';
    throw error;
  }
}

/** A private copy of a history, and how to remove it. */
export interface PrivateCopy {
  /** the copied history, in a folder only this user can enter */
  readonly path: string;
  dispose(): void;
}

/** The copy's place failed (the temp folder full, not writable): the machine's trouble, not the history's. */
function scratchFailure(name: string, path: string, place: string, error: unknown): InfrastructureError {
  return new InfrastructureError(`${name}: ${path} is read from a private copy (this user cannot write it or its folder), which could not be made in ${place}: ${errorMessage(error)} (the temp folder: set TMPDIR to another)`);
}

function tooLarge(name: string, path: string): UsageError {
  return new UsageError(`${name}: ${path} is larger than the ${HISTORY_COPY_LIMIT_BYTES / 1024 / 1024} MiB a history this user cannot write is copied up to, to be read; copy it somewhere writable and read that`);
}

/**
 * Copies `source` into `destination` (created new, 0600), at most `budget` bytes; returns the
 * bytes copied. The source is opened without following a link and must be a regular file.
 */
function copyFile(source: string, destination: string, budget: number, history: { name: string; path: string }): number {
  const { name } = history;
  let input: number;
  try {
    input = openSync(source, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (errno(error) === 'ELOOP') throw new UsageError(`${name}: ${source} is a symlink; refused, not followed`);
    throw readFailure(source, name, error);
  }
  try {
    const stats = fstatSync(input);
    if (!stats.isFile()) throw new UsageError(`${name}: ${source} is not a regular file; refused`);
    // refused before a byte is copied; one that grows while copied is cut at the same bound
    if (stats.size > budget) throw tooLarge(name, history.path);
    let output: number;
    try {
      output = openSync(destination, 'wx', 0o600);
    } catch (error) {
      throw scratchFailure(name, history.path, destination, error);
    }
    try {
      const chunk = Buffer.alloc(CHUNK_BYTES);
      let copied = 0;
      for (;;) {
        let read: number;
        try {
          read = readSync(input, chunk, 0, chunk.length, copied);
        } catch (error) {
          throw readFailure(source, name, error);
        }
        if (read === 0) return copied;
        copied += read;
        if (copied > budget) throw tooLarge(name, history.path);
        try {
          for (let written = 0; written < read; ) written += writeSync(output, chunk, written, read - written);
        } catch (error) {
          throw scratchFailure(name, history.path, destination, error);
        }
      }
    } finally {
      closeSync(output);
    }
  } finally {
    closeSync(input);
  }
}

function readFailure(source: string, name: string, error: unknown): Error {
  const message = `${name}: cannot read ${source}: ${errorMessage(error)}`;
  return MACHINE_ERRNOS.has(errno(error) ?? '') ? new InfrastructureError(message) : new UsageError(message);
}

/**
 * One copy of the history and its -wal; false when either changed while it was copied (the
 * copy may then be a state the history was never in).
 */
function copyOnce(path: string, copy: string, name: string): boolean {
  const wal = `${path}-wal`;
  const before = [signature(path), signature(wal)];
  rmSync(copy, { force: true });
  rmSync(`${copy}-wal`, { force: true });
  const unchanged = (): boolean => signature(path) === before[0] && signature(wal) === before[1];
  try {
    const copied = copyFile(path, copy, HISTORY_COPY_LIMIT_BYTES, { name, path });
    if (before[1] !== 'none') copyFile(wal, `${copy}-wal`, HISTORY_COPY_LIMIT_BYTES - copied, { name, path });
  } catch (error) {
    // a -wal its writer removed, a file replaced: copied again, not refused
    if (!unchanged()) return false;
    throw error;
  }
  return unchanged();
}

/** A private copy of the history at `path` (already checked to be a regular SQLite file); `name` names it in messages. */
export function privateCopy(path: string, name: string): PrivateCopy {
  let dir: string;
  try {
    dir = mkdtempSync(join(tmpdir(), 'atocore-drill-history-copy-'));
  } catch (error) {
    throw scratchFailure(name, path, tmpdir(), error);
  }
  const dispose = (): void => rmSync(dir, { recursive: true, force: true });
  const copy = join(dir, 'history.sqlite');
  try {
    for (let attempt = 1; attempt <= COPY_TRIES; attempt++) {
      if (copyOnce(path, copy, name)) return { path: copy, dispose };
    }
  } catch (error) {
    dispose();
    throw error;
  }
  dispose();
  throw new InfrastructureError(`${name}: ${path} changed each of the ${COPY_TRIES} times it was copied to be read (another process is writing it); try again`);
}
