/**
 * The off-site copy, judged: after the service's sync ran, did the newest backup arrive at the
 * remote, every file with the hash it has locally? Pure: the drill hashes both trees
 * (`hashTree` in files.ts); this decides.
 */
import { check, type CheckResult } from '../report/model.js';
import { treeDifferences } from './files.js';

export interface OffsiteObservation {
  /** the newest backup's name (for the messages) */
  readonly backup: string;
  /** sha256 of every file of the newest backup, by path relative to it */
  readonly expected: Readonly<Record<string, string>>;
  /** the same for what is at the remote where that backup should be; null when nothing is there at all */
  readonly arrived: Readonly<Record<string, string>> | null;
  /** where the drill looked at the remote (for the messages) */
  readonly remote: string;
}

const NAMED = 20;

export function judgeOffsite(observation: OffsiteObservation): CheckResult {
  const id = 'offsite.arrived';
  const { backup, remote } = observation;
  const expectedCount = Object.keys(observation.expected).length;
  if (expectedCount === 0) return check(id, 'skip', `the newest backup ${backup} holds no file, so there is nothing to see arrive`, { backup });
  const arrived = observation.arrived ?? {};
  if (observation.arrived === null || Object.keys(arrived).length === 0) {
    return check(id, 'fail', `nothing of the newest backup ${backup} arrived at the remote (${remote})`, { backup, remote, expected_files: expectedCount });
  }
  const { added, removed, changed } = treeDifferences(observation.expected as Record<string, string>, arrived as Record<string, string>);
  if (removed.length > 0 || changed.length > 0) {
    const parts = [
      ...(removed.length > 0 ? [`${removed.length} file(s) missing: ${named(removed)}`] : []),
      ...(changed.length > 0 ? [`${changed.length} file(s) differ: ${named(changed)}`] : []),
    ];
    return check(id, 'fail', `the newest backup ${backup} did not arrive whole at the remote (${remote}): ${parts.join('; ')}`, {
      backup,
      remote,
      missing: removed,
      differing: changed,
      extra: added,
    });
  }
  return check(id, 'pass', `all ${expectedCount} files of the newest backup ${backup} arrived at the remote with equal hashes`, {
    backup,
    remote,
    files: expectedCount,
    ...(added.length > 0 ? { extra: added } : {}),
  });
}

function named(paths: readonly string[]): string {
  return paths.length > NAMED ? `${paths.slice(0, NAMED).join(', ')} and ${paths.length - NAMED} more` : paths.join(', ');
}
