import { parseUntrustedJson } from '../../common/json-depth.js';
import { check, type CheckResult, type SnapshotReport } from '../../report/model.js';
import type { SnapshotDatabaseInspection } from '../database.js';
import { checkSidecarsBeside } from '../sidecars.js';
import { boundedValue, checkFileTypes, clip, describeEntry, entryAt, firstFew, isSafeSnapshotPath, isSparse, linkDestinationInside, showValue, snapshotStatus } from '../snapshot-checks.js';
import { judgeSqliteHeader } from '../../sqlite/header.js';
import type { ReadOutcome, StoreEntry } from '../store.js';
import { AUTH_TAR, CHROMA_CATALOGUE, CHROMA_DIR, COLLECTIONS_FILE, IPC_SECRET, KNOWLEDGE_TAR, NANOCLAW_DB, ORACLE_DB } from './layout.js';
import type { TarVerdict } from './tar-reader.js';

/**
 * The per-backup checks of a JellyCore backup directory: pure functions from what was read
 * (gather.ts) to `{id, status, message, evidence}`. The same facts come from a directory here
 * or over SSH, so both give the same verdicts.
 */

/** The check ids, one per part of a backup (docs/checks.md#jellycore-validation). */
export const BACKUP_CHECK = {
  paths: 'jellycore.backup.paths',
  fileTypes: 'jellycore.backup.file_types',
  nanoclawDb: 'jellycore.backup.nanoclaw_db',
  oracleDb: 'jellycore.backup.oracle_db',
  knowledgeTar: 'jellycore.backup.knowledge_tar',
  authTar: 'jellycore.backup.auth_tar',
  chromadb: 'jellycore.backup.chromadb',
  collections: 'jellycore.backup.collections',
  ipcSecret: 'jellycore.backup.ipc_secret',
} as const;

/** The two databases, and the tables without which their service cannot use them (NanoClaw's messages, the Oracle's index and learnings). */
export const DATABASES = [
  { path: NANOCLAW_DB, id: BACKUP_CHECK.nanoclawDb, tables: ['chats', 'messages'] },
  { path: ORACLE_DB, id: BACKUP_CHECK.oracleDb, tables: ['documents', 'learnings'] },
] as const;

/** What a tarball must hold: files in this directory, as the backup script archives it (`tar czf auth.tar.gz -C nanoclaw auth`). */
export interface TarballHolds {
  readonly dir: string;
  /** what those files are, for the message */
  readonly what: string;
  /** what a restore lacks without them */
  readonly without: string;
}

/** The two tarballs; auth.tar.gz must hold NanoClaw's `auth/` (the plan's own corrected verify.sh extracts it and looks there). */
export const TARBALLS: ReadonlyArray<{ readonly path: string; readonly id: string; readonly holds?: TarballHolds }> = [
  { path: KNOWLEDGE_TAR, id: BACKUP_CHECK.knowledgeTar },
  { path: AUTH_TAR, id: BACKUP_CHECK.authTar, holds: { dir: 'auth', what: 'session keys', without: 'a restored NanoClaw must be paired again' } },
];

/** What was read of one database file of a backup. */
export interface DatabaseFacts {
  /** its first 100 bytes (null: not a regular file, not read) */
  readonly head: ReadOutcome | null;
  /** the first bytes of each regular `-wal`/`-journal` beside it */
  readonly sidecarHeads: ReadonlyMap<string, ReadOutcome>;
  /** the harness's own integrity_check on its private copy (null: not inspected) */
  readonly inspection: SnapshotDatabaseInspection | null;
  /** why it was not inspected, when that is the harness's trouble (its scratch space, its budget): never a finding */
  readonly harnessError: string | null;
  /** the service's tables that its private copy lacks or cannot read (null: not looked at) */
  readonly missingTables?: readonly string[] | null;
}

/** What reading a tarball to its end found (null: not a regular file, not read). */
export type TarFacts = { readonly read: true; readonly verdict: TarVerdict } | { readonly read: false; readonly reason: string } | null;

