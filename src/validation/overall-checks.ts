import { isSnapshotStamp, stampTime, type SnapshotStamp } from '../atocore/stamp.js';
import { formatDuration } from '../common/duration.js';
import { check, type CheckResult } from '../report/model.js';
import { entryAt, regularSafeFiles } from './snapshot-checks.js';
import { CHROMA_DIR, DB_FILE, type StoreEntry } from './store.js';

/**
 * The checks over all snapshots together: pure functions of what the run saw.
 */

/** What a run knows of one snapshot for the overall checks. */
export interface SnapshotSummary {
  readonly stamp: SnapshotStamp;
  /** bytes of the database file (null: none there) */
  readonly dbBytes: number | null;
  /** bytes of every regular file */
  readonly totalBytes: number;
  /** the listing shows a Chroma directory with files */
  readonly hasChroma: boolean;
  /**
   * why it does not count as a usable restore point (a check failed, or its database could
   * not be shown usable); null: it counts, including when it was not checked this run
   */
  readonly unusable: string | null;
}

/** What the overall checks need of a snapshot, from its listing. */
export function summaryOf(stamp: SnapshotStamp, files: readonly StoreEntry[], unusable: string | null): SnapshotSummary {
  const db = entryAt(files, DB_FILE);
  const regular = files.filter((f) => f.type === 'file');
  return {
    stamp,
    dbBytes: db && db.type === 'file' ? db.size : null,
    totalBytes: regular.reduce((sum, f) => sum + f.size, 0),
    hasChroma: regular.some((f) => f.path.startsWith(`${CHROMA_DIR}/`)),
    unusable,
  };
}

/** Splits `snapshots/` into stamp directories and everything else (never opened). */
export function classifySnapshotEntries(entries: readonly StoreEntry[]): { stamps: StoreEntry[]; foreign: StoreEntry[] } {
  const stamps: StoreEntry[] = [];
  const foreign: StoreEntry[] = [];
  for (const entry of entries) (isSnapshotStamp(entry.path) ? stamps : foreign).push(entry);
  return { stamps, foreign };
}

/** snapshots.listing: the snapshots folder holds snapshots; anything else is named (JSON-escaped) and left alone. */
export function checkListing(where: string, entries: readonly StoreEntry[]): CheckResult {
  const id = 'snapshots.listing';
  const { stamps, foreign } = classifySnapshotEntries(entries);
  const evidence: Record<string, unknown> = { where, snapshots: stamps.length };
  if (foreign.length > 0) {
    evidence.not_snapshots = foreign.slice(0, MAX_NAMED).map((e) => ({ name: clipName(e.path), type: e.type }));
    if (foreign.length > MAX_NAMED) evidence.not_snapshots_total = foreign.length;
  }
  if (stamps.length === 0) return check(id, 'fail', `no snapshot (a UTC YYYYMMDDTHHMMSSZ directory) in ${where}`, evidence);
  if (foreign.length > 0) {
    const named = foreign.slice(0, 10).map((e) => JSON.stringify(clipName(e.path))).join(', ');
    return check(id, 'warn', `${foreign.length} entr${foreign.length === 1 ? 'y is' : 'ies are'} not snapshots and were left alone: ${named}${foreign.length > 10 ? ` and ${foreign.length - 10} more` : ''}`, evidence);
  }
  return check(id, 'pass', `${stamps.length} snapshot(s)`, evidence);
}

/** Names in snapshots/ are not ours: a report names at most this many, each cut short. */
const MAX_NAMED = 50;
function clipName(name: string): string {
  return name.length > 120 ? `${name.slice(0, 120)}…` : name;
}

/** Clocks disagree a little (the host's, this machine's): a stamp this far ahead is still "now". */
export const FUTURE_SKEW_MS = 5 * 60_000;

/** A snapshot stamped later than now (beyond the skew): it cannot be a backup that happened. */
export function isFutureStamp(stamp: SnapshotStamp, nowMs: number): boolean {
  return stampTime(stamp) - nowMs > FUTURE_SKEW_MS;
}

