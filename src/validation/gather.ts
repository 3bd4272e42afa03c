import type { SnapshotStamp } from '../atocore/stamp.js';
import type { Deadline } from '../common/deadline.js';
import { InfrastructureError } from '../common/errors.js';
import { validatorArgv } from '../remote/commands.js';
import type { IntegrityWorkers } from '../sqlite/integrity-workers.js';
import { ScratchSpaceError } from '../sqlite/scratch-copy.js';
import { inspectSnapshotDatabase, type SnapshotDatabaseInspection } from './database.js';
import { SIDECAR_HEAD_BYTES, SIDECAR_PATHS } from './sidecars.js';
import { checkMetadata, databaseCopyRefusal, entryAt, isSafeSnapshotPath, regularSafeFiles, validatorRefusal } from './snapshot-checks.js';
import { SQLITE_HEADER_BYTES } from '../sqlite/header.js';
import { DB_FILE, MAX_METADATA_BYTES, MAX_REGISTRY_BYTES, METADATA_FILE, REGISTRY_FILE, type FetchedDatabase, type ReadOutcome, type SnapshotStore, type StoreEntry, type ValidatorRun } from './store.js';

/**
 * Gathering: everything the validation reads from a snapshot store, turned into plain facts.
 * Nothing here judges a snapshot; judge.ts does, from these facts alone. The few decisions
 * made here are about what may be read (a file the metadata does not vouch for is not
 * copied; AtoCore's validator never meets a sidecar), not about what it means.
 */

/** What was read about one snapshot that gets the per-snapshot checks. */
export interface SnapshotFacts {
  readonly stamp: SnapshotStamp;
  readonly selected: true;
  readonly files: readonly StoreEntry[];
  /** backup-metadata.json as read (null: not a regular file, not read) */
  readonly metadataRead: ReadOutcome | null;
  readonly registryRead: ReadOutcome | null;
  /** the database file's first 100 bytes, its SQLite header (null: not a regular file, not read) */
  readonly databaseHead: ReadOutcome | null;
  /** the first bytes of each regular sidecar beside the database (a WAL's header and first frame) */
  readonly sidecarHeads: ReadonlyMap<string, ReadOutcome>;
  /** SHA-256 of the regular files, by path (null: not hashed this run) */
  readonly hashes: ReadonlyMap<string, string> | null;
  /** the harness's own integrity_check on its copy of the database (null: not inspected) */
  readonly inspection: SnapshotDatabaseInspection | null;
  readonly validatorRun: ValidatorRun | null;
  /** why AtoCore's validator was not run on it (null: it ran, or none was asked for) */
  readonly validatorRefused: string | null;
  /** the harness's own trouble copying or inspecting the database (its scratch space, its budget): not a finding */
  readonly harnessError: string | null;
}

/** What was read about a snapshot outside this run's selection: only what the overall checks need. */
export interface UnselectedSnapshotFacts {
  readonly stamp: SnapshotStamp;
  readonly selected: false;
  readonly files: readonly StoreEntry[];
  readonly hashes: ReadonlyMap<string, string> | null;
}

export type GatheredSnapshot = SnapshotFacts | UnselectedSnapshotFacts;

/** A snapshot's facts before its database copy is inspected; the copy is the caller's to dispose. */
export type SnapshotRead = (Omit<SnapshotFacts, 'inspection'> & { readonly fetched: FetchedDatabase | null }) | UnselectedSnapshotFacts;

/** What this run reads, decided before any snapshot is opened. */
export interface GatherPlan {
  /** these get the per-snapshot checks */
  readonly selected: ReadonlySet<SnapshotStamp>;
  /** these get the harness's own integrity_check */
  readonly deepShare: ReadonlySet<SnapshotStamp>;
  /** a ledger is kept: every selected snapshot is hashed */
  readonly hashSelected: boolean;
  /** the off-host copy is compared: this snapshot is hashed, selected or not */
  readonly hashAlso: SnapshotStamp | null;
  /** AtoCore's validator command line, `{stamp}` to be filled in; null: not run */
  readonly validator: readonly string[] | null;
  readonly scratchDir: string;
  readonly deadline: Deadline;
  /** the run's own signal: an abort means trouble is the run's, never the snapshot's */
  readonly signal: AbortSignal;
  /** the threads integrity_check runs on (null: this thread) */
  readonly workers?: IntegrityWorkers | null;
}

/** Reads snapshots from one store, by one plan. */
export class SnapshotGatherer {
  private readonly store: SnapshotStore;
  private readonly plan: GatherPlan;
  constructor(store: SnapshotStore, plan: GatherPlan) {
    this.store = store;
    this.plan = plan;
  }

