import { formatDuration } from '../../common/duration.js';
import { check, type CheckResult, type SnapshotReport } from '../../report/model.js';
import { FUTURE_SKEW_MS } from '../overall-checks.js';
import { clip, entryAt } from '../snapshot-checks.js';
import type { StoreEntry } from '../store.js';
import { CHROMA_DIR, COLLECTIONS_FILE, IPC_SECRET, KNOWLEDGE_TAR, AUTH_TAR, LATEST_LINK, NANOCLAW_DB, ORACLE_DB } from './layout.js';
import { checkBackupFileTypes, checkBackupPaths } from './checks.js';
import { latestTarget, type BackupDirectory, type RootListing } from './overall.js';

/**
 * A backup still being written. Both backup scripts name the directory when they start and
 * fill it part by part (`.ipc-secret` last); the corrected one moves `latest` onto it only at
 * the end. A validation that overlaps the 6-hourly run (a cron'd one) must not call that
 * backup broken, and a backup that never finished must not hide for ever. The rule, decided
 * here alone: a backup is in progress when
 *  - its name is at most IN_PROGRESS_WINDOW_MS before now (or within the clock skew after it),
 *  - it is newer than the backup `latest` names (every backup is, when the root has no
 *    `latest` link to one of its backups: the plan's scripts write none), and
 *  - its listing lacks a part the scripts write (a complete directory is judged as any other),
 *    or the listing fails twice (entries vanish while a run writes; a failed run removes its
 *    directory; umask 077 keeps a reading account out of it).
 * Such a backup is listed, never read, reported as `jellycore.backup.in_progress` (skip) and
 * not counted as a restore point; what its listing shows is still judged (a link leaving it,
 * a FIFO: the scripts write neither, finished or not), so nothing hides there. Older than the
 * window it is judged like any backup: an unfinished one fails.
 */

/** How long after the time its name says a backup may still be being written (the JellyCore plan's runs take minutes). */
export const IN_PROGRESS_WINDOW_MS = 30 * 60_000;

export const IN_PROGRESS_CHECK = 'jellycore.backup.in_progress';

/** What every run of the backup scripts writes into its directory, in the order they write it. */
const PARTS = [NANOCLAW_DB, ORACLE_DB, COLLECTIONS_FILE, CHROMA_DIR, KNOWLEDGE_TAR, AUTH_TAR, IPC_SECRET] as const;

/** A backup that may still be being written, and why its name says so. */
export interface RecentBackup {
  readonly name: string;
  readonly timeMs: number;
  /** the backup `latest` names (null: the root has no `latest` link to one of its backups) */
  readonly latest: string | null;
}

/** The backups the root's listing alone allows to be in progress (named recently, newer than `latest`), by name. */
export function recentBackups(listing: RootListing, root: string, nowMs: number): ReadonlyMap<string, RecentBackup> {
  const link = listing.expected.find((e) => e.path === LATEST_LINK);
  const named = link ? latestTarget(link, root) : null;
  const latest = named !== null ? (listing.backups.find((b) => b.name === named) ?? null) : null;
  const recent = new Map<string, RecentBackup>();
  for (const backup of listing.backups) {
    if (isRecent(backup, nowMs) && (latest === null || isNewer(backup, latest))) recent.set(backup.name, { name: backup.name, timeMs: backup.timeMs, latest: latest?.name ?? null });
  }
  return recent;
}

function isRecent(backup: BackupDirectory, nowMs: number): boolean {
  const age = nowMs - backup.timeMs;
  return age <= IN_PROGRESS_WINDOW_MS && age >= -FUTURE_SKEW_MS;
}

function isNewer(backup: BackupDirectory, than: BackupDirectory): boolean {
  return backup.timeMs > than.timeMs || (backup.timeMs === than.timeMs && backup.name > than.name);
}

/**
 * The parts the scripts have yet to write, as the listing shows them: the ones after the last
 * part there, all missing. Empty when the directory is complete, and when a part is missing
 * before one the scripts write later (a run that went on past it has ended: the backup is
 * judged, and fails for what it lacks).
 */
export function unwrittenParts(files: readonly StoreEntry[]): string[] {
  const missing = PARTS.map((part) => !entryAt(files, part));
  const lastWritten = missing.lastIndexOf(false);
  if (missing.slice(0, lastWritten + 1).some(Boolean)) return [];
  return PARTS.slice(lastWritten + 1);
}

/** What the backup's own directory showed: its listing and the parts not yet written, or a listing that failed twice while it may be changing. */
export type Unfinished = { readonly files: readonly StoreEntry[]; readonly unwritten: readonly string[] } | { readonly unlisted: string };

/** The one finding of a backup in progress: skipped, with why it is taken for one. */
export function judgeInProgress(recent: RecentBackup, unfinished: Unfinished, nowMs: number): SnapshotReport {
  const age = Math.max(0, nowMs - recent.timeMs);
  const newer = recent.latest === null ? `the root has no ${LATEST_LINK} link to a backup` : `newer than ${recent.latest}, which ${LATEST_LINK} names`;
  const evidence: Record<string, unknown> = {
    named_at: new Date(recent.timeMs).toISOString(),
    age_s: Math.round(age / 1000),
    window: formatDuration(IN_PROGRESS_WINDOW_MS),
    latest: recent.latest,
  };
  let shows: string;
  const listed: CheckResult[] = [];
  if ('unwritten' in unfinished) {
    evidence.not_yet_written = [...unfinished.unwritten];
    shows = `without ${unfinished.unwritten.join(', ')} yet`;
    listed.push(checkBackupPaths(unfinished.files), checkBackupFileTypes(unfinished.files));
  } else {
    evidence.listing_problem = clip(unfinished.unlisted, 300);
    shows = `its listing failed twice (${clip(unfinished.unlisted, 300)})`;
  }
  const message = `being written, not judged: named ${formatDuration(age)} ago (${newer}), ${shows}; not counted as a restore point. Still unfinished ${formatDuration(IN_PROGRESS_WINDOW_MS)} after its name's time, it is judged as a backup and fails`;
  // not judged as a whole: skip, unless what its listing shows is already wrong
  const status = listed.some((c) => c.status === 'fail') ? 'fail' : listed.some((c) => c.status === 'warn') ? 'warn' : 'skip';
  return { stamp: recent.name, status, checks: [check(IN_PROGRESS_CHECK, 'skip', message, evidence), ...listed] };
}
