/**
 * Rotation, judged: after a service's own rotation ran over backups the drill made with old
 * times, did it keep what its policy promises, remove what the policy lets go, and leave
 * alone what is not its to delete (the newest backup, the backup root, directories not named
 * like a backup)? Pure: the drill makes the backups and looks at what survived; this decides.
 */
import { check, type CheckResult } from '../report/model.js';

const DAY_MS = 86_400_000;

/** One backup as the policy sees it: its name and the time the policy ages it by (the stamp in its name, or its mtime). */
export interface AgedBackup {
  readonly name: string;
  /** milliseconds since the epoch */
  readonly time: number;
}

/**
 * A retention policy:
 * - `keepDays`: every backup younger than that many days is kept (JellyCore: 7);
 * - `daily`/`weekly`/`monthly`: the newest backup of each of the N most recent days that have
 *   backups, of the N most recent Sundays and of the N most recent 1sts of a month (UTC), as
 *   AtoCore's `cleanup` keeps them (7, 4, 6).
 */
export type RetentionPolicy =
  | { readonly keepDays: number }
  | { readonly daily: number; readonly weekly: number; readonly monthly: number };

/** What a policy promises about a set of backups. */
export interface RetentionPromise {
  /** names the policy promises to keep */
  readonly promised: string[];
  /** names past the policy (the rotation should remove them); never the newest */
  readonly expired: string[];
  /** the newest backup's name: never deleted, whatever its age */
  readonly newest: string | null;
}

