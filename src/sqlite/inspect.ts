import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DrillError, errorMessage } from '../common/errors.js';
import { openDatabase, type SqliteDatabase } from './open.js';
import { cloneRegularFile, isScratchSqliteError, NotRegularFileError, scratchError, type CopyBounds } from './scratch-copy.js';

type Db = SqliteDatabase;

/** Maps the whole file so a cold read of a large database is sequential, not page by page. */
export const MMAP_BYTES = 4 * 1024 * 1024 * 1024;

export interface IntegrityResult {
  readonly ok: boolean;
  /** integrity_check's own lines (at most 50), or the exception that stopped it */
  readonly messages: readonly string[];
}

export interface ForeignKeyResult {
  readonly ok: boolean;
  readonly violations: ReadonlyArray<{ table: string; rowid: number | null; parent: string; fkid: number }>;
}

export interface SchemaObject {
  readonly type: string;
  readonly name: string;
  readonly table: string;
  readonly sql: string | null;
}

export interface TableFingerprint {
  readonly rows: number;
  readonly sha256: string;
}

/** What "the same data" means: per-table row counts and content hashes, and the schema. */
export interface DbFingerprint {
  readonly tables: Readonly<Record<string, TableFingerprint>>;
  /** each table's columns, in order */
  readonly columns: Readonly<Record<string, readonly string[]>>;
  readonly schema: readonly SchemaObject[];
  readonly schemaSha256: string;
  readonly contentSha256: string;
}

/** The harness's own verdict on one database file. Any exception is recorded, never thrown. */
export interface DbInspection {
  readonly path: string;
  readonly ok: boolean;
  readonly integrity: IntegrityResult;
  readonly foreignKeys: ForeignKeyResult;
  readonly fingerprint: DbFingerprint | null;
  readonly error: string | null;
}

export function integrityCheck(db: Db): IntegrityResult {
  try {
    const rows = db.prepare('PRAGMA integrity_check(50)').pluck().all() as string[];
    const ok = rows.length === 1 && rows[0] === 'ok';
    return { ok, messages: rows };
  } catch (error) {
    return { ok: false, messages: [`integrity_check raised: ${errorMessage(error)}`] };
  }
}

export function foreignKeyCheck(db: Db): ForeignKeyResult {
  const rows = db.prepare('PRAGMA foreign_key_check').all() as Array<{ table: string; rowid: number | null; parent: string; fkid: number }>;
  return { ok: rows.length === 0, violations: rows.slice(0, 50) };
}

