/**
 * The drill's checks: small pure functions from what was observed to a CheckResult.
 * Nothing here does I/O; the runner gathers the observations.
 */
import { zonedTimeMs } from '../../common/zoned-time.js';
import type { BackupCliCall, BackupMetadata, RestoreAnswer, ValidateAnswer } from '../backup-cli.js';
import { summarizeBackupCliCall } from '../backup-cli.js';
import { describeProcessResult } from '../../common/child-process.js';
import { formatDuration } from '../../common/duration.js';
import { stampTime, type SnapshotStamp } from '../stamp.js';
import { fingerprintDifferences, type DbFingerprint, type DbInspection } from '../../sqlite/inspect.js';
import { whyNotEvidence } from '../../engine/classification.js';
import { treeDifferences } from '../../engine/files.js';
import { check, type CheckResult } from '../../report/model.js';

export interface SnapshotObservation {
  readonly answer: BackupMetadata;
  readonly stamp: SnapshotStamp | null;
  readonly snapshotDir: string | null;
  readonly metadataOnDisk: boolean;
  readonly dbBytesOnDisk: number | null;
  readonly chromaRequested: boolean;
  readonly chromaFilesOnDisk: number | null;
  /** when the harness asked for the backup, and when the answer came (its own clock) */
  readonly requestedAtMs: number;
  readonly answeredAtMs: number;
}

/**
 * How far the backup's own time may lie outside the request's window: one-second stamps, and
 * a service clock that is not the harness's (a container on a VM, as Docker Desktop runs it,
 * drifts by seconds). A misdated backup is hours or years off; a minute is also what
 * validation allows between a snapshot's stamp and its created_at.
 */
const BACKUP_TIME_TOLERANCE_MS = 60_000;

/**
 * When the backup was made, for the RPO: the answer's created_at (or, without one, its stamp)
 * when that is a time with a zone inside the window in which the harness asked for it and got
 * the answer. Anything else (a zone-less time, local time labelled UTC, a date years away) is
 * not when it was made: the moment the harness asked stands in (the earliest the backup can
 * be, so the RPO is never understated, never negative), and `problem` says why.
 */
export function backupMoment(answer: BackupMetadata, stamp: SnapshotStamp, requestedAtMs: number, answeredAtMs: number): { ms: number; problem: string | null } {
  const claimed = typeof answer.created_at === 'string' ? answer.created_at : null;
  const named = claimed === null ? `its stamp ${stamp}` : `its created_at ${JSON.stringify(claimed.slice(0, 80))}`;
  const ms = claimed === null ? stampTime(stamp) : zonedTimeMs(claimed);
  const fallback = (why: string): { ms: number; problem: string } => ({ ms: requestedAtMs, problem: `${named} ${why}; the RPO counts from when the harness asked for the backup` });
  if (Number.isNaN(ms)) return fallback('is not an ISO-8601 time with a zone');
  if (ms < requestedAtMs - BACKUP_TIME_TOLERANCE_MS) return fallback(`is ${formatDuration(requestedAtMs - ms)} before the harness asked for the backup (${new Date(requestedAtMs).toISOString()})`);
  if (ms > answeredAtMs + BACKUP_TIME_TOLERANCE_MS) return fallback(`is ${formatDuration(ms - answeredAtMs)} after AtoCore answered (${new Date(answeredAtMs).toISOString()})`);
  return { ms: Math.min(Math.max(ms, requestedAtMs), answeredAtMs), problem: null };
}