/** Which backups `policy` keeps and which it lets go, at time `now` (ms). Ties in time: the later name is the newer. */
export function retentionPromise(policy: RetentionPolicy, backups: readonly AgedBackup[], now: number): RetentionPromise {
  const ordered = [...backups].sort((a, b) => a.time - b.time || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const newest = ordered.at(-1)?.name ?? null;
  const kept = 'keepDays' in policy ? keptByAge(policy.keepDays, ordered, now) : keptByCalendar(policy, ordered);
  return {
    promised: ordered.filter((backup) => kept.has(backup.name)).map((backup) => backup.name),
    expired: ordered.filter((backup) => !kept.has(backup.name) && backup.name !== newest).map((backup) => backup.name),
    newest,
  };
}

function keptByAge(keepDays: number, backups: readonly AgedBackup[], now: number): Set<string> {
  return new Set(backups.filter((backup) => now - backup.time < keepDays * DAY_MS).map((backup) => backup.name));
}

/** `backups` oldest first: the later one of a day wins, as AtoCore's cleanup keeps it. */
function keptByCalendar(policy: { readonly daily: number; readonly weekly: number; readonly monthly: number }, backups: readonly AgedBackup[]): Set<string> {
  const newestOfDay = new Map<string, string>();
  for (const backup of backups) newestOfDay.set(new Date(backup.time).toISOString().slice(0, 10), backup.name);
  const days = [...newestOfDay.keys()].sort().reverse();
  const sundays = days.filter((day) => new Date(`${day}T00:00:00Z`).getUTCDay() === 0);
  const firsts = days.filter((day) => day.endsWith('-01'));
  const keepDays = [...days.slice(0, policy.daily), ...sundays.slice(0, policy.weekly), ...firsts.slice(0, policy.monthly)];
  return new Set(keepDays.map((day) => newestOfDay.get(day)!));
}

/** What the drill made before the rotation ran and what it found after. */
export interface RotationObservation {
  /** every backup the drill made or found before the rotation, with its age in days (for the evidence) */
  readonly backups: readonly { readonly name: string; readonly ageDays: number }[];
  readonly promised: readonly string[];
  readonly expired: readonly string[];
  readonly newest: string | null;
  /** directories in the backup root not named like a backup (lost+found, a `latest`) */
  readonly foreign: readonly string[];
  readonly rootSurvived: boolean;
  /** the names in the backup root after the rotation (empty when the root is gone) */
  readonly survivors: readonly string[];
}

/**
 * `rotation.dry_run_changes_nothing`: a rotation run as a dry run (AtoCore's `cleanup` without
 * `--confirm`) left the backup root exactly as it was. `differences` compares the root's tree
 * (paths and hashes) before and after.
 */
export function judgeDryRun(differences: { readonly added: readonly string[]; readonly removed: readonly string[]; readonly changed: readonly string[] }, rootSurvived: boolean): CheckResult {
  const id = 'rotation.dry_run_changes_nothing';
  if (!rootSurvived) return check(id, 'fail', 'the dry run deleted the backup root itself', { root_survived: false });
  const { added, removed, changed } = differences;
  if (added.length + removed.length + changed.length === 0) return check(id, 'pass', 'the dry run left every file of the backup root as it was');
  const parts = [
    ...(removed.length > 0 ? [`${removed.length} file(s) deleted (${topLevel(removed)})`] : []),
    ...(changed.length > 0 ? [`${changed.length} changed (${topLevel(changed)})`] : []),
    ...(added.length > 0 ? [`${added.length} added (${topLevel(added)})`] : []),
  ];
  return check(id, 'fail', `the dry run changed the backup root: ${parts.join(', ')}`, { removed: [...removed], changed: [...changed], added: [...added] });
}

/** The backups (first path segments) a list of file paths touches, for a message. */
function topLevel(paths: readonly string[]): string {
  const names = [...new Set(paths.map((path) => path.split('/')[0]!))];
  return names.length > 10 ? `${names.slice(0, 10).join(', ')} and ${names.length - 10} more` : names.join(', ');
}

/** The rotation checks, in report order. */
export const ROTATION_CHECK_IDS = ['rotation.keeps_root', 'rotation.keeps_newest', 'rotation.keeps_promised', 'rotation.keeps_foreign', 'rotation.removes_expired'] as const;

export function judgeRotation(observation: RotationObservation): CheckResult[] {
  const survived = new Set(observation.rootSurvived ? observation.survivors : []);
  const ageOf = new Map(observation.backups.map((backup) => [backup.name, backup.ageDays]));
  const aged = (names: readonly string[]): string => names.map((name) => (ageOf.has(name) ? `${name} (${formatAge(ageOf.get(name)!)})` : name)).join(', ');
  const deleted = (names: readonly string[]): string[] => names.filter((name) => !survived.has(name));
  const evidence = { survivors: [...survived].sort(), made: observation.backups.map((backup) => backup.name) };
  return [
    keepsRoot(observation.rootSurvived),
    keepsNewest(observation.newest, survived, aged, evidence),
    keepsPromised(observation.promised, deleted(observation.promised), aged, evidence),
    keepsForeign(observation.foreign, deleted(observation.foreign), evidence),
    removesExpired(observation.expired.filter((name) => name !== observation.newest), survived, aged, evidence),
  ];
}

function keepsRoot(rootSurvived: boolean): CheckResult {
  return rootSurvived
    ? check('rotation.keeps_root', 'pass', 'the backup root is still there after the rotation')
    : check('rotation.keeps_root', 'fail', 'the rotation deleted the backup root itself, and every backup in it', { root_survived: false });
}

function keepsNewest(newest: string | null, survived: ReadonlySet<string>, aged: (names: readonly string[]) => string, evidence: Record<string, unknown>): CheckResult {
  if (newest === null) return check('rotation.keeps_newest', 'skip', 'the drill made no backup, so there is no newest to keep');
  return survived.has(newest)
    ? check('rotation.keeps_newest', 'pass', `the newest backup ${aged([newest])} survived the rotation`, { newest })
    : check('rotation.keeps_newest', 'fail', `the rotation deleted the newest backup ${aged([newest])}: nothing newer is left to restore from`, { newest, ...evidence });
}

function keepsPromised(promised: readonly string[], deleted: readonly string[], aged: (names: readonly string[]) => string, evidence: Record<string, unknown>): CheckResult {
  if (promised.length === 0) return check('rotation.keeps_promised', 'skip', 'the policy promised to keep none of the backups the drill made');
  if (deleted.length > 0) {
    return check('rotation.keeps_promised', 'fail', `the rotation deleted ${deleted.length} of the ${promised.length} backups its policy promises to keep: ${aged(deleted)}`, {
      deleted_promised: [...deleted],
      promised: [...promised],
      ...evidence,
    });
  }
  return check('rotation.keeps_promised', 'pass', `all ${promised.length} backups the policy promises to keep survived`, { promised: [...promised] });
}

function keepsForeign(foreign: readonly string[], deleted: readonly string[], evidence: Record<string, unknown>): CheckResult {
  if (foreign.length === 0) return check('rotation.keeps_foreign', 'skip', 'there was no directory in the backup root that is not a backup');
  if (deleted.length > 0) {
    return check('rotation.keeps_foreign', 'fail', `the rotation deleted ${deleted.length === 1 ? 'a directory' : 'directories'} not named like a backup: ${deleted.join(', ')}`, {
      deleted_foreign: [...deleted],
      foreign: [...foreign],
      ...evidence,
    });
  }
  return check('rotation.keeps_foreign', 'pass', `the rotation left alone what is not a backup: ${foreign.join(', ')}`, { foreign: [...foreign] });
}

function removesExpired(expired: readonly string[], survived: ReadonlySet<string>, aged: (names: readonly string[]) => string, evidence: Record<string, unknown>): CheckResult {
  if (expired.length === 0) return check('rotation.removes_expired', 'skip', 'none of the backups the drill made is past the policy');
  const left = expired.filter((name) => survived.has(name));
  if (left.length > 0) {
    return check('rotation.removes_expired', 'warn', `${left.length} of the ${expired.length} backups past the policy survived the rotation, so the disk keeps growing: ${aged(left)}`, {
      expired_survivors: left,
      expired: [...expired],
      ...evidence,
    });
  }
  return check('rotation.removes_expired', 'pass', `the rotation removed all ${expired.length} backups past the policy`, { expired: [...expired] });
}

function formatAge(days: number): string {
  if (days === 1) return '1 day old';
  return Number.isInteger(days) ? `${days} days old` : `${days.toFixed(1)} days old`;
}
