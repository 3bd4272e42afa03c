import type { CheckResult, StepRecord, Verdict } from './model.js';

/**
 * The one place that decides a verdict. A step that could not run (infrastructure) makes
 * it `error`; a failing check or a step that found a problem makes it `fail`; a warning
 * makes it `warn`. Skipped checks decide nothing by themselves: the step that caused the
 * skip already failed. `harnessError` names a problem of the harness found outside any step.
 */
export function decideVerdict(steps: readonly StepRecord[], checks: readonly CheckResult[], harnessError?: string): Verdict {
  if (harnessError !== undefined || steps.some((step) => step.status === 'error')) return 'error';
  if (steps.some((step) => step.status === 'fail') || checks.some((c) => c.status === 'fail')) return 'fail';
  if (checks.some((c) => c.status === 'warn')) return 'warn';
  return 'pass';
}

// the verdict's mapping to exit codes and every other output lives in one table (report/outcome.ts)
export { exitCodeFor, type FailOn } from './outcome.js';