export function backupCreatedCheck(o: SnapshotObservation): CheckResult {
  const evidence = { stamp: o.stamp, snapshot_dir: o.snapshotDir, answer: o.answer };
  if (!o.stamp) return check('backup.created', 'fail', `the backup answer names no snapshot directory with a stamp (backup_root: ${String(o.answer.backup_root)})`, evidence);
  const problems: string[] = [];
  if (!o.metadataOnDisk) problems.push('backup-metadata.json is missing');
  if (o.dbBytesOnDisk === null) problems.push('db/atocore.db is missing');
  else if (o.dbBytesOnDisk === 0) problems.push('db/atocore.db is empty');
  else if (typeof o.answer.db_size_bytes === 'number' && o.answer.db_size_bytes !== o.dbBytesOnDisk) {
    problems.push(`db_size_bytes says ${o.answer.db_size_bytes} but the file has ${o.dbBytesOnDisk}`);
  }
  if (o.chromaRequested) {
    if (o.chromaFilesOnDisk === null || o.chromaFilesOnDisk === 0) problems.push('Chroma was requested but the snapshot has no chroma/ files');
    else if (typeof o.answer.chroma_snapshot_files === 'number' && o.answer.chroma_snapshot_files !== o.chromaFilesOnDisk) {
      problems.push(`chroma_snapshot_files says ${o.answer.chroma_snapshot_files} but ${o.chromaFilesOnDisk} files are there`);
    }
  }
  if (problems.length > 0) return check('backup.created', 'fail', `snapshot ${o.stamp}: ${problems.join('; ')}`, { ...evidence, problems });
  const written = `snapshot ${o.stamp} written (${o.dbBytesOnDisk} bytes of database${o.chromaRequested ? `, ${o.chromaFilesOnDisk} Chroma files` : ''})`;
  // a backup that misstates when it was made misleads every RPO figure read from it
  const moment = backupMoment(o.answer, o.stamp, o.requestedAtMs, o.answeredAtMs);
  if (moment.problem) return check('backup.created', 'warn', `${written}, but ${moment.problem}`, { ...evidence, requested_at: new Date(o.requestedAtMs).toISOString(), answered_at: new Date(o.answeredAtMs).toISOString() });
  return check('backup.created', 'pass', written, evidence);
}

/** AtoCore's own validator. `valid` absent is not valid; exit 0 does not mean valid. */
export function backupValidCheck(call: BackupCliCall, stamp: string): CheckResult {
  const answer = call.json as ValidateAnswer | undefined;
  const evidence = summarizeBackupCliCall(call);
  const unknown = whyNotEvidence(call.result, `AtoCore's validate ${stamp}`);
  if (unknown) return check('backup.valid', 'skip', `not evaluated: ${unknown}`, evidence);
  if (!answer) return check('backup.valid', 'fail', `AtoCore's validate ${stamp} printed no JSON (${describeProcessResult(call.result)})`, evidence);
  if (answer.valid !== true) {
    const errors = Array.isArray(answer.errors) ? answer.errors : [];
    return check('backup.valid', 'fail', `AtoCore's validator rejects ${stamp}: ${errors.join('; ').replace(/\s*\n\s*/g, ' ') || `valid is ${JSON.stringify(answer.valid ?? 'absent')}`}`, evidence);
  }
  return check('backup.valid', 'pass', `AtoCore's validator accepts ${stamp}`, evidence);
}

function describeInspection(inspection: DbInspection): string {
  if (inspection.error && !inspection.fingerprint) return inspection.error;
  const parts: string[] = [];
  if (!inspection.integrity.ok) parts.push(`integrity_check: ${inspection.integrity.messages.slice(0, 3).join('; ').replace(/\s*\n\s*/g, ' ')}`);
  if (!inspection.foreignKeys.ok) parts.push(`${inspection.foreignKeys.violations.length} foreign key violation(s)`);
  if (inspection.error) parts.push(inspection.error);
  return parts.join('; ');
}

function inspectionEvidence(inspection: DbInspection): Record<string, unknown> {
  return {
    path: inspection.path,
    integrity_check: inspection.integrity.messages,
    foreign_key_violations: inspection.foreignKeys.violations,
    error: inspection.error,
    tables: inspection.fingerprint?.tables ?? null,
  };
}

