import { open } from 'node:fs/promises';
import { formatDuration } from '../common/duration.js';
import { errorMessage, InfrastructureError } from '../common/errors.js';
import { check, type CheckResult } from '../report/model.js';
import { openDatabase, type SqliteDatabase } from '../sqlite/open.js';
import { foreignKeyCheck, integrityCheck, MMAP_BYTES, quoteIdent, type ForeignKeyResult, type IntegrityResult } from '../sqlite/inspect.js';
import type { IntegrityWorkers } from '../sqlite/integrity-workers.js';
import { isScratchSqliteError, scratchError, type CopyBounds } from '../sqlite/scratch-copy.js';

/** table → row id → creation time (ms): what "which writes does this snapshot hold" is judged by. */
export type RowIndex = Map<string, Map<string, number>>;

/**
 * One table's rows as a snapshot's inspection holds them until snapshot.complete compares
 * them: the ids as one JSON array text and the creation times in the same order. A few
 * objects per table instead of one map entry per row: the index waits, for several
 * snapshots at once, while the next databases are read, and thousands of long-lived small
 * objects per snapshot made V8 grow its young generation by 100 MB over 2,000 snapshots.
 */
export interface CompactTableRows {
  readonly ids: string;
  readonly created: Float64Array;
}

export type CompactRowIndex = ReadonlyMap<string, CompactTableRows>;

export interface SnapshotDatabaseInspection {
  readonly integrity: IntegrityResult;
  readonly foreignKeys: ForeignKeyResult;
  readonly error: string | null;
  /** null when the database could not be read far enough */
  readonly rows: RowIndex | CompactRowIndex | null;
}

const CREATION_COLUMNS = ['created_at', 'ingested_at'];

/**
 * Every row that carries its own creation time: tables with an `id` and a `created_at` (or
 * `ingested_at`) column, which AtoCore sets when it writes the row.
 */
export function rowIndexOf(db: SqliteDatabase): CompactRowIndex {
  const index = new Map<string, CompactTableRows>();
  const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  for (const table of tables) {
    const columns = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[];
    const created = CREATION_COLUMNS.find((c) => columns.includes(c));
    if (!columns.includes('id') || !created) continue;
    const ids: string[] = [];
    const times: number[] = [];
    for (const row of db.prepare(`SELECT id, ${quoteIdent(created)} FROM ${quoteIdent(table)}`).raw().iterate() as Iterable<[unknown, unknown]>) {
      const time = typeof row[1] === 'string' ? Date.parse(row[1]) : Number.NaN;
      if (row[0] === null || row[0] === undefined || Number.isNaN(time)) continue;
      ids.push(String(row[0]));
      times.push(time);
    }
    index.set(table, { ids: JSON.stringify(ids), created: Float64Array.from(times) });
  }
  return index;
}

/** A row index as maps, for the comparison (a compact one is unpacked; the maps live only while compared). */
export function expandRowIndex(index: RowIndex | CompactRowIndex): RowIndex {
  const expanded: RowIndex = new Map();
  for (const [table, rows] of index) {
    if (rows instanceof Map) {
      expanded.set(table, rows);
      continue;
    }
    const { ids, created } = rows as CompactTableRows;
    const byId = new Map<string, number>();
    (JSON.parse(ids) as string[]).forEach((id, i) => byId.set(id, created[i]!));
    expanded.set(table, byId);
  }
  return expanded;
}

function inspectOpen(db: SqliteDatabase, withRows: boolean): SnapshotDatabaseInspection {
  const integrity = integrityCheck(db);
  let foreignKeys: ForeignKeyResult = { ok: false, violations: [] };
  try {
    foreignKeys = foreignKeyCheck(db);
  } catch (error) {
    return { integrity, foreignKeys, error: `foreign_key_check raised: ${errorMessage(error)}`, rows: null };
  }
  let rows: CompactRowIndex | null = null;
  try {
    rows = integrity.ok && withRows ? rowIndexOf(db) : null;
  } catch (error) {
    return { integrity, foreignKeys, error: `reading rows raised: ${errorMessage(error)}`, rows: null };
  }
  return { integrity, foreignKeys, error: null, rows };
}

