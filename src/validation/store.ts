import type { FileKind } from '../common/file-kind.js';
import type { SnapshotStamp } from '../atocore/stamp.js';
import type { Deadline } from '../common/deadline.js';
import { InfrastructureError } from '../common/errors.js';

/** What a listing says an entry is; links are reported, never followed; special files never opened. */
export type EntryType = FileKind;

export interface StoreEntry {
  /**
   * a name in `snapshots/`, or a path relative to the snapshot directory (POSIX separators);
   * a name that is not UTF-8 is shown with `\xNN` escapes (outside the safe set: never read)
   */
  readonly path: string;
  readonly type: EntryType;
  /** the apparent size (a sparse file may claim far more than it holds) */
  readonly size: number;
  readonly linkTarget: string | null;
  /** bytes the filesystem has allocated for it (lstat blocks, find %b): a sparse file claims far more than this */
  readonly allocatedBytes?: number;
  /**
   * when its content was last modified, ms since the epoch (lstat mtime, find %T@); absent when
   * the listing could not say. Set by whoever wrote it: `mv` and `cp -a` keep an old one.
   */
  readonly mtimeMs?: number;
}

export type ReadOutcome = { readonly ok: true; readonly data: Buffer } | { readonly ok: false; readonly reason: string };

/** Takes one chunk of a file being read; resolves false when the rest is not wanted (the reading stops there). */
export type ChunkSink = (chunk: Buffer) => Promise<boolean>;

/** A file read through a ChunkSink: how far (complete: to its end), or why it was not read. */
export type StreamOutcome = { readonly ok: true; readonly bytes: number; readonly complete: boolean } | { readonly ok: false; readonly reason: string };

/** A snapshot database made available for the harness's own checks. */
export interface FetchedDatabase {
  readonly path: string;
  /** computed on the way when the file was streamed, so it need not be read a second time */
  readonly sha256: Readonly<Record<string, string>>;
  readonly bytes: number;
  dispose(): Promise<void>;
}

export interface ValidatorRun {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  /** set when it could not be run at all (not started, killed, timed out) */
  readonly couldNotRun: string | null;
}

export interface DiskSpace {
  readonly totalBytes: number;
  readonly availableBytes: number;
}

/** Everything an operation needs to stay bounded: the run's budget and the interruption signal. */
export interface StoreContext {
  readonly deadline: Deadline;
  readonly signal: AbortSignal;
}

/**
 * Where snapshots are read from: a directory on this machine or a host over SSH. The checks
 * only see this interface, so `--dir` and `--ssh` run the same checks on the same facts.
 * Every method only reads. Problems reaching the data throw InfrastructureError; problems
 * of the data itself (a file too large to be metadata) come back as values.
 */
export interface SnapshotStore {
  readonly kind: 'dir' | 'ssh';
  /** for messages and the report: `dir /x/backups/snapshots`, `drill@dalidou:22 /srv/…/snapshots` */
  readonly where: string;
  readonly snapshotsDir: string;
  /** the entries of `snapshots/` (names only, no descent) */
  listSnapshots(): Promise<StoreEntry[]>;
  /**
   * Every entry under one snapshot directory, recursively, links not followed. A snapshot is
   * named by its directory (an AtoCore stamp, a JellyCore `YYYYMMDD_HHMMSS`): callers pass
   * only names they have checked against their layout's pattern.
   */
  listSnapshotTree(stamp: string): Promise<StoreEntry[]>;
  /** a regular file of a snapshot, at most maxBytes (more is `ok: false`) */
  readSnapshotFile(stamp: string, path: string, maxBytes: number): Promise<ReadOutcome>;
  /** the first `bytes` bytes of a regular file of a snapshot (fewer when it is shorter) */
  readSnapshotHead(stamp: string, path: string, bytes: number): Promise<ReadOutcome>;
  /**
   * A regular file of a snapshot from start to end, chunk by chunk into `sink` (nothing is
   * kept): at most the `listedBytes` its listing gave, bounded by the run's time, stopped
   * early when the sink says so. A file that is not regular (any more) is `ok: false`.
   */
  streamSnapshotFile(stamp: string, path: string, listedBytes: number, sink: ChunkSink): Promise<StreamOutcome>;
  /** SHA-256 of regular files of a snapshot, by relative path */
  hashSnapshotFiles(stamp: string, paths: readonly string[]): Promise<Map<string, string>>;
  /**
   * A private copy of the snapshot's database file alone (what a restore copies; a `-wal`
   * beside it is judged by snapshot.sidecars, never merged in), ready for integrity_check.
   * The harness's own scratch space failing throws ScratchSpaceError.
   */
  fetchDatabase(stamp: SnapshotStamp, files: readonly StoreEntry[], scratchDir: string): Promise<FetchedDatabase>;
  /** The same for any regular file of a snapshot the listing shows (`path`): a private copy, hashed on the way. */
  fetchSnapshotFile(stamp: string, path: string, files: readonly StoreEntry[], scratchDir: string): Promise<FetchedDatabase>;
  /** free space on the filesystem that holds the snapshots */
  diskSpace(): Promise<DiskSpace>;
  /** AtoCore's own validator for one stamp, run where the snapshots are */
  runValidator(argv: readonly string[], stamp: SnapshotStamp): Promise<ValidatorRun>;
  close(): Promise<void>;
}

/**
 * A directory entry's name as text. Names are bytes; one that is not UTF-8 is shown with
 * every byte above 0x7f as `\xNN` (the backslash puts it outside the safe set: listed and
 * reported, never read). The raw bytes stay with the walk, so it is still lstat'ed.
 */
export function displayName(raw: Buffer): string {
  const text = raw.toString('utf8');
  if (Buffer.from(text, 'utf8').equals(raw)) return text;
  let shown = '';
  for (const byte of raw) shown += byte < 0x80 ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  return shown;
}

export const METADATA_FILE = 'backup-metadata.json';
export const DB_FILE = 'db/atocore.db';
export const REGISTRY_FILE = 'config/project-registry.json';
export const CHROMA_DIR = 'chroma';

/** Bounds on what is read into memory. */
export const MAX_METADATA_BYTES = 1024 * 1024;
export const MAX_REGISTRY_BYTES = 8 * 1024 * 1024;
export const MAX_VALIDATOR_OUTPUT_BYTES = 4 * 1024 * 1024;
/** a snapshot (or backup) with more entries than this is refused: no service this harness knows writes that many */
export const MAX_TREE_ENTRIES = 200_000;

/**
 * A snapshot's listing passed its bound (MAX_TREE_ENTRIES; over SSH, the bytes of that many
 * entries). An InfrastructureError, as for any listing that could not be made; a caller for
 * whom an over-large snapshot is evidence about that snapshot (JellyCore's) catches this one.
 */
export class TreeTooLargeError extends InfrastructureError {
  /** the bound it passed, in words (`200000 entries`) */
  readonly bound: string;
  constructor(message: string, bound: string) {
    super(message);
    this.bound = bound;
  }
}

/** Per-operation time limits, each capped by what is left of the run's --timeout. */
export const LIST_TIMEOUT_MS = 60_000;
export const READ_TIMEOUT_MS = 60_000;
export const VALIDATOR_TIMEOUT_MS = 5 * 60_000;
export const STREAM_IDLE_TIMEOUT_MS = 60_000;
/** hashing and streaming get this much time per MiB on top of a minute: slow disks, not stalls */
export const MS_PER_MIB = 2_000;

export function transferBudgetMs(bytes: number): number {
  return 60_000 + Math.ceil(bytes / (1024 * 1024)) * MS_PER_MIB;
}