export function independentIntegrityCheck(inspection: DbInspection, stamp: string): CheckResult {
  if (!inspection.ok) return check('backup.independent_integrity', 'fail', `the snapshot database of ${stamp} is damaged: ${describeInspection(inspection)}`, inspectionEvidence(inspection));
  return check('backup.independent_integrity', 'pass', `integrity_check ok and no foreign key violations in ${stamp} (read from a private copy)`, inspectionEvidence(inspection));
}

export interface StateChanges {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
}

export function refusalCheck(call: BackupCliCall, changes: StateChanges): CheckResult {
  const changedAnything = changes.added.length + changes.removed.length + changes.changed.length > 0;
  const evidence = { ...summarizeBackupCliCall(call), changes };
  // a refusal is an exit status other than 0; the runner never passes a call that was
  // interrupted, timed out or killed from outside (src/engine/classification.ts)
  const unknown = whyNotEvidence(call.result, 'restore without --confirm-service-stopped');
  if (unknown) return check('restore.refuses_without_confirm', 'skip', `not evaluated: ${unknown}`, evidence);
  const refused = typeof call.result.exitCode === 'number' && call.result.exitCode !== 0 && call.result.signal === null;
  if (!refused) {
    return check('restore.refuses_without_confirm', 'fail', `restore without --confirm-service-stopped did not refuse (${describeProcessResult(call.result)})${changedAnything ? ' and changed files' : ''}`, evidence);
  }
  if (changedAnything) {
    return check('restore.refuses_without_confirm', 'fail', `restore without --confirm-service-stopped exited ${call.result.exitCode} but changed files: ${[...changes.added, ...changes.removed, ...changes.changed].slice(0, 5).join(', ')}`, evidence);
  }
  return check('restore.refuses_without_confirm', 'pass', `refused (exit ${call.result.exitCode}) and changed nothing`, evidence);
}

export function restoreIntegrityCheck(inspection: DbInspection, answer: RestoreAnswer): CheckResult {
  const evidence = { ...inspectionEvidence(inspection), atocore_says_integrity_ok: answer.restored_integrity_ok ?? null };
  if (!inspection.ok) return check('restore.integrity', 'fail', `the restored database is damaged: ${describeInspection(inspection)}`, evidence);
  return check('restore.integrity', 'pass', 'the restored database passes integrity_check and foreign_key_check', evidence);
}

export interface PreRestoreObservation {
  readonly reported: unknown;
  readonly backupStamp: string;
  readonly snapshotExists: boolean;
  readonly inspection: DbInspection | null;
  /** the live database as it was just before the confirmed restore */
  readonly before: DbFingerprint | null;
  readonly markerBBefore: boolean;
  readonly markerBInSnapshot: boolean;
}

export function preRestoreSnapshotCheck(o: PreRestoreObservation): CheckResult {
  const evidence: Record<string, unknown> = { pre_restore_snapshot: o.reported, backup_stamp: o.backupStamp };
  if (typeof o.reported !== 'string' || o.reported === '') {
    return check('restore.pre_restore_snapshot', 'fail', 'restore reported no pre-restore safety snapshot', evidence);
  }
  if (o.reported === o.backupStamp) {
    return check('restore.pre_restore_snapshot', 'fail', `the pre-restore snapshot has the stamp of the backup being restored (${o.backupStamp}): it was written into that backup`, evidence);
  }
  if (!o.snapshotExists) return check('restore.pre_restore_snapshot', 'fail', `the pre-restore snapshot ${o.reported} is not in snapshots/`, evidence);
  if (!o.inspection?.fingerprint || !o.inspection.ok) {
    return check('restore.pre_restore_snapshot', 'fail', `the pre-restore snapshot ${o.reported} does not open cleanly: ${(o.inspection?.error ?? o.inspection?.integrity.messages.join('; ') ?? '').replace(/\s*\n\s*/g, ' ')}`, evidence);
  }
  if (o.before) {
    const differences = fingerprintDifferences(o.before, o.inspection.fingerprint);
    if (differences.length > 0) {
      return check('restore.pre_restore_snapshot', 'fail', `the pre-restore snapshot ${o.reported} does not hold the state it replaced`, { ...evidence, differences });
    }
  }
  if (o.markerBBefore && !o.markerBInSnapshot) {
    return check('restore.pre_restore_snapshot', 'fail', `marker B was live before the restore but is not in the pre-restore snapshot ${o.reported}`, evidence);
  }
  return check('restore.pre_restore_snapshot', 'pass', `pre-restore snapshot ${o.reported} holds the replaced state${o.markerBBefore ? ' (marker B included)' : ''}`, evidence);
}