  /** Everything about one snapshot except the database inspection (the part that runs one at a time). */
  async read(stamp: SnapshotStamp): Promise<SnapshotRead> {
    const files = await this.store.listSnapshotTree(stamp);
    const isSelected = this.plan.selected.has(stamp);
    const wantHashes = (this.plan.hashSelected && isSelected) || stamp === this.plan.hashAlso;
    if (!isSelected) {
      const hashes = wantHashes ? await hashRegularFiles(this.store, stamp, files) : null;
      return { stamp, selected: false, files, hashes };
    }
    const metadataRead = await this.readIfFile(stamp, files, METADATA_FILE, MAX_METADATA_BYTES);
    const registryRead = await this.readIfFile(stamp, files, REGISTRY_FILE, MAX_REGISTRY_BYTES);
    // every run, deep or not: 100 bytes tell a database from a file of the right size holding zeros
    const databaseHead = await this.readIfFile(stamp, files, DB_FILE, SQLITE_HEADER_BYTES, true);
    const sidecarHeads = new Map<string, ReadOutcome>();
    for (const path of SIDECAR_PATHS) {
      const head = await this.readIfFile(stamp, files, path, SIDECAR_HEAD_BYTES, true);
      if (head) sidecarHeads.set(path, head);
    }
    const { fetched, harnessError } = await this.fetchDatabase(stamp, files, metadataRead);
    try {
      let hashes: Map<string, string> | null = null;
      if (wantHashes) {
        const already = fetched?.sha256 ?? {};
        hashes = await hashRegularFiles(this.store, stamp, files, (path) => !(path in already));
        for (const [path, hash] of Object.entries(already)) hashes.set(path, hash);
      }
      // after the stream: AtoCore's validator opens the snapshot read-write and may create -wal/-shm while it runs
      const validatorRefused = this.plan.validator ? validatorRefusal(files, SIDECAR_PATHS) : null;
      const validatorRun = this.plan.validator && !validatorRefused ? await this.store.runValidator(validatorArgv(this.plan.validator, stamp), stamp) : null;
      return { stamp, selected: true, files, metadataRead, registryRead, databaseHead, sidecarHeads, hashes, fetched, validatorRun, validatorRefused, harnessError };
    } catch (error) {
      await fetched?.dispose();
      throw error;
    }
  }

  /**
   * The harness's own integrity_check on the copy `read` fetched, which it disposes. Its own
   * trouble (scratch space, what is left of --timeout) leaves the database uninspected and
   * is recorded as a harness error, never as a finding about the snapshot.
   */
  async inspect(read: SnapshotRead): Promise<GatheredSnapshot> {
    if (!read.selected) return read;
    const { fetched, ...rest } = read;
    let inspection: SnapshotDatabaseInspection | null = null;
    let harnessError = read.harnessError;
    if (fetched) {
      try {
        const { workers, signal, deadline } = this.plan;
        inspection = await inspectSnapshotDatabase(fetched.path, fetched.bytes, deadline.remainingMs(), workers ? { offThread: { workers, bounds: { signal, deadline } } } : {});
      } catch (error) {
        if (!(error instanceof InfrastructureError) || this.plan.signal.aborted) throw error;
        harnessError = error.message;
      } finally {
        await fetched.dispose();
      }
    }
    return { ...rest, inspection, harnessError };
  }

  private async readIfFile(stamp: SnapshotStamp, files: readonly StoreEntry[], path: string, max: number, head = false): Promise<ReadOutcome | null> {
    const entry = entryAt(files, path);
    if (!entry || entry.type !== 'file') return null;
    if (!isSafeSnapshotPath(path)) return { ok: false, reason: 'its name has characters outside the safe set; not read' };
    return head ? this.store.readSnapshotHead(stamp, path, max) : this.store.readSnapshotFile(stamp, path, max);
  }

  /** A private copy of the database for integrity_check, when it is in this run's share and its metadata vouches for it. */
  private async fetchDatabase(stamp: SnapshotStamp, files: readonly StoreEntry[], metadataRead: ReadOutcome | null): Promise<{ fetched: FetchedDatabase | null; harnessError: string | null }> {
    if (!this.plan.deepShare.has(stamp)) return { fetched: null, harnessError: null };
    // decided before any database byte is read: a file the metadata does not vouch for is not copied
    const { metadata } = checkMetadata(stamp, files, metadataRead);
    if (databaseCopyRefusal(files, metadata) !== null) return { fetched: null, harnessError: null };
    try {
      return { fetched: await this.store.fetchDatabase(stamp, files, this.plan.scratchDir), harnessError: null };
    } catch (error) {
      // the harness's own disk, not the snapshot: this snapshot's database goes unjudged, the run is an error
      if (!(error instanceof ScratchSpaceError) || this.plan.signal.aborted) throw error;
      return { fetched: null, harnessError: error.message };
    }
  }
}

/** SHA-256 of a snapshot's regular files with safe names (those `wanted`), by path. */
function hashRegularFiles(store: SnapshotStore, stamp: SnapshotStamp, files: readonly StoreEntry[], wanted: (path: string) => boolean = () => true): Promise<Map<string, string>> {
  return store.hashSnapshotFiles(stamp, regularSafeFiles(files).map((f) => f.path).filter(wanted));
}

/** A slot pool whose slots are handed back by the consumer, so finished work waiting in line stays bounded. */
export class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];
  #closed = false;
  constructor(size: number) {
    this.#free = size;
  }
  async acquire(): Promise<void> {
    if (this.#closed) return;
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
  /** Lets every waiter through (they see the abort and stop): nothing may wait forever. */
  close(): void {
    this.#closed = true;
    for (const next of this.#waiting.splice(0)) next();
  }
}
