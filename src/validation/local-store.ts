import { fileKindOf } from '../common/file-kind.js';
import { lstat, readdir, readlink, stat, statfs, type FileHandle } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import type { SnapshotStamp } from '../atocore/stamp.js';
import { describeProcessResult, killedWithin, runProcess, type ProcessResult } from '../common/child-process.js';
import { registerEmergencyKill } from '../common/emergency-cleanup.js';
import { hasExited, killCarryingNow, processesCarrying, type EnvironmentMark } from '../runtimes/port-owner.js';
import { DrillError, errorMessage, InfrastructureError } from '../common/errors.js';
import { FieldError, type FieldId } from '../inputs/fields.js';
import { assertWithinBounds, cloneRegularFile, NotRegularFileError, openRegularFile, readOpenFile, scratchDirectory, streamOpenFile, type CopyBounds } from '../sqlite/scratch-copy.js';
import {
  DB_FILE,
  MAX_TREE_ENTRIES,
  MAX_VALIDATOR_OUTPUT_BYTES,
  VALIDATOR_TIMEOUT_MS,
  displayName,
  TreeTooLargeError,
  type ChunkSink,
  type DiskSpace,
  type FetchedDatabase,
  type ReadOutcome,
  type SnapshotStore,
  type StoreContext,
  type StoreEntry,
  type StreamOutcome,
  type ValidatorRun,
} from './store.js';

/** The variable that marks a local validator's processes, its value one call's own (calls run side by side). */
export const VALIDATOR_MARK_VARIABLE = 'ATOCORE_DRILL_VALIDATOR';
/** How long the processes a call left behind get to die once KILLed (the kernel delivers it when it next schedules them). */
const LEFTOVER_EXIT_WAIT_MS = 1_000;

