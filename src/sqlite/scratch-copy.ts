import { createHash } from 'node:crypto';
import { constants as fsConstants, existsSync, type Stats } from 'node:fs';
import { copyFile, lstat, mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { describeFileKind } from '../common/file-kind.js';
import { DrillError, errorMessage, InfrastructureError } from '../common/errors.js';

/**
 * The harness's own scratch space (where it copies a database before opening it) failed:
 * ENOSPC, EACCES, EMFILE… This says nothing about the database being copied; callers make
 * it an error (exit 3), never a finding.
 */
export class ScratchSpaceError extends InfrastructureError {}

/** A file that is not (or no longer) a regular file: a finding about the file, never opened. */
export class NotRegularFileError extends Error {
  readonly kind: string;
  constructor(path: string, kind: string) {
    super(`${path} is ${kind}; refused, not opened`);
    this.name = 'NotRegularFileError';
    this.kind = kind;
  }
}


/** The run's budget and interruption, as far as a copy needs them. */
export interface CopyBounds {
  readonly signal?: AbortSignal;
  readonly deadline?: { remainingMs(): number; readonly totalMs: number; describe(): string };
  /** more than this many bytes: the file changed since it was listed (or is not what it claims) */
  readonly maxBytes?: number;
}

const CHUNK_BYTES = 1024 * 1024;

/** What an interrupt means for work under way: the run's own reason when it is a DrillError. */
export function abortError(signal: AbortSignal, doing: string): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof DrillError) return reason;
  return new InfrastructureError(`interrupted while ${doing}`);
}

/** Stops a long read between chunks: on an abort or when the run's --timeout is used up. */
export function assertWithinBounds(bounds: CopyBounds, doing: string): void {
  if (bounds.signal?.aborted) throw abortError(bounds.signal, doing);
  if (bounds.deadline && bounds.deadline.remainingMs() <= 0) {
    throw new InfrastructureError(`${doing}: the run's ${bounds.deadline.describe()} ran out`);
  }
}

/**
 * Opens a file that must be a regular file, without ever blocking or following anything:
 * lstat first (a FIFO, device, socket or link is refused before any open, so opening has
 * no side effect), then O_NOFOLLOW|O_NONBLOCK, then fstat on the descriptor: the entry may
 * have been swapped between the two. Missing or not regular: NotRegularFileError (a
 * finding); anything else (EACCES, EIO, EMFILE): InfrastructureError.
 */
export async function openRegularFile(path: string | Buffer): Promise<{ handle: FileHandle; stats: Stats }> {
  const shown = typeof path === 'string' ? path : path.toString('utf8');
  let before: Stats;
  try {
    before = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NotRegularFileError(shown, 'missing');
    throw new InfrastructureError(`reading ${shown}: ${errorMessage(error)}`);
  }
  if (!before.isFile()) throw new NotRegularFileError(shown, describeFileKind(before));
  let handle: FileHandle;
  try {
    handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new NotRegularFileError(shown, 'a symlink (it became one after it was listed)');
    if (code === 'ENOENT') throw new NotRegularFileError(shown, 'missing (it went away after it was listed)');
    throw new InfrastructureError(`reading ${shown}: ${errorMessage(error)}`);
  }
  const stats = await handle.stat();
  if (!stats.isFile() || stats.ino !== before.ino || stats.dev !== before.dev) {
    await handle.close();
    throw new NotRegularFileError(shown, stats.isFile() ? 'another file than the one listed (swapped while being opened)' : describeFileKind(stats));
  }
  return { handle, stats };
}

/**
 * The read buffer for a file: a chunk, or less for a small file. Validation hashes some
 * twenty small files per snapshot; a whole chunk for each is allocator churn that a run over
 * thousands of snapshots pays for in resident memory.
 */
async function chunkBytesFor(handle: FileHandle): Promise<number> {
  try {
    const { size } = await handle.stat();
    // one byte past the size: a file that grew is still read on, chunk by chunk
    return Math.max(4096, Math.min(CHUNK_BYTES, size + 1));
  } catch {
    return CHUNK_BYTES;
  }
}

