import { createHash } from 'node:crypto';
import { createReadStream, type Dirent } from 'node:fs';
import { lstat, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { errorMessage, InfrastructureError } from '../common/errors.js';

/** What bounds a long read of the harness's own: the run's signal and what is left of its budget. */
export interface ReadBounds {
  readonly signal?: AbortSignal | undefined;
  readonly deadline?: { remainingMs(): number; readonly totalMs: number; describe(): string } | undefined;
}

function assertWithin(bounds: ReadBounds | undefined, doing: string): void {
  if (bounds?.signal?.aborted) throw bounds.signal.reason;
  if (bounds?.deadline && bounds.deadline.remainingMs() <= 0) throw new InfrastructureError(`the run's ${bounds.deadline.describe()} ran out while ${doing}`);
}

export async function sha256File(path: string, bounds?: ReadBounds): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) {
    assertWithin(bounds, `hashing ${path}`);
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

/**
 * Every entry under `dir` in name order, depth first, by its relative '/'-joined key: what
 * `describe` makes of it (undefined leaves it out). A directory that is gone is empty;
 * directories are walked, never described; symlinks are never followed.
 */
async function describeTree(
  dir: string,
  bounds: ReadBounds | undefined,
  doing: string,
  describe: (path: string, entry: Dirent) => Promise<string | undefined>,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(current: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      assertWithin(bounds, `${doing} ${dir}`);
      const path = join(current, entry.name);
      if (entry.isDirectory()) {
        await walk(path);
        continue;
      }
      const value = await describe(path, entry);
      if (value !== undefined) out[relative(dir, path).split(sep).join('/')] = value;
    }
  }
  await walk(dir);
  return out;
}

/**
 * sha256 of every regular file under `dir`, by relative path; symlinks are listed, never
 * followed; `bounds` cut a long walk at an interrupt or the end of the budget. With
 * `namesOnly`, files are listed without reading them (each value is "file").
 */
export function hashTree(dir: string, bounds?: ReadBounds, namesOnly = false): Promise<Record<string, string>> {
  return describeTree(dir, bounds, 'reading', async (path, entry) => {
    if (entry.isSymbolicLink()) return 'symlink';
    if (entry.isFile()) return namesOnly ? 'file' : sha256File(path, bounds);
    // a FIFO or socket is never opened (it could block); it still counts as there
    return 'special';
  });
}

/**
 * Every entry under `dir` by relative path with what any write to it changes: its type, size,
 * modification and change times (nanoseconds) and inode. Nothing is read: a tree of gigabytes
 * is compared before and after a call in milliseconds, and a write that puts back the same
 * bytes still shows (its change time moves, and no process can set that back). A directory's
 * own times move when an entry comes or goes: its entries say that already.
 */
export function statTree(dir: string, bounds?: ReadBounds): Promise<Record<string, string>> {
  return describeTree(dir, bounds, 'listing', async (path) => {
    const info = await lstat(path, { bigint: true }).catch(() => null);
    if (info === null) return undefined;
    // an entry that became a directory since the listing: its entries are not walked, its kind shows the change
    const kind = info.isDirectory() ? 'dir' : info.isSymbolicLink() ? 'link' : info.isFile() ? 'file' : 'special';
    return `${kind}:${info.size}:${info.mtimeNs}:${info.ctimeNs}:${info.ino}:${info.mode}`;
  });
}

/** The paths whose hash differs between two trees (added, removed or changed). */
export function treeDifferences(expected: Record<string, string>, actual: Record<string, string>): { added: string[]; removed: string[]; changed: string[] } {
  const added = Object.keys(actual).filter((key) => !(key in expected)).sort();
  const removed = Object.keys(expected).filter((key) => !(key in actual)).sort();
  const changed = Object.keys(expected).filter((key) => key in actual && expected[key] !== actual[key]).sort();
  return { added, removed, changed };
}

/** Whether something is at `path`; a path the harness cannot look at is its problem, not an absence. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw new InfrastructureError(`looking at ${path}: ${errorMessage(error)}`);
  }
}

/** Errors reading a file that come from the machine or the harness's rights, not from what the file holds. */
export function isHarnessReadError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'EACCES' || code === 'EPERM' || code === 'EMFILE' || code === 'ENFILE' || code === 'EIO' || code === 'ENOMEM';
}

export async function readJsonFile(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8')) as unknown;
}

/** Writes through a temp file and a rename, so a reader never sees half a file. */
export async function writeFileAtomic(path: string, content: string | Buffer): Promise<void> {
  const temp = `${path}.atocore-drill-${process.pid}.tmp`;
  await writeFile(temp, content);
  await rename(temp, path);
}
