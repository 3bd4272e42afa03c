import { posix } from 'node:path';
import { formatDuration } from '../../common/duration.js';
import { check, type CheckResult } from '../../report/model.js';
import { FUTURE_SKEW_MS, HEADROOM_FAIL_MULTIPLE, HEADROOM_WARN_MULTIPLE } from '../overall-checks.js';
import { clip } from '../snapshot-checks.js';
import type { DiskSpace, StoreEntry } from '../store.js';
import { backupTime, describeZone, EXPECTED_NON_BACKUPS, LATEST_LINK, WRITTEN_BY_EACH_RUN, type StampZone } from './layout.js';

/** The checks over all of a JellyCore root's backups together: pure functions of what the run saw. */

export const OVERALL_CHECK = {
  listing: 'jellycore.backups.listing',
  future: 'jellycore.backups.future',
  rpo: 'jellycore.rpo.fresh',
  retention: 'jellycore.retention.policy',
  disk: 'jellycore.disk.headroom',
} as const;

/** A backup directory, and when its name says it was made. */
export interface BackupDirectory {
  readonly entry: StoreEntry;
  readonly name: string;
  readonly timeMs: number;
  /** the name's wall-clock time happened twice in the zone (summer time's end): the earlier was taken */
  readonly ambiguous: boolean;
}

/** The backup root's entries, sorted out. */
export interface RootListing {
  /** backup-named directories, oldest first */
  readonly backups: readonly BackupDirectory[];
  /** backup-named entries that are not directories (links, files): refused, never followed */
  readonly refused: readonly StoreEntry[];
  /** `latest`, `lost+found`: expected beside the backups, not findings */
  readonly expected: readonly StoreEntry[];
  /** anything else, and why it is not a backup */
  readonly strays: ReadonlyArray<{ readonly entry: StoreEntry; readonly why: string }>;
}

export function sortRoot(entries: readonly StoreEntry[], zone: StampZone): RootListing {
  const backups: BackupDirectory[] = [];
  const refused: StoreEntry[] = [];
  const expected: StoreEntry[] = [];
  const strays: Array<{ entry: StoreEntry; why: string }> = [];
  for (const entry of entries) {
    const time = backupTime(entry.path, zone);
    if (time === null) {
      if (EXPECTED_NON_BACKUPS.has(entry.path)) expected.push(entry);
      else strays.push({ entry, why: 'not named YYYYMMDD_HHMMSS' });
    } else if (!time.ok) strays.push({ entry, why: `named like a backup, but ${time.problem}` });
    else if (entry.type !== 'dir') refused.push(entry);
    else backups.push({ entry, name: entry.path, timeMs: time.ms, ambiguous: time.ambiguous });
  }
  backups.sort((a, b) => a.timeMs - b.timeMs || (a.name < b.name ? -1 : 1));
  return { backups, refused, expected, strays };
}

/** What the overall checks know of one backup after its own checks. */
export interface BackupSummary {
  readonly name: string;
  readonly timeMs: number;
  /** why it does not count as a restore point (null: it does) */
  readonly unusable: string | null;
  /** what its regular files take on disk (allocated, not apparent, sizes); null: not known (its listing was refused) */
  readonly totalBytes: number | null;
  /** the newest modification time of the files each run writes anew (filesWrittenMs); null: none listed with one */
  readonly filesWrittenMs: number | null;
}

/**
 * When the files every run writes anew (WRITTEN_BY_EACH_RUN) were last modified: the newest of
 * their times, so a run that took long still counts from its end. Null when none is listed as
 * a regular file with a time (a time at or before the epoch is a filesystem that keeps none).
 */
export function filesWrittenMs(files: readonly StoreEntry[]): number | null {
  let newest: number | null = null;
  for (const f of files) {
    if (f.type !== 'file' || !WRITTEN_BY_EACH_RUN.includes(f.path) || f.mtimeMs === undefined || !Number.isFinite(f.mtimeMs) || f.mtimeMs <= 0) continue;
    newest = newest === null ? f.mtimeMs : Math.max(newest, f.mtimeMs);
  }
  return newest;
}

