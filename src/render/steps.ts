import type { CheckResult, DrillReport, StepRecord } from '../report/model.js';

/**
 * Which step decides a check. A drill's checks say so themselves (the step that decides
 * them, from the drill's plan); validation's per-snapshot checks are all decided while "check
 * each snapshot" runs. Checks computed between steps (rpo.fresh, …) belong to no step.
 */
const VALIDATE_STEP_OF_CHECK: ReadonlyMap<string, string> = new Map([
  ['snapshots.listing', 'list'],
  ['snapshots.future', 'list'],
  ['disk.headroom', 'disk'],
  ['offhost.copy', 'offhost'],
]);

export function stepOfCheck(report: DrillReport, check: CheckResult, stamp: string | null): string | null {
  if (report.kind === 'validate') return stamp !== null ? 'snapshots' : (VALIDATE_STEP_OF_CHECK.get(check.id) ?? null);
  return check.step ?? null;
}

/**
 * A failed step whose failure its own failed checks already say (the refusal step and
 * restore.refuses_without_confirm): outputs that list problems show the checks, not the
 * step again, so one problem is counted once.
 */
export function failureCarriedByChecks(report: DrillReport, step: StepRecord): boolean {
  if (step.status !== 'fail') return false;
  const failed = (check: CheckResult, stamp: string | null): boolean => check.status === 'fail' && stepOfCheck(report, check, stamp) === step.id;
  return report.checks.some((c) => failed(c, null)) || report.snapshots.some((s) => s.checks.some((c) => failed(c, s.stamp)));
}