export function markerPreBackupCheck(marker: string, inSnapshot: boolean, inRestored: boolean): CheckResult {
  const evidence = { marker, in_snapshot: inSnapshot, in_restored_db: inRestored };
  if (!inSnapshot) return check('marker.pre_backup_present', 'fail', 'marker A, written before the backup, is missing from the snapshot database', evidence);
  if (!inRestored) return check('marker.pre_backup_present', 'fail', 'marker A is in the snapshot but missing from the restored database', evidence);
  return check('marker.pre_backup_present', 'pass', 'marker A is in the snapshot and back after the restore', evidence);
}

export function markerPostBackupGoneCheck(marker: string, liveBeforeRestore: boolean, inRestored: boolean): CheckResult {
  const evidence = { marker, live_before_restore: liveBeforeRestore, in_restored_db: inRestored };
  if (!liveBeforeRestore) return check('marker.post_backup_gone', 'fail', 'marker B was not in the live database before the restore, so its absence proves nothing', evidence);
  if (inRestored) return check('marker.post_backup_gone', 'fail', 'marker B, written after the backup, is still in the database after the restore: the database was not restored', evidence);
  return check('marker.post_backup_gone', 'pass', 'marker B, written after the backup, is gone after the restore', evidence);
}

export interface RegistryObservation {
  readonly baselineSha256: string | null;
  readonly restoredSha256: string | null;
  readonly markerAId: string;
  readonly markerBId: string;
  readonly restoredIds: readonly string[] | null;
  readonly reported: unknown;
}

export function registryRestoredCheck(o: RegistryObservation): CheckResult {
  const hasA = o.restoredIds?.includes(o.markerAId) ?? false;
  const hasB = o.restoredIds?.includes(o.markerBId) ?? false;
  const evidence = { baseline_sha256: o.baselineSha256, restored_sha256: o.restoredSha256, marker_a_present: hasA, marker_b_present: hasB, atocore_says_registry_restored: o.reported ?? null };
  if (o.restoredSha256 === null) return check('registry.restored', 'fail', 'the project registry is missing or unreadable after the restore', evidence);
  if (hasB) return check('registry.restored', 'fail', 'the registry entry written after the backup (marker B) is still there: the registry was not restored', evidence);
  if (!hasA) return check('registry.restored', 'fail', 'the registry entry written before the backup (marker A) is missing after the restore', evidence);
  if (o.restoredSha256 !== o.baselineSha256) return check('registry.restored', 'fail', 'the restored registry differs from the one at backup time', evidence);
  return check('registry.restored', 'pass', 'the registry is byte-identical to the one at backup time', evidence);
}

export function chromaRestoredCheck(baseline: Record<string, string>, restored: Record<string, string>, markerA: string, markerB: string, reported: unknown): CheckResult {
  const differences = treeDifferences(baseline, restored);
  const evidence = { ...differences, files_at_backup: Object.keys(baseline).length, files_restored: Object.keys(restored).length, atocore_says_chroma_restored: reported ?? null };
  if (markerB in restored) return check('chroma.restored', 'fail', `the Chroma file written after the backup (${markerB}) is still there${reported === true ? ', although AtoCore says chroma_restored: true' : ''}`, evidence);
  if (!(markerA in restored)) return check('chroma.restored', 'fail', `the Chroma file written before the backup (${markerA}) is missing after the restore`, evidence);
  if (differences.added.length + differences.removed.length + differences.changed.length > 0) {
    return check('chroma.restored', 'fail', 'the restored Chroma directory differs from the one at backup time', evidence);
  }
  return check('chroma.restored', 'pass', `all ${Object.keys(baseline).length} Chroma files are back, byte-identical`, evidence);
}