/**
 * How much earlier than its name's time a backup's files may have been written and it still
 * count from its name: 10 minutes. The name is taken before any file is written, so a real
 * backup's files are later, never earlier; the allowance is for clocks (a network share
 * stamping times by its own clock; twice the 5 minutes of skew the future check allows).
 * A rename moves a backup by hours or days, not minutes.
 */
export const FILE_TIME_TOLERANCE_MS = 10 * 60_000;

/** When a backup's data counts as taken, and from what. */
export interface CountedTime {
  readonly ms: number;
  readonly from: 'name' | 'files';
}

/**
 * The time a backup's age counts from: its name's, unless the files every run writes anew
 * were all last modified earlier by more than FILE_TIME_TOLERANCE_MS. Nothing inside a
 * JellyCore backup records when it was made, but `mv` and `cp -a` keep files' times: an old
 * backup renamed to a fresh name still shows its old ones, and only the older time cannot
 * flatter the backups. Files' times after the name, in the future, or not known change nothing.
 */
export function countedTime(summary: Pick<BackupSummary, 'timeMs' | 'filesWrittenMs'>, nowMs: number): CountedTime {
  const files = summary.filesWrittenMs;
  if (files !== null && !isFuture(files, nowMs) && summary.timeMs - files > FILE_TIME_TOLERANCE_MS) return { ms: files, from: 'files' };
  return { ms: summary.timeMs, from: 'name' };
}

/** A backup as the freshness check names it: its name, and the files' time it counts from when that is older. */
function describeCounted(summary: BackupSummary, nowMs: number): string {
  const counted = countedTime(summary, nowMs);
  if (counted.from === 'name') return summary.name;
  return `${summary.name} (counted from its files' times, newest ${new Date(counted.ms).toISOString()}, ${formatDuration(summary.timeMs - counted.ms)} before its name: a renamed directory?)`;
}

/** What a backup's regular files take on disk: the blocks allocated to them (a sparse file's holes take none), else their sizes. */
export function bytesOnDisk(files: readonly StoreEntry[]): number {
  return files.filter((f) => f.type === 'file').reduce((sum, f) => sum + (f.allocatedBytes ?? f.size), 0);
}

const MAX_NAMED = 50;

/** A span of days as days ("7d", "6.8 days"), shorter ones as a duration. */
function span(ms: number): string {
  if (ms % 86_400_000 === 0 && ms > 0) return `${ms / 86_400_000}d`;
  return ms >= 2 * 86_400_000 ? `${(ms / 86_400_000).toFixed(1)} days` : formatDuration(ms);
}

function isFuture(timeMs: number, nowMs: number): boolean {
  return timeMs - nowMs > FUTURE_SKEW_MS;
}

/** Where `latest` points, as a backup name (null: not a link, or not to a backup directory of this root). */
export function latestTarget(entry: StoreEntry, root: string): string | null {
  if (entry.type !== 'symlink' || entry.linkTarget === null) return null;
  const target = entry.linkTarget.replace(/\/+$/, '');
  if (!target.includes('/')) return target;
  return posix.dirname(posix.normalize(target)) === posix.normalize(root) ? posix.basename(target) : null;
}

/**
 * jellycore.backups.listing: the root holds backups. `latest` and `lost+found` are expected
 * beside them; `latest` (the corrected scripts' pointer) should name the newest backup, or
 * the newest before backups `recent` enough to be still being written (in-progress.ts).
 * Anything else is named (JSON-escaped) and left alone.
 */
