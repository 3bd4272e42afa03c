import type { CheckResult, StepRecord, Verdict } from './types.js';

/**
 * The one place that decides a verdict. A step that could not run (infrastructure) makes
 * it `error`; a failing check or a step that found a problem makes it `fail`; a warning
 * makes it `warn`. Skipped checks decide nothing by themselves: the step that caused the
 * skip already failed.
 */
export function decideVerdict(steps: readonly StepRecord[], checks: readonly CheckResult[]): Verdict {
  if (steps.some((step) => step.status === 'error')) return 'error';
  if (steps.some((step) => step.status === 'fail') || checks.some((c) => c.status === 'fail')) return 'fail';
  if (checks.some((c) => c.status === 'warn')) return 'warn';
  return 'pass';
}

export type FailOn = 'fail' | 'warn';

/** Exit code for a verdict (DESIGN.md: 0 pass/warn, 1 fail, 3 error; --fail-on warn makes warn 1). */
export function exitCodeFor(verdict: Verdict, failOn: FailOn = 'fail'): 0 | 1 | 3 {
  if (verdict === 'error') return 3;
  if (verdict === 'fail') return 1;
  if (verdict === 'warn' && failOn === 'warn') return 1;
  return 0;
}