export function baselineIntactCheck(baseline: DbFingerprint, restored: DbFingerprint | null): CheckResult {
  if (!restored) return check('baseline.intact', 'fail', 'the restored database could not be fingerprinted', {});
  const differences = fingerprintDifferences(baseline, restored);
  const evidence = { baseline_sha256: baseline.contentSha256, restored_sha256: restored.contentSha256, differences };
  if (differences.length > 0) {
    const names = differences.map((d) => d.table ?? 'schema').join(', ');
    return check('baseline.intact', 'fail', `the restored database differs from the state at backup time in: ${names}`, evidence);
  }
  return check('baseline.intact', 'pass', `every table's rows and content equal the state at backup time (${Object.keys(baseline.tables).length} tables)`, evidence);
}

export function serviceHealthCheck(answer: { status: number; body: unknown } | null, error: string | null, logs: string): CheckResult {
  if (!answer) return check('service.health', 'fail', `AtoCore did not come back after the restore: ${error}`, { logs_tail: logs.slice(-3_000) });
  const body = (answer.body ?? {}) as Record<string, unknown>;
  return check('service.health', 'pass', `GET /health answered 200 (version ${String(body.version ?? 'unknown')})`, { health: body });
}

/** /stats key names vary between AtoCore versions; these are the ones the harness understands. */
function firstNumber(record: Record<string, unknown>, keys: readonly string[]): number | null {
  for (const key of keys) if (typeof record[key] === 'number') return record[key];
  return null;
}

/** The counts a /stats answer reports, by whichever key names the harness understands (null: not reported). */
export function statCountsOf(stats: Record<string, unknown>): { documents: number | null; chunks: number | null; memories: number | null } {
  return {
    documents: firstNumber(stats, ['documents', 'source_documents', 'total_documents']),
    chunks: firstNumber(stats, ['chunks', 'source_chunks', 'total_chunks']),
    memories: firstNumber(stats, ['memories', 'total_memories']),
  };
}

export function serviceStatsCheck(stats: Record<string, unknown>, expected: { documents: number; chunks: number; memories: number }): CheckResult {
  const actual = statCountsOf(stats);
  const evidence = { expected, reported: actual, stats };
  const wrong = (Object.keys(expected) as Array<keyof typeof expected>).filter((key) => actual[key] !== expected[key]);
  if (wrong.length > 0) {
    return check('service.stats', 'fail', `/stats disagrees with the restored data: ${wrong.map((k) => `${k} ${actual[k]} (expected ${expected[k]})`).join(', ')}`, evidence);
  }
  return check('service.stats', 'pass', `/stats reports ${expected.documents} documents, ${expected.chunks} chunks, ${expected.memories} memories, as on disk`, evidence);
}

/** The project ids a /projects answer lists (`{"projects": [...]}`, entries as ids or objects); null: not that shape. */
export function servedProjectIds(answer: unknown): string[] | null {
  const list = (answer as { projects?: unknown } | null)?.projects;
  return Array.isArray(list) ? list.map((p) => (typeof p === 'string' ? p : String((p as { id?: unknown })?.id ?? (p as { name?: unknown })?.name))) : null;
}

export function serviceProjectsCheck(answer: unknown, onDisk: readonly string[], seeded: readonly string[]): CheckResult {
  const served = servedProjectIds(answer);
  const evidence = { served, on_disk: onDisk, seeded };
  if (!served) return check('service.projects', 'fail', '/projects did not answer {"projects": [...]}', evidence);
  const missingSeed = seeded.filter((id) => !served.includes(id));
  const differs = served.length !== onDisk.length || onDisk.some((id) => !served.includes(id));
  if (missingSeed.length > 0) return check('service.projects', 'fail', `/projects lacks seeded projects: ${missingSeed.join(', ')}`, evidence);
  if (differs) return check('service.projects', 'fail', '/projects differs from the restored registry file', evidence);
  return check('service.projects', 'pass', `/projects lists the ${served.length} projects of the restored registry`, evidence);
}