export function checkRootListing(where: string, root: string, listing: RootListing, nowMs: number, recent: ReadonlyMap<string, unknown> = new Map()): CheckResult {
  const id = OVERALL_CHECK.listing;
  const backups = listing.backups.filter((b) => !isFuture(b.timeMs, nowMs));
  const evidence: Record<string, unknown> = { where, backups: listing.backups.length, expected: listing.expected.map((e) => ({ name: e.path, type: e.type })) };
  if (listing.strays.length > 0) {
    evidence.not_backups = listing.strays.slice(0, MAX_NAMED).map(({ entry, why }) => ({ name: clip(entry.path, 120), type: entry.type, why }));
    if (listing.strays.length > MAX_NAMED) evidence.not_backups_total = listing.strays.length;
  }
  // a wall-clock time the stamp zone showed twice (summer time's end): read as the earlier, said here
  const ambiguous = listing.backups.filter((b) => b.ambiguous).map((b) => b.name);
  if (ambiguous.length > 0) evidence.ambiguous_times_read_as_earlier = ambiguous.slice(0, MAX_NAMED);
  if (listing.backups.length === 0) return check(id, 'fail', `no backup (a YYYYMMDD_HHMMSS directory) in ${where}`, evidence);
  const warnings: string[] = [];
  if (listing.strays.length > 0) {
    const named = listing.strays.slice(0, 10).map(({ entry }) => JSON.stringify(clip(entry.path, 120))).join(', ');
    warnings.push(`${listing.strays.length} entr${listing.strays.length === 1 ? 'y is' : 'ies are'} not backups and were left alone: ${named}${listing.strays.length > 10 ? ` and ${listing.strays.length - 10} more` : ''}`);
  }
  const latest = listing.expected.find((e) => e.path === LATEST_LINK);
  const newest = backups.at(-1) ?? listing.backups.at(-1)!;
  let pointer = '';
  if (latest) {
    const target = latestTarget(latest, root);
    evidence.latest = { type: latest.type, link_target: latest.linkTarget === null ? null : clip(latest.linkTarget), names: target };
    if (latest.type !== 'symlink') warnings.push(`${LATEST_LINK} is ${latest.type === 'dir' ? 'a directory' : `a ${latest.type}`}, not a link to the newest backup`);
    else if (target === null || !listing.backups.some((b) => b.name === target)) warnings.push(`${LATEST_LINK} points to ${JSON.stringify(clip(latest.linkTarget ?? '', 120))}, not a backup of this root`);
    else if (target !== newest.name) {
      // listing.backups is oldest first: what comes after the target is newer
      const newer = listing.backups.slice(listing.backups.findIndex((b) => b.name === target) + 1).filter((b) => !isFuture(b.timeMs, nowMs));
      if (newer.length > 0 && newer.every((b) => recent.has(b.name))) {
        evidence.newer_than_latest_recent = newer.map((b) => b.name).slice(0, MAX_NAMED);
        pointer = `, ${LATEST_LINK} → ${target} (${newer.length} newer, named in the last minutes: being written?)`;
      } else warnings.push(`${LATEST_LINK} names ${target}, not the newest backup ${newest.name}: what reads it (the off-site sync) gets an older backup (or a newer backup never finished)`);
    } else pointer = `, ${LATEST_LINK} → ${target}`;
  }
  if (warnings.length > 0) return check(id, 'warn', warnings.join('; '), evidence);
  return check(id, 'pass', `${listing.backups.length} backup(s)${pointer}`, evidence);
}