export function schemaOf(db: Db): SchemaObject[] {
  return db
    .prepare("SELECT type, name, tbl_name AS \"table\", sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
    .all() as SchemaObject[];
}

/** An SQL identifier, quoted. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Streams every row of every table into a hash; rows in rowid order (primary-key order for
 * WITHOUT ROWID tables). With `restrictTo`, only that fingerprint's tables and columns are
 * read: "is the data of the old schema unchanged under the new one".
 */
export function fingerprintOf(db: Db, restrictTo?: Pick<DbFingerprint, 'columns'>): DbFingerprint {
  const schema = schemaOf(db);
  const tables: Record<string, TableFingerprint> = {};
  const columns: Record<string, string[]> = {};
  const content = createHash('sha256');
  const withoutRowid = new Set(
    (db.prepare("SELECT name FROM pragma_table_list WHERE wr = 1").pluck().all() as string[]),
  );
  for (const object of schema) {
    if (object.type !== 'table' || (object.sql ?? '').toUpperCase().startsWith('CREATE VIRTUAL')) continue;
    const present = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(object.name) as string[];
    const wanted = restrictTo ? restrictTo.columns[object.name]?.filter((c) => present.includes(c)) : present;
    if (!wanted) continue;
    columns[object.name] = wanted;
    const order = withoutRowid.has(object.name) ? '' : ' ORDER BY rowid';
    const hash = createHash('sha256');
    let rows = 0;
    const select = wanted.length > 0 ? wanted.map(quoteIdent).join(', ') : '*';
    for (const row of db.prepare(`SELECT ${select} FROM ${quoteIdent(object.name)}${order}`).raw().iterate() as Iterable<unknown[]>) {
      hash.update(JSON.stringify(row, (_key, value: unknown) => (Buffer.isBuffer(value) ? `x'${value.toString('hex')}'` : typeof value === 'bigint' ? value.toString() : value)));
      hash.update('\n');
      rows++;
    }
    const sha256 = hash.digest('hex');
    tables[object.name] = { rows, sha256 };
    content.update(`${object.name}:${rows}:${sha256}\n`);
  }
  const schemaSha256 = createHash('sha256').update(JSON.stringify(schema)).digest('hex');
  return { tables, columns, schema, schemaSha256, contentSha256: content.digest('hex') };
}

export function inspectOpenDatabase(db: Db, path: string): DbInspection {
  let integrity: IntegrityResult = { ok: false, messages: ['not checked'] };
  let foreignKeys: ForeignKeyResult = { ok: false, violations: [] };
  let fingerprint: DbFingerprint | null = null;
  try {
    integrity = integrityCheck(db);
    foreignKeys = foreignKeyCheck(db);
    fingerprint = fingerprintOf(db);
    return { path, ok: integrity.ok && foreignKeys.ok, integrity, foreignKeys, fingerprint, error: null };
  } catch (error) {
    return { path, ok: false, integrity, foreignKeys, fingerprint, error: errorMessage(error) };
  }
}

function openReadOnly(path: string): Db {
  const db = openDatabase(path, { readonly: true });
  db.pragma(`mmap_size = ${MMAP_BYTES}`);
  return db;
}

/**
 * Opens a copy of a database file that must not be touched (a snapshot, a restored file
 * before the service starts). better-sqlite3 is built without URI filenames, so SQLite's
 * `immutable=1` is not available, and a read-only open of a WAL database creates `-shm`/
 * `-wal` files beside it. So the file (and its `-wal` when that is a regular file) is
 * copied into a private directory and the copy is opened read-only: not one byte is
 * written next to the original. Nothing is followed or opened that is not a regular file
 * (a link or FIFO as the `-wal` is left out); the copy stops at the run's budget.
 *
 * A failure of the scratch space itself (ENOSPC, EACCES, EMFILE, or SQLite unable to use
 * the copy's directory) throws ScratchSpaceError: it says nothing about the database.
 */
export async function withDatabaseCopy<T>(path: string, use: (db: Db) => T, scratchDir = tmpdir(), bounds: CopyBounds = {}): Promise<T> {
  let dir: string;
  try {
    dir = await mkdtemp(join(scratchDir, 'atocore-drill-sqlite-'));
  } catch (error) {
    throw scratchError(join(scratchDir, 'atocore-drill-sqlite-*'), 'creating', error);
  }
  try {
    const copy = join(dir, 'inspected.db');
    // by the kernel: a reflink where the filesystem has them, so nothing is copied at all
    await cloneRegularFile(path, copy, bounds);
    try {
      await cloneRegularFile(`${path}-wal`, `${copy}-wal`, bounds);
    } catch (error) {
      // no -wal (or not a regular file: never read) is a database without one
      if (!(error instanceof NotRegularFileError)) throw error;
    }
    let db: Db;
    try {
      db = openReadOnly(copy);
    } catch (error) {
      if (isScratchSqliteError(error)) throw scratchError(copy, 'opening', error);
      throw error;
    }
    try {
      try {
        // the first read creates the -shm of a WAL database: where a full scratch space shows
        db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get();
      } catch (error) {
        if (isScratchSqliteError(error)) throw scratchError(copy, 'opening', error);
        // the bytes themselves: the inspection finds and reports it
      }
      return use(db);
    } finally {
      db.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Opens a live database (the running service's own) read-only, alongside the service. */
export function withLiveDatabase<T>(path: string, use: (db: Db) => T): T {
  const db = openReadOnly(path);
  try {
    return use(db);
  } finally {
    db.close();
  }
}

/**
 * Inspects a database file the harness must not change; a file that won't open is a
 * finding, not a crash. The harness's own trouble (its scratch space full or unwritable, the
 * run's --timeout, an interrupt) is thrown as InfrastructureError: never "damaged".
 */
export async function inspectDatabaseFile(path: string, probe?: (db: Db) => void, scratchDir?: string, bounds: CopyBounds = {}): Promise<DbInspection> {
  try {
    return await withDatabaseCopy(
      path,
      (db) => {
        const inspection = inspectOpenDatabase(db, path);
        probe?.(db);
        return inspection;
      },
      scratchDir,
      bounds,
    );
  } catch (error) {
    if (error instanceof DrillError) throw error;
    return {
      path,
      ok: false,
      integrity: { ok: false, messages: [`could not open: ${errorMessage(error)}`] },
      foreignKeys: { ok: false, violations: [] },
      fingerprint: null,
      error: errorMessage(error),
    };
  }
}

/** Ids of memories whose content is exactly `content`; empty when the table is missing or unreadable. */
export function memoriesWithContent(db: Db, content: string): string[] {
  try {
    return db.prepare('SELECT id FROM memories WHERE content = ?').pluck().all(content) as string[];
  } catch {
    return [];
  }
}

/** The tables whose row count or content differ between two fingerprints. */
export function fingerprintDifferences(expected: DbFingerprint, actual: DbFingerprint): Array<Record<string, unknown>> {
  const names = new Set([...Object.keys(expected.tables), ...Object.keys(actual.tables)]);
  const differences: Array<Record<string, unknown>> = [];
  for (const name of [...names].sort()) {
    const a = expected.tables[name];
    const b = actual.tables[name];
    if (!a || !b || a.rows !== b.rows || a.sha256 !== b.sha256) {
      differences.push({ table: name, expected_rows: a?.rows ?? null, actual_rows: b?.rows ?? null, content_equal: a?.sha256 === b?.sha256 });
    }
  }
  if (expected.schemaSha256 !== actual.schemaSha256) differences.push({ schema: 'differs' });
  return differences;
}