/** Everything read about one backup directory. */
export interface BackupFacts {
  readonly name: string;
  readonly files: readonly StoreEntry[];
  readonly databases: Readonly<Record<string, DatabaseFacts>>;
  readonly tarballs: Readonly<Record<string, TarFacts>>;
  /** chromadb-collections.json as read (null: not a regular file) */
  readonly collectionsRead: ReadOutcome | null;
  /** Chroma's catalogue, chromadb/chroma.sqlite3, as inspected (null: not a regular file) */
  readonly catalogue: CatalogueFacts | null;
}

/** What was read of Chroma's catalogue in the backup's copy of its directory. */
export interface CatalogueFacts extends DatabaseFacts {
  /** the names in its `collections` table (null: not read; `namesProblem` says why) */
  readonly names: readonly string[] | null;
  readonly namesProblem: string | null;
}

/** The common start of a check on one named entry: missing, or not of the type it must be (refused, never opened). */
function entryProblem(id: string, files: readonly StoreEntry[], path: string, want: 'file' | 'dir'): { result: CheckResult } | { entry: StoreEntry } {
  const entry = entryAt(files, path);
  if (!entry) return { result: check(id, 'fail', `${path} is missing`, { file: path }) };
  if (entry.type !== want) return { result: check(id, 'fail', `${path} is ${describeEntry(entry)}, not ${want === 'file' ? 'a regular file' : 'a directory'}; refused, never opened or followed`, { file: path, type: entry.type, link_target: entry.linkTarget === null ? null : clip(entry.linkTarget) }) };
  return { entry };
}

/** jellycore.backup.paths: nothing in the backup leaves it (links refused, never followed); names the harness will use. */
export function checkBackupPaths(files: readonly StoreEntry[]): CheckResult {
  const id = BACKUP_CHECK.paths;
  const leaving: Array<{ path: string; target: string | null }> = [];
  const inside: string[] = [];
  const unsafe: string[] = [];
  for (const entry of files) {
    if (entry.type === 'symlink') {
      if (linkDestinationInside(entry.path, entry.linkTarget ?? '') === null) leaving.push({ path: clip(entry.path), target: entry.linkTarget === null ? null : clip(entry.linkTarget) });
      else inside.push(clip(entry.path));
    }
    if (!isSafeSnapshotPath(entry.path)) unsafe.push(JSON.stringify(clip(entry.path, 120)));
  }
  const evidence: Record<string, unknown> = {};
  const warnings: string[] = [];
  if (unsafe.length > 0) {
    warnings.push(`${unsafe.length} name(s) with characters outside the safe set (or not UTF-8); not read: ${firstFew(unsafe)}`);
    evidence.unsafe_names = unsafe.slice(0, 50);
  }
  if (inside.length > 0) {
    warnings.push(`${inside.length} symlink(s) inside the backup (its scripts copy none; not followed): ${firstFew(inside)}`);
    evidence.symlinks_inside = inside.slice(0, 50);
  }
  if (leaving.length > 0) {
    evidence.symlinks_leaving = leaving.slice(0, 50);
    return check(id, 'fail', [`${leaving.length} symlink(s) leave the backup (refused, never followed): ${firstFew(leaving.map((l) => `${l.path} → ${l.target}`))}`, ...warnings].join('; '), evidence);
  }
  if (warnings.length > 0) return check(id, 'warn', warnings.join('; '), evidence);
  return check(id, 'pass', `${files.length} entries, all inside the backup`, evidence);
}

/** jellycore.backup.file_types: only regular files, directories and links; a FIFO, socket or device is refused by name, never opened. */
export function checkBackupFileTypes(files: readonly StoreEntry[]): CheckResult {
  return { ...checkFileTypes(files), id: BACKUP_CHECK.fileTypes };
}

/**
 * jellycore.backup.nanoclaw_db / oracle_db: a regular file whose first 100 bytes are an
 * SQLite header that fits its size, whose private copy (the file alone) passes
 * integrity_check and foreign_key_check, with no live `-wal` or journal beside it.
 */
