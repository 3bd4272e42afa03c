import { isSnapshotStamp, stampTime, type SnapshotStamp } from '../atocore/stamp.js';
import { formatDuration } from '../common/duration.js';
import { check, type CheckResult } from '../report/model.js';
import { CREATED_AT_TOLERANCE_MS, entryAt, regularSafeFiles } from './snapshot-checks.js';
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
  /** it got the per-snapshot checks this run (false: outside --stamp, only listed) */
  readonly inspected: boolean;
  /**
   * why it does not count as a usable restore point (a check failed, its database could not
   * be shown usable, or it was not inspected this run); null: it counts
   */
  readonly unusable: string | null;
  /** its metadata's created_at (null: not read, or not valid) */
  readonly createdAtMs: number | null;
  /** why nothing shows its database intact (null: something does; see judge.ts integrityUnchecked) */
  readonly integrityUnchecked: string | null;
}

/** What this run's per-snapshot checks found of a snapshot, as the overall checks need it. */
export interface SnapshotStanding {
  readonly unusable: string | null;
  readonly createdAtMs: number | null;
  readonly integrityUnchecked: string | null;
}

/** Why a snapshot outside this run's --stamp selection does not count: only its listing was read. */
export const NOT_INSPECTED = 'not inspected this run (outside --stamp)';

