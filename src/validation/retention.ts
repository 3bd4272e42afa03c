import { stampTime, type SnapshotStamp } from '../atocore/stamp.js';
import { check, type CheckResult } from '../report/model.js';
import { isFutureStamp } from './overall-checks.js';

/** AtoCore's cleanup policy: the newest snapshot of each of the 7 most recent days, 4 most recent Sundays and 6 most recent 1sts of a month that have snapshots. */
export const KEEP_DAILY = 7;
export const KEEP_WEEKLY = 4;
export const KEEP_MONTHLY = 6;

/** A cleanup backlog this large (a week of backups) means cleanup is not running: fail, not warn. */
export const PRUNE_BACKLOG_FAIL = 7;

const DAY_MS = 86_400_000;

function dayOf(stamp: SnapshotStamp): string {
  return stamp.slice(0, 8);
}

function dayStart(day: string): number {
  return Date.UTC(Number(day.slice(0, 4)), Number(day.slice(4, 6)) - 1, Number(day.slice(6, 8)));
}

function dayName(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replace(/-/g, '');
}

function pretty(day: string): string {
  return `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`;
}

export interface RetentionPlan {
  readonly kept: SnapshotStamp[];
  readonly prune: SnapshotStamp[];
}

/** Which snapshots the policy keeps and which it would delete (the same rule as AtoCore's `cleanup`). */
export function planRetention(stamps: readonly SnapshotStamp[]): RetentionPlan {
  const newestOfDay = new Map<string, SnapshotStamp>();
  for (const stamp of [...stamps].sort()) newestOfDay.set(dayOf(stamp), stamp);
  const days = [...newestOfDay.keys()].sort().reverse();
  const sundays = days.filter((day) => new Date(dayStart(day)).getUTCDay() === 0);
  const firsts = days.filter((day) => day.endsWith('01'));
  const keepDays = new Set([...days.slice(0, KEEP_DAILY), ...sundays.slice(0, KEEP_WEEKLY), ...firsts.slice(0, KEEP_MONTHLY)]);
  const kept = [...keepDays].map((day) => newestOfDay.get(day)!).sort();
  const keptSet = new Set(kept);
  return { kept, prune: [...stamps].sort().filter((stamp) => !keptSet.has(stamp)) };
}

export interface RetentionGaps {
  readonly missingDays: string[];
  readonly missingSundays: string[];
  readonly missingFirsts: string[];
}

/**
 * Snapshots whose data is older than their stamp says (rpo.fresh's countedTime: a created_at
 * well before the stamp, a renamed directory), by the time they count from.
 */
export type CountedEarlier = ReadonlyMap<SnapshotStamp, number>;

/** The day a snapshot is a restore point of: its stamp's, or the day it counts from when that is earlier. */
function restoreDay(stamp: SnapshotStamp, earlier: CountedEarlier): string {
  const counted = earlier.get(stamp);
  return counted === undefined ? dayOf(stamp) : dayName(counted);
}

/**
 * The restore points the policy promises but that are not there: each of the 7 days up to
 * the newest snapshot, the 4 Sundays and the 6 1sts of a month before it, back to where the
 * history starts (the oldest snapshot, or the oldest the ledger ever saw). A snapshot in
 * `earlier` stands for the day it counts from, never its stamp's: a renamed old snapshot does
 * not fill today's place.
 */
export function retentionGaps(stamps: readonly SnapshotStamp[], historyStart: SnapshotStamp | null, earlier: CountedEarlier = new Map()): RetentionGaps {
  if (stamps.length === 0) return { missingDays: [], missingSundays: [], missingFirsts: [] };
  const sorted = [...stamps].sort();
  const present = new Set(sorted.map((stamp) => restoreDay(stamp, earlier)));
  const newestDay = dayStart(dayOf(sorted[sorted.length - 1]!));
  const oldest = [sorted[0]!, ...(historyStart ? [historyStart] : [])].sort()[0]!;
  const startDay = dayStart(dayOf(oldest));
  const missingDays: string[] = [];
  for (let i = 0; i < KEEP_DAILY; i++) {
    const day = newestDay - i * DAY_MS;
    if (day < startDay) break;
    if (!present.has(dayName(day))) missingDays.push(pretty(dayName(day)));
  }
  const missingSundays: string[] = [];
  let sunday = newestDay - new Date(newestDay).getUTCDay() * DAY_MS;
  for (let i = 0; i < KEEP_WEEKLY && sunday >= startDay; i++, sunday -= 7 * DAY_MS) {
    if (!present.has(dayName(sunday))) missingSundays.push(pretty(dayName(sunday)));
  }
  const missingFirsts: string[] = [];
  const newest = new Date(newestDay);
  for (let i = 0; i < KEEP_MONTHLY; i++) {
    const first = Date.UTC(newest.getUTCFullYear(), newest.getUTCMonth() - i, 1);
    if (first < startDay) break;
    if (!present.has(dayName(first))) missingFirsts.push(pretty(dayName(first)));
  }
  return { missingDays, missingSundays, missingFirsts };
}

