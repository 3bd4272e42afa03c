import { setTimeout as delay } from 'node:timers/promises';
import type { Deadline } from '../../common/deadline.js';
import { InfrastructureError } from '../../common/errors.js';
import { ScratchSpaceError } from '../../sqlite/scratch-copy.js';
import { TreeTooLargeError } from '../store.js';
import { inspectSnapshotDatabase, type SnapshotDatabaseInspection } from '../database.js';
import { SIDECAR_HEAD_BYTES, sidecarPathsOf } from '../sidecars.js';
import { entryAt, isSafeSnapshotPath, isSparse } from '../snapshot-checks.js';
import { judgeSqliteHeader, SQLITE_HEADER_BYTES } from '../../sqlite/header.js';
import type { ReadOutcome, SnapshotStore, StoreEntry } from '../store.js';
import { errorMessage } from '../../common/errors.js';
import { openDatabase } from '../../sqlite/open.js';
import { DATABASES, TARBALLS, type BackupFacts, type CatalogueFacts, type DatabaseFacts, type TarFacts } from './checks.js';
import { CHROMA_CATALOGUE, COLLECTIONS_FILE, MAX_COLLECTIONS_BYTES } from './layout.js';
import { TarGzReader } from './tar-reader.js';

/**
 * Gathering: what the JellyCore validation reads of one backup directory, as plain facts for
 * checks.ts. Only regular files the listing shows are ever opened; databases are copied
 * (the file alone) into the harness's scratch space for integrity_check; tarballs are read
 * through gunzip and a tar walker, nothing extracted; the IPC secret is never read.
 */

export interface BackupGatherPlan {
  readonly scratchDir: string;
  readonly deadline: Deadline;
  /** the run's own signal: trouble after an abort is the run's, never the backup's */
  readonly signal: AbortSignal;
}

/**
 * A backup directory's entries; or more than the harness lists (evidence about the backup,
 * never the run's trouble); or, asked for a backup that may be being written, why it could
 * not be listed (entries vanish while a run writes: a `-journal` beside a database, a failed
 * run's directory removed).
 */
export type BackupListing =
  | { readonly kind: 'listed'; readonly files: readonly StoreEntry[] }
  | { readonly kind: 'too_large'; readonly bound: string }
  | { readonly kind: 'unlisted'; readonly problem: string };

/** How long a listing that failed while its backup may be being written waits before it is tried once more. */
const RELIST_DELAY_MS = 250;

/** A regular file the listing shows under a name the harness may use: null otherwise (the checks say why). */
function regular(files: readonly StoreEntry[], path: string): StoreEntry | null {
  const entry = entryAt(files, path);
  return entry && entry.type === 'file' && isSafeSnapshotPath(path) ? entry : null;
}

export class BackupGatherer {
  readonly #store: SnapshotStore;
  readonly #plan: BackupGatherPlan;
  constructor(store: SnapshotStore, plan: BackupGatherPlan) {
    this.#store = store;
    this.#plan = plan;
  }

