import { join, posix } from 'node:path';
import type { SnapshotStamp } from '../atocore/stamp.js';
import { errorMessage, InfrastructureError, UsageError } from '../common/errors.js';
import { FieldError, forField, type FieldId } from '../inputs/fields.js';
import { scratchDirectory } from '../sqlite/scratch-copy.js';
import { checkRemotePath, isSafeRemotePath } from '../remote/address.js';
import { parseDiskFree, parseListing, parseProbe, parseSha256sum, type ListedEntry } from '../remote/commands.js';
import type { SshConnection } from '../remote/ssh-connection.js';
import {
  DB_FILE,
  displayName,
  LIST_TIMEOUT_MS,
  MAX_TREE_ENTRIES,
  MAX_VALIDATOR_OUTPUT_BYTES,
  READ_TIMEOUT_MS,
  STREAM_IDLE_TIMEOUT_MS,
  transferBudgetMs,
  TreeTooLargeError,
  VALIDATOR_TIMEOUT_MS,
  type ChunkSink,
  type DiskSpace,
  type EntryType,
  type FetchedDatabase,
  type ReadOutcome,
  type SnapshotStore,
  type StoreContext,
  type StoreEntry,
  type StreamOutcome,
  type ValidatorRun,
} from './store.js';

/** The default AtoCore root on Dalidou. */
export const DEFAULT_REMOTE_ROOT = '/srv/storage/atocore';

// about 200 bytes per entry in the worst case
const MAX_LISTING_BYTES = MAX_TREE_ENTRIES * 256;
const MAX_HASH_ARGUMENT_BYTES = 32 * 1024;

const FIND_TYPES: Readonly<Record<string, EntryType>> = { f: 'file', d: 'dir', l: 'symlink', p: 'fifo', s: 'socket', c: 'char-device', b: 'block-device' };

function entryType(findType: string): EntryType {
  return FIND_TYPES[findType] ?? 'other';
}

function toEntry(listed: ListedEntry): StoreEntry {
  return {
    path: listed.path,
    type: entryType(listed.type),
    size: listed.size,
    linkTarget: listed.linkTarget,
    ...(Number.isFinite(listed.allocatedBytes) ? { allocatedBytes: listed.allocatedBytes } : {}),
    ...(Number.isFinite(listed.mtimeMs) ? { mtimeMs: listed.mtimeMs } : {}),
  };
}

function firstLine(text: string): string {
  return text.trim().split('\n').slice(-3).join(' ').slice(0, 500);
}

/**
 * Snapshots on a host reached over SSH. Every operation is one command from the fixed list
 * (src/remote/commands.ts) on the one multiplexed connection.
 */
export class SshSnapshotStore implements SnapshotStore {
  readonly kind = 'ssh' as const;
  readonly snapshotsDir: string;
  readonly where: string;
  readonly #connection: SshConnection;
  readonly #context: StoreContext;
  readonly #ownsConnection: boolean;

  private constructor(connection: SshConnection, snapshotsDir: string, context: StoreContext, ownsConnection: boolean) {
    this.#connection = connection;
    this.snapshotsDir = snapshotsDir;
    this.where = `${connection.where} ${snapshotsDir}`;
    this.#context = context;
    this.#ownsConnection = ownsConnection;
  }

  /** Resolves `<root>/backups/snapshots` or `<root>/snapshots` on the host; neither is a usage error for `field`. */
  static async open(connection: SshConnection, root: string, field: FieldId, context: StoreContext, ownsConnection = true): Promise<SshSnapshotStore> {
    const base = forField(field, (name) => checkRemotePath(root, name));
    const candidates = [`${base === '/' ? '' : base}/backups/snapshots`, `${base === '/' ? '' : base}/snapshots`];
    const result = await connection.exec(
      { op: 'probe', paths: [base, ...candidates] },
      { what: `looking for the snapshots under ${base}`, timeoutMs: context.deadline.bound(LIST_TIMEOUT_MS), deadline: context.deadline, signal: context.signal, maxStdoutBytes: 64 * 1024 },
    );
    const found = parseProbe(result.stdout);
    if (found.get(base) !== 'd') throw new FieldError(field, `${base} is not a directory on ${connection.where}${result.stderr ? ` (${firstLine(result.stderr)})` : ''}`);
    const snapshotsDir = candidates.find((candidate) => found.get(candidate) === 'd');
    if (!snapshotsDir) throw new FieldError(field, `no snapshots directory under ${base} on ${connection.where} (looked for ${candidates.join(' and ')})`);
    return new SshSnapshotStore(connection, snapshotsDir, context, ownsConnection);
  }

