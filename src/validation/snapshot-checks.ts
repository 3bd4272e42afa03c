import { zonedTimeMs } from '../common/zoned-time.js';
import { posix } from 'node:path';
import { stampTime, type SnapshotStamp } from '../atocore/stamp.js';
import { parseUntrustedJson } from '../common/json-depth.js';
import { lastJsonObject } from '../common/json-output.js';
import { check, type CheckResult } from '../report/model.js';
import type { IntegrityResult, ForeignKeyResult } from '../sqlite/inspect.js';
import { judgeSqliteHeader, type SqliteHeaderFacts } from '../sqlite/header.js';
import { CHROMA_DIR, DB_FILE, METADATA_FILE, REGISTRY_FILE, type ReadOutcome, type StoreEntry, type ValidatorRun } from './store.js';

/**
 * The per-snapshot checks: small pure functions from facts (a listing, file contents, an
 * inspection) to `{id, status, message, evidence}`. The same facts come from a local
 * directory or over SSH, so both give the same verdicts.
 */

/** backup-metadata.json, once it has passed snapshot.metadata. */
export interface SnapshotMetadata {
  readonly createdAt: string;
  readonly createdAtMs: number;
  readonly backupRoot: string;
  readonly dbSnapshotPath: string;
  readonly dbSizeBytes: number;
  readonly registrySnapshotPath: string;
  readonly chromaSnapshotPath: string;
  readonly chromaIncluded: boolean;
  readonly chromaBytes: number | null;
  readonly chromaFiles: number | null;
  readonly validated: boolean | null;
  readonly validationErrors: readonly string[];
}

/** Names the harness will use in a command; others are reported and left alone (same rule locally and remotely). */
const SAFE_NAME = /^[A-Za-z0-9._+@%=,: -]+(\/[A-Za-z0-9._+@%=,: -]+)*$/;
export function isSafeSnapshotPath(path: string): boolean {
  return SAFE_NAME.test(path) && !path.split('/').includes('..');
}

/** The files the harness may hash and compare: regular, with a safe name. */
export function regularSafeFiles(files: readonly StoreEntry[]): StoreEntry[] {
  return files.filter((f) => f.type === 'file' && isSafeSnapshotPath(f.path));
}

/** How far created_at may sit from the stamp (they come from the same clock reading). */
export const CREATED_AT_TOLERANCE_MS = 60_000;

const REQUIRED_FIELDS: ReadonlyArray<[string, 'string' | 'number' | 'boolean']> = [
  ['created_at', 'string'],
  ['backup_root', 'string'],
  ['db_snapshot_path', 'string'],
  ['db_size_bytes', 'number'],
  ['registry_snapshot_path', 'string'],
  ['chroma_snapshot_path', 'string'],
  ['chroma_snapshot_included', 'boolean'],
];
const OPTIONAL_FIELDS: ReadonlyArray<[string, 'string' | 'number' | 'boolean']> = [
  ['chroma_snapshot_bytes', 'number'],
  ['chroma_snapshot_files', 'number'],
  ['vector_store_note', 'string'],
  ['validated', 'boolean'],
];

export function entryAt(files: readonly StoreEntry[], path: string): StoreEntry | undefined {
  return files.find((f) => f.path === path);
}

/** SQLite and Python put newlines in their messages; a check's message is one line. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Text from a snapshot or a remote program, cut for a message: a report never carries a megabyte of someone else's string. */
export function clip(text: string, max = 200): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** A value read from an untrusted file, for a message: short and never a crash (deep nesting, huge strings). */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(clip(value, 80));
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/**
 * A value read from an untrusted answer, for the evidence: at most `depth` levels, 20 items
 * a level and 200 characters a string; what is deeper or longer is summarised.
 */