  /**
   * Every entry of the backup, links not followed; a tree over the listing's bound is a value.
   * A listing that fails is a value (with `mayBeWriting`, in-progress.ts, after one more try);
   * the run's own end (abort, budget) always throws.
   */
  async list(name: string, mayBeWriting = false): Promise<BackupListing> {
    for (let attempt = 1; ; attempt++) {
      try {
        return { kind: 'listed', files: await this.#store.listSnapshotTree(name) };
      } catch (error) {
        if (this.#plan.signal.aborted || !(error instanceof InfrastructureError)) throw error;
        if (error instanceof TreeTooLargeError) return { kind: 'too_large', bound: error.bound };
        // the run's budget gone: the run's end, not this backup's
        if (this.#plan.deadline.remainingMs() <= 0) throw error;
        // a finished backup that cannot be listed: that backup's trouble, the others are still judged (run.ts)
        if (!mayBeWriting) return { kind: 'unlisted', problem: error.message };
        if (this.#plan.deadline.remainingMs() <= RELIST_DELAY_MS) throw error;
        if (attempt === 2) return { kind: 'unlisted', problem: error.message };
        await delay(RELIST_DELAY_MS, undefined, { signal: this.#plan.signal }).catch(() => {});
      }
    }
  }

  /** What is read of the backup whose listing is `files`. */
  async read(name: string, files: readonly StoreEntry[]): Promise<BackupFacts> {
    const databases: Record<string, DatabaseFacts> = {};
    for (const { path, tables } of DATABASES) {
      let missingTables: string[] | null = null;
      const facts = await this.#database(name, files, path, (copy) => {
        missingTables = unreadableTables(copy, tables);
      });
      databases[path] = { ...facts, missingTables };
    }
    const tarballs: Record<string, TarFacts> = {};
    for (const { path, holds } of TARBALLS) tarballs[path] = await this.#tarball(name, files, path, holds?.dir);
    const collections = regular(files, COLLECTIONS_FILE);
    const collectionsRead = collections ? await this.#store.readSnapshotFile(name, COLLECTIONS_FILE, MAX_COLLECTIONS_BYTES) : null;
    return { name, files, databases, tarballs, collectionsRead, catalogue: await this.#catalogue(name, files) };
  }

  /** Chroma's catalogue: inspected as the databases are, then the names of its collections read from the same private copy. */
  async #catalogue(name: string, files: readonly StoreEntry[]): Promise<CatalogueFacts | null> {
    if (!regular(files, CHROMA_CATALOGUE)) return null;
    let names: string[] | null = null;
    let namesProblem: string | null = null;
    const facts = await this.#database(name, files, CHROMA_CATALOGUE, (copy) => {
      ({ names, problem: namesProblem } = collectionNamesIn(copy));
    });
    return { ...facts, names, namesProblem };
  }

  async #database(name: string, files: readonly StoreEntry[], path: string, andThen?: (copy: string) => void): Promise<DatabaseFacts> {
    const entry = regular(files, path);
    const sidecarHeads = new Map<string, ReadOutcome>();
    if (!entry) return { head: null, sidecarHeads, inspection: null, harnessError: null };
    // 100 bytes tell a database from a file of the right size holding zeros, before anything is copied
    const head = await this.#store.readSnapshotHead(name, path, SQLITE_HEADER_BYTES);
    for (const sidecar of sidecarPathsOf(path)) {
      if (regular(files, sidecar)) sidecarHeads.set(sidecar, await this.#store.readSnapshotHead(name, sidecar, SIDECAR_HEAD_BYTES));
    }
    const headerOk = head.ok && judgeSqliteHeader(head.data, entry.size).ok;
    if (!headerOk || isSparse(entry)) return { head, sidecarHeads, inspection: null, harnessError: null };
    const { inspection, harnessError } = await this.#inspect(name, files, path, andThen);
    return { head, sidecarHeads, inspection, harnessError };
  }

  /**
   * integrity_check on a private copy (then `andThen` on the same copy, when it is sound); the
   * harness's own trouble (scratch space, budget) is a harness error, never a finding.
   */
  async #inspect(name: string, files: readonly StoreEntry[], path: string, andThen?: (copy: string) => void): Promise<{ inspection: SnapshotDatabaseInspection | null; harnessError: string | null }> {
    let fetched;
    try {
      fetched = await this.#store.fetchSnapshotFile(name, path, files, this.#plan.scratchDir);
    } catch (error) {
      if (!(error instanceof ScratchSpaceError) || this.#plan.signal.aborted) throw error;
      return { inspection: null, harnessError: error.message };
    }
    try {
      const inspection = await inspectSnapshotDatabase(fetched.path, fetched.bytes, this.#plan.deadline.remainingMs(), { rows: false });
      if (inspection.integrity.ok) andThen?.(fetched.path);
      return { inspection, harnessError: null };
    } catch (error) {
      if (!(error instanceof InfrastructureError) || this.#plan.signal.aborted) throw error;
      return { inspection: null, harnessError: error.message };
    } finally {
      await fetched.dispose();
    }
  }

  async #tarball(name: string, files: readonly StoreEntry[], path: string, filesUnder: string | undefined): Promise<TarFacts> {
    const entry = regular(files, path);
    if (!entry) return null;
    const reader = new TarGzReader(filesUnder === undefined ? {} : { filesUnder });
    try {
      const outcome = await this.#store.streamSnapshotFile(name, path, entry.size, (chunk) => reader.write(chunk));
      if (!outcome.ok) {
        reader.abort();
        return { read: false, reason: outcome.reason };
      }
      return { read: true, verdict: await reader.end() };
    } catch (error) {
      reader.abort();
      throw error;
    }
  }
}

/** More collections than this in a catalogue: not compared (a Chroma has tens, not millions). */
const MAX_CATALOGUE_COLLECTIONS = 100_000;

/**
 * The collection names in a private copy of Chroma's catalogue (its `collections` table, as
 * every Chroma since 0.4 and the stand-in keep it), opened read-only as the file alone
 * (inspectSnapshotDatabase has set its header to rollback mode). A catalogue of another shape
 * is a problem in words: the comparison is then not made.
 */
/** Which of `tables` a sound private copy lacks or cannot count the rows of. */
function unreadableTables(copy: string, tables: readonly string[]): string[] {
  let db;
  try {
    db = openDatabase(copy, { readonly: true });
    const missing: string[] = [];
    for (const table of tables) {
      try {
        db.prepare(`SELECT count(*) FROM "${table.replace(/"/g, '""')}"`).pluck().get();
      } catch {
        missing.push(table);
      }
    }
    return missing;
  } catch {
    return [...tables];
  } finally {
    db?.close();
  }
}

function collectionNamesIn(copy: string): { names: string[] | null; problem: string | null } {
  let db;
  try {
    db = openDatabase(copy, { readonly: true });
    const names = db.prepare(`SELECT name FROM collections LIMIT ${MAX_CATALOGUE_COLLECTIONS + 1}`).pluck().all() as unknown[];
    if (names.length > MAX_CATALOGUE_COLLECTIONS) return { names: null, problem: `more than ${MAX_CATALOGUE_COLLECTIONS} collections` };
    return { names: names.filter((n): n is string => typeof n === 'string'), problem: null };
  } catch (error) {
    return { names: null, problem: `its collections table could not be read (${errorMessage(error)})` };
  } finally {
    db?.close();
  }
}