/**
 * snapshots.future: no snapshot is stamped in the future (beyond FUTURE_SKEW_MS). One that
 * is was made by a host with a wrong clock, or renamed; it proves nothing about freshness,
 * and AtoCore's retention would keep it as "the newest" for as long as it stays ahead.
 */
export function checkFutureStamps(stamps: readonly SnapshotStamp[], nowMs: number): CheckResult {
  const id = 'snapshots.future';
  const ahead = [...stamps].filter((stamp) => isFutureStamp(stamp, nowMs)).sort();
  const evidence = { now: new Date(nowMs).toISOString(), skew_allowed_s: FUTURE_SKEW_MS / 1000 };
  if (ahead.length === 0) return check(id, 'pass', `no snapshot stamped after now (${formatDuration(FUTURE_SKEW_MS)} of clock skew allowed)`, evidence);
  const furthest = ahead[ahead.length - 1]!;
  return check(
    id,
    'fail',
    `${ahead.length} snapshot(s) stamped in the future, up to ${formatDuration(stampTime(furthest) - nowMs)} ahead (${ahead.slice(0, 5).join(', ')}${ahead.length > 5 ? ` and ${ahead.length - 5} more` : ''}): a wrong clock where they were made, or renamed; not counted as fresh`,
    { ...evidence, future: ahead.slice(0, MAX_NAMED) },
  );
}

/**
 * rpo.fresh: the newest usable snapshot (no failing check this run, its database shown
 * usable, not stamped in the future) is younger than --rpo, and the newest one holding Chroma younger than
 * --chroma-rpo (unless that is off). Future-dated snapshots are snapshots.future's finding.
 */
export function checkRpo(snapshots: readonly SnapshotSummary[], nowMs: number, rpoMs: number, chromaRpoMs: number | null): { result: CheckResult; rpoSeconds: number | null; chromaRpoSeconds: number | null } {
  const id = 'rpo.fresh';
  const future = snapshots.filter((s) => isFutureStamp(s.stamp, nowMs)).map((s) => s.stamp);
  const sorted = snapshots.filter((s) => !isFutureStamp(s.stamp, nowMs)).sort((a, b) => (a.stamp < b.stamp ? 1 : -1));
  const newest = sorted[0];
  const usable = sorted.find((s) => s.unusable === null);
  const chroma = sorted.find((s) => s.unusable === null && s.hasChroma);
  const skipped = sorted.slice(0, usable ? sorted.indexOf(usable) : sorted.length);
  const age = (s: SnapshotSummary | undefined): number | null => (s ? Math.max(0, nowMs - stampTime(s.stamp)) : null);
  const usableAge = age(usable);
  const chromaAge = age(chroma);
  const evidence = {
    now: new Date(nowMs).toISOString(),
    rpo: formatDuration(rpoMs),
    chroma_rpo: chromaRpoMs === null ? 'off' : formatDuration(chromaRpoMs),
    newest: newest?.stamp ?? null,
    newest_usable: usable?.stamp ?? null,
    newest_usable_age_s: usableAge === null ? null : Math.round(usableAge / 1000),
    newest_chroma: chroma?.stamp ?? null,
    newest_chroma_age_s: chromaAge === null ? null : Math.round(chromaAge / 1000),
    ...(future.length > 0 ? { not_counted_future: future.slice(0, MAX_NAMED) } : {}),
    ...(skipped.length > 0 ? { not_usable: skipped.slice(0, MAX_NAMED).map((s) => ({ stamp: s.stamp, why: s.unusable })) } : {}),
  };
  const rpoSeconds = usableAge === null ? null : Math.round(usableAge / 1000);
  const chromaRpoSeconds = chromaAge === null ? null : Math.round(chromaAge / 1000);
  const failures: string[] = [];
  const warnings: string[] = [];
  if (!usable) failures.push(newest ? `no usable snapshot: none counts (newest ${newest.stamp}: ${newest.unusable})` : future.length > 0 ? 'no snapshot stamped before now' : 'no snapshot at all');
  else if (usableAge! > rpoMs) failures.push(`the newest usable snapshot, ${usable.stamp}, is ${formatDuration(usableAge!)} old (RPO ${formatDuration(rpoMs)})`);
  if (usable && newest && usable !== newest) warnings.push(`the newest snapshot, ${newest.stamp}, does not count (${newest.unusable}); counting from ${usable.stamp}`);
  if (chromaRpoMs !== null) {
    if (!chroma) failures.push('no usable snapshot includes Chroma');
    else if (chromaAge! > chromaRpoMs) failures.push(`the newest usable snapshot with Chroma, ${chroma.stamp}, is ${formatDuration(chromaAge!)} old (Chroma RPO ${formatDuration(chromaRpoMs)})`);
  }
  const result =
    failures.length > 0
      ? check(id, 'fail', [...failures, ...warnings].join('; '), evidence)
      : warnings.length > 0
        ? check(id, 'warn', warnings.join('; '), evidence)
        : check(id, 'pass', `newest ${usable!.stamp}, ${formatDuration(usableAge!)} old${chroma && chromaRpoMs !== null ? `; Chroma ${formatDuration(chromaAge!)} old` : ''}`, evidence);
  return { result, rpoSeconds, chromaRpoSeconds };
}

