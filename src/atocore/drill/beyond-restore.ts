/**
 * What AtoCore's drills beyond restore need to know of AtoCore: its retention policy, the old
 * stamps a rotation drill makes, the corruptions its `validate` is shown, and how to read
 * `validate`'s answer. Pure: the run (drill.ts) makes the files and the calls.
 */
import type { BackupCliCall } from '../backup-cli.js';
import { stampOf, type SnapshotStamp } from '../stamp.js';
import { describeProcessResult } from '../../common/child-process.js';
import type { CorruptionKind, VerifierAnswer } from '../../engine/verification.js';
import type { RetentionPolicy } from '../../engine/rotation.js';

/** AtoCore's `cleanup`: 7 daily, 4 weekly (Sunday), 6 monthly (1st of month), UTC, the newest of each day. */
export const ATOCORE_RETENTION: RetentionPolicy = { daily: 7, weekly: 4, monthly: 6 };

/** A directory in `snapshots/` not named like a snapshot, which `cleanup` must leave alone. */
export const FOREIGN_DIRECTORY = 'lost+found';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * The stamps a rotation drill makes before `now`, by copying the real snapshot: 06:00 UTC on
 * each of the 9 days before today and 18:00 on the 2 days before (so a day holds two, of which
 * the later is kept); 06:00 on every Sunday of the last 10 weeks and every 1st of a month of the
 * last 220 days (so each rule has some it keeps and some it lets go); and a few plain old days.
 */
export function rotationStamps(now: number): SnapshotStamp[] {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const at = (daysBack: number, hour: number): number => today - daysBack * DAY_MS + hour * HOUR_MS;
  const times = new Set<number>();
  for (let day = 1; day <= 9; day++) times.add(at(day, 6));
  for (const day of [1, 2]) times.add(at(day, 18));
  for (let day = 10; day <= 220; day++) {
    const date = new Date(at(day, 6));
    if ((date.getUTCDay() === 0 && day <= 70) || date.getUTCDate() === 1) times.add(at(day, 6));
  }
  for (const day of [12, 40, 100, 199]) times.add(at(day, 6));
  return [...times].sort((a, b) => a - b).map((time) => stampOf(new Date(time)));
}

/** One corrupted copy `validate` is shown: what is done to which file of the snapshot. */
export interface AtoCoreCorruption {
  readonly kind: CorruptionKind;
  /** relative to the snapshot directory */
  readonly target: string;
  /** the stamp the copy is placed under, beside the real snapshots (long before any real one) */
  readonly stamp: SnapshotStamp;
}

/**
 * The corruptions AtoCore's validate is meant to catch (its error strings: db_integrity_check_failed,
 * registry_invalid_json, db_snapshot_missing). An emptied chroma/ is not among them: validate
 * only asks whether the directory exists.
 */
export const ATOCORE_CORRUPTIONS: readonly AtoCoreCorruption[] = [
  { kind: 'corrupt_database', target: 'db/atocore.db', stamp: '20000101T000001Z' as SnapshotStamp },
  { kind: 'corrupt_json', target: 'config/project-registry.json', stamp: '20000101T000002Z' as SnapshotStamp },
  { kind: 'missing_file', target: 'db/atocore.db', stamp: '20000101T000003Z' as SnapshotStamp },
];

/**
 * What `validate STAMP` said: `valid: true` with no errors is acceptance; a non-zero exit,
 * `valid: false` or any error is rejection (after the early errors AtoCore leaves `valid` out);
 * anything else (no JSON, `valid` missing with no error) is no verdict. The call is evidence
 * (classification.ts decides that before this reads it).
 */
export function readValidateAnswer(call: BackupCliCall): VerifierAnswer {
  const json = call.json;
  const errors = Array.isArray(json?.['errors']) ? (json['errors'] as unknown[]).map(String) : [];
  if (call.result.exitCode !== 0) {
    const said = errors[0] ?? call.result.stderr.trim().split('\n').at(-1) ?? '';
    return { said: 'rejected', detail: `${describeProcessResult(call.result)}${said ? `: ${said.slice(0, 300)}` : ''}` };
  }
  if (!json) return { said: 'could_not_tell', detail: 'validate exited 0 and printed no JSON object' };
  const valid = json['valid'];
  if (valid === true && errors.length === 0) return { said: 'accepted', detail: '"valid": true, no errors' };
  if (valid === false || errors.length > 0) return { said: 'rejected', detail: errors.length > 0 ? errors.slice(0, 3).join('; ').slice(0, 500) : '"valid": false' };
  return { said: 'could_not_tell', detail: `validate answered without a verdict ("valid": ${JSON.stringify(valid) ?? 'absent'}, no errors)` };
}