export function boundedValue(value: unknown, depth = 3): unknown {
  if (typeof value === 'string') return clip(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (depth <= 0) return showValue(value);
  if (Array.isArray(value)) {
    const items = value.slice(0, 20).map((item) => boundedValue(item, depth - 1));
    return value.length > 20 ? [...items, `… ${value.length - 20} more`] : items;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    const kept = Object.fromEntries(entries.slice(0, 20).map(([key, item]) => [clip(key, 80), boundedValue(item, depth - 1)]));
    if (entries.length > 20) kept['…'] = `${entries.length - 20} more keys`;
    return kept;
  }
  return showValue(value);
}

/** The first few of a list, for a message, and how many more. */
export function firstFew(items: readonly string[], max = 5): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

const SPECIAL_KINDS: Readonly<Record<string, string>> = {
  fifo: 'a FIFO',
  socket: 'a socket',
  'char-device': 'a character device',
  'block-device': 'a block device',
  other: 'neither a regular file, a directory nor a symlink',
};

/** What an entry is, for a message: "a FIFO", "a symlink to \"/etc\""… */
export function describeEntry(entry: StoreEntry): string {
  if (entry.type === 'symlink') return `a symlink to ${JSON.stringify(clip(entry.linkTarget ?? '', 120))}`;
  if (entry.type === 'dir') return 'a directory';
  if (entry.type === 'file') return 'a regular file';
  return SPECIAL_KINDS[entry.type] ?? 'not a regular file';
}

/** Neither a regular file, a directory nor a symlink: never opened (a FIFO blocks a reader, a device has side effects). */
export function isSpecialFile(entry: StoreEntry): boolean {
  return entry.type !== 'file' && entry.type !== 'dir' && entry.type !== 'symlink';
}

/** snapshot.metadata: present, a regular file, JSON, the contract's fields with their types, consistent with the stamp. */
export function checkMetadata(stamp: SnapshotStamp, files: readonly StoreEntry[], read: ReadOutcome | null): { result: CheckResult; metadata: SnapshotMetadata | null } {
  const id = 'snapshot.metadata';
  const entry = entryAt(files, METADATA_FILE);
  if (!entry) return { result: check(id, 'fail', `${METADATA_FILE} is missing`, { file: METADATA_FILE }), metadata: null };
  if (entry.type !== 'file') return { result: check(id, 'fail', `${METADATA_FILE} is ${describeEntry(entry)}; not read`, { file: METADATA_FILE, type: entry.type, link_target: entry.linkTarget }), metadata: null };
  if (!read) return { result: check(id, 'skip', `${METADATA_FILE} was not read`, {}), metadata: null };
  if (!read.ok) return { result: check(id, 'fail', `${METADATA_FILE}: ${read.reason}`, { file: METADATA_FILE }), metadata: null };
  const parsed = parseUntrustedJson(read.data.toString('utf8'));
  if (!parsed.ok) return { result: check(id, 'fail', `${METADATA_FILE} is ${clip(oneLine(parsed.reason))}`, { file: METADATA_FILE, bytes: read.data.length }), metadata: null };
  const value = parsed.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { result: check(id, 'fail', `${METADATA_FILE} is not a JSON object`, { file: METADATA_FILE }), metadata: null };
  }
  const object = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const [field, type] of REQUIRED_FIELDS) {
    if (!(field in object)) problems.push(`${field} missing`);
    else if (typeof object[field] !== type) problems.push(`${field} is ${showValue(object[field])}, not a ${type}`);
  }
  for (const [field, type] of OPTIONAL_FIELDS) {
    if (field in object && typeof object[field] !== type) problems.push(`${field} is ${showValue(object[field])}, not a ${type}`);
  }
  const errorsField = object.validation_errors;
  if (errorsField !== undefined && !(Array.isArray(errorsField) && errorsField.every((e) => typeof e === 'string'))) problems.push('validation_errors is not a list of strings');
  const createdAt = typeof object.created_at === 'string' ? object.created_at : '';
  // ISO-8601 with an explicit zone: a zone-less time would be read as local time
  const createdAtMs = zonedTimeMs(createdAt);
  if (typeof object.created_at === 'string' && Number.isNaN(createdAtMs)) problems.push(`created_at ${showValue(createdAt)} is not an ISO-8601 time with a zone`);
  if (typeof object.db_size_bytes === 'number' && (!Number.isInteger(object.db_size_bytes) || object.db_size_bytes < 0)) problems.push('db_size_bytes is not a byte count');
  if (problems.length > 0) {
    return { result: check(id, 'fail', `${METADATA_FILE} does not have the contract's fields: ${problems.join('; ')}`, { file: METADATA_FILE, problems }), metadata: null };
  }
  const metadata: SnapshotMetadata = {
    createdAt,
    createdAtMs,
    backupRoot: object.backup_root as string,
    dbSnapshotPath: object.db_snapshot_path as string,
    dbSizeBytes: object.db_size_bytes as number,
    registrySnapshotPath: object.registry_snapshot_path as string,
    chromaSnapshotPath: object.chroma_snapshot_path as string,
    chromaIncluded: object.chroma_snapshot_included as boolean,
    chromaBytes: typeof object.chroma_snapshot_bytes === 'number' ? object.chroma_snapshot_bytes : null,
    chromaFiles: typeof object.chroma_snapshot_files === 'number' ? object.chroma_snapshot_files : null,
    validated: typeof object.validated === 'boolean' ? object.validated : null,
    validationErrors: Array.isArray(errorsField) ? (errorsField as string[]) : [],
  };
  const skewMs = Math.abs(createdAtMs - stampTime(stamp));
  if (skewMs > CREATED_AT_TOLERANCE_MS) {
    return { result: check(id, 'warn', `created_at ${clip(createdAt, 80)} is ${Math.round(skewMs / 1000)}s away from the stamp: a renamed directory?`, { created_at: clip(createdAt), stamp }), metadata };
  }
  if (metadata.validated === false) {
    return {
      result: check(id, 'warn', `AtoCore's own check when it made the snapshot failed: ${clip(oneLine(metadata.validationErrors.join('; ')), 500) || 'no errors listed'}`, { validated: false, validation_errors: boundedValue(metadata.validationErrors) }),
      metadata,
    };
  }
  return { result: check(id, 'pass', `created ${clip(createdAt, 80)}`, { created_at: clip(createdAt), validated: metadata.validated }), metadata };
}