/** How many earlier snapshots make the baseline a database size is compared with. */
export const SIZE_BASELINE_SNAPSHOTS = 5;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * size.anomaly: no snapshot's database shrank suddenly against the median of the
 * snapshots before it. The newest dropping fails (the one a restore would use); an older
 * drop still in retention warns.
 */
export function checkSizeAnomaly(snapshots: readonly SnapshotSummary[], dropPercent: number): CheckResult {
  const id = 'size.anomaly';
  const series = [...snapshots].filter((s) => s.dbBytes !== null).sort((a, b) => (a.stamp < b.stamp ? -1 : 1));
  if (series.length < 2) return check(id, 'skip', 'fewer than two snapshots with a database to compare', {});
  const drops: Array<{ stamp: string; bytes: number; baseline_bytes: number; drop_percent: number }> = [];
  for (let i = 1; i < series.length; i++) {
    const baseline = median(series.slice(Math.max(0, i - SIZE_BASELINE_SNAPSHOTS), i).map((s) => s.dbBytes!));
    const bytes = series[i]!.dbBytes!;
    if (baseline <= 0) continue;
    const drop = (1 - bytes / baseline) * 100;
    if (drop >= dropPercent) drops.push({ stamp: series[i]!.stamp, bytes, baseline_bytes: baseline, drop_percent: Math.round(drop) });
  }
  const newest = series[series.length - 1]!;
  const evidence = { threshold_percent: dropPercent, drops, newest: { stamp: newest.stamp, bytes: newest.dbBytes } };
  const newestDrop = drops.find((d) => d.stamp === newest.stamp);
  if (newestDrop) {
    return check(id, 'fail', `the newest snapshot's database, ${newest.stamp}, is ${newestDrop.drop_percent}% smaller than the ones before it (${newestDrop.bytes} vs ${newestDrop.baseline_bytes} bytes): data lost before the backup?`, evidence);
  }
  if (drops.length > 0) return check(id, 'warn', `older snapshot(s) dropped in size: ${drops.map((d) => `${d.stamp} −${d.drop_percent}%`).join(', ')}`, evidence);
  return check(id, 'pass', `no drop of ${dropPercent}% or more across ${series.length} snapshots`, evidence);
}

/** Free space below this many newest-snapshot sizes fails: the next backup or two may not fit. */
export const HEADROOM_FAIL_MULTIPLE = 2;
/** ...and below this many it warns. */
export const HEADROOM_WARN_MULTIPLE = 10;