export function checkBackupDatabase(id: string, path: string, files: readonly StoreEntry[], facts: DatabaseFacts | undefined): CheckResult {
  const start = entryProblem(id, files, path, 'file');
  if ('result' in start) return start.result;
  const { entry } = start;
  const evidence: Record<string, unknown> = { file: path, size_bytes: entry.size };
  if (entry.allocatedBytes !== undefined) evidence.allocated_bytes = entry.allocatedBytes;
  if (!facts?.head) return check(id, 'skip', `${path} was not read`, evidence);
  const header = facts.head.ok ? judgeSqliteHeader(facts.head.data, entry.size) : ({ ok: false, problem: facts.head.reason } as const);
  if (!header.ok) return check(id, 'fail', `${path}: ${header.problem}`, { ...evidence, sqlite_header: clip(header.problem) });
  Object.assign(evidence, { sqlite_header: 'ok', page_size: header.header.pageSize, page_count: header.header.pageCount });
  const sidecars = checkSidecarsBeside(id, path, files, facts.sidecarHeads);
  if (sidecars.status !== 'pass') evidence.sidecars = sidecars.evidence.sidecars;
  if (sidecars.status === 'fail') return check(id, 'fail', sidecars.message, evidence);
  if (isSparse(entry)) return check(id, 'warn', `${path} claims ${entry.size} bytes but only ${entry.allocatedBytes} are on disk: mostly holes, which SQLite's .backup never writes; not copied, integrity_check not run`, evidence);
  if (facts.harnessError) return check(id, 'skip', `not judged: the harness could not inspect ${path} (${clip(facts.harnessError, 300)})`, evidence);
  const inspected = facts.inspection;
  if (!inspected) return check(id, 'skip', `${path} was not inspected`, evidence);
  if (!inspected.integrity.ok) {
    const what = inspected.error ? 'it does not open' : 'integrity_check';
    return check(id, 'fail', `${path}: ${what}: ${clip(oneLine(inspected.integrity.messages.slice(0, 3).join('; ') || (inspected.error ?? '')), 500)}`, { ...evidence, integrity_check: boundedValue(inspected.integrity.messages) });
  }
  if (!inspected.foreignKeys.ok) return check(id, 'fail', `${path}: foreign_key_check: ${inspected.foreignKeys.violations.length} violation(s)`, { ...evidence, foreign_key_violations: inspected.foreignKeys.violations });
  if (inspected.error) return check(id, 'fail', `${path}: inspection failed: ${clip(oneLine(inspected.error), 500)}`, evidence);
  if (facts.missingTables && facts.missingTables.length > 0) {
    return check(id, 'fail', `${path} is sound but not its service's database: it lacks or cannot read ${facts.missingTables.join(', ')}`, { ...evidence, missing_tables: [...facts.missingTables] });
  }
  // what unusableReason reads: this database was shown sound
  evidence.integrity_checked = true;
  if (sidecars.status === 'warn') return check(id, 'warn', `integrity_check ok, but ${sidecars.message}`, evidence);
  return check(id, 'pass', `integrity_check ok, no foreign key violations (the harness's own copy of the file alone)`, evidence);
}

/**
 * jellycore.backup.knowledge_tar / auth_tar: a regular file that reads to its end as gzip
 * and tar (every header sound, the end-of-archive marker there), nothing extracted; with
 * `holds`, at least one regular file in that directory of the archive. Entries that would be
 * written outside the directory they are extracted into warn.
 */