/** Where a symlink inside the snapshot points, lexically; null when it leaves the snapshot. */
export function linkDestinationInside(linkPath: string, target: string): string | null {
  if (target.startsWith('/')) return null;
  const resolved = posix.normalize(posix.join(posix.dirname(linkPath), target));
  if (resolved === '..' || resolved.startsWith('../') || resolved === '.') return null;
  return resolved;
}

/**
 * snapshot.paths: every file is resolved inside the snapshot directory. The metadata's
 * recorded absolute paths are compared with where this snapshot is (another root: a copy,
 * reported, files still resolved inside; a path to somewhere else: a finding, never
 * followed); symlinks that leave the snapshot and special files are refused.
 */
export function checkPaths(stamp: SnapshotStamp, snapshotLocation: string, files: readonly StoreEntry[], metadata: SnapshotMetadata | null): CheckResult {
  const id = 'snapshot.paths';
  const failures: string[] = [];
  const warnings: string[] = [];
  const evidence: Record<string, unknown> = {};
  const leaving: Array<{ path: string; target: string | null }> = [];
  const inside: Array<{ path: string; target: string | null }> = [];
  const unsafe: string[] = [];
  for (const entry of files) {
    if (entry.type === 'symlink') {
      const destination = linkDestinationInside(entry.path, entry.linkTarget ?? '');
      (destination === null ? leaving : inside).push({ path: clip(entry.path), target: entry.linkTarget === null ? null : clip(entry.linkTarget) });
    }
    if (!isSafeSnapshotPath(entry.path)) unsafe.push(JSON.stringify(clip(entry.path, 120)));
  }
  // special files (FIFOs, devices, sockets) are snapshot.file_types' finding
  if (unsafe.length > 0) {
    warnings.push(`${unsafe.length} name(s) with characters outside the safe set (or not UTF-8); not read: ${firstFew(unsafe)}`);
    evidence.unsafe_names = unsafe.slice(0, 50);
  }
  if (leaving.length > 0) {
    failures.push(`${leaving.length} symlink(s) leave the snapshot (refused, not followed): ${firstFew(leaving.map((l) => `${l.path} → ${l.target}`))}`);
    evidence.symlinks_leaving = leaving.slice(0, 50);
  }
  if (inside.length > 0) {
    warnings.push(`${inside.length} symlink(s) inside the snapshot (AtoCore writes none; not followed): ${firstFew(inside.map((l) => l.path))}`);
    evidence.symlinks_inside = inside.slice(0, 50);
  }
  if (metadata) {
    const root = metadata.backupRoot.replace(/\/+$/, '');
    evidence.recorded_backup_root = clip(metadata.backupRoot);
    evidence.snapshot_location = snapshotLocation;
    if (posix.basename(root) !== stamp) {
      failures.push(`backup_root ${showValue(metadata.backupRoot)} names another snapshot than ${stamp}`);
    } else if (root !== snapshotLocation) {
      warnings.push(`the metadata was written at another root (${clip(root)}): a copy from elsewhere; its files are resolved inside ${snapshotLocation}`);
      evidence.relocated = true;
    }
    const recorded: Array<[string, string, string]> = [
      ['db_snapshot_path', metadata.dbSnapshotPath, DB_FILE],
      ['registry_snapshot_path', metadata.registrySnapshotPath, REGISTRY_FILE],
      ['chroma_snapshot_path', metadata.chromaSnapshotPath, CHROMA_DIR],
    ];
    const outside: Array<{ field: string; recorded: string; expected: string }> = [];
    for (const [field, value, relative] of recorded) {
      if (value === '' && field !== 'db_snapshot_path') continue;
      if (value.replace(/\/+$/, '') !== `${root}/${relative}`) outside.push({ field, recorded: clip(value), expected: clip(`${root}/${relative}`) });
    }
    if (outside.length > 0) {
      failures.push(`recorded path(s) point outside this snapshot (not followed): ${outside.map((o) => `${o.field}=${clip(o.recorded, 120)}`).join(', ')}`);
      evidence.recorded_paths_outside = outside;
    }
  }
  if (failures.length > 0) return check(id, 'fail', failures.join('; '), { ...evidence, warnings });
  if (warnings.length > 0) return check(id, 'warn', warnings.join('; '), evidence);
  return check(id, 'pass', `${files.length} entries, all inside the snapshot`, evidence);
}