/** Reads a whole open file in chunks, hashing it, bounded in bytes and time; `sink` gets each chunk. */
export async function streamOpenFile(handle: FileHandle, shown: string, bounds: CopyBounds, sink?: (chunk: Buffer) => Promise<void>): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(await chunkBytesFor(handle));
  let position = 0;
  for (;;) {
    assertWithinBounds(bounds, `reading ${shown} (${position} bytes so far)`);
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, 0, buffer.length, position));
    } catch (error) {
      throw new InfrastructureError(`reading ${shown}: ${errorMessage(error)}`);
    }
    if (bytesRead === 0) break;
    position += bytesRead;
    if (bounds.maxBytes !== undefined && position > bounds.maxBytes) {
      throw new InfrastructureError(`reading ${shown}: more than the ${bounds.maxBytes} bytes it had when listed; it changed during the run`);
    }
    const chunk = buffer.subarray(0, bytesRead);
    hash.update(chunk);
    if (sink) await sink(chunk);
  }
  return { bytes: position, sha256: hash.digest('hex') };
}

/**
 * Reads at most `limit` bytes of an open file into a buffer sized by what the file holds
 * (`sizeHint`, its fstat size), not by the limit: a run reads a metadata file and a registry
 * per snapshot under limits of 1 and 8 MiB, and a limit-sized buffer for a file of a few
 * kilobytes is memory the run pays for as long as the bytes are kept (zero-filled pages are
 * resident once the allocator reuses freed memory). A file that grew since its fstat is read
 * on, the buffer doubling up to the limit. The buffer returned owns exactly its bytes.
 */
