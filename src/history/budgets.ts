import { formatDuration } from '../common/duration.js';
import { check, type CheckResult, type DrillReport, type Verdict } from '../report/model.js';
import { decideVerdict } from '../report/verdict.js';
import type { HistoryRun } from './run.js';

/**
 * Checks computed after a run's steps, from its figures: the budgets the operator states and
 * the run's history. They belong to no step (src/render/steps.ts): the steps measured, these judge.
 */

/** The budgets a run is held to; null: not stated. */
export interface RunBudgets {
  readonly rtoBudgetMs: number | null;
  readonly rpoBudgetMs: number | null;
}

/** A regression is judged against at most this many earlier passing runs of the same kind and target… */
export const REGRESSION_WINDOW = 10;
/** …and only once there are this many (the median of one or two runs is noise). */
export const REGRESSION_MIN_RUNS = 3;
/** RTO more than this many times the median warns. */
export const REGRESSION_FACTOR = 2;

/** `rto.budget`: the measured RTO (stop → healthy on the restored data) within the budget. */
export function rtoBudgetCheck(rtoMs: number | null, budgetMs: number, why: string | null): CheckResult {
  const evidence = { rto_ms: rtoMs, budget_ms: budgetMs };
  if (rtoMs === null) return check('rto.budget', 'skip', `no RTO was measured${why ? `: ${why}` : ' (the run did not get to restart the service)'}`, evidence);
  if (rtoMs > budgetMs) return check('rto.budget', 'fail', `RTO ${formatDuration(rtoMs)} is over the budget of ${formatDuration(budgetMs)}`, evidence);
  return check('rto.budget', 'pass', `RTO ${formatDuration(rtoMs)}, within the budget of ${formatDuration(budgetMs)}`, evidence);
}

/** `rpo.budget`: the drill's RPO (the restored backup's age when the service stopped) within the budget. */
export function rpoBudgetCheck(rpoS: number | null, budgetMs: number, why: string | null): CheckResult {
  const evidence = { rpo_s: rpoS, budget_ms: budgetMs };
  if (rpoS === null) return check('rpo.budget', 'skip', `no RPO was measured${why ? `: ${why}` : ' (the run did not get to back up and stop the service)'}`, evidence);
  if (rpoS * 1000 > budgetMs) return check('rpo.budget', 'fail', `RPO ${formatDuration(rpoS * 1000)} is over the budget of ${formatDuration(budgetMs)}`, evidence);
  return check('rpo.budget', 'pass', `RPO ${formatDuration(rpoS * 1000)}, within the budget of ${formatDuration(budgetMs)}`, evidence);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The earlier runs a regression is judged against: the last passing (pass or warn) ones with an RTO, of the same kind and target. */
export function regressionBaseline(earlier: readonly HistoryRun[], kind: string, target: string): HistoryRun[] {
  return earlier.filter((run) => run.kind === kind && run.target === target && (run.verdict === 'pass' || run.verdict === 'warn') && run.rto_ms !== null).slice(-REGRESSION_WINDOW);
}

/** `rto.regression`: warns when the RTO is more than twice the median of the baseline runs. */
export function rtoRegressionCheck(rtoMs: number | null, baseline: readonly HistoryRun[]): CheckResult {
  const rtos = baseline.map((run) => run.rto_ms!);
  const evidence: Record<string, unknown> = { rto_ms: rtoMs, runs_compared: rtos.length, window: REGRESSION_WINDOW, factor: REGRESSION_FACTOR };
  if (rtoMs === null) return check('rto.regression', 'skip', 'no RTO was measured in this run', evidence);
  if (rtos.length < REGRESSION_MIN_RUNS) {
    return check('rto.regression', 'skip', `${rtos.length} earlier passing run(s) of this target in the history; a trend needs ${REGRESSION_MIN_RUNS}`, evidence);
  }
  const middle = median(rtos);
  evidence.median_ms = middle;
  const text = `RTO ${formatDuration(rtoMs)} against a median of ${formatDuration(middle)} over the last ${rtos.length} passing run(s)`;
  if (rtoMs > REGRESSION_FACTOR * middle) return check('rto.regression', 'warn', `${text}: more than ${REGRESSION_FACTOR}× slower`, evidence);
  return check('rto.regression', 'pass', text, evidence);
}

const RANK: Readonly<Record<Verdict, number>> = { pass: 0, warn: 1, fail: 2, error: 3 };

/**
 * The report with checks added after its steps and the verdict decided again by the one rule
 * (report/verdict.ts); never better than it was (a verdict the report reached some other way stands).
 */
export function withRunChecks(report: DrillReport, added: readonly CheckResult[]): DrillReport {
  if (added.length === 0) return report;
  const checks = [...report.checks, ...added];
  const decided = decideVerdict(report.steps, checks, report.error);
  return { ...report, checks, verdict: RANK[decided] > RANK[report.verdict] ? decided : report.verdict };
}