/** Where a chunk can come from: a seeded document's path, or a registered project's ingest root. */
export interface SourceOwners {
  /** seeded document path (relative, POSIX) → project */
  readonly documents: ReadonlyMap<string, string>;
  /** ingest-root subpaths of the registry, each with its project */
  readonly roots: ReadonlyArray<{ readonly project: string; readonly subpath: string }>;
}

function segments(path: string): string[] {
  return path.split(/[\\/]+/).filter((part) => part !== '' && part !== '.');
}

function endsWithSegments(path: readonly string[], tail: readonly string[]): boolean {
  return tail.length > 0 && tail.length <= path.length && tail.every((part, i) => path[path.length - tail.length + i] === part);
}

function containsSegmentsBeforeLast(path: readonly string[], run: readonly string[]): boolean {
  for (let start = 0; start + run.length < path.length; start++) {
    if (run.every((part, i) => path[start + i] === part)) return true;
  }
  return false;
}

/**
 * The project a chunk belongs to, judged from its source file: a seeded document whose path
 * the source file ends with, else the registered project whose ingest root holds it (the
 * longest root wins). Real AtoCore may report absolute paths of its own host; only whole path
 * segments are compared. Null when nothing registered holds the file.
 */
export function projectOfSource(sourceFile: string, owners: SourceOwners): string | null {
  const path = segments(sourceFile);
  for (const [document, project] of owners.documents) if (endsWithSegments(path, segments(document))) return project;
  let best: { project: string; length: number } | null = null;
  for (const root of owners.roots) {
    const run = segments(root.subpath);
    if (run.length > 0 && containsSegmentsBeforeLast(path, run) && (!best || run.length > best.length)) best = { project: root.project, length: run.length };
  }
  return best?.project ?? null;
}

/** The owners of the seed's sources: its documents and its registry's ingest roots. */
export function sourceOwnersOf(documents: ReadonlyArray<{ file_path: string; project: string }>, projects: ReadonlyArray<{ id: string; [key: string]: unknown }>): SourceOwners {
  const roots: Array<{ project: string; subpath: string }> = [];
  for (const project of projects) {
    const declared = Array.isArray(project.ingest_roots) ? (project.ingest_roots as unknown[]) : [];
    for (const root of declared) {
      const subpath = (root as { subpath?: unknown } | null)?.subpath;
      if (typeof subpath === 'string' && subpath.trim() !== '') roots.push({ project: project.id, subpath });
    }
  }
  return { documents: new Map(documents.map((d) => [d.file_path, d.project])), roots };
}

export interface ContextProbeResult {
  readonly prompt: string;
  readonly project: string;
  /** chunks the answer says it used; null when it names no count and no chunk list */
  readonly chunksUsed: number | null;
  /** chunks attributed to the probe's project */
  readonly ownChunks: number;
  /** chunks attributed to another project */
  readonly foreignChunks: number;
  /** chunks whose source belongs to no registered project or seeded document */
  readonly unattributedChunks: number;
  /** up to a few source files that are foreign or unattributed, for the evidence */
  readonly strangers: readonly string[];
  readonly error: string | null;
}

/**
 * Reads a /context/build answer as AtoCore builds answer it: `chunks_used` is a list of chunk
 * objects (each with `source_file`) in real AtoCore, a number in older builds (with the chunks
 * under `chunks`, each with `project`). Only these fields are read; anything else is ignored.
 */
