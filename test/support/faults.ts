/**
 * DESIGN.md's fault table as test data: each fault and exactly the checks that must fail.
 * A check outside `fails` that fails is a false alarm; one inside that passes is a missed
 * fault. `passes` names neighbours that must stay green. Shared by both runtimes' tests.
 */
export interface FaultCase {
  readonly faults: readonly string[];
  readonly fails: readonly string[];
  readonly passes: readonly string[];
}

export const FAULT_CASES: readonly FaultCase[] = [
  // the database is not restored, so marker B and the baseline both show it
  { faults: ['restore-skips-db'], fails: ['baseline.intact', 'marker.post_backup_gone'], passes: ['registry.restored', 'chroma.restored', 'backup.valid'] },
  { faults: ['restore-skips-registry'], fails: ['registry.restored'], passes: ['marker.post_backup_gone', 'chroma.restored', 'baseline.intact'] },
  { faults: ['restore-skips-chroma'], fails: ['chroma.restored'], passes: ['marker.post_backup_gone', 'registry.restored', 'baseline.intact'] },
  { faults: ['restore-ignores-confirm'], fails: ['restore.refuses_without_confirm'], passes: ['marker.post_backup_gone', 'restore.pre_restore_snapshot', 'baseline.intact'] },
  // a torn copy loses what was in the WAL: marker A, and so the state at backup time
  { faults: ['backup-torn-wal'], fails: ['baseline.intact', 'marker.pre_backup_present'], passes: ['backup.valid', 'backup.independent_integrity', 'marker.post_backup_gone'] },
  { faults: ['restore-wrong-owner'], fails: ['restore.ownership'], passes: ['restore.integrity', 'baseline.intact', 'service.health'] },
];

export function failingChecks(status: Record<string, string>): string[] {
  return Object.entries(status)
    .filter(([, s]) => s === 'fail')
    .map(([id]) => id)
    .sort();
}