/** SIGKILL to every process that carries the mark, then a short wait until none of them runs. */
async function killLeftovers(mark: EnvironmentMark): Promise<void> {
  const pids = await processesCarrying(mark);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  const until = Date.now() + LEFTOVER_EXIT_WAIT_MS;
  for (const pid of pids) {
    while (!(await hasExited(pid)) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A sink that wants no more: ends the local read early (never leaves this module). */
class StopReading extends Error {}


function joinRaw(dir: Buffer, name: Buffer): Buffer {
  return Buffer.concat([dir, Buffer.from('/'), name]);
}

/** Which directory holds the snapshots: `<root>/backups/snapshots` (an AtoCore root) or `<root>/snapshots` (a backups folder). */
export async function resolveLocalSnapshotsDir(root: string, field: FieldId): Promise<string> {
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
  throw new FieldError(field, `no snapshots directory under ${base} (looked for ${tried.join(' and ')})`);
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

  static async open(root: string, field: FieldId, context: StoreContext): Promise<LocalSnapshotStore> {
    return new LocalSnapshotStore(await resolveLocalSnapshotsDir(root, field), context);
  }

  /** The snapshots directly in `dir` (a layout without AtoCore's `backups/snapshots/`, e.g. JellyCore's backup root). */
  static async openDirectory(dir: string, field: FieldId, context: StoreContext): Promise<LocalSnapshotStore> {
    const full = resolve(dir);
    // the operator's root may be a link (a mount elsewhere); links below it are never followed
    const stats = await stat(full).catch(() => null);
    if (!stats?.isDirectory()) throw new FieldError(field, `${full} is not a directory`);
    return new LocalSnapshotStore(full, context);
  }

  get #bounds(): CopyBounds {
    return { signal: this.#context.signal, deadline: this.#context.deadline };
  }

  async #entry(full: Buffer, relative: string): Promise<StoreEntry> {
    const stats = await lstat(full);
    const type = fileKindOf(stats);
    const linkTarget = type === 'symlink' ? displayName(await readlink(full, { encoding: 'buffer' })) : null;
    // whole milliseconds, as find's %T@ comes over SSH: --dir and --ssh list the same times
    return { path: relative, type, size: stats.size, linkTarget, allocatedBytes: stats.blocks * 512, ...(Number.isFinite(stats.mtimeMs) ? { mtimeMs: Math.round(stats.mtimeMs) } : {}) };
  }

  async listSnapshots(): Promise<StoreEntry[]> {
    try {
      const dir = Buffer.from(this.snapshotsDir);
      const names = await readdir(dir, { encoding: 'buffer' });
      const entries = await Promise.all(names.map((name) => this.#entry(joinRaw(dir, name), displayName(name))));
      return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    } catch (error) {
      throw new InfrastructureError(`listing ${this.snapshotsDir}: ${errorMessage(error)}`);
    }
  }

  async listSnapshotTree(stamp: string): Promise<StoreEntry[]> {
    const root = join(this.snapshotsDir, stamp);
    const entries: StoreEntry[] = [];
    const walk = async (raw: Buffer, relative: string): Promise<void> => {
      const names = await readdir(raw, { encoding: 'buffer' });
      const named = names.map((name) => ({ name, shown: displayName(name) })).sort((a, b) => (a.shown < b.shown ? -1 : a.shown > b.shown ? 1 : 0));
      for (const { name, shown } of named) {
        if (entries.length >= MAX_TREE_ENTRIES) throw new TreeTooLargeError(`listing ${root}: more than ${MAX_TREE_ENTRIES} entries (the bound on one listing)`, `${MAX_TREE_ENTRIES} entries`);
        assertWithinBounds(this.#bounds, `listing ${root}`);
        const path = relative === '' ? shown : `${relative}/${shown}`;
        const full = joinRaw(raw, name);
        const entry = await this.#entry(full, path);
        entries.push(entry);
        if (entry.type === 'dir') await walk(full, path);
      }
    };
    try {
      await walk(Buffer.from(root), '');
    } catch (error) {
      if (error instanceof DrillError) throw error;
      throw new InfrastructureError(`listing ${root}: ${errorMessage(error)}`);
    }
    return entries;
  }

  /** Opens a file a listing called regular; if it is not (any more), says so as a value. */
  async #openListed(full: string): Promise<{ ok: true; handle: FileHandle; size: number } | { ok: false; reason: string }> {
    try {
      const { handle, stats } = await openRegularFile(full);
      return { ok: true, handle, size: stats.size };
    } catch (error) {
      if (error instanceof NotRegularFileError) return { ok: false, reason: `it is ${error.kind} now (it changed since it was listed); not read` };
      throw error;
    }
  }

  async readSnapshotFile(stamp: string, path: string, maxBytes: number): Promise<ReadOutcome> {
    return this.#readHead(join(this.snapshotsDir, stamp, path), maxBytes, true);
  }

  async readSnapshotHead(stamp: string, path: string, bytes: number): Promise<ReadOutcome> {
    return this.#readHead(join(this.snapshotsDir, stamp, path), bytes, false);
  }

  /** At most `maxBytes` of a regular file; with `whole`, a longer file is `ok: false` and not read at all. */
  async #readHead(full: string, maxBytes: number, whole: boolean): Promise<ReadOutcome> {
    const opened = await this.#openListed(full);
    if (!opened.ok) return opened;
    const { handle } = opened;
    try {
      if (whole && opened.size > maxBytes) return { ok: false, reason: `larger than ${maxBytes} bytes; not read` };
      const data = await readOpenFile(handle, full, whole ? maxBytes + 1 : maxBytes, opened.size, this.#bounds);
      if (whole && data.length > maxBytes) return { ok: false, reason: `larger than ${maxBytes} bytes; not read` };
      return { ok: true, data };
    } catch (error) {
      if (error instanceof DrillError) throw error;
      throw new InfrastructureError(`reading ${full}: ${errorMessage(error)}`);
    } finally {
      await handle.close();
    }
  }

  async hashSnapshotFiles(stamp: string, paths: readonly string[]): Promise<Map<string, string>> {
    const hashes = new Map<string, string>();
    for (const path of paths) {
      const full = join(this.snapshotsDir, stamp, path);
      const opened = await this.#openListed(full);
      if (!opened.ok) throw new InfrastructureError(`hashing ${full}: ${opened.reason}`);
      try {
        hashes.set(path, (await streamOpenFile(opened.handle, full, this.#bounds)).sha256);
      } finally {
        await opened.handle.close();
      }
    }
    return hashes;
  }

  async fetchDatabase(stamp: SnapshotStamp, files: readonly StoreEntry[], scratchDir: string): Promise<FetchedDatabase> {
    return this.fetchSnapshotFile(stamp, DB_FILE, files, scratchDir);
  }

  async fetchSnapshotFile(stamp: string, path: string, files: readonly StoreEntry[], scratchDir: string): Promise<FetchedDatabase> {
    const source = join(this.snapshotsDir, stamp, path);
    const listed = files.find((f) => f.path === path);
    const { dir, dispose } = await scratchDirectory(scratchDir, `atocore-drill-deep-${stamp}-`);
    const copy = join(dir, basename(path));
    try {
      // copied, never opened in place: a read-only open would still create -shm/-wal beside it.
      // By the kernel (a reflink where the filesystem has them); hashed from the snapshot only when a hash is wanted
      const copied = await cloneRegularFile(source, copy, { ...this.#bounds, ...(listed ? { maxBytes: listed.size } : {}) });
      if (listed && copied.bytes !== listed.size) throw new InfrastructureError(`copying ${source}: got ${copied.bytes} bytes, the listing said ${listed.size}; the file changed during the run`);
      return { path: copy, sha256: {}, bytes: copied.bytes, dispose };
    } catch (error) {
      await dispose();
      if (error instanceof NotRegularFileError) throw new InfrastructureError(`copying ${source}: ${error.message} (it changed since it was listed)`);
      throw error;
    }
  }

  async streamSnapshotFile(stamp: string, path: string, listedBytes: number, sink: ChunkSink): Promise<StreamOutcome> {
    const full = join(this.snapshotsDir, stamp, path);
    const opened = await this.#openListed(full);
    if (!opened.ok) return opened;
    let read = 0;
    try {
      await streamOpenFile(opened.handle, full, { ...this.#bounds, maxBytes: listedBytes }, async (chunk) => {
        read += chunk.length;
        if (!(await sink(chunk))) throw new StopReading();
      });
      return { ok: true, bytes: read, complete: true };
    } catch (error) {
      if (error instanceof StopReading) return { ok: true, bytes: read, complete: false };
      throw error;
    } finally {
      await opened.handle.close();
    }
  }

  async diskSpace(): Promise<DiskSpace> {
    try {
      const stats = await statfs(this.snapshotsDir);
      return { totalBytes: stats.blocks * stats.bsize, availableBytes: stats.bavail * stats.bsize };
    } catch (error) {
      throw new InfrastructureError(`free space of ${this.snapshotsDir}: ${errorMessage(error)}`);
    }
  }

  /**
   * AtoCore's validator on this machine, ended (KILL included) within its bound. Its processes
   * carry a mark of their own in their environment: whatever still carries it when the call
   * ends (a child it left running, one that left its process group with setsid) is killed.
   */
  async runValidator(argv: readonly string[], stamp: SnapshotStamp): Promise<ValidatorRun> {
    const mark: EnvironmentMark = { name: VALIDATOR_MARK_VARIABLE, value: randomUUID() };
    // a second signal or an exit of the harness: they go at once
    const unregisterKill = registerEmergencyKill(() => killCarryingNow(mark));
    let result: ProcessResult;
    try {
      result = await runProcess(argv, {
        ...killedWithin(this.#context.deadline.bound(VALIDATOR_TIMEOUT_MS)),
        env: { ...process.env, [mark.name]: mark.value },
        signal: this.#context.signal,
        maxOutputBytes: MAX_VALIDATOR_OUTPUT_BYTES,
      });
    } finally {
      await killLeftovers(mark);
      unregisterKill();
    }
    // interrupted: the run ends with the interruption as its cause, not "the validator could not run"
    if (result.aborted) assertWithinBounds({ signal: this.#context.signal }, `running AtoCore's validator for ${stamp}`);
    const couldNotRun = result.spawnError || result.timedOut || result.aborted || result.signal ? `${argv.join(' ')} for ${stamp}: ${describeProcessResult(result)}` : null;
    return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, durationMs: result.durationMs, couldNotRun };
  }

  async close(): Promise<void> {}
}