export interface DatabaseVerdict {
  readonly integrity: IntegrityResult;
  readonly foreignKeys: ForeignKeyResult;
  readonly error: string | null;
}

/**
 * snapshot.integrity: the database is whole and sound. Its size against the metadata and
 * its first 100 bytes (an SQLite header whose page size and page count fit the file) are
 * always checked: cheap, and they catch truncation and a file that is not a database at
 * all. integrity_check and foreign_key_check run on the harness's own copy when it has one
 * (locally, or over SSH with --deep). `head` is the file's first bytes as read (null: not read).
 */
export function checkIntegrity(
  files: readonly StoreEntry[],
  metadata: SnapshotMetadata | null,
  head: ReadOutcome | null,
  inspected: DatabaseVerdict | null,
  notInspectedReason: string,
): CheckResult {
  const id = 'snapshot.integrity';
  const entry = entryAt(files, DB_FILE);
  if (!entry) return check(id, 'fail', `${DB_FILE} is missing`, { file: DB_FILE });
  if (entry.type !== 'file') return check(id, 'fail', `${DB_FILE} is ${describeEntry(entry)}; refused`, { file: DB_FILE, type: entry.type, link_target: entry.linkTarget });
  const evidence: Record<string, unknown> = { size_bytes: entry.size };
  if (metadata) evidence.recorded_size_bytes = metadata.dbSizeBytes;
  const sidecars = files.filter((f) => f.path === `${DB_FILE}-wal` || f.path === `${DB_FILE}-shm`).map((f) => f.path);
  if (sidecars.length > 0) evidence.sidecars = sidecars;
  if (entry.allocatedBytes !== undefined) evidence.allocated_bytes = entry.allocatedBytes;
  if (metadata && metadata.dbSizeBytes !== entry.size) {
    const how = entry.size < metadata.dbSizeBytes ? 'truncated' : 'grown or rewritten';
    return check(id, 'fail', `${DB_FILE} is ${entry.size} bytes; the metadata recorded ${metadata.dbSizeBytes} (${how}; not copied)`, evidence);
  }
  // whatever else is known: a file that is not an SQLite database of this size restores nothing
  const header = head === null ? null : head.ok ? judgeSqliteHeader(head.data, entry.size) : ({ ok: false, problem: head.reason } as const);
  if (header && !header.ok) return check(id, 'fail', `${DB_FILE}: ${header.problem}`, { ...evidence, sqlite_header: clip(header.problem) });
  if (header) Object.assign(evidence, { sqlite_header: SQLITE_HEADER_OK, page_size: header.header.pageSize, page_count: header.header.pageCount });
  else evidence.sqlite_header = 'not read';
  if (isSparse(entry)) {
    return check(
      id,
      'warn',
      `${DB_FILE} claims ${entry.size} bytes but only ${entry.allocatedBytes} are on disk: mostly holes, which SQLite's backup never writes; not copied, integrity_check not run, so it never counts as a usable snapshot`,
      evidence,
    );
  }
  if (!inspected) {
    const known = [...(metadata ? ['the size matches the metadata'] : []), header ? `the header is SQLite's (${describeHeader(header.header)})` : 'the header was not read'];
    return check(id, 'skip', `${notInspectedReason}; ${known.join(', ')}`, evidence);
  }
  if (inspected.error && !inspected.integrity.ok) {
    return check(id, 'fail', `the database does not open: ${clip(oneLine(inspected.integrity.messages[0] ?? inspected.error), 500)}`, { ...evidence, integrity_check: boundedValue(inspected.integrity.messages) });
  }
  if (!inspected.integrity.ok) {
    return check(id, 'fail', `integrity_check: ${clip(oneLine(inspected.integrity.messages.slice(0, 3).join('; ')), 500)}`, { ...evidence, integrity_check: boundedValue(inspected.integrity.messages) });
  }
  if (!inspected.foreignKeys.ok) {
    return check(id, 'fail', `foreign_key_check: ${inspected.foreignKeys.violations.length} violation(s)`, { ...evidence, foreign_key_violations: inspected.foreignKeys.violations });
  }
  if (inspected.error) return check(id, 'fail', `inspection failed: ${clip(oneLine(inspected.error), 500)}`, evidence);
  return check(id, 'pass', 'integrity_check ok, no foreign key violations (the harness\'s own copy)', evidence);
}

