import { SQLITE_MAGIC } from '../sqlite/header.js';
import { accessSync, closeSync, constants, lstatSync, mkdirSync, openSync, readSync, writeFileSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { describeFileKind } from '../common/file-kind.js';
import { DrillError, errorMessage, InfrastructureError, UsageError } from '../common/errors.js';
import { isSharedDirectory } from '../output/foreign-links.js';
import { checkOutputPlace } from '../output/output-file.js';
import { openDatabase, type SqliteDatabase } from '../sqlite/open.js';
import { privateCopy } from './private-copy.js';
import type { HistoryRun, StoredRun } from './run.js';

/**
 * The run history (`--history FILE`): an SQLite file the harness owns, appended to by every
 * run. WAL and a busy timeout let two runs (two CI jobs on one runner, a drill and a
 * validation) append at once; each append is one IMMEDIATE transaction, so a reader never
 * sees half a run.
 */

/** The layout this harness writes; a file with a newer one was written by a newer harness. */
export const HISTORY_SCHEMA_VERSION = 1;

/**
 * Another run appending waits this long for the lock before the write fails; a run waits
 * once (its whole record is one transaction).
 */
export const BUSY_TIMEOUT_MS = 15_000;

/** A history read for a table or a chart keeps at most this many runs (the newest). */
export const HISTORY_READ_LIMIT = 10_000;


const SCHEMA = `
CREATE TABLE IF NOT EXISTS history_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  verdict TEXT NOT NULL,
  backup_stamp TEXT,
  rto_ms INTEGER,
  restore_ms INTEGER,
  rpo_s INTEGER,
  started_at TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  failing_checks TEXT NOT NULL,
  recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_target ON runs (kind, target, id);
CREATE TABLE IF NOT EXISTS run_steps (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  step TEXT NOT NULL,
  status TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (run_id, position)
);
CREATE TABLE IF NOT EXISTS run_sizes (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  PRIMARY KEY (run_id, name)
);
`;

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

function ownStats(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    if (code(error) === 'ENOENT') return null;
    throw new UsageError(`${path}: ${errorMessage(error)}`);
  }
}

/** The first bytes of a regular file, opened without following a link and without blocking. */
function headerOf(path: string): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const header = Buffer.alloc(SQLITE_MAGIC.length);
    const read = readSync(fd, header, 0, header.length, 0);
    return header.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/**
 * What the file is, decided without changing it: missing (a new history), empty, or an SQLite
 * file. Anything else (a link, a FIFO, a directory, a file of other bytes, one this user cannot
 * write) is refused naming `name` and the path.
 */
function checkFileShape(path: string, name: string, use: 'write' | 'read'): 'missing' | 'sqlite' {
  const stats = ownStats(path);
  // a link is refused, never followed: the history is written, and a link could aim the writes anywhere
  if (stats?.isSymbolicLink()) throw new UsageError(`${name}: ${path} is a symlink; give the history file itself`);
  if (stats && !stats.isFile()) throw new UsageError(`${name}: ${path} is ${describeFileKind(stats)}, not an atocore-drill history file`);
  if (stats) {
    try {
      accessSync(path, use === 'write' ? constants.R_OK | constants.W_OK : constants.R_OK);
    } catch (error) {
      throw new UsageError(`${name}: cannot ${use} ${path}: ${errorMessage(error)}`);
    }
  }
  if (use === 'write') {
    try {
      // the folder must take a new file and SQLite's -wal/-shm beside it (missing folders are created)
      checkOutputPlace(path, name, { writeThrough: false });
    } catch (error) {
      const message = errorMessage(error);
      throw new UsageError(message.includes(path) ? message : `${message} (for ${path})`);
    }
  }
  if (!stats) return 'missing';
  if (stats.size === 0) return 'missing';
  let header: Buffer;
  try {
    header = headerOf(path);
  } catch (error) {
    throw new UsageError(`${name}: cannot read ${path}: ${errorMessage(error)}`);
  }
  if (!header.equals(SQLITE_MAGIC)) throw new UsageError(`${name}: ${path} is not an SQLite file (not an atocore-drill history); move it away or name another file`);
  return 'sqlite';
}