/** disk.headroom: the backups filesystem has room for the next snapshots, judged by the newest one's size. */
export function checkDiskHeadroom(space: { totalBytes: number; availableBytes: number }, newest: SnapshotSummary | undefined): CheckResult {
  const id = 'disk.headroom';
  if (!newest) return check(id, 'skip', 'no snapshot to size the next one by', { available_bytes: space.availableBytes });
  const need = newest.totalBytes;
  const multiple = need > 0 ? space.availableBytes / need : Number.POSITIVE_INFINITY;
  const evidence = { available_bytes: space.availableBytes, total_bytes: space.totalBytes, newest_snapshot: newest.stamp, newest_snapshot_bytes: need, room_for_snapshots: Number.isFinite(multiple) ? Math.floor(multiple) : null };
  const gib = (n: number): string => `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (multiple < HEADROOM_FAIL_MULTIPLE) return check(id, 'fail', `${gib(space.availableBytes)} free: room for fewer than ${HEADROOM_FAIL_MULTIPLE} snapshots of ${gib(need)}`, evidence);
  if (multiple < HEADROOM_WARN_MULTIPLE) return check(id, 'warn', `${gib(space.availableBytes)} free: room for ${Math.floor(multiple)} snapshots of ${gib(need)}`, evidence);
  return check(id, 'pass', `${gib(space.availableBytes)} free, room for ${Number.isFinite(multiple) ? Math.floor(multiple) : 'any number of'} snapshots like the newest`, evidence);
}

/** One snapshot's regular files as two sides of the off-host comparison see them. */
export interface SnapshotFileSet {
  readonly files: ReadonlyMap<string, { size: number; sha256: string | null }>;
}

/** A snapshot's regular files with the hashes taken of them, for the off-host comparison. */
export function fileSetOf(files: readonly StoreEntry[], hashes: ReadonlyMap<string, string>): SnapshotFileSet {
  const set = new Map<string, { size: number; sha256: string | null }>();
  for (const file of regularSafeFiles(files)) set.set(file.path, { size: file.size, sha256: hashes.get(file.path) ?? null });
  return { files: set };
}

/** offhost.copy: the newest snapshot exists off-host, file for file, hash for hash. */
export function checkOffhost(where: string, stamp: SnapshotStamp, here: SnapshotFileSet, there: SnapshotFileSet | null, newestThere: string | null): CheckResult {
  const id = 'offhost.copy';
  const evidence: Record<string, unknown> = { where, stamp, newest_there: newestThere };
  if (!there) return check(id, 'fail', `${stamp} is not in the off-host copy (${where})${newestThere ? `; its newest is ${newestThere}` : '; it holds no snapshot'}`, evidence);
  const missing: string[] = [];
  const differing: Array<{ path: string; here: string | null; there: string | null; size_here: number; size_there: number }> = [];
  for (const [path, file] of here.files) {
    const copy = there.files.get(path);
    if (!copy) missing.push(path);
    else if (copy.size !== file.size || copy.sha256 !== file.sha256 || file.sha256 === null) differing.push({ path, here: file.sha256, there: copy.sha256, size_here: file.size, size_there: copy.size });
  }
  const extra = [...there.files.keys()].filter((path) => !here.files.has(path));
  Object.assign(evidence, { files: here.files.size, missing, differing, extra });
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`${missing.length} file(s) missing there: ${missing.slice(0, 5).join(', ')}`);
  if (differing.length > 0) problems.push(`${differing.length} file(s) differ: ${differing.slice(0, 5).map((d) => d.path).join(', ')}`);
  if (extra.length > 0) problems.push(`${extra.length} extra file(s) there: ${extra.slice(0, 5).join(', ')}`);
  if (problems.length > 0) return check(id, 'fail', `the off-host copy of ${stamp} is not the same: ${problems.join('; ')}`, evidence);
  return check(id, 'pass', `${stamp}: all ${here.files.size} files there with the same SHA-256`, evidence);
}