/** snapshot.integrity's evidence when the first 100 bytes are an SQLite header that fits the file. */
const SQLITE_HEADER_OK = 'ok';

function describeHeader(header: SqliteHeaderFacts): string {
  return header.pageCount === null ? `${header.pageSize}-byte pages` : `${header.pageCount} pages of ${header.pageSize} bytes`;
}

/**
 * Whether snapshot.integrity shows a database a restore could use, as rpo.fresh counts
 * snapshots: verified (pass), or simply not deep-checked this run while its size and SQLite
 * header are right (skip). A database that could not be verified at all (mostly holes:
 * never copied, so never checked, warn) or that failed does not count.
 */
export function integrityShowsUsable(integrity: CheckResult | undefined): boolean {
  if (!integrity) return false;
  if (integrity.status === 'pass') return true;
  return integrity.status === 'skip' && integrity.evidence.sqlite_header === SQLITE_HEADER_OK;
}

/** snapshot.atocore_validate: AtoCore's own validator said `"valid": true` (absent is not valid). Null: it could not run. */
export function checkAtoCoreValidate(stamp: SnapshotStamp, run: ValidatorRun): { result: CheckResult | null; couldNotRun: string | null } {
  const id = 'snapshot.atocore_validate';
  if (run.couldNotRun) return { result: null, couldNotRun: run.couldNotRun };
  const answer = lastJsonObject(run.stdout);
  if (!answer) {
    return { result: null, couldNotRun: `printed no JSON object (exit ${run.exitCode}): ${run.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 400)}` };
  }
  const evidence = {
    exit_code: run.exitCode,
    duration_ms: run.durationMs,
    errors: boundedValue(answer.errors ?? null),
    valid: boundedValue(answer.valid ?? null),
    db_ok: boundedValue(answer.db_ok ?? null),
    registry_ok: boundedValue(answer.registry_ok ?? null),
    chroma_ok: boundedValue(answer.chroma_ok ?? null),
  };
  if (answer.stamp !== undefined && answer.stamp !== stamp) return { result: check(id, 'fail', `the validator answered for ${showValue(answer.stamp)}, not ${stamp}`, evidence), couldNotRun: null };
  if (answer.valid === true) return { result: check(id, 'pass', 'AtoCore\'s validator says valid', evidence), couldNotRun: null };
  const errors = Array.isArray(answer.errors) ? (answer.errors as unknown[]).slice(0, 20).map((e) => (typeof e === 'string' ? clip(e) : showValue(e))) : [];
  const why = errors.length > 0 ? errors.join('; ') : answer.valid === undefined ? 'no "valid" key in its answer' : '"valid" is not true';
  return { result: check(id, 'fail', `AtoCore's validator says invalid: ${oneLine(why).slice(0, 500)}`, evidence), couldNotRun: null };
}