/** The schema version a history database says it has; null: no history tables at all (an empty database). */
function storedVersion(db: SqliteDatabase, path: string, name: string): number | null {
  const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((row) => row.name));
  if (!tables.has('history_schema')) {
    if (tables.size === 0) return null;
    throw new UsageError(`${name}: ${path} is an SQLite database but not an atocore-drill history (no history_schema table); refusing to add tables to it`);
  }
  const row = db.prepare('SELECT max(version) AS version, count(*) AS rows FROM history_schema').get() as { version: unknown; rows: number } | undefined;
  // a history another run is creating right now: its row comes with its tables, in one transaction
  if (row?.rows === 0 && tables.size === 1) return null;
  const version = row?.version;
  if (typeof version !== 'number' && typeof version !== 'bigint') throw new UsageError(`${name}: ${path} has no schema version; it was not written by atocore-drill`);
  return Number(version);
}

function refuseNewer(version: number | null, path: string, name: string): void {
  if (version !== null && version > HISTORY_SCHEMA_VERSION) {
    throw new UsageError(`${name}: ${path} has history schema version ${version}; this atocore-drill reads up to ${HISTORY_SCHEMA_VERSION}: use a newer atocore-drill (or another file)`);
  }
}

/**
 * SQLite's answers that are the machine's, not the file's: a lock another process holds too
 * long, a full disk, an I/O error. They are errors (exit 3); the file is not bad input.
 */
const MACHINE_SQLITE_CODES: ReadonlySet<string> = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_NOMEM', 'SQLITE_PROTOCOL']);

/** What a machine's SQLite answer means, in words; null when the answer is about the file. */
function machineTrouble(error: unknown): string | null {
  const sqliteCode = String((error as { code?: unknown } | null)?.code ?? '');
  const base = [...MACHINE_SQLITE_CODES].find((c) => sqliteCode === c || sqliteCode.startsWith(`${c}_`));
  if (base === undefined) return null;
  if (base === 'SQLITE_BUSY' || base === 'SQLITE_LOCKED') return `another process held its lock longer than the ${BUSY_TIMEOUT_MS / 1000} s a run waits for it`;
  if (base === 'SQLITE_FULL') return 'its disk is full';
  return 'its disk or the machine is failing';
}

/**
 * SQLite errors while reading or writing the history say which file, and which of the two
 * failed: the machine's trouble (a lock held too long, a full disk) is an error (exit 3), an
 * answer about the file (a damaged page, not a database) is bad input (exit 2).
 */
function opened<T>(path: string, name: string, doing: 'read' | 'write', work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof DrillError) throw error;
    const trouble = machineTrouble(error);
    const failed = `${name}: ${path} could not be ${doing === 'write' ? 'written' : 'read'}: ${errorMessage(error)}`;
    if (trouble !== null) throw new InfrastructureError(`${failed} (${trouble})`, { cause: error });
    if (doing === 'write') throw new UsageError(failed, { cause: error });
    throw new UsageError(`${name}: ${path} cannot be read as an atocore-drill history: ${errorMessage(error)}`, { cause: error });
  }
}

/**
 * The check before a run (exit 2 naming the file, nothing changed): the history is a file
 * that does not exist yet, or one of this harness's histories with a schema it knows, which
 * this user can write. Read only: a refused file is left exactly as it was.
 */
export function checkHistoryFile(path: string, name: string): void {
  if (checkFileShape(path, name, 'write') === 'missing') return;
  opened(path, name, 'read', () => {
    const reader = openReader(path, name);
    try {
      refuseNewer(storedVersion(reader.db, path, name), path, name);
    } finally {
      reader.close();
    }
  });
}

/** A connection that only reads, and how to close it (and remove what it was opened on). */
interface Reader {
  readonly db: SqliteDatabase;
  close(): void;
}

/**
 * A connection that only reads. Where this user can write the history and its folder, and
 * that folder is not a shared one, on the file itself, read-write (only such a connection
 * removes SQLite's -wal and -shm when it closes, leaving the file as it was); elsewhere on a
 * private copy (private-copy.ts), since SQLite would fail to open the file there, leave -wal
 * and -shm beside it, or meet another user's links at those names.
 */
function openReader(path: string, name: string): Reader {
  if (readableInPlace(path)) return queryOnly(openDatabase(path, { timeoutMs: BUSY_TIMEOUT_MS }), () => undefined);
  const copy = privateCopy(path, name);
  try {
    return queryOnly(openDatabase(copy.path, { timeoutMs: BUSY_TIMEOUT_MS }), copy.dispose);
  } catch (error) {
    copy.dispose();
    throw error;
  }
}