export function checkBackupTarball(id: string, path: string, files: readonly StoreEntry[], facts: TarFacts | undefined, holds?: TarballHolds): CheckResult {
  const start = entryProblem(id, files, path, 'file');
  if ('result' in start) return start.result;
  const evidence: Record<string, unknown> = { file: path, size_bytes: start.entry.size };
  if (!facts) return check(id, 'skip', `${path} was not read`, evidence);
  if (!facts.read) return check(id, 'fail', `${path}: ${facts.reason}`, evidence);
  const verdict = facts.verdict;
  Object.assign(evidence, {
    compressed_bytes: verdict.compressedBytes,
    uncompressed_bytes: verdict.uncompressedBytes,
    entries: verdict.entries,
    files: verdict.files,
    directories: verdict.directories,
    file_bytes: verdict.fileBytes,
    first_entries: verdict.firstNames.map((name) => clip(name, 120)),
  });
  if (start.entry.size === 0) return check(id, 'fail', `${path} is empty: not a gzip file`, evidence);
  if (!verdict.ok) return check(id, 'fail', `${path}: ${verdict.problem}`, evidence);
  if (holds) {
    evidence[`files_in_${holds.dir}`] = verdict.filesUnder;
    if (!verdict.filesUnder) {
      const seen = verdict.firstNames.length > 0 ? `; it holds ${firstFew(verdict.firstNames.map((n) => JSON.stringify(clip(n, 80))))}` : '';
      return check(id, 'fail', `${path} holds no ${holds.what}: no file in ${holds.dir}/ (${verdict.entries} entr${verdict.entries === 1 ? 'y' : 'ies'}${seen}): ${holds.without}`, evidence);
    }
  }
  if (verdict.escapingNames.length > 0) {
    evidence.escaping_entries = verdict.escapingNames.map((name) => clip(name, 120));
    return check(id, 'warn', `${path} reads to its end, but ${verdict.escapingNames.length === 10 ? 'at least 10' : verdict.escapingNames.length} entr${verdict.escapingNames.length === 1 ? 'y leaves' : 'ies leave'} the directory it is extracted into (absolute or "..": ${firstFew(verdict.escapingNames.map((n) => JSON.stringify(clip(n, 80))))})`, evidence);
  }
  if (verdict.files === 0) return check(id, 'warn', `${path} reads to its end but holds no file (${verdict.entries} entr${verdict.entries === 1 ? 'y' : 'ies'}): a restore brings back an empty tree`, evidence);
  return check(id, 'pass', `${verdict.entries} entries (${verdict.files} file(s), ${verdict.fileBytes} bytes) read to the end-of-archive marker`, evidence);
}

/**
 * jellycore.backup.chromadb: `chromadb/` is a real directory (a link is refused, never
 * followed) holding files, with Chroma's catalogue `chroma.sqlite3` sound (integrity_check on
 * a private copy) and naming every collection the backup's collection list names. A copy
 * taken while Chroma ran lacks what it held only in memory: the list names a collection the
 * copy does not have. A `chromadb/chromadb/` inside warns (two runs wrote into one
 * directory: the plan's `mkdir -p` in the same second).
 */
export function checkBackupChroma(files: readonly StoreEntry[], catalogue: CatalogueFacts | null, listed: readonly string[] | null): CheckResult {
  const id = BACKUP_CHECK.chromadb;
  const start = entryProblem(id, files, CHROMA_DIR, 'dir');
  if ('result' in start) return start.result;
  const inside = files.filter((f) => f.path.startsWith(`${CHROMA_DIR}/`));
  const regular = inside.filter((f) => f.type === 'file');
  const bytes = regular.reduce((sum, f) => sum + f.size, 0);
  const evidence: Record<string, unknown> = { entries: inside.length, files: regular.length, bytes };
  if (regular.length === 0) return check(id, 'fail', `${CHROMA_DIR}/ holds no file${inside.length > 0 ? ` (${inside.length} entries, none a regular file)` : ''}: a restore brings back no vectors`, evidence);
  const warnings: string[] = [];
  if (entryAt(files, `${CHROMA_DIR}/${CHROMA_DIR}`)?.type === 'dir') warnings.push(`${CHROMA_DIR}/${CHROMA_DIR}/ inside: two backup runs wrote into one directory (a copy into an existing chromadb/)`);
  const entry = entryAt(files, CHROMA_CATALOGUE);
  if (!entry || entry.type !== 'file') {
    const why = `no ${CHROMA_CATALOGUE} (Chroma's catalogue of collections, which every Chroma since 0.4 writes)${entry ? `: it is ${describeEntry(entry)}` : ''}`;
    if (listed && listed.length > 0) return check(id, 'fail', `${why}, yet the backup's collection list names ${listed.length}: the copy holds none of them`, { ...evidence, listed: listed.length });
    warnings.push(why);
  } else {
    const catalogueCheck = checkBackupDatabase(id, CHROMA_CATALOGUE, files, catalogue ?? undefined);
    evidence.catalogue = { status: catalogueCheck.status, ...catalogueCheck.evidence };
    if (catalogueCheck.status === 'fail') return check(id, 'fail', catalogueCheck.message, evidence);
    if (catalogueCheck.status === 'skip') return check(id, 'skip', catalogueCheck.message, evidence);
    if (catalogueCheck.status === 'warn') warnings.push(catalogueCheck.message);
    if (catalogue?.names) {
      evidence.catalogue_collections = catalogue.names.length;
      const there = new Set(catalogue.names);
      const missing = (listed ?? []).filter((name) => !there.has(name));
      if (missing.length > 0) {
        evidence.missing_collections = missing.slice(0, 50).map((n) => clip(n, 120));
        return check(id, 'fail', `${missing.length} collection(s) the backup's list names are not in the copy's catalogue: ${firstFew(missing.map((n) => JSON.stringify(clip(n, 60))))} (the directory was copied while Chroma held them only in memory?)`, evidence);
      }
    } else if (catalogue?.namesProblem) warnings.push(`its collections could not be compared with the list: ${catalogue.namesProblem}`);
  }
  if (warnings.length > 0) return check(id, 'warn', `${CHROMA_DIR}/: ${warnings.join('; ')}`, evidence);
  return check(id, 'pass', `${regular.length} file(s), ${bytes} bytes${catalogue?.names ? `; the catalogue holds every listed collection (${catalogue.names.length})` : ''}`, evidence);
}