/** jellycore.backups.future: no backup is named later than now (beyond 5 minutes of clock skew), read in the stamp zone. */
export function checkFuture(backups: readonly BackupDirectory[], nowMs: number, zone: StampZone): CheckResult {
  const id = OVERALL_CHECK.future;
  const ahead = backups.filter((b) => isFuture(b.timeMs, nowMs));
  const evidence = { now: new Date(nowMs).toISOString(), stamp_timezone: describeZone(zone), skew_allowed_s: FUTURE_SKEW_MS / 1000 };
  if (ahead.length === 0) return check(id, 'pass', `no backup named after now (names read as ${describeZone(zone)}; ${formatDuration(FUTURE_SKEW_MS)} of clock skew allowed)`, evidence);
  const furthest = ahead.at(-1)!;
  const hint = zone.kind === 'utc' ? ': a backup host naming them by its local time, east of UTC (give its zone as the stamp time zone), a wrong clock, or a renamed directory' : ': a wrong clock where they were made, the wrong stamp time zone, or a renamed directory';
  return check(id, 'fail', `${ahead.length} backup(s) named in the future, up to ${formatDuration(furthest.timeMs - nowMs)} ahead (${ahead.slice(0, 5).map((b) => b.name).join(', ')}${ahead.length > 5 ? ` and ${ahead.length - 5} more` : ''})${hint}; not counted as fresh`, {
    ...evidence,
    future: ahead.slice(0, MAX_NAMED).map((b) => b.name),
  });
}

/** A backup's age as freshness and retention count it (from countedTime). */
function age(summary: BackupSummary, nowMs: number): number {
  return Math.max(0, nowMs - countedTime(summary, nowMs).ms);
}

const newestNameFirst = (a: BackupSummary, b: BackupSummary): number => b.timeMs - a.timeMs || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0);

/**
 * jellycore.rpo.fresh: the newest usable backup (no failing check, both databases shown
 * sound, not named in the future) is younger than the RPO (6 hours by the plan), its age
 * counted from countedTime (its name, or its files' times when those are older: a renamed
 * directory). Warns when newer backups do not count (the evidence says why).
 */
export function checkFreshness(summaries: readonly BackupSummary[], nowMs: number, rpoMs: number, zone: StampZone, beingWritten: ReadonlyArray<{ readonly name: string; readonly timeMs: number }> = []): { result: CheckResult; rpoSeconds: number | null } {
  const id = OVERALL_CHECK.rpo;
  const sorted = summaries.filter((s) => !isFuture(s.timeMs, nowMs)).sort(newestNameFirst);
  const newest = sorted[0];
  const usable = sorted.filter((s) => s.unusable === null).sort((a, b) => countedTime(b, nowMs).ms - countedTime(a, nowMs).ms || newestNameFirst(a, b))[0];
  // named after the backup counted from: not usable, or usable but counting from older files
  const later = usable ? sorted.filter((s) => s !== usable && s.timeMs > usable.timeMs) : sorted;
  const passedOver = later.filter((s) => s.unusable !== null);
  const countedOlder = later.filter((s) => s.unusable === null);
  const fromFiles = [...(usable ? [usable] : []), ...countedOlder].filter((s) => countedTime(s, nowMs).from === 'files');
  const counted = usable ? countedTime(usable, nowMs) : null;
  const usableAge = usable ? age(usable, nowMs) : null;
  const evidence = {
    now: new Date(nowMs).toISOString(),
    rpo: formatDuration(rpoMs),
    stamp_timezone: describeZone(zone),
    newest: newest?.name ?? null,
    newest_usable: usable?.name ?? null,
    newest_usable_at: counted ? new Date(counted.ms).toISOString() : null,
    newest_usable_counted_from: counted?.from ?? null,
    newest_usable_age_s: usableAge === null ? null : Math.round(usableAge / 1000),
    ...(passedOver.length > 0 ? { not_usable: passedOver.slice(0, MAX_NAMED).map((s) => ({ backup: s.name, why: s.unusable })) } : {}),
    ...(fromFiles.length > 0 ? { counted_from_files: fromFiles.slice(0, MAX_NAMED).map((s) => ({ backup: s.name, named_at: new Date(s.timeMs).toISOString(), files_written_at: new Date(s.filesWrittenMs!).toISOString() })) } : {}),
    ...(beingWritten.length > 0 ? { being_written: beingWritten.slice(0, MAX_NAMED).map((b) => b.name) } : {}),
  };
  const rpoSeconds = usableAge === null ? null : Math.round(usableAge / 1000);
  const writing = beingWritten.length > 0 ? `; ${beingWritten.map((b) => b.name).join(', ')} being written` : '';
  if (!usable) return { result: check(id, 'fail', `${newest ? `no usable backup: none counts (newest ${newest.name}: ${newest.unusable})` : 'no backup made before now'}${writing}`, evidence), rpoSeconds };
  const notes: string[] = [];
  const firstPassed = passedOver[0];
  if (firstPassed) notes.push(`${firstPassed === newest ? 'the newest backup' : 'a newer backup'}, ${firstPassed.name}, does not count (${firstPassed.unusable})`);
  for (const renamed of countedOlder.slice(0, 3)) notes.push(`${describeCounted(renamed, nowMs)} counts as older than ${usable.name}`);
  if (notes.length > 0) notes.push(`counting from ${usable.name}`);
  const passedOverNote = notes.length > 0 ? notes.join('; ') : null;
  const described = describeCounted(usable, nowMs);
  // the next backup started while this one was still within the RPO and is being written: the schedule held, the exposure is real but brief
  const onTime = beingWritten.find((b) => b.timeMs > counted!.ms && b.timeMs <= counted!.ms + rpoMs);
  if (usableAge! > rpoMs && onTime) {
    return { result: check(id, 'warn', [`the newest usable backup, ${described}, is ${formatDuration(usableAge!)} old (RPO ${formatDuration(rpoMs)}), but the next, ${onTime.name}, started on time and is being written`, ...(passedOverNote ? [passedOverNote] : [])].join('; '), evidence), rpoSeconds };
  }
  if (usableAge! > rpoMs) {
    return { result: check(id, 'fail', [`the newest usable backup, ${described}, is ${formatDuration(usableAge!)} old (RPO ${formatDuration(rpoMs)})`, ...(passedOverNote ? [passedOverNote] : [])].join('; '), evidence), rpoSeconds };
  }
  if (passedOverNote) return { result: check(id, 'warn', passedOverNote, evidence), rpoSeconds };
  return { result: check(id, 'pass', `newest ${described}, ${formatDuration(usableAge!)} old (RPO ${formatDuration(rpoMs)})`, evidence), rpoSeconds };
}

