/**
 * What a snapshot holds, as the rehearsal compares it with what the restored AtoCore serves:
 * its counts, its registry's projects, where its documents' sources lie and, per project, a
 * chunk to ask /context/build about. Read from the harness's read-only private copy.
 */
import { projectOfSource, sourceOwnersOf, type SourceOwners } from '../atocore/drill/checks.js';
import { DrillError, errorMessage } from '../common/errors.js';
import { foreignKeyCheck, integrityCheck, withDatabaseCopy, type ForeignKeyResult, type IntegrityResult } from '../sqlite/inspect.js';
import type { SqliteDatabase } from '../sqlite/open.js';
import type { CopyBounds } from '../sqlite/scratch-copy.js';
import { tallySourcePaths, type SnapshotCounts, type SourcePathTally } from './checks.js';

/** A project of the snapshot's registry, as far as the rehearsal reads it. */
export interface RegisteredProject {
  readonly id: string;
  readonly aliases: readonly string[];
  readonly description: string;
  readonly ingest_roots: readonly unknown[];
  readonly [key: string]: unknown;
}

/**
 * The registry's projects, read like AtoCore reads them (`{"projects": [...]}`); null when
 * there is no registry or it is not that shape (snapshot.registry has judged it already).
 */
export function registryProjects(bytes: Buffer | null): RegisteredProject[] | null {
  if (!bytes) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  const list = (parsed as { projects?: unknown } | null)?.projects;
  if (!Array.isArray(list)) return null;
  return list.map((entry) => {
    const fields = entry !== null && typeof entry === 'object' ? (entry as Record<string, unknown>) : {};
    return {
      ...fields,
      id: typeof entry === 'string' ? entry : String(fields.id ?? fields.name),
      aliases: Array.isArray(fields.aliases) ? fields.aliases.filter((a): a is string => typeof a === 'string') : [],
      description: typeof fields.description === 'string' ? fields.description : '',
      ingest_roots: Array.isArray(fields.ingest_roots) ? fields.ingest_roots : [],
    };
  });
}

/** A prompt for one project: words of a chunk of its own, or its name and description when it has none. */
export interface ProjectProbe {
  readonly project: string;
  readonly prompt: string;
  readonly chunksInSnapshot: number;
}

export interface SnapshotContents {
  readonly counts: SnapshotCounts;
  /** every table's rows */
  readonly tableRows: Record<string, number>;
  readonly sourcePaths: SourcePathTally;
  readonly probes: readonly ProjectProbe[];
  readonly owners: SourceOwners;
}

const PROMPT_WORDS = 12;

/** The first words of a chunk (its heading and content), as a prompt that shares terms with it. */
export function promptFrom(heading: string, content: string): string {
  return `${heading} ${content}`.replace(/\s+/g, ' ').trim().split(' ').slice(0, PROMPT_WORDS).join(' ').slice(0, 500);
}

function count(db: SqliteDatabase, table: string): number {
  try {
    return Number(db.prepare(`SELECT count(*) FROM "${table}"`).pluck().get() ?? 0);
  } catch {
    // a table this AtoCore has not: it holds nothing /stats could count
    return 0;
  }
}

export function tableRows(db: SqliteDatabase): Record<string, number> {
  const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  return Object.fromEntries(tables.map((t) => [t, Number(db.prepare(`SELECT count(*) FROM "${t.replace(/"/g, '""')}"`).pluck().get() ?? 0)]));
}

function* rows<T>(db: SqliteDatabase, sql: string): Generator<T> {
  let statement;
  try {
    statement = db.prepare(sql);
  } catch {
    return;
  }
  yield* statement.iterate() as Iterable<T>;
}

/** Reads a snapshot's database (opened read-only on a private copy) against its registry. */
export function readSnapshotContents(db: SqliteDatabase, projects: readonly RegisteredProject[], sourcesRoot: string): SnapshotContents {
  const owners = sourceOwnersOf([], projects);
  const counts = { documents: count(db, 'source_documents'), chunks: count(db, 'source_chunks'), memories: count(db, 'memories') };
  const sourcePaths = tallySourcePaths(
    (function* () {
      for (const row of rows<{ file_path: unknown }>(db, 'SELECT file_path FROM source_documents')) if (typeof row.file_path === 'string') yield row.file_path;
    })(),
    sourcesRoot,
  );
  const perProject = new Map<string, { chunks: number; prompt: string }>();
  const sql = 'SELECT d.file_path AS file_path, c.heading_path AS heading_path, c.content AS content FROM source_chunks c JOIN source_documents d ON d.id = c.document_id ORDER BY d.file_path, c.chunk_index';
  for (const row of rows<{ file_path: unknown; heading_path: unknown; content: unknown }>(db, sql)) {
    if (typeof row.file_path !== 'string') continue;
    const project = projectOfSource(row.file_path, owners);
    if (project === null) continue;
    const seen = perProject.get(project);
    if (seen) seen.chunks++;
    else perProject.set(project, { chunks: 1, prompt: promptFrom(typeof row.heading_path === 'string' ? row.heading_path : '', typeof row.content === 'string' ? row.content : '') });
  }
  const probes = projects.map((p) => {
    const own = perProject.get(p.id);
    return { project: p.id, prompt: own?.prompt || promptFrom([p.id, ...p.aliases].join(' '), p.description), chunksInSnapshot: own?.chunks ?? 0 };
  });
  return { counts, tableRows: tableRows(db), sourcePaths, probes, owners };
}

/** The harness's own look at the restored database: integrity, foreign keys, rows per table. */
export interface RestoredDatabase {
  readonly path: string;
  readonly ok: boolean;
  readonly integrity: IntegrityResult;
  readonly foreignKeys: ForeignKeyResult;
  /** null when it could not be read that far */
  readonly rows: Record<string, number> | null;
  readonly error: string | null;
}

/**
 * Inspects the restored database on a private copy (nothing written beside it before the
 * service opens it). Only what rehearsal.integrity needs: no content hashes, which would
 * read every byte once more. A file that will not open is a finding; the harness's own
 * trouble (its scratch space, --timeout, an interrupt) is thrown.
 */
export async function inspectRestoredDatabase(path: string, scratchDir: string, bounds: CopyBounds): Promise<RestoredDatabase> {
  try {
    return await withDatabaseCopy(
      path,
      (db) => {
        const integrity = integrityCheck(db);
        try {
          const foreignKeys = foreignKeyCheck(db);
          return { path, ok: integrity.ok && foreignKeys.ok, integrity, foreignKeys, rows: tableRows(db), error: null };
        } catch (error) {
          return { path, ok: false, integrity, foreignKeys: { ok: false, violations: [] }, rows: null, error: errorMessage(error) };
        }
      },
      scratchDir,
      bounds,
    );
  } catch (error) {
    if (error instanceof DrillError) throw error;
    return { path, ok: false, integrity: { ok: false, messages: [`could not open: ${errorMessage(error)}`] }, foreignKeys: { ok: false, violations: [] }, rows: null, error: errorMessage(error) };
  }
}