  /** The snapshots directly in `dir` on the host (a layout without AtoCore's `backups/snapshots/`, e.g. JellyCore's backup root). */
  static async openDirectory(connection: SshConnection, dir: string, field: FieldId, context: StoreContext, ownsConnection = true): Promise<SshSnapshotStore> {
    const base = forField(field, (name) => checkRemotePath(dir, name));
    const result = await connection.exec(
      { op: 'probe', paths: [base] },
      { what: `looking for ${base}`, timeoutMs: context.deadline.bound(LIST_TIMEOUT_MS), deadline: context.deadline, signal: context.signal, maxStdoutBytes: 64 * 1024 },
    );
    if (parseProbe(result.stdout).get(base) !== 'd') throw new FieldError(field, `${base} is not a directory on ${connection.where}${result.stderr ? ` (${firstLine(result.stderr)})` : ''}`);
    return new SshSnapshotStore(connection, base, context, ownsConnection);
  }

  #full(stamp: string, path?: string): string {
    return path === undefined ? `${this.snapshotsDir}/${stamp}` : `${this.snapshotsDir}/${stamp}/${path}`;
  }

  async #list(path: string, recursive: boolean, what: string): Promise<StoreEntry[]> {
    const result = await this.#connection.exec(
      { op: 'list', path, recursive },
      { what, timeoutMs: this.#context.deadline.bound(LIST_TIMEOUT_MS), deadline: this.#context.deadline, signal: this.#context.signal, maxStdoutBytes: MAX_LISTING_BYTES },
    );
    if (result.overflowed) {
      const message = `${what} on ${this.#connection.where}: more than ${MAX_TREE_ENTRIES} entries (the bound on one listing)`;
      throw recursive ? new TreeTooLargeError(message, `${MAX_LISTING_BYTES} bytes of listing (${MAX_TREE_ENTRIES} entries of 256 bytes)`) : new InfrastructureError(message);
    }
    if (result.exitCode !== 0) throw new InfrastructureError(`${what} on ${this.#connection.where}: find exited ${result.exitCode}: ${firstLine(result.stderr)}`);
    // names that are not UTF-8 shown as locally (\xNN escapes), so --dir and --ssh report the same
    return parseListing(result.stdout, displayName).map(toEntry);
  }

  async listSnapshots(): Promise<StoreEntry[]> {
    const entries = await this.#list(this.snapshotsDir, false, `listing ${this.snapshotsDir}`);
    return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async listSnapshotTree(stamp: string): Promise<StoreEntry[]> {
    const entries = await this.#list(this.#full(stamp), true, `listing snapshot ${stamp}`);
    return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async readSnapshotFile(stamp: string, path: string, maxBytes: number): Promise<ReadOutcome> {
    const full = this.#full(stamp, path);
    if (!isSafeRemotePath(full)) return { ok: false, reason: 'its name has characters outside the safe set; not read' };
    const result = await this.#connection.exec(
      { op: 'read', path: full, maxBytes: maxBytes + 1 },
      { what: `reading ${full}`, timeoutMs: this.#context.deadline.bound(READ_TIMEOUT_MS), deadline: this.#context.deadline, signal: this.#context.signal, maxStdoutBytes: maxBytes + 1 },
    );
    if (result.exitCode !== 0 && !result.overflowed) throw new InfrastructureError(`reading ${full} on ${this.#connection.where}: head exited ${result.exitCode}: ${firstLine(result.stderr)}`);
    if (result.stdout.length > maxBytes) return { ok: false, reason: `larger than ${maxBytes} bytes; not read` };
    return { ok: true, data: result.stdout };
  }

  async readSnapshotHead(stamp: string, path: string, bytes: number): Promise<ReadOutcome> {
    const full = this.#full(stamp, path);
    if (!isSafeRemotePath(full)) return { ok: false, reason: 'its name has characters outside the safe set; not read' };
    const result = await this.#connection.exec(
      { op: 'read', path: full, maxBytes: bytes },
      { what: `reading the head of ${full}`, timeoutMs: this.#context.deadline.bound(READ_TIMEOUT_MS), deadline: this.#context.deadline, signal: this.#context.signal, maxStdoutBytes: bytes },
    );
    if (result.exitCode !== 0 && !result.overflowed) throw new InfrastructureError(`reading ${full} on ${this.#connection.where}: head exited ${result.exitCode}: ${firstLine(result.stderr)}`);
    return { ok: true, data: result.stdout };
  }

  async hashSnapshotFiles(stamp: string, paths: readonly string[]): Promise<Map<string, string>> {
    const hashes = new Map<string, string>();
    const batches: string[][] = [];
    let batch: string[] = [];
    let length = 0;
    for (const path of paths) {
      const full = this.#full(stamp, path);
      if (!isSafeRemotePath(full)) continue;
      if (batch.length > 0 && length + full.length > MAX_HASH_ARGUMENT_BYTES) {
        batches.push(batch);
        batch = [];
        length = 0;
      }
      batch.push(path);
      length += full.length + 3;
    }
    if (batch.length > 0) batches.push(batch);
    for (const group of batches) {
      const fulls = group.map((path) => this.#full(stamp, path));
      const result = await this.#connection.exec(
        { op: 'sha256', paths: fulls },
        {
          what: `hashing ${group.length} file(s) of ${stamp}`,
          // no size known here: allow for large files; the run's --timeout still bounds it
          timeoutMs: this.#context.deadline.bound(transferBudgetMs(4 * 1024 * 1024 * 1024)),
          deadline: this.#context.deadline,
          signal: this.#context.signal,
          maxStdoutBytes: 1024 * 1024,
        },
      );
      const parsed = parseSha256sum(result.stdout.toString('utf8'));
      if (result.exitCode !== 0) throw new InfrastructureError(`hashing files of ${stamp} on ${this.#connection.where}: sha256sum exited ${result.exitCode}: ${firstLine(result.stderr)}`);
      group.forEach((path, index) => {
        const hash = parsed.get(fulls[index]!);
        if (hash) hashes.set(path, hash);
      });
    }
    return hashes;
  }

  async fetchDatabase(stamp: SnapshotStamp, files: readonly StoreEntry[], scratchDir: string): Promise<FetchedDatabase> {
    return this.fetchSnapshotFile(stamp, DB_FILE, files, scratchDir);
  }

  async fetchSnapshotFile(stamp: string, path: string, files: readonly StoreEntry[], scratchDir: string): Promise<FetchedDatabase> {
    const entry = files.find((f) => f.path === path && f.type === 'file');
    const full = this.#full(stamp, path);
    if (!entry || !isSafeRemotePath(full)) throw new InfrastructureError(`streaming ${full}: not a regular file in the listing`);
    const { dir, dispose } = await scratchDirectory(scratchDir, `atocore-drill-deep-${stamp}-`);
    // the file alone, as a restore copies it: a -wal beside a database is a finding of its own
    const copy = join(dir, posix.basename(path));
    try {
      const streamed = await this.#connection.streamToFile({ op: 'stream', path: full }, copy, {
        what: `streaming ${full}`,
        timeoutMs: this.#context.deadline.bound(transferBudgetMs(entry.size)),
        idleTimeoutMs: this.#context.deadline.bound(STREAM_IDLE_TIMEOUT_MS),
        maxBytes: entry.size,
        deadline: this.#context.deadline,
        signal: this.#context.signal,
      });
      if (streamed.exitCode !== 0) throw new InfrastructureError(`streaming ${full} from ${this.#connection.where}: cat exited ${streamed.exitCode}: ${firstLine(streamed.stderr)}`);
      if (streamed.bytes !== entry.size) throw new InfrastructureError(`streaming ${full} from ${this.#connection.where}: got ${streamed.bytes} bytes, the listing said ${entry.size}; the file changed during the run`);
      return { path: copy, sha256: { [path]: streamed.sha256 }, bytes: streamed.bytes, dispose };
    } catch (error) {
      await dispose();
      throw error;
    }
  }

  async streamSnapshotFile(stamp: string, path: string, listedBytes: number, sink: ChunkSink): Promise<StreamOutcome> {
    const full = this.#full(stamp, path);
    if (!isSafeRemotePath(full)) return { ok: false, reason: 'its name has characters outside the safe set; not read' };
    const streamed = await this.#connection.streamTo({ op: 'stream', path: full }, { write: sink, end: async () => {}, abort: () => {} }, {
      what: `streaming ${full}`,
      timeoutMs: this.#context.deadline.bound(transferBudgetMs(listedBytes)),
      idleTimeoutMs: this.#context.deadline.bound(STREAM_IDLE_TIMEOUT_MS),
      maxBytes: listedBytes,
      deadline: this.#context.deadline,
      signal: this.#context.signal,
    });
    if (streamed.stopped) return { ok: true, bytes: streamed.bytes, complete: false };
    if (streamed.exitCode !== 0) throw new InfrastructureError(`streaming ${full} from ${this.#connection.where}: cat exited ${streamed.exitCode}: ${firstLine(streamed.stderr)}`);
    if (streamed.bytes !== listedBytes) throw new InfrastructureError(`streaming ${full} from ${this.#connection.where}: got ${streamed.bytes} bytes, the listing said ${listedBytes}; the file changed during the run`);
    return { ok: true, bytes: streamed.bytes, complete: true };
  }

  async diskSpace(): Promise<DiskSpace> {
    const result = await this.#connection.exec(
      { op: 'disk-free', path: this.snapshotsDir },
      { what: `free space of ${this.snapshotsDir}`, timeoutMs: this.#context.deadline.bound(READ_TIMEOUT_MS), deadline: this.#context.deadline, signal: this.#context.signal, maxStdoutBytes: 64 * 1024 },
    );
    const space = result.exitCode === 0 ? parseDiskFree(result.stdout.toString('utf8')) : null;
    if (!space) throw new InfrastructureError(`free space of ${this.snapshotsDir} on ${this.#connection.where}: df exited ${result.exitCode}: ${firstLine(result.stderr || result.stdout.toString('utf8'))}`);
    return space;
  }

  async runValidator(argv: readonly string[], stamp: SnapshotStamp): Promise<ValidatorRun> {
    const started = Date.now();
    let result;
    try {
      result = await this.#connection.exec(
        { op: 'validator', argv, stamp },
        { what: `AtoCore's validator for ${stamp}`, timeoutMs: this.#context.deadline.bound(VALIDATOR_TIMEOUT_MS), deadline: this.#context.deadline, signal: this.#context.signal, maxStdoutBytes: MAX_VALIDATOR_OUTPUT_BYTES },
      );
    } catch (error) {
      // interrupted: the run ends; cut off at its bound: it could not run, never a verdict
      if (this.#context.signal.aborted || error instanceof UsageError) throw error;
      return { exitCode: null, stdout: '', stderr: '', durationMs: Date.now() - started, couldNotRun: errorMessage(error) };
    }
    let couldNotRun: string | null = null;
    // 126/127: the shell could not find or run the command
    if (result.exitCode === 126 || result.exitCode === 127) couldNotRun = `${argv[0]} could not be run on ${this.#connection.where} (exit ${result.exitCode}): ${firstLine(result.stderr)}`;
    else if (result.signal) couldNotRun = `killed by ${result.signal} on ${this.#connection.where}`;
    else if (result.overflowed) couldNotRun = `printed more than ${MAX_VALIDATOR_OUTPUT_BYTES} bytes`;
    return { exitCode: result.exitCode, stdout: result.stdout.toString('utf8'), stderr: result.stderr, durationMs: result.durationMs, couldNotRun };
  }

  async close(): Promise<void> {
    if (this.#ownsConnection) this.#connection.close();
  }
}
