import { createHash } from 'node:crypto';
import { constants as fsConstants, createReadStream, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink, stat, statfs } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { SnapshotStamp } from '../atocore/stamp.js';
import { describeProcessResult, runProcess } from '../common/child-process.js';
import { errorMessage, InfrastructureError, UsageError } from '../common/errors.js';
import {
  DB_FILE,
  MAX_TREE_ENTRIES,
  MAX_VALIDATOR_OUTPUT_BYTES,
  VALIDATOR_TIMEOUT_MS,
  type DiskSpace,
  type EntryType,
  type FetchedDatabase,
  type ReadOutcome,
  type SnapshotStore,
  type StoreContext,
  type StoreEntry,
  type ValidatorRun,
} from './store.js';

function typeOf(stats: Stats): EntryType {
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'dir';
  return 'other';
}

/** Which directory holds the snapshots: `<root>/backups/snapshots` (an AtoCore root) or `<root>/snapshots` (a backups folder). */
export async function resolveLocalSnapshotsDir(root: string, flag: string): Promise<string> {
  const base = resolve(root);
  const tried: string[] = [];
  for (const candidate of [join(base, 'backups', 'snapshots'), join(base, 'snapshots')]) {
    tried.push(candidate);
    try {
      // the operator's root may be a link (a mount elsewhere); links below it are never followed
      const stats = await stat(candidate);
      if (stats.isDirectory()) return candidate;
    } catch {
      // try the next layout
    }
  }
  throw new UsageError(`${flag}: no snapshots directory under ${base} (looked for ${tried.join(' and ')})`);
}

/** Snapshots in a directory on this machine (e.g. on Dalidou itself, or a mounted copy). */
export class LocalSnapshotStore implements SnapshotStore {
  readonly kind = 'dir' as const;
  readonly snapshotsDir: string;
  readonly where: string;
  readonly #context: StoreContext;

  constructor(snapshotsDir: string, context: StoreContext) {
    this.snapshotsDir = snapshotsDir;
    this.where = `dir ${snapshotsDir}`;
    this.#context = context;
  }

  static async open(root: string, flag: string, context: StoreContext): Promise<LocalSnapshotStore> {
    return new LocalSnapshotStore(await resolveLocalSnapshotsDir(root, flag), context);
  }

  async #entry(dir: string, relative: string): Promise<StoreEntry> {
    const full = join(dir, relative);
    const stats = await lstat(full);
    const type = typeOf(stats);
    return { path: relative, type, size: stats.size, linkTarget: type === 'symlink' ? await readlink(full) : null };
  }

  async listSnapshots(): Promise<StoreEntry[]> {
    try {
      const names = await readdir(this.snapshotsDir);
      return await Promise.all(names.sort().map((name) => this.#entry(this.snapshotsDir, name)));
    } catch (error) {
      throw new InfrastructureError(`listing ${this.snapshotsDir}: ${errorMessage(error)}`);
    }
  }

  async listSnapshotTree(stamp: SnapshotStamp): Promise<StoreEntry[]> {
    const root = join(this.snapshotsDir, stamp);
    const entries: StoreEntry[] = [];
    const walk = async (relative: string): Promise<void> => {
      const names = await readdir(relative === '' ? root : join(root, relative));
      for (const name of names.sort()) {
        if (entries.length >= MAX_TREE_ENTRIES) throw new InfrastructureError(`listing ${root}: more than ${MAX_TREE_ENTRIES} entries; not an AtoCore snapshot`);
        if (this.#context.deadline.remainingMs() <= 0) throw new InfrastructureError(`listing ${root}: the run's --timeout ran out`);
        const path = relative === '' ? name : `${relative}/${name}`;
        const entry = await this.#entry(root, path);
        entries.push(entry);
        if (entry.type === 'dir') await walk(path);
      }
    };
    try {
      await walk('');
    } catch (error) {
      if (error instanceof InfrastructureError) throw error;
      throw new InfrastructureError(`listing ${root}: ${errorMessage(error)}`);
    }
    return entries;
  }

  async readSnapshotFile(stamp: SnapshotStamp, path: string, maxBytes: number): Promise<ReadOutcome> {
    const full = join(this.snapshotsDir, stamp, path);
    let handle;
    try {
      // O_NOFOLLOW: a file that became a link since the listing is refused, not followed
      handle = await open(full, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    } catch (error) {
      throw new InfrastructureError(`reading ${full}: ${errorMessage(error)}`);
    }
    try {
      const buffer = Buffer.alloc(maxBytes + 1);
      let filled = 0;
      while (filled < buffer.length) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled > maxBytes) return { ok: false, reason: `larger than ${maxBytes} bytes; not read` };
      return { ok: true, data: buffer.subarray(0, filled) };
    } catch (error) {
      throw new InfrastructureError(`reading ${full}: ${errorMessage(error)}`);
    } finally {
      await handle.close();
    }
  }

  async hashSnapshotFiles(stamp: SnapshotStamp, paths: readonly string[]): Promise<Map<string, string>> {
    const hashes = new Map<string, string>();
    for (const path of paths) {
      if (this.#context.signal.aborted) throw new InfrastructureError(`aborted while hashing ${stamp}`);
      const full = join(this.snapshotsDir, stamp, path);
      try {
        const handle = await open(full, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
        const hash = createHash('sha256');
        const stream = createReadStream('', { fd: handle.fd, autoClose: false, highWaterMark: 1024 * 1024, signal: this.#context.signal });
        try {
          for await (const chunk of stream) hash.update(chunk as Buffer);
        } finally {
          await handle.close();
        }
        hashes.set(path, hash.digest('hex'));
      } catch (error) {
        throw new InfrastructureError(`hashing ${full}: ${errorMessage(error)}`);
      }
    }
    return hashes;
  }

  async fetchDatabase(stamp: SnapshotStamp): Promise<FetchedDatabase> {
    const path = join(this.snapshotsDir, stamp, DB_FILE);
    const stats = await lstat(path);
    // the original: the inspection copies it (and its -wal) before opening, so nothing is written here
    return { path, privateCopy: false, sha256: {}, bytes: stats.size, dispose: async () => {} };
  }

  async diskSpace(): Promise<DiskSpace> {
    try {
      const stats = await statfs(this.snapshotsDir);
      return { totalBytes: stats.blocks * stats.bsize, availableBytes: stats.bavail * stats.bsize };
    } catch (error) {
      throw new InfrastructureError(`free space of ${this.snapshotsDir}: ${errorMessage(error)}`);
    }
  }

  async runValidator(argv: readonly string[], stamp: SnapshotStamp): Promise<ValidatorRun> {
    const result = await runProcess(argv, {
      timeoutMs: this.#context.deadline.bound(VALIDATOR_TIMEOUT_MS),
      signal: this.#context.signal,
      maxOutputBytes: MAX_VALIDATOR_OUTPUT_BYTES,
    });
    const couldNotRun = result.spawnError || result.timedOut || result.aborted || result.signal ? `${argv.join(' ')} for ${stamp}: ${describeProcessResult(result)}` : null;
    return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, durationMs: result.durationMs, couldNotRun };
  }

  async close(): Promise<void> {}
}