/** snapshot.registry: the registry the metadata says was captured is there, a regular file, valid JSON with a projects list. */
export function checkRegistry(files: readonly StoreEntry[], metadata: SnapshotMetadata | null, read: ReadOutcome | null): CheckResult {
  const id = 'snapshot.registry';
  const entry = entryAt(files, REGISTRY_FILE);
  const captured = metadata ? metadata.registrySnapshotPath !== '' : entry !== undefined;
  if (!captured) {
    if (entry) return check(id, 'warn', `${REGISTRY_FILE} is there but the metadata says no registry was captured`, { file: REGISTRY_FILE });
    return check(id, 'pass', 'no registry captured (AtoCore had no registry file)', {});
  }
  if (!entry) return check(id, 'fail', `the metadata says a registry was captured, but ${REGISTRY_FILE} is missing`, { file: REGISTRY_FILE });
  if (entry.type !== 'file') return check(id, 'fail', `${REGISTRY_FILE} is ${describeEntry(entry)}; not read`, { file: REGISTRY_FILE, type: entry.type, link_target: entry.linkTarget });
  if (!read) return check(id, 'skip', `${REGISTRY_FILE} was not read`, {});
  if (!read.ok) return check(id, 'fail', `${REGISTRY_FILE}: ${read.reason}`, { file: REGISTRY_FILE });
  const parsed = parseUntrustedJson(read.data.toString('utf8'));
  if (!parsed.ok) return check(id, 'fail', `${REGISTRY_FILE} is ${clip(oneLine(parsed.reason))}`, { file: REGISTRY_FILE, bytes: read.data.length });
  const value = parsed.value;
  const projects = value !== null && typeof value === 'object' ? (value as { projects?: unknown }).projects : undefined;
  if (!Array.isArray(projects)) return check(id, 'warn', `${REGISTRY_FILE} is JSON but has no "projects" list`, { file: REGISTRY_FILE });
  const bad = projects.flatMap((project, index) => (projectId(project) === null ? [index] : []));
  if (bad.length > 0) {
    return check(id, 'fail', `${REGISTRY_FILE}: ${bad.length} of ${projects.length} project(s) are not objects with a string "id" (first at index ${bad[0]}: ${showValue(projects[bad[0]!])})`, {
      file: REGISTRY_FILE,
      projects: projects.length,
      bad_entries: bad.length,
      first_bad: bad.slice(0, 10).map((index) => ({ index, entry: boundedValue(projects[index], 2) })),
    });
  }
  const ids = projects.map((p) => projectId(p)!);
  return check(id, 'pass', `${projects.length} project(s)`, { projects: ids.slice(0, 50).map((p) => clip(p, 120)) });
}

/** A registry entry's id: AtoCore looks projects up by it, so an entry without one is no project. */
function projectId(entry: unknown): string | null {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return null;
  const value = (entry as { id?: unknown }).id;
  return typeof value === 'string' ? value : null;
}

/** snapshot.chroma: when the metadata says Chroma was included, the directory is there with the files and bytes it claims. */
export function checkChroma(files: readonly StoreEntry[], metadata: SnapshotMetadata | null): CheckResult {
  const id = 'snapshot.chroma';
  const dir = entryAt(files, CHROMA_DIR);
  const chromaFiles = files.filter((f) => f.path.startsWith(`${CHROMA_DIR}/`) && f.type === 'file');
  const bytes = chromaFiles.reduce((sum, f) => sum + f.size, 0);
  const evidence: Record<string, unknown> = { files: chromaFiles.length, bytes };
  if (!metadata) return check(id, 'skip', 'no usable metadata to say whether Chroma was included', evidence);
  evidence.recorded_files = metadata.chromaFiles;
  evidence.recorded_bytes = metadata.chromaBytes;
  if (!metadata.chromaIncluded) {
    if (dir) return check(id, 'warn', `${CHROMA_DIR}/ is there but the metadata says Chroma was not included`, evidence);
    return check(id, 'pass', 'Chroma not included in this snapshot', evidence);
  }
  if (!dir) {
    const quirk = metadata.chromaSnapshotPath === '' ? ' (chroma_snapshot_path is empty: nothing was copied although the flag says included)' : '';
    return check(id, 'fail', `the metadata says Chroma was included, but ${CHROMA_DIR}/ is missing${quirk}`, evidence);
  }
  if (dir.type !== 'dir') return check(id, 'fail', `${CHROMA_DIR} is ${describeEntry(dir)}; refused`, { ...evidence, type: dir.type, link_target: dir.linkTarget });
  const problems: string[] = [];
  if (metadata.chromaFiles !== null && metadata.chromaFiles !== chromaFiles.length) problems.push(`${chromaFiles.length} files, the metadata recorded ${metadata.chromaFiles}`);
  if (metadata.chromaBytes !== null && metadata.chromaBytes !== bytes) problems.push(`${bytes} bytes, the metadata recorded ${metadata.chromaBytes}`);
  if (chromaFiles.length === 0) problems.push('the directory holds no files');
  if (problems.length > 0) return check(id, 'fail', `${CHROMA_DIR}/: ${problems.join('; ')}`, evidence);
  return check(id, 'pass', `${chromaFiles.length} file(s), ${bytes} bytes, as recorded`, evidence);
}