export async function readOpenFile(handle: FileHandle, shown: string, limit: number, sizeHint: number, bounds: CopyBounds = {}): Promise<Buffer> {
  // one byte past the hint: a file that grew shows itself without a second read
  // never from Buffer's shared pool: a kept slice would keep the whole pool slab
  let buffer = Buffer.allocUnsafeSlow(Math.max(1, Math.min(limit, sizeHint + 1)));
  let filled = 0;
  for (;;) {
    if (filled === buffer.length) {
      if (buffer.length >= limit) break;
      const larger = Buffer.allocUnsafeSlow(Math.min(limit, buffer.length * 2));
      buffer.copy(larger, 0, 0, filled);
      buffer = larger;
    }
    assertWithinBounds(bounds, `reading ${shown}`);
    const { bytesRead } = await handle.read(buffer, filled, Math.min(buffer.length - filled, CHUNK_BYTES), filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  // a short read leaves the rest unused: hand back a buffer of exactly the bytes read
  if (filled === buffer.length) return buffer;
  const exact = Buffer.allocUnsafeSlow(filled);
  buffer.copy(exact, 0, 0, filled);
  return exact;
}

/**
 * Copies a regular file into the harness's scratch space (`destination`, created new, mode
 * 0600), hashing it on the way; chunk by chunk, so the run's --timeout and an interrupt
 * stop it. A failure writing the copy is a ScratchSpaceError naming the copy and the errno.
 */
export async function copyRegularFile(source: string, destination: string, bounds: CopyBounds = {}): Promise<{ bytes: number; sha256: string }> {
  const { handle } = await openRegularFile(source);
  let out: FileHandle | undefined;
  try {
    try {
      out = await open(destination, 'wx', 0o600);
    } catch (error) {
      throw scratchError(destination, 'creating', error);
    }
    const target = out;
    return await streamOpenFile(handle, source, bounds, async (chunk) => {
      try {
        let written = 0;
        while (written < chunk.length) written += (await target.write(chunk, written, chunk.length - written)).bytesWritten;
      } catch (error) {
        throw scratchError(destination, 'writing', error);
      }
    });
  } finally {
    await handle.close();
    await out?.close().catch(() => {});
  }
}

/**
 * A private copy made by the kernel: the source opened as openRegularFile opens it (no link
 * followed, nothing but a regular file), then copied through that descriptor
 * (`/proc/self/fd/N`, the same file whatever happens to its name) with COPYFILE_FICLONE: a
 * reflink where the filesystem has them (btrfs, XFS, ZFS: no byte copied, nothing written
 * beside the snapshot), the kernel's own copy elsewhere. With `hash`, the copy is read once
 * for its SHA-256. Where there is no /proc (not Linux, or not mounted), the streaming copy does it.
 *
 * The kernel's copy cannot be stopped half-way: the run's --timeout and an interrupt are
 * looked at before and after it. A copy larger than `maxBytes` is refused after the fact.
 */
export async function cloneRegularFile(source: string, destination: string, bounds: CopyBounds = {}, options: { readonly hash?: boolean } = {}): Promise<{ bytes: number; sha256: string | null }> {
  if (!existsSync('/proc/self/fd')) {
    // not Linux, or no /proc mounted: the streaming copy, which hashes anyway
    const copied = await copyRegularFile(source, destination, bounds);
    return { bytes: copied.bytes, sha256: options.hash ? copied.sha256 : null };
  }
  const { handle, stats } = await openRegularFile(source);
  try {
    assertWithinBounds(bounds, `copying ${source}`);
    if (bounds.maxBytes !== undefined && stats.size > bounds.maxBytes) {
      throw new InfrastructureError(`reading ${source}: more than the ${bounds.maxBytes} bytes it had when listed; it changed during the run`);
    }
    try {
      await copyFile(`/proc/self/fd/${handle.fd}`, destination, fsConstants.COPYFILE_EXCL | fsConstants.COPYFILE_FICLONE);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // reading the source is not the scratch space's fault
      if (code === 'EIO' || code === 'ENOENT') throw new InfrastructureError(`copying ${source}: ${errorMessage(error)}`);
      throw scratchError(destination, 'writing', error);
    }
    assertWithinBounds(bounds, `copying ${source}`);
    const copy = await open(destination, 'r');
    try {
      const hashed = options.hash ? await streamOpenFile(copy, destination, bounds) : { bytes: (await copy.stat()).size, sha256: null };
      if (bounds.maxBytes !== undefined && hashed.bytes > bounds.maxBytes) {
        throw new InfrastructureError(`reading ${source}: more than the ${bounds.maxBytes} bytes it had when listed; it changed during the run`);
      }
      return { bytes: hashed.bytes, sha256: hashed.sha256 };
    } finally {
      await copy.close();
    }
  } finally {
    await handle.close();
  }
}

/** The one wording of a failure in the scratch space: what, where, and the errno. */
export function scratchError(path: string, doing: string, error: unknown): ScratchSpaceError {
  const code = (error as NodeJS.ErrnoException).code;
  return new ScratchSpaceError(`the harness's scratch space failed ${doing} ${path}${code ? ` (${code})` : ''}: ${errorMessage(error)}`, { cause: error });
}

/**
 * SQLite result codes that come from the filesystem the harness opened its own copy on
 * (full, no shared memory file, no descriptor), not from the bytes of the database.
 */
const SCRATCH_SQLITE_CODES = new Set([
  'SQLITE_FULL',
  'SQLITE_NOMEM',
  'SQLITE_IOERR_NOMEM',
  'SQLITE_CANTOPEN',
  'SQLITE_IOERR_WRITE',
  'SQLITE_IOERR_FSYNC',
  'SQLITE_IOERR_TRUNCATE',
  'SQLITE_IOERR_SHMOPEN',
  'SQLITE_IOERR_SHMSIZE',
  'SQLITE_IOERR_SHMMAP',
  'SQLITE_IOERR_SHMLOCK',
  'SQLITE_READONLY_CANTINIT',
  'SQLITE_READONLY_DIRECTORY',
  'SQLITE_READONLY_CANTLOCK',
]);

export function isScratchSqliteError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (SCRATCH_SQLITE_CODES.has(code) || code.startsWith('SQLITE_CANTOPEN'));
}

/** A private directory under the harness's scratch space, and how to remove it; a scratch failure names the place. */
export async function scratchDirectory(scratchDir: string, prefix: string): Promise<{ dir: string; dispose(): Promise<void> }> {
  let dir: string;
  try {
    dir = await mkdtemp(join(scratchDir, prefix));
  } catch (error) {
    throw scratchError(join(scratchDir, `${prefix}*`), 'creating', error);
  }
  return { dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}
