/**
 * Corrupted copies of a backup, for drilling the backup's own verification. Every change is
 * made to a COPY inside the drill's own scratch directory, never to the backup itself: each
 * function refuses a path outside that directory or reached through a symlink. Copies are
 * bounded (files, bytes, depth) and never follow a link; a FIFO or device is not opened.
 */
import { hasSqliteMagic } from '../sqlite/header.js';
import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, open, readdir, readlink, realpath, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { errorMessage, InfrastructureError } from '../common/errors.js';
import { ownWriteAsync } from './own-writes.js';
import type { CorruptionKind } from './verification.js';

export interface CopyLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly maxDepth: number;
}

/** A drill copies the backup it just made; these bounds only stop a runaway tree. */
export const DEFAULT_COPY_LIMITS: CopyLimits = { maxEntries: 100_000, maxBytes: 8 * 1024 ** 3, maxDepth: 64 };

/** How much of a database a corruption overwrites at most (pages from its middle). */
const MAX_CORRUPT_PAGES = 256;
/** Not a valid b-tree page type, so SQLite calls the page malformed rather than reading it as data. */
const GARBAGE_BYTE = 0xa5;

/** The drill's own scratch directory: every corruption happens under it. */
export class CorruptionScratch {
  private readonly root: string;

  private constructor(root: string) {
    this.root = root;
  }

  /** `root` must exist; it is resolved once, so a link swapped in later is seen as leaving it. */
  static async at(root: string): Promise<CorruptionScratch> {
    return new CorruptionScratch(await realpath(root));
  }

  /** Copies the tree at `source` (outside or inside the scratch) to `name` under the scratch; returns the copy's path. */
  async copyOf(source: string, name: string, limits: CopyLimits = DEFAULT_COPY_LIMITS): Promise<string> {
    const destination = join(this.root, name);
    await this.assertInside(destination, { mayBeMissing: true });
    if ((await kindAt(destination)) !== null) throw new InfrastructureError(`copying ${source}: ${destination} already exists in the drill's scratch directory`);
    // a copy inside what it copies would copy itself until a bound stops it
    const within = relative(await realpath(source).catch(() => resolve(source)), destination);
    if (within === '' || (!within.startsWith('..') && !isAbsolute(within))) throw new InfrastructureError(`copying ${source}: the copy ${destination} would lie inside it`);
    try {
      await copyTree(source, destination, limits);
    } catch (error) {
      // half a copy is the drill's own: it goes (what was there before was refused above)
      await rm(destination, { recursive: true, force: true }).catch(() => undefined);
      throw error;
    }
    return destination;
  }

  /** Makes one corruption of `kind` at `path` (a file, or the directory for emptied_directory); says what it did. */
  async corrupt(kind: CorruptionKind, path: string): Promise<string> {
    switch (kind) {
      case 'corrupt_database': {
        const { offset, bytes } = await this.corruptDatabase(path);
        return `overwrote ${bytes} bytes from offset ${offset}`;
      }
      case 'truncated_archive': {
        const { from, to } = await this.truncateHalf(path);
        return `cut from ${from} to ${to} bytes`;
      }
      case 'emptied_directory':
        return `removed ${(await this.emptyDirectory(path)).removed} entries`;
      case 'missing_file':
        await this.removeFile(path);
        return 'removed';
      case 'corrupt_json':
        await this.corruptJson(path);
        return 'replaced by JSON that does not parse';
    }
  }

  /** Overwrites up to MAX_CORRUPT_PAGES pages from the middle of a SQLite file (never the header page when there are others). */
  async corruptDatabase(path: string): Promise<{ readonly offset: number; readonly bytes: number }> {
    await this.assertRegularFile(path);
    const size = (await lstat(path)).size;
    const pageSize = await sqlitePageSize(path);
    const pages = Math.floor(size / pageSize);
    const { offset, bytes } = pages >= 2 ? middlePages(pages, pageSize) : { offset: Math.min(100, size), bytes: Math.max(0, size - 100) };
    if (bytes <= 0) throw new InfrastructureError(`corrupting ${path}: the file is too small (${size} bytes) to overwrite anything`);
    await ownWriteAsync(path, 'corrupting the copy', async () => {
      const handle = await open(path, constants.O_WRONLY | constants.O_NOFOLLOW);
      try {
        await handle.write(Buffer.alloc(bytes, GARBAGE_BYTE), 0, bytes, offset);
      } finally {
        await handle.close();
      }
    });
    return { offset, bytes };
  }

  /** Cuts a file to half its length (a .tar.gz cut in half ends mid-stream). */
  async truncateHalf(path: string): Promise<{ readonly from: number; readonly to: number }> {
    await this.assertRegularFile(path);
    const from = (await lstat(path)).size;
    const to = Math.floor(from / 2);
    if (from === 0) throw new InfrastructureError(`truncating ${path}: the file is already empty`);
    await truncate(path, to);
    return { from, to };
  }

  /** Removes what a directory holds; the directory itself stays. Links inside are removed, never followed. */
  async emptyDirectory(path: string): Promise<{ readonly removed: number }> {
    await this.assertInside(path);
    if ((await kindAt(path)) !== 'dir') throw new InfrastructureError(`emptying ${path}: not a directory`);
    const entries = await readdir(path);
    for (const entry of entries) await rm(join(path, entry), { recursive: true, force: true });
    return { removed: entries.length };
  }