/** The worst status of a snapshot's checks; skips decide nothing. */
export function snapshotStatus(checks: readonly CheckResult[]): 'pass' | 'warn' | 'fail' | 'skip' {
  if (checks.some((c) => c.status === 'fail')) return 'fail';
  if (checks.some((c) => c.status === 'warn')) return 'warn';
  if (checks.some((c) => c.status === 'pass')) return 'pass';
  return 'skip';
}

/** A database file this much larger than what the disk holds for it is mostly holes: SQLite's backup writes every page. */
const SPARSE_RATIO = 16;
const SPARSE_MIN_BYTES = 64 * 1024 * 1024;

/** Large and mostly holes (by the allocation the listing reports: lstat locally, find %b over SSH). */
export function isSparse(entry: StoreEntry): boolean {
  return entry.allocatedBytes !== undefined && entry.size >= SPARSE_MIN_BYTES && entry.allocatedBytes * SPARSE_RATIO < entry.size;
}

/**
 * snapshot.file_types: everything in the snapshot is a regular file, a directory or a
 * symlink (symlinks are snapshot.paths' to judge). A FIFO, socket or device is refused and
 * never opened: a FIFO blocks whoever reads it, a device may act when opened.
 */
export function checkFileTypes(files: readonly StoreEntry[]): CheckResult {
  const id = 'snapshot.file_types';
  const special = files.filter(isSpecialFile);
  if (special.length > 0) {
    const named = special.map((f) => `${JSON.stringify(clip(f.path, 120))} (${describeEntry(f)})`);
    return check(id, 'fail', `${special.length} entr${special.length === 1 ? 'y is' : 'ies are'} neither a regular file nor a directory; refused, never opened: ${firstFew(named)}`, {
      special: special.slice(0, 50).map((f) => ({ path: clip(f.path), type: f.type })),
    });
  }
  const links = files.filter((f) => f.type === 'symlink').length;
  return check(id, 'pass', `${files.length} entries: regular files and directories${links > 0 ? ` and ${links} symlink(s) (see snapshot.paths)` : ''}`, {});
}

/** Why the harness will not copy the database for integrity_check (null: it may), decided before any byte is read. */
export function databaseCopyRefusal(files: readonly StoreEntry[], metadata: SnapshotMetadata | null): string | null {
  const entry = entryAt(files, DB_FILE);
  if (!entry || entry.type !== 'file') return `${DB_FILE} is not a regular file`;
  if (metadata && metadata.dbSizeBytes !== entry.size) return `${DB_FILE} is not the size the metadata recorded`;
  if (isSparse(entry)) return `${DB_FILE} is mostly holes`;
  return null;
}

/**
 * Why AtoCore's validator must not be run on a snapshot (null: it may). It opens the
 * database read-write: it would follow a link, block on a FIFO, and merge a `-wal` or replay
 * a journal into the snapshot's database file, changing the very thing being judged.
 */
export function validatorRefusal(files: readonly StoreEntry[], sidecarPaths: readonly string[]): string | null {
  const entry = entryAt(files, DB_FILE);
  if (entry && entry.type !== 'file') return `${DB_FILE} is ${describeEntry(entry)}`;
  if (files.some(isSpecialFile)) return 'the snapshot holds special files it would open (see snapshot.file_types)';
  const sidecars = files.filter((f) => sidecarPaths.includes(f.path)).map((f) => f.path);
  if (sidecars.length > 0) return `it would merge ${sidecars.join(', ')} into the snapshot's database (see snapshot.sidecars)`;
  return null;
}