/**
 * jellycore.retention.policy: the usable backups reach back as far as the plan promises (7
 * days), give or take one backup interval (the RPO: rotation runs after each backup). Less
 * fails: a restore point promised is not there. Backups kept beyond the promise warn: the
 * rotation is not deleting them, and they take disk. A gap between usable backups of more
 * than two intervals inside the promised days warns. Restore points are placed by
 * countedTime, as for freshness: a renamed backup stands where its files say it was made,
 * never in a newer slot. What is overdue goes by names, as the rotation reads them.
 */
export function checkRetention(summaries: readonly BackupSummary[], nowMs: number, retentionMs: number, intervalMs: number): CheckResult {
  const id = OVERALL_CHECK.retention;
  const at = (s: BackupSummary): number => countedTime(s, nowMs).ms;
  const counted = summaries.filter((s) => !isFuture(s.timeMs, nowMs)).sort((a, b) => at(a) - at(b));
  const usable = counted.filter((s) => s.unusable === null);
  const evidence: Record<string, unknown> = { promise: span(retentionMs), interval: formatDuration(intervalMs), backups: counted.length, usable: usable.length };
  if (usable.length === 0) return check(id, 'skip', counted.length === 0 ? 'no backup made before now' : 'no usable backup to measure the history by (see jellycore.rpo.fresh)', evidence);
  const oldest = usable[0]!;
  const reachMs = age(oldest, nowMs);
  const overdue = counted.filter((s) => nowMs - s.timeMs > retentionMs + intervalMs).sort((a, b) => a.timeMs - b.timeMs);
  const window = usable.filter((s) => age(s, nowMs) <= retentionMs);
  const gaps: Array<{ after: string; before: string; hours: number }> = [];
  for (let i = 1; i < window.length; i++) {
    const gap = at(window[i]!) - at(window[i - 1]!);
    if (gap > 2 * intervalMs) gaps.push({ after: window[i - 1]!.name, before: window[i]!.name, hours: Math.round(gap / 3_600_000) });
  }
  Object.assign(evidence, { oldest_usable: oldest.name, reach_s: Math.round(reachMs / 1000), overdue: overdue.slice(0, MAX_NAMED).map((s) => s.name), gaps: gaps.slice(0, MAX_NAMED) });
  const warnings: string[] = [];
  if (overdue.length > 0) {
    const bytes = overdue.reduce((sum, s) => sum + (s.totalBytes ?? 0), 0);
    warnings.push(`${overdue.length} backup(s) older than ${span(retentionMs)} are still here (${(bytes / 1024 ** 2).toFixed(1)} MiB; the oldest ${overdue[0]!.name}): the rotation is not deleting them, and they take disk`);
  }
  if (gaps.length > 0) warnings.push(`${gaps.length} gap(s) of more than ${formatDuration(2 * intervalMs)} between usable backups: ${gaps.slice(0, 5).map((g) => `${g.after} → ${g.before} (${g.hours}h)`).join(', ')}`);
  if (reachMs < retentionMs - intervalMs) {
    return check(id, 'fail', [`the usable backups reach back ${span(reachMs)} (oldest ${oldest.name}); ${span(retentionMs)} are promised`, ...warnings].join('; '), evidence);
  }
  if (warnings.length > 0) return check(id, 'warn', warnings.join('; '), evidence);
  return check(id, 'pass', `the usable backups reach back ${span(reachMs)} (oldest ${oldest.name}), as promised (${span(retentionMs)})`, evidence);
}