/**
 * retention.policy: the 7 daily / 4 weekly / 6 monthly policy is doing its job. Missing
 * daily restore points and a small cleanup backlog warn; a missing weekly or monthly one (a
 * promise broken for good) or a week's backlog (cleanup not running) fail. Judged up to now:
 * snapshots stamped in the future (snapshots.future's finding) are left out, so they neither
 * demand restore points for days not yet come nor count as kept. A snapshot in `earlier` is a
 * restore point of the day it counts from (retentionGaps); what cleanup keeps and deletes
 * still goes by stamps, as AtoCore's cleanup reads them.
 */
export function checkRetention(allStamps: readonly SnapshotStamp[], historyStart: SnapshotStamp | null, nowMs: number, earlier: CountedEarlier = new Map()): CheckResult {
  const id = 'retention.policy';
  const future = allStamps.filter((stamp) => isFutureStamp(stamp, nowMs)).sort();
  const stamps = allStamps.filter((stamp) => !isFutureStamp(stamp, nowMs));
  const notCounted = future.length > 0 ? { not_counted_future: future.slice(0, 50) } : {};
  if (stamps.length === 0) return check(id, 'skip', future.length > 0 ? 'no snapshot stamped before now' : 'no snapshots', notCounted);
  const plan = planRetention(stamps);
  const gaps = retentionGaps(stamps, historyStart, earlier);
  const moved = stamps.filter((stamp) => earlier.has(stamp) && restoreDay(stamp, earlier) !== dayOf(stamp)).sort();
  /** which missing days a snapshot stamped on them but counted from earlier would have filled */
  const renamedOn = (days: readonly string[]): string => {
    const named = moved.filter((stamp) => days.includes(pretty(dayOf(stamp))));
    return named.length === 0 ? '' : ` (${named.map((stamp) => `${stamp} counts from its created_at ${new Date(earlier.get(stamp)!).toISOString()}: a renamed directory?`).join('; ')})`;
  };
  const evidence = {
    kept: plan.kept,
    prune_due: plan.prune,
    missing_days: gaps.missingDays,
    missing_sundays: gaps.missingSundays,
    missing_firsts_of_month: gaps.missingFirsts,
    history_start: [...stamps].sort()[0],
    ...(historyStart ? { ledger_history_start: historyStart } : {}),
    ...(moved.length > 0 ? { counted_from_created_at: moved.slice(0, 50).map((stamp) => ({ stamp, created_at: new Date(earlier.get(stamp)!).toISOString() })) } : {}),
    ...notCounted,
  };
  const failures: string[] = [];
  const warnings: string[] = [];
  if (gaps.missingSundays.length > 0) failures.push(`no snapshot for Sunday(s) ${gaps.missingSundays.join(', ')}${renamedOn(gaps.missingSundays)}`);
  if (gaps.missingFirsts.length > 0) failures.push(`no snapshot for the 1st(s) of ${gaps.missingFirsts.join(', ')}${renamedOn(gaps.missingFirsts)}`);
  if (plan.prune.length >= PRUNE_BACKLOG_FAIL) failures.push(`${plan.prune.length} snapshots the policy deletes are still here: cleanup is not running`);
  else if (plan.prune.length > 0) warnings.push(`${plan.prune.length} snapshot(s) the policy deletes are still here (cleanup overdue): ${plan.prune.join(', ')}`);
  if (gaps.missingDays.length > 0) warnings.push(`no snapshot on ${gaps.missingDays.join(', ')}${renamedOn(gaps.missingDays)}`);
  if (failures.length > 0) return check(id, 'fail', [...failures, ...warnings].join('; '), evidence);
  if (warnings.length > 0) return check(id, 'warn', warnings.join('; '), evidence);
  return check(id, 'pass', `${plan.kept.length} snapshot(s), exactly what the policy keeps (${KEEP_DAILY} daily, ${KEEP_WEEKLY} weekly, ${KEEP_MONTHLY} monthly)`, evidence);
}

export function stampAgeMs(stamp: SnapshotStamp, nowMs: number): number {
  return nowMs - stampTime(stamp);
}