/** The bytes of the header that say "WAL mode" (file format write and read versions: 2). */
const WAL_MODE_OFFSET = 18;

/**
 * Makes the harness's private copy open as a database file alone: a WAL-mode header (bytes
 * 18-19 = 2) is set to rollback mode (1), so a read-only open needs no `-shm` and reads no
 * `-wal`: exactly what a restore of this file alone would hold. Only the private copy is
 * changed (its hash was taken while it was copied); nothing else in the header or pages.
 */
async function openAsFileAlone(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r+');
    const header = Buffer.alloc(2);
    const { bytesRead } = await handle.read(header, 0, 2, WAL_MODE_OFFSET);
    if (bytesRead === 2 && header[0] === 2 && header[1] === 2) await handle.write(Buffer.from([1, 1]), 0, 2, WAL_MODE_OFFSET);
  } catch (error) {
    throw scratchError(path, 'preparing', error);
  } finally {
    await handle?.close();
  }
}

/** Rough cost of integrity_check, with room (measured about 15 ms/MiB on a warm cache, indexed random keys): started only when the budget left covers it. */
export const INTEGRITY_MS_PER_MIB = 50;

export function integrityBudgetMs(bytes: number): number {
  return 1_000 + Math.ceil(bytes / (1024 * 1024)) * INTEGRITY_MS_PER_MIB;
}

/**
 * Where the checks run: on this thread, or on one of the run's integrity workers
 * (sqlite/integrity-workers.ts), so that transfers and the next snapshot's reads go on
 * meanwhile and the run's deadline and signals can cut a check short.
 */
export interface OffThread {
  readonly workers: IntegrityWorkers;
  /** the run's interruption and deadline: either ends the worker */
  readonly bounds: Required<Pick<CopyBounds, 'signal' | 'deadline'>>;
}

/**
 * The harness's own integrity_check + foreign_key_check on its private copy of a snapshot
 * database (made by the store). A file that will not open is a finding, not a crash; the
 * harness's own trouble (its scratch space, its budget) throws InfrastructureError.
 *
 * It starts only when what is left of the run's --timeout covers INTEGRITY_MS_PER_MIB. On
 * this thread better-sqlite3 runs the check synchronously and cannot be cut off once started
 * (an interrupt is acted on as soon as it returns); on a worker (`offThread`), the worker is
 * terminated when the run is interrupted or its --timeout runs out, and the check is the
 * run's error, never a finding. `rows: false` leaves out the row index (snapshot.complete's),
 * which costs memory in proportion to the rows.
 */
export async function inspectSnapshotDatabase(
  path: string,
  bytes: number,
  remainingMs: number,
  options: { readonly rows?: boolean; readonly offThread?: OffThread } = {},
): Promise<SnapshotDatabaseInspection> {
  const needs = integrityBudgetMs(bytes);
  if (remainingMs < needs) {
    throw new InfrastructureError(`not enough of the run's time budget left for integrity_check on ${(bytes / (1024 * 1024)).toFixed(1)} MiB (about ${formatDuration(needs)} needed, ${formatDuration(remainingMs)} left)`);
  }
  await openAsFileAlone(path);
  const rows = options.rows ?? true;
  if (!options.offThread) return inspectPrepared(path, rows);
  return options.offThread.workers.run<SnapshotDatabaseInspection>({ path, rows }, options.offThread.bounds, `integrity_check of ${path}`);
}

/**
 * The checks themselves, on a copy prepared by openAsFileAlone; synchronous (a worker runs
 * this). The scratch space failing to open the copy throws ScratchSpaceError.
 */