export function readContextAnswer(probe: { prompt: string; project: string }, answer: { status: number; body: unknown }, owners: SourceOwners): ContextProbeResult {
  const base = { prompt: probe.prompt, project: probe.project };
  if (answer.status !== 200) return { ...base, chunksUsed: null, ownChunks: 0, foreignChunks: 0, unattributedChunks: 0, strangers: [], error: `HTTP ${answer.status}` };
  const body = answer.body !== null && typeof answer.body === 'object' && !Array.isArray(answer.body) ? (answer.body as Record<string, unknown>) : {};
  const list = Array.isArray(body.chunks_used) ? body.chunks_used : Array.isArray(body.chunks) ? body.chunks : null;
  const chunksUsed = Array.isArray(body.chunks_used) ? body.chunks_used.length : typeof body.chunks_used === 'number' ? body.chunks_used : list ? list.length : null;
  let own = 0;
  let foreign = 0;
  let unattributed = 0;
  const strangers: string[] = [];
  for (const chunk of list ?? []) {
    const fields = chunk !== null && typeof chunk === 'object' ? (chunk as Record<string, unknown>) : {};
    const source = typeof fields.source_file === 'string' ? fields.source_file : typeof fields.file_path === 'string' ? fields.file_path : null;
    const project = source !== null ? projectOfSource(source, owners) : typeof fields.project === 'string' ? fields.project : null;
    if (project === probe.project) own++;
    else {
      if (project === null) unattributed++;
      else foreign++;
      if (strangers.length < 5) strangers.push((source ?? `project ${String(project)}`).slice(0, 300));
    }
  }
  return { ...base, chunksUsed, ownChunks: own, foreignChunks: foreign, unattributedChunks: unattributed, strangers, error: list === null && body.chunks_used === undefined ? 'the answer has no chunks_used' : null };
}

function contextProblem(r: ContextProbeResult): string | null {
  if (r.error !== null) return r.error;
  if (r.foreignChunks > 0) return `${r.foreignChunks} chunks from other projects (${r.strangers.join(', ')})`;
  if (r.unattributedChunks > 0) return `${r.unattributedChunks} chunks from sources no seeded project holds (${r.strangers.join(', ')})`;
  if (!r.chunksUsed || r.chunksUsed <= 0) return `no chunks (chunks_used ${r.chunksUsed})`;
  if (r.ownChunks === 0) return `${r.chunksUsed} chunks counted but none listed with its source, so none is shown to be the project's`;
  return null;
}

export function serviceContextCheck(results: readonly ContextProbeResult[]): CheckResult {
  const evidence = { probes: results };
  if (results.length === 0) return check('service.context', 'warn', 'the seed has no context probes, so /context/build was not exercised', evidence);
  const bad = results.map((r) => ({ r, problem: contextProblem(r) })).filter((x) => x.problem !== null);
  if (bad.length > 0) {
    return check('service.context', 'fail', `/context/build did not answer from the seed for ${bad.map((x) => `${x.r.project}: ${x.problem}`).join('; ')}`, evidence);
  }
  return check('service.context', 'pass', `/context/build answered ${results.length} seed prompts with chunks of the right project`, evidence);
}

export interface OwnedFile {
  readonly path: string;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
  /** the mode the file had before the restore; null for a file that was not there */
  readonly modeBefore: number | null;
}

/** Restored files keep the service user's owner and modes (a wrong owner keeps the service from starting). */
export function restoreOwnershipCheck(files: readonly OwnedFile[], owner: { uid: number; gid: number }): CheckResult {
  const wrong = files.filter((f) => f.uid !== owner.uid || f.gid !== owner.gid || (f.modeBefore !== null ? f.mode !== f.modeBefore : (f.mode & 0o600) !== 0o600));
  const show = (f: OwnedFile) => ({ path: f.path, owner: `${f.uid}:${f.gid}`, mode: f.mode.toString(8), mode_before: f.modeBefore === null ? null : f.modeBefore.toString(8) });
  const evidence = { service_owner: `${owner.uid}:${owner.gid}`, wrong: wrong.slice(0, 20).map(show), files_checked: files.length };
  if (wrong.length > 0) {
    const first = wrong[0]!;
    return check('restore.ownership', 'fail', `${wrong.length} restored file(s) lost the service user's owner or mode, e.g. ${first.path} is ${first.uid}:${first.gid} mode ${first.mode.toString(8)} (expected ${owner.uid}:${owner.gid}${first.modeBefore !== null ? ` mode ${first.modeBefore.toString(8)}` : ''})`, evidence);
  }
  return check('restore.ownership', 'pass', `${files.length} restored files are owned by ${owner.uid}:${owner.gid} with their modes kept`, evidence);
}