/**
 * jellycore.backup.collections: chromadb-collections.json is a regular file, at most 8 MiB, a
 * JSON list of collections with a string `name`; and the names it lists when it passes (what
 * jellycore.backup.chromadb compares Chroma's catalogue with).
 */
function judgeCollections(files: readonly StoreEntry[], read: ReadOutcome | null): { result: CheckResult; names: string[] | null } {
  const id = BACKUP_CHECK.collections;
  const fail = (result: CheckResult): { result: CheckResult; names: null } => ({ result, names: null });
  const start = entryProblem(id, files, COLLECTIONS_FILE, 'file');
  if ('result' in start) return fail(start.result);
  if (!read) return fail(check(id, 'skip', `${COLLECTIONS_FILE} was not read`, {}));
  if (!read.ok) return fail(check(id, 'fail', `${COLLECTIONS_FILE}: ${read.reason}`, { file: COLLECTIONS_FILE }));
  const evidence: Record<string, unknown> = { file: COLLECTIONS_FILE, bytes: read.data.length };
  if (read.data.length === 0) return fail(check(id, 'fail', `${COLLECTIONS_FILE} is empty: the backup did not get the collection list from Chroma (a failed run's leftover?)`, evidence));
  const parsed = parseUntrustedJson(read.data.toString('utf8'));
  if (!parsed.ok) return fail(check(id, 'fail', `${COLLECTIONS_FILE} is ${clip(oneLine(parsed.reason))}`, evidence));
  const value = parsed.value;
  if (!Array.isArray(value)) return fail(check(id, 'fail', `${COLLECTIONS_FILE} is JSON but not a list (it is ${showValue(value)})`, evidence));
  const bad = value.flatMap((item, index) => (collectionName(item) === null ? [index] : []));
  evidence.collections = value.length;
  if (bad.length > 0) {
    return fail(check(id, 'fail', `${COLLECTIONS_FILE}: ${bad.length} of ${value.length} entr${value.length === 1 ? 'y is' : 'ies are'} not a collection (an object with a string "name"; first at index ${bad[0]}: ${showValue(value[bad[0]!])})`, {
      ...evidence,
      first_bad: bad.slice(0, 10).map((index) => ({ index, entry: boundedValue(value[index], 2) })),
    }));
  }
  const names = value.map((item) => collectionName(item)!);
  return { result: check(id, 'pass', `${names.length} collection(s)${names.length > 0 ? `: ${firstFew(names.map((n) => JSON.stringify(clip(n, 60))))}` : ''}`, { ...evidence, names: names.slice(0, 50).map((n) => clip(n, 120)) }), names };
}

function collectionName(item: unknown): string | null {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return null;
  const name = (item as { name?: unknown }).name;
  return typeof name === 'string' ? name : null;
}