  /** Removes one file (or link) of the copy. */
  async removeFile(path: string): Promise<void> {
    await this.assertInside(path);
    const kind = await kindAt(path);
    if (kind === null) throw new InfrastructureError(`removing ${path}: it is not there`);
    if (kind === 'dir') throw new InfrastructureError(`removing ${path}: a directory, not a file`);
    await rm(path);
  }

  /** Replaces a JSON file by text that does not parse (its first half, unterminated). */
  async corruptJson(path: string): Promise<void> {
    await this.assertRegularFile(path);
    const head = await readHead(path, 4096);
    const broken = `${head.slice(0, Math.floor(head.length / 2))}{"corrupted by the drill": [`;
    await ownWriteAsync(path, 'corrupting the copy', () => writeFile(path, broken, { flag: constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW }));
  }

  private async assertRegularFile(path: string): Promise<void> {
    await this.assertInside(path);
    const kind = await kindAt(path);
    if (kind !== 'file') throw new InfrastructureError(`corrupting ${path}: ${kind === null ? 'it is not there' : `a ${kind}, not a regular file`}`);
  }

  /** `path` is under the scratch root, reached through no symlink (its parent's real path is where it says). */
  private async assertInside(path: string, options: { mayBeMissing?: boolean } = {}): Promise<void> {
    const absolute = resolve(path);
    const below = relative(this.root, absolute);
    if (below === '' || below.startsWith('..') || isAbsolute(below)) throw new InfrastructureError(`refusing to change ${path}: it is not inside the drill's scratch directory ${this.root}`);
    let parent: string;
    try {
      parent = await realpath(dirname(absolute));
    } catch (error) {
      throw new InfrastructureError(`refusing to change ${path}: its directory cannot be resolved (${errorMessage(error)})`);
    }
    if (parent !== dirname(absolute)) throw new InfrastructureError(`refusing to change ${path}: it is reached through a symlink`);
    if (!options.mayBeMissing && (await kindAt(absolute)) === 'symlink') throw new InfrastructureError(`refusing to change ${path}: it is a symlink`);
  }
}

type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

async function kindAt(path: string): Promise<EntryKind | null> {
  try {
    const stats = await lstat(path);
    return stats.isSymbolicLink() ? 'symlink' : stats.isFile() ? 'file' : stats.isDirectory() ? 'dir' : 'other';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new InfrastructureError(`looking at ${path}: ${errorMessage(error)}`);
  }
}

/** At most `bytes` bytes from the start of a file, as text (a JSON file may be large; its head is enough). */
async function readHead(path: string, bytes: number): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** The page size from a SQLite header (bytes 16–17, 1 meaning 65536); 4096 when the header is not SQLite's. */
async function sqlitePageSize(path: string): Promise<number> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const header = Buffer.alloc(100);
    const { bytesRead } = await handle.read(header, 0, 100, 0);
    if (bytesRead < 100 || !hasSqliteMagic(header)) return 4096;
    const raw = header.readUInt16BE(16);
    const size = raw === 1 ? 65_536 : raw;
    return size >= 512 && (size & (size - 1)) === 0 ? size : 4096;
  } finally {
    await handle.close();
  }
}

/** The middle half of the pages after the first, at most MAX_CORRUPT_PAGES of them. */
function middlePages(pages: number, pageSize: number): { offset: number; bytes: number } {
  const count = Math.max(1, Math.min(MAX_CORRUPT_PAGES, Math.floor(pages / 2)));
  const first = Math.max(1, Math.floor((pages - count) / 2));
  return { offset: first * pageSize, bytes: Math.min(count, pages - first) * pageSize };
}

/** Copies a tree without following links: directories and files copied, links recreated as links, anything else left out. */
async function copyTree(source: string, destination: string, limits: CopyLimits): Promise<void> {
  const budget = { entries: 0, bytes: 0 };
  const fail = (why: string): never => {
    throw new InfrastructureError(`copying ${source} into the drill's scratch directory: ${why}`);
  };
  async function walk(from: string, to: string, depth: number): Promise<void> {
    if (depth > limits.maxDepth) fail(`nested deeper than ${limits.maxDepth} directories at ${from}`);
    const stats = await lstat(from);
    if (++budget.entries > limits.maxEntries) fail(`more than ${limits.maxEntries} entries`);
    if (stats.isDirectory()) {
      await ownWriteAsync(to, 'copying a backup', () => mkdir(to, { mode: 0o700 }));
      for (const entry of (await readdir(from)).sort()) await walk(join(from, entry), join(to, entry), depth + 1);
    } else if (stats.isFile()) {
      budget.bytes += stats.size;
      if (budget.bytes > limits.maxBytes) fail(`more than ${limits.maxBytes} bytes`);
      await ownWriteAsync(to, 'copying a backup', () => copyFile(from, to));
    } else if (stats.isSymbolicLink()) {
      await ownWriteAsync(to, 'copying a backup', async () => symlink(await readlink(from), to));
    }
  }
  try {
    await walk(source, destination, 0);
  } catch (error) {
    if (error instanceof InfrastructureError) throw error;
    fail(errorMessage(error));
  }
}

/** The path of `path` relative to `root`, with forward slashes (for evidence). */
export function relativeTo(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}