/** Tables and columns of `before` that `after` lacks: a migration that is not additive. */
export function missingSchema(before: DbFingerprint, after: DbFingerprint): string[] {
  const missing: string[] = [];
  for (const [table, columns] of Object.entries(before.columns)) {
    const now = after.columns[table];
    if (!now) missing.push(`table ${table}`);
    else for (const column of columns) if (!now.includes(column)) missing.push(`column ${table}.${column}`);
  }
  const indexes = (f: DbFingerprint) => f.schema.filter((o) => o.type === 'index').map((o) => o.name);
  for (const index of indexes(before)) if (!indexes(after).includes(index)) missing.push(`index ${index}`);
  return missing;
}

function addedSchema(before: DbFingerprint, after: DbFingerprint): string[] {
  return missingSchema(after, before);
}

export function upgradeHealthyCheck(image: string, error: string | null, logs: string): CheckResult {
  if (error) return check('migration.upgrade_healthy', 'fail', `the new image ${image} did not come up on the old data: ${error}`, { image, logs_tail: logs.slice(-3_000) });
  return check('migration.upgrade_healthy', 'pass', `the new image ${image} came up healthy on the old data`, { image });
}

export function schemaAdditiveCheck(before: DbFingerprint, after: DbFingerprint): CheckResult {
  const missing = missingSchema(before, after);
  const added = addedSchema(before, after);
  const evidence = { missing, added };
  if (missing.length > 0) return check('migration.schema_additive', 'fail', `the migration removed ${missing.join(', ')}: a rollback cannot be taken for granted`, evidence);
  if (added.length === 0) return check('migration.schema_additive', 'warn', 'the new image did not change the schema: is --image really the release with the migration?', evidence);
  return check('migration.schema_additive', 'pass', `additive migration: ${added.join(', ')}`, evidence);
}

/** The old schema's data, read through the old columns, is unchanged under the new image. */
export function dataPreservedCheck(before: DbFingerprint, oldColumnsUnderNew: DbFingerprint): CheckResult {
  const changed = Object.keys(before.tables).filter((t) => {
    const a = before.tables[t]!;
    const b = oldColumnsUnderNew.tables[t];
    return !b || a.rows !== b.rows || a.sha256 !== b.sha256;
  });
  const evidence = { changed: changed.map((t) => ({ table: t, rows_before: before.tables[t]?.rows, rows_after: oldColumnsUnderNew.tables[t]?.rows ?? null })) };
  if (changed.length > 0) return check('migration.data_preserved', 'fail', `the migration rewrote existing data in ${changed.join(', ')}: it is not reversible without the backup`, evidence);
  return check('migration.data_preserved', 'pass', `existing rows of all ${Object.keys(before.tables).length} tables are unchanged under the new schema`, evidence);
}

export function schemaRestoredCheck(snapshot: DbFingerprint, restored: DbFingerprint | null): CheckResult {
  if (!restored) return check('migration.schema_restored', 'fail', 'the restored database could not be read', {});
  const leftover = addedSchema(snapshot, restored);
  const missing = missingSchema(snapshot, restored);
  const evidence = { leftover, missing };
  if (leftover.length + missing.length > 0 || snapshot.schemaSha256 !== restored.schemaSha256) {
    return check('migration.schema_restored', 'fail', `after the rollback the schema is not the snapshot's: ${[...leftover.map((l) => `leftover ${l}`), ...missing.map((m) => `missing ${m}`)].join(', ') || 'definitions differ'}`, evidence);
  }
  return check('migration.schema_restored', 'pass', "the schema is exactly the snapshot's: no migrated table, column or index left behind", evidence);
}