/**
 * jellycore.backup.ipc_secret: `.ipc-secret` is a non-empty regular file. Never read: it is a
 * secret, and its size says enough. Missing fails: a NanoClaw restored without it makes a new
 * secret, and everything holding the old one can no longer talk to it.
 */
export function checkBackupIpcSecret(files: readonly StoreEntry[]): CheckResult {
  const id = BACKUP_CHECK.ipcSecret;
  const start = entryProblem(id, files, IPC_SECRET, 'file');
  if ('result' in start) {
    if (start.result.message.endsWith('is missing')) {
      return check(id, 'fail', `${IPC_SECRET} is missing: a restore cannot bring NanoClaw's IPC secret back (it would make a new one); the plan's backup ignores a failed copy`, { file: IPC_SECRET });
    }
    return start.result;
  }
  if (start.entry.size === 0) return check(id, 'fail', `${IPC_SECRET} is empty`, { file: IPC_SECRET, size_bytes: 0 });
  return check(id, 'pass', `present, ${start.entry.size} bytes (not read: it is a secret)`, { file: IPC_SECRET, size_bytes: start.entry.size });
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Every per-backup check of one backup directory, from its facts. */
export function judgeBackup(facts: BackupFacts): SnapshotReport {
  const { files } = facts;
  const checks: CheckResult[] = [checkBackupPaths(files), checkBackupFileTypes(files)];
  for (const db of DATABASES) checks.push(checkBackupDatabase(db.id, db.path, files, facts.databases[db.path]));
  for (const tar of TARBALLS) checks.push(checkBackupTarball(tar.id, tar.path, files, facts.tarballs[tar.path], tar.holds));
  const collections = judgeCollections(files, facts.collectionsRead);
  checks.push(checkBackupChroma(files, facts.catalogue, collections.names), collections.result, checkBackupIpcSecret(files));
  return { stamp: facts.name, status: snapshotStatus(checks), checks };
}

/** A backup-named entry that is not a directory (a link, a file): refused, never opened or followed. */
export function judgeNotADirectory(entry: StoreEntry): SnapshotReport {
  const refused = check(BACKUP_CHECK.paths, 'fail', `the backup is ${describeEntry(entry)}, not a directory; refused, never opened or followed`, { type: entry.type, link_target: entry.linkTarget === null ? null : clip(entry.linkTarget) });
  return { stamp: entry.path, status: 'fail', checks: [refused] };
}

/**
 * A backup whose listing passed the harness's bound (`bound`, in words): a JellyCore backup
 * holds tens of entries. Evidence about that backup alone: it fails jellycore.backup.paths and
 * is read no further; the other backups are judged as usual.
 */
export function judgeTooLarge(name: string, bound: string): SnapshotReport {
  const refused = check(BACKUP_CHECK.paths, 'fail', `the backup ${name} is larger than the harness lists: more than ${bound} (a JellyCore backup holds tens of entries: two databases, two tarballs, Chroma's directory, the collection list and the IPC secret); not listed further, nothing in it read`, { bound });
  return { stamp: name, status: 'fail', checks: [refused] };
}

/**
 * A backup the harness could not list (the reading account kept out of it, past the time it
 * may be being written): nothing about it is known, so nothing is judged; the run is an error
 * for it, and the other backups are judged all the same.
 */
export function judgeUnlisted(name: string, problem: string): SnapshotReport {
  return { stamp: name, status: 'skip', checks: [check(BACKUP_CHECK.paths, 'skip', `not judged: the harness could not list the backup ${name}: ${problem}`, { problem })] };
}

/** Why a judged backup does not count as a restore point (null: it does): not judged at all, a check failed, or a database was not shown sound. */
export function unusableReason(report: SnapshotReport): string | null {
  if (report.status === 'skip') return 'not judged (the harness could not list it)';
  const failed = report.checks.filter((c) => c.status === 'fail').map((c) => c.id);
  if (failed.length > 0) return `${failed.join(', ')} failed`;
  const unverified = report.checks.filter((c) => DATABASES.some((db) => db.id === c.id) && c.evidence.integrity_checked !== true).map((c) => c.id);
  if (unverified.length > 0) return `${unverified.join(', ')}: not verified`;
  return null;
}