function queryOnly(db: SqliteDatabase, release: () => void): Reader {
  try {
    db.pragma('query_only = ON');
  } catch (error) {
    db.close();
    release();
    throw error;
  }
  return {
    db,
    close(): void {
      try {
        if (db.open) db.close();
      } finally {
        release();
      }
    },
  };
}

/**
 * Whether the history may be read in place: this user can write it and its folder, and the
 * folder is not a shared one (sticky and world-writable, as /tmp), where another user may
 * have put links at its -wal and -shm names that SQLite would refuse or leave files beside.
 */
function readableInPlace(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    accessSync(dirname(path), constants.W_OK);
    return !isSharedDirectory(lstatSync(dirname(path)));
  } catch {
    return false;
  }
}

/** A row of `runs` as read back: whatever the file holds (it may have been written by anyone). */
type RunRow = Readonly<Record<string, unknown>>;

function numberOrNull(value: unknown): number | null {
  const number = typeof value === 'bigint' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : null;
}

function parseList(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

/** An open history; `close()` (or `using`) when done. */
export class HistoryStore implements Disposable {
  readonly path: string;
  readonly #db: SqliteDatabase;
  /** how the entry names the file, for messages */
  readonly #name: string;
  /** after the connection closes: removes what it was opened on when that was a private copy */
  readonly #release: () => void;

  private constructor(path: string, db: SqliteDatabase, name: string, release: () => void = () => undefined) {
    this.path = path;
    this.#db = db;
    this.#name = name;
    this.#release = release;
  }

  /**
   * Opens the history for appending, creating it (and its folder) when it does not exist yet.
   * Every refusal of checkHistoryFile applies again here: the file may have changed since.
   * Nothing is written until append: the layout is made in the run's own transaction.
   */
  static openForWriting(path: string, name: string): HistoryStore {
    const shape = checkFileShape(path, name, 'write');
    return opened(path, name, 'write', () => {
      // O_CREAT through better-sqlite3: fileMustExist would refuse the new history
      const db = shape === 'missing' ? createDatabase(path) : openDatabase(path, { timeoutMs: BUSY_TIMEOUT_MS });
      try {
        db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
        refuseNewer(storedVersion(db, path, name), path, name);
        // WAL: a reader (the chart, `history`) never blocks a writer; two writers queue on the lock
        db.pragma('journal_mode = WAL');
        db.pragma('foreign_keys = ON');
        return new HistoryStore(path, db, name);
      } catch (error) {
        db.close();
        throw error;
      }
    });
  }

  /**
   * Opens a history to read it (a chart, the `history` command, the regression check); null
   * when nothing was recorded there yet (no file, an empty one). Refuses what checkHistoryFile refuses.
   */
  static openForReading(path: string, name: string): HistoryStore | null {
    if (checkFileShape(path, name, 'read') === 'missing') return null;
    return opened(path, name, 'read', () => {
      const reader = openReader(path, name);
      try {
        const version = storedVersion(reader.db, path, name);
        refuseNewer(version, path, name);
        if (version === null) {
          reader.close();
          return null;
        }
        return new HistoryStore(path, reader.db, name, () => reader.close());
      } catch (error) {
        reader.close();
        throw error;
      }
    });
  }

  /**
   * Appends one run, whole or not at all: one IMMEDIATE transaction, so a run waits for the
   * write lock once, at most BUSY_TIMEOUT_MS (a new history's layout is made in it too).
   */
  append(run: HistoryRun): number {
    return opened(this.path, this.#name, 'write', () => this.#append(run));
  }

  #append(run: HistoryRun): number {
    const db = this.#db;
    const { path } = this;
    const name = this.#name;
    return db.transaction(() => {
      // decided under the write lock: a second run creating the same new file waits, then finds the row
      refuseNewer(storedVersion(db, path, name), path, name);
      db.exec(SCHEMA);
      if (!db.prepare('SELECT 1 FROM history_schema').get()) db.prepare('INSERT INTO history_schema (version) VALUES (?)').run(HISTORY_SCHEMA_VERSION);
      const result = db
        .prepare(
          `INSERT INTO runs (kind, target, verdict, backup_stamp, rto_ms, restore_ms, rpo_s, started_at, duration_ms, failing_checks, recorded_at)
           VALUES (@kind, @target, @verdict, @backup_stamp, @rto_ms, @restore_ms, @rpo_s, @started_at, @duration_ms, @failing_checks, @recorded_at)`,
        )
        .run({
          kind: run.kind,
          target: run.target,
          verdict: run.verdict,
          backup_stamp: run.backup_stamp,
          rto_ms: run.rto_ms,
          restore_ms: run.restore_ms,
          rpo_s: run.rpo_s,
          started_at: run.started_at,
          duration_ms: run.duration_ms,
          failing_checks: JSON.stringify(run.failing_checks),
          recorded_at: new Date().toISOString(),
        });
      const id = Number(result.lastInsertRowid);
      const step = db.prepare('INSERT INTO run_steps (run_id, position, step, status, duration_ms) VALUES (?, ?, ?, ?, ?)');
      run.steps.forEach((s, position) => step.run(id, position, s.id, s.status, s.duration_ms));
      const size = db.prepare('INSERT OR REPLACE INTO run_sizes (run_id, name, bytes) VALUES (?, ?, ?)');
      for (const [name, bytes] of Object.entries(run.sizes)) size.run(id, name, bytes);
      return id;
    }).immediate();
  }

  /** The newest `limit` runs (all kinds and targets unless filtered), oldest first. */
  runs(filter: { kind?: string; target?: string; limit?: number } = {}): StoredRun[] {
    return opened(this.path, this.#name, 'read', () => this.#runs(filter));
  }

  #runs(filter: { kind?: string; target?: string; limit?: number }): StoredRun[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: Math.min(filter.limit ?? HISTORY_READ_LIMIT, HISTORY_READ_LIMIT) };
    if (filter.kind !== undefined) {
      where.push('kind = @kind');
      params.kind = filter.kind;
    }
    if (filter.target !== undefined) {
      where.push('target = @target');
      params.target = filter.target;
    }
    const rows = this.#db
      .prepare(`SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`)
      .all(params) as RunRow[];
    rows.reverse();
    const steps = this.#db.prepare('SELECT step, status, duration_ms FROM run_steps WHERE run_id = ? ORDER BY position');
    const sizes = this.#db.prepare('SELECT name, bytes FROM run_sizes WHERE run_id = ? ORDER BY name');
    // a history file is input like any other: whatever its columns hold, the runs read back are well-typed
    return rows.map((row) => ({
      id: Number(row.id),
      kind: String(row.kind ?? ''),
      target: String(row.target ?? ''),
      verdict: String(row.verdict ?? ''),
      backup_stamp: typeof row.backup_stamp === 'string' ? row.backup_stamp : null,
      rto_ms: numberOrNull(row.rto_ms),
      restore_ms: numberOrNull(row.restore_ms),
      rpo_s: numberOrNull(row.rpo_s),
      started_at: String(row.started_at ?? ''),
      duration_ms: numberOrNull(row.duration_ms) ?? 0,
      failing_checks: typeof row.failing_checks === 'string' ? parseList(row.failing_checks) : [],
      steps: (steps.all(row.id) as Array<{ step: unknown; status: unknown; duration_ms: unknown }>).map((s) => ({ id: String(s.step), status: String(s.status), duration_ms: numberOrNull(s.duration_ms) ?? 0 })),
      sizes: Object.fromEntries((sizes.all(row.id) as Array<{ name: unknown; bytes: unknown }>).flatMap((s) => (numberOrNull(s.bytes) === null ? [] : [[String(s.name), numberOrNull(s.bytes)!]]))),
    }));
  }

  close(): void {
    try {
      if (this.#db.open) this.#db.close();
    } finally {
      this.#release();
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A new history file: its folder made, an empty file (an empty SQLite database) created unless another run just did. */
function createDatabase(path: string): SqliteDatabase {
  mkdirSync(dirname(path), { recursive: true });
  try {
    writeFileSync(path, '', { flag: 'wx', mode: 0o644 });
  } catch (error) {
    if (code(error) !== 'EEXIST') throw error;
  }
  return openDatabase(path, { timeoutMs: BUSY_TIMEOUT_MS });
}