export function inspectPrepared(path: string, withRows: boolean): SnapshotDatabaseInspection {
  let db: SqliteDatabase;
  try {
    db = openDatabase(path, { readonly: true });
  } catch (error) {
    if (isScratchSqliteError(error)) throw scratchError(path, 'opening', error);
    return {
      integrity: { ok: false, messages: [`could not open: ${errorMessage(error)}`] },
      foreignKeys: { ok: false, violations: [] },
      error: errorMessage(error),
      rows: null,
    };
  }
  try {
    try {
      // read through a memory map: integrity_check of 1 GB took 1.2-1.5 s instead of 2.7 s here
      db.pragma(`mmap_size = ${MMAP_BYTES}`);
    } catch {
      // a file that is not a database says so in integrity_check
    }
    return inspectOpen(db, withRows);
  } finally {
    db.close();
  }
}

/**
 * Rows that were written a while before a snapshot was taken (per their own creation time)
 * and are in the next snapshot, but not in this one. Creation times near the snapshot are
 * given `slackMs`: a transaction that began before the backup may commit after it.
 */
export function missingCommittedRows(older: RowIndex, olderTakenAtMs: number, newer: RowIndex, slackMs: number): Array<{ table: string; id: string; created_at: string }> {
  const missing: Array<{ table: string; id: string; created_at: string }> = [];
  const cutoff = olderTakenAtMs - slackMs;
  for (const [table, rows] of newer) {
    const olderRows = older.get(table);
    // a table the older snapshot does not have came with a migration; its rows prove nothing
    if (!olderRows) continue;
    for (const [id, created] of rows) {
      if (created < cutoff && !olderRows.has(id)) missing.push({ table, id, created_at: new Date(created).toISOString() });
    }
  }
  return missing.sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
}

/** How long before a snapshot a write must have been made to be expected in it. */
export const COMPLETENESS_SLACK_MS = 10 * 60_000;

/**
 * snapshot.complete: the snapshot holds every write committed before it was taken. A copy
 * of the main database file without its WAL (instead of SQLite's online backup) opens and
 * passes integrity_check, but lacks what was still in the WAL; the next snapshot shows it.
 */
export function checkComplete(
  stamp: string,
  takenAtMs: number,
  own: SnapshotDatabaseInspection | null,
  next: { stamp: string; inspection: SnapshotDatabaseInspection | null } | null,
): CheckResult {
  const id = 'snapshot.complete';
  if (!own) return check(id, 'skip', 'the database was not inspected this run', {});
  if (!own.rows) return check(id, 'skip', 'the database could not be read (see snapshot.integrity)', {});
  if (!next) return check(id, 'skip', 'no later snapshot to compare with yet (the newest is judged once a newer one exists)', {});
  if (!next.inspection) return check(id, 'skip', `the next snapshot, ${next.stamp}, was not inspected this run`, { next: next.stamp });
  if (!next.inspection.rows) return check(id, 'skip', `the next snapshot, ${next.stamp}, could not be read`, { next: next.stamp });
  const missing = missingCommittedRows(expandRowIndex(own.rows), takenAtMs, expandRowIndex(next.inspection.rows), COMPLETENESS_SLACK_MS);
  const evidence = { compared_with: next.stamp, taken_at: new Date(takenAtMs).toISOString(), slack_s: COMPLETENESS_SLACK_MS / 1000 };
  if (missing.length > 0) {
    const tables = [...new Set(missing.map((m) => m.table))];
    return check(
      id,
      'fail',
      `${missing.length} row(s) written before ${stamp} was taken are missing from it but present in ${next.stamp} (tables: ${tables.join(', ')}): a copy of the main file without its WAL?`,
      { ...evidence, missing_rows: missing.length, first_missing: missing.slice(0, 20) },
    );
  }
  return check(id, 'pass', `every row ${next.stamp} holds from before this snapshot is here`, evidence);
}