/**
 * jellycore.disk.headroom: the backup root's filesystem has room for the next backups, judged
 * by what the newest one (whose listing was read) takes on disk: its files' allocated blocks,
 * so a sparse file's holes (which its apparent size counts, and the next `sqlite3 .backup`
 * does not write) do not count.
 */
export function checkHeadroom(space: DiskSpace, summaries: readonly BackupSummary[]): CheckResult {
  const id = OVERALL_CHECK.disk;
  const newest = summaries.filter((s) => s.totalBytes !== null).sort((a, b) => b.timeMs - a.timeMs)[0];
  if (!newest) return check(id, 'skip', 'no backup to size the next one by', { available_bytes: space.availableBytes });
  const need = newest.totalBytes!;
  const multiple = need > 0 ? space.availableBytes / need : Number.POSITIVE_INFINITY;
  const evidence = { available_bytes: space.availableBytes, total_bytes: space.totalBytes, newest_backup: newest.name, newest_backup_bytes: need, sized_by: 'bytes allocated on disk', room_for_backups: Number.isFinite(multiple) ? Math.floor(multiple) : null };
  const gib = (n: number): string => `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (multiple < HEADROOM_FAIL_MULTIPLE) return check(id, 'fail', `${gib(space.availableBytes)} free: room for fewer than ${HEADROOM_FAIL_MULTIPLE} backups of ${gib(need)}`, evidence);
  if (multiple < HEADROOM_WARN_MULTIPLE) return check(id, 'warn', `${gib(space.availableBytes)} free: room for ${Math.floor(multiple)} backups of ${gib(need)}`, evidence);
  return check(id, 'pass', `${gib(space.availableBytes)} free, room for ${Number.isFinite(multiple) ? Math.floor(multiple) : 'any number of'} backups like the newest (${gib(need)} on disk)`, evidence);
}

/** The overall checks a run that could not finish never reached: skipped, with why. */
export function unfinishedSkips(present: readonly CheckResult[], errorText: string | undefined): CheckResult[] {
  return [OVERALL_CHECK.rpo, OVERALL_CHECK.retention, OVERALL_CHECK.disk]
    .filter((id) => !present.some((c) => c.id === id))
    .map((id) => check(id, 'skip', `not evaluated: the run could not finish (${errorText ?? 'error'})`));
}