/** What the overall checks need of a snapshot, from its listing and its standing (null: not inspected this run). */
export function summaryOf(stamp: SnapshotStamp, files: readonly StoreEntry[], standing: SnapshotStanding | null): SnapshotSummary {
  const db = entryAt(files, DB_FILE);
  const regular = files.filter((f) => f.type === 'file');
  return {
    stamp,
    dbBytes: db && db.type === 'file' ? db.size : null,
    totalBytes: regular.reduce((sum, f) => sum + f.size, 0),
    hasChroma: regular.some((f) => f.path.startsWith(`${CHROMA_DIR}/`)),
    inspected: standing !== null,
    unusable: standing ? standing.unusable : NOT_INSPECTED,
    createdAtMs: standing?.createdAtMs ?? null,
    integrityUnchecked: standing?.integrityUnchecked ?? null,
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

/** When rpo.fresh counts a snapshot's data as taken, and from what. */
export interface CountedTime {
  readonly ms: number;
  readonly from: 'stamp' | 'created_at';
}

/**
 * The time rpo.fresh counts a snapshot's age from: its stamp, unless its metadata's
 * created_at is older by more than snapshot.metadata's tolerance. The two come from one clock
 * reading; apart, one was changed (an old snapshot renamed to a fresh stamp), and only the
 * older one cannot flatter the backups. A created_at later than the stamp changes nothing.
 */
export function countedTime(snapshot: SnapshotSummary): CountedTime {
  const stampMs = stampTime(snapshot.stamp);
  if (snapshot.createdAtMs !== null && stampMs - snapshot.createdAtMs > CREATED_AT_TOLERANCE_MS) return { ms: snapshot.createdAtMs, from: 'created_at' };
  return { ms: stampMs, from: 'stamp' };
}

/** A snapshot as rpo.fresh names it: its stamp, and the created_at it counts from when that is older. */
function describeCounted(snapshot: SnapshotSummary): string {
  const counted = countedTime(snapshot);
  if (counted.from === 'stamp') return snapshot.stamp;
  return `${snapshot.stamp} (counted from its created_at ${new Date(counted.ms).toISOString()}, ${formatDuration(stampTime(snapshot.stamp) - counted.ms)} before its stamp: a renamed directory?)`;
}

const newestStampFirst = (a: SnapshotSummary, b: SnapshotSummary): number => (a.stamp < b.stamp ? 1 : a.stamp > b.stamp ? -1 : 0);

function listStamps(stamps: readonly string[]): string {
  return `${stamps.slice(0, 5).join(', ')}${stamps.length > 5 ? ` and ${stamps.length - 5} more` : ''}`;
}

/**
 * One freshness limit (the RPO, or Chroma's) against what the run knows: met by a snapshot
 * inspected this run; unknown when only snapshots not inspected this run (outside --stamp)
 * could meet it, going by their stamps; missed otherwise (a stamp is never later than the time
 * its snapshot counts from, so one older than the limit cannot meet it).
 */
type Window = { readonly state: 'met' } | { readonly state: 'missed' } | { readonly state: 'unknown'; readonly could: readonly SnapshotStamp[] };

/** Which snapshots rpo.fresh counts from and which it passes over, by the rules above. */
interface FreshnessSelection {
  /** stamped up to now, newest stamp first */
  readonly present: readonly SnapshotSummary[];
  /** stamped in the future: never counted */
  readonly future: readonly SnapshotStamp[];
  /** the newest by stamp */
  readonly newest: SnapshotSummary | undefined;
  /** the newest restore point: the usable snapshot that counts from the latest time */
  readonly usable: SnapshotSummary | undefined;
  /** the same among those holding Chroma files */
  readonly chroma: SnapshotSummary | undefined;
  /** stamped after `usable`: inspected and not usable */
  readonly notUsable: readonly SnapshotSummary[];
  /** stamped after `usable`: usable, but counting from an older created_at */
  readonly countedOlder: readonly SnapshotSummary[];
  /** stamped after `usable`: not inspected this run */
  readonly notInspected: readonly SnapshotStamp[];
}

function selectForFreshness(snapshots: readonly SnapshotSummary[], nowMs: number): FreshnessSelection {
  const present = snapshots.filter((s) => !isFutureStamp(s.stamp, nowMs)).sort(newestStampFirst);
  const usableOnes = present.filter((s) => s.inspected && s.unusable === null).sort((a, b) => countedTime(b).ms - countedTime(a).ms || newestStampFirst(a, b));
  const usable = usableOnes[0];
  const later = present.filter((s) => s !== usable && (!usable || s.stamp > usable.stamp));
  return {
    present,
    future: snapshots.filter((s) => isFutureStamp(s.stamp, nowMs)).map((s) => s.stamp),
    newest: present[0],
    usable,
    chroma: usableOnes.find((s) => s.hasChroma),
    notUsable: later.filter((s) => s.inspected && s.unusable !== null),
    countedOlder: later.filter((s) => s.inspected && s.unusable === null),
    notInspected: later.filter((s) => !s.inspected).map((s) => s.stamp),
  };
}

/** A snapshot's age as rpo.fresh counts it (within the clock skew ahead: 0). */
function ageOf(snapshot: SnapshotSummary | undefined, nowMs: number): number | null {
  return snapshot ? Math.max(0, nowMs - countedTime(snapshot).ms) : null;
}

function freshnessWindow(selection: FreshnessSelection, counted: SnapshotSummary | undefined, limitMs: number, needsChroma: boolean, nowMs: number): Window {
  if (counted && ageOf(counted, nowMs)! <= limitMs) return { state: 'met' };
  const could = selection.present.filter((s) => !s.inspected && (!needsChroma || s.hasChroma) && nowMs - stampTime(s.stamp) <= limitMs).map((s) => s.stamp);
  return could.length > 0 ? { state: 'unknown', could } : { state: 'missed' };
}

/** The snapshots rpo.fresh counts from (the newest usable one, and with Chroma when that is judged): those nothing showed intact. */
function countedUnchecked(selection: FreshnessSelection, chromaJudged: boolean): SnapshotSummary[] {
  const counted = new Set([selection.usable, chromaJudged ? selection.chroma : undefined]);
  return [...counted].filter((s): s is SnapshotSummary => s !== undefined && s.integrityUnchecked !== null);
}

function freshnessEvidence(selection: FreshnessSelection, nowMs: number, rpoMs: number, chromaRpoMs: number | null): Record<string, unknown> {
  const { usable, chroma, future, notUsable, notInspected } = selection;
  const usableAge = ageOf(usable, nowMs);
  const chromaAge = ageOf(chroma, nowMs);
  const fromCreatedAt = [...new Set([usable, chroma, ...selection.countedOlder])].filter((s): s is SnapshotSummary => s !== undefined && countedTime(s).from === 'created_at');
  const unchecked = countedUnchecked(selection, chromaRpoMs !== null);
  return {
    now: new Date(nowMs).toISOString(),
    rpo: formatDuration(rpoMs),
    chroma_rpo: chromaRpoMs === null ? 'off' : formatDuration(chromaRpoMs),
    newest: selection.newest?.stamp ?? null,
    newest_usable: usable?.stamp ?? null,
    newest_usable_age_s: usableAge === null ? null : Math.round(usableAge / 1000),
    newest_usable_counted_from: usable ? countedTime(usable).from : null,
    newest_chroma: chroma?.stamp ?? null,
    newest_chroma_age_s: chromaAge === null ? null : Math.round(chromaAge / 1000),
    ...(future.length > 0 ? { not_counted_future: future.slice(0, MAX_NAMED) } : {}),
    ...(notUsable.length > 0 ? { not_usable: notUsable.slice(0, MAX_NAMED).map((s) => ({ stamp: s.stamp, why: s.unusable })) } : {}),
    ...(fromCreatedAt.length > 0 ? { counted_from_created_at: fromCreatedAt.slice(0, MAX_NAMED).map((s) => ({ stamp: s.stamp, created_at: new Date(s.createdAtMs!).toISOString() })) } : {}),
    ...(notInspected.length > 0 ? { not_inspected: notInspected.slice(0, MAX_NAMED), not_inspected_total: notInspected.length } : {}),
    ...(unchecked.length > 0 ? { integrity_unchecked: unchecked.map((s) => ({ stamp: s.stamp, why: s.integrityUnchecked })) } : {}),
  };
}

/** What rpo.fresh warns about even when the newest usable snapshot is fresh: newer ones that do not count, and a database nothing checked. */
function freshnessWarnings(selection: FreshnessSelection, chromaJudged: boolean): string[] {
  const { newest, usable, notUsable, countedOlder } = selection;
  const warnings: string[] = [];
  if (usable) {
    const first = notUsable[0];
    if (first) warnings.push(`${first === newest ? 'the newest snapshot' : 'the newest snapshot inspected'}, ${first.stamp}, does not count (${first.unusable})${notUsable.length > 1 ? `, nor ${notUsable.length - 1} more after ${usable.stamp} (not_usable)` : ''}`);
    for (const renamed of countedOlder.slice(0, 3)) warnings.push(`${describeCounted(renamed)} counts as older than ${usable.stamp}`);
    if (first || countedOlder.length > 0) warnings.push(`counting from ${usable.stamp}`);
  }
  for (const s of countedUnchecked(selection, chromaJudged)) {
    const which = s === newest ? 'the newest snapshot' : s === usable ? 'the newest usable snapshot' : 'the newest usable snapshot with Chroma';
    warnings.push(`the integrity of ${which}, ${s.stamp}, was not checked by anything this run (${s.integrityUnchecked}); only its size and SQLite header are known`);
  }
  return warnings;
}

/**
 * rpo.fresh: the newest usable snapshot (inspected this run, no failing check, its database
 * shown usable, not stamped in the future) is younger than --rpo, and the newest one holding
 * Chroma younger than --chroma-rpo (unless that is off). Age counts from countedTime. A
 * snapshot not inspected this run never counts: when only such snapshots could meet a limit
 * the check is `skip`, naming them. Warns when newer snapshots do not count, and when nothing
 * this run (or a ledgered earlier check of unchanged files) showed the counted database intact.
 * Future-dated snapshots are snapshots.future's finding.
 */
export function checkRpo(snapshots: readonly SnapshotSummary[], nowMs: number, rpoMs: number, chromaRpoMs: number | null): { result: CheckResult; rpoSeconds: number | null; chromaRpoSeconds: number | null } {
  const id = 'rpo.fresh';
  const selection = selectForFreshness(snapshots, nowMs);
  const { usable, chroma, notInspected } = selection;
  const usableAge = ageOf(usable, nowMs);
  const chromaAge = ageOf(chroma, nowMs);
  const main = freshnessWindow(selection, usable, rpoMs, false, nowMs);
  const chromaWindow = chromaRpoMs === null ? null : freshnessWindow(selection, chroma, chromaRpoMs, true, nowMs);
  const evidence = freshnessEvidence(selection, nowMs, rpoMs, chromaRpoMs);

  const failures: string[] = [];
  const unknowns: string[] = [];
  const inspectedSays = (counted: SnapshotSummary | undefined, age: number | null, what: string): string =>
    counted ? `the newest usable ${what} inspected, ${describeCounted(counted)}, is ${formatDuration(age!)} old` : `no ${what} inspected counts`;
  if (main.state === 'missed') failures.push(usable ? `the newest usable snapshot, ${describeCounted(usable)}, is ${formatDuration(usableAge!)} old (RPO ${formatDuration(rpoMs)})` : noUsableSnapshot(selection));
  if (main.state === 'unknown') {
    unknowns.push(`freshness not judged: only snapshots not inspected this run (outside --stamp) could be within the RPO of ${formatDuration(rpoMs)}: ${listStamps(main.could)}; ${inspectedSays(usable, usableAge, 'snapshot')}; validate them (without --stamp, or --stamp ${main.could[0]}) to judge it`);
  }
  if (chromaWindow?.state === 'missed') failures.push(chroma ? `the newest usable snapshot with Chroma, ${describeCounted(chroma)}, is ${formatDuration(chromaAge!)} old (Chroma RPO ${formatDuration(chromaRpoMs!)})` : 'no usable snapshot includes Chroma');
  if (chromaWindow?.state === 'unknown') {
    unknowns.push(`Chroma freshness not judged: only snapshots not inspected this run (outside --stamp) hold Chroma files within the Chroma RPO of ${formatDuration(chromaRpoMs!)}: ${listStamps(chromaWindow.could)}; ${inspectedSays(chroma, chromaAge, 'snapshot with Chroma')}`);
  }
  const warnings = freshnessWarnings(selection, chromaRpoMs !== null);
  const notes = usable && notInspected.length > 0 ? [`${notInspected.length} newer snapshot(s) not inspected this run (outside --stamp), not counted: ${listStamps(notInspected)}`] : [];
  const rpoSeconds = main.state === 'unknown' || usableAge === null ? null : Math.round(usableAge / 1000);
  const chromaRpoSeconds = chromaWindow?.state === 'unknown' || chromaAge === null ? null : Math.round(chromaAge / 1000);
  const passMessage = `newest ${notInspected.length > 0 ? 'inspected ' : ''}${usable ? describeCounted(usable) : ''}, ${formatDuration(usableAge ?? 0)} old${chroma && chromaRpoMs !== null ? `; Chroma ${formatDuration(chromaAge!)} old` : ''}`;
  const result =
    failures.length > 0
      ? check(id, 'fail', [...failures, ...unknowns, ...warnings, ...notes].join('; '), evidence)
      : unknowns.length > 0
        ? check(id, 'skip', [...unknowns, ...warnings].join('; '), evidence)
        : warnings.length > 0
          ? check(id, 'warn', [...warnings, ...notes].join('; '), evidence)
          : check(id, 'pass', [passMessage, ...notes].join('; '), evidence);
  return { result, rpoSeconds, chromaRpoSeconds };
}

/** rpo.fresh's failure when no inspected snapshot counts. */
function noUsableSnapshot({ present, future }: FreshnessSelection): string {
  const newest = present[0];
  if (!newest) return future.length > 0 ? 'no snapshot stamped before now' : 'no snapshot at all';
  const newestInspected = present.find((s) => s.inspected);
  if (!newestInspected) return `no usable snapshot: none of them was inspected this run (newest ${newest.stamp}, outside --stamp)`;
  return `no usable snapshot: none counts (newest ${newestInspected === newest ? '' : 'inspected '}${newestInspected.stamp}: ${newestInspected.unusable})`;
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
