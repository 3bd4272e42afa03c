import type { CheckStatus, StepStatus, Verdict } from './model.js';

/** The verdict that makes a run fail its job: `fail` (default) or also `warn`. */
export type FailOn = 'fail' | 'warn';

export type CheckRunConclusion = 'success' | 'neutral' | 'failure';
export type CommitStatusState = 'success' | 'failure' | 'error';
export type AnnotationLevel = 'failure' | 'warning';

/**
 * What a finished run says, in every output. Renderers read this; none decides on its own
 * whether a run failed.
 */
export interface RunOutcome {
  readonly verdict: Verdict;
  readonly failOn: FailOn;
  /** DESIGN.md: 0 pass (or warn), 1 fail (and warn with fail-on warn), 3 could not run */
  readonly exitCode: 0 | 1 | 3;
  /** the job (and the action's step) fails: exactly when the exit code is not 0 */
  readonly failsJob: boolean;
  readonly checkRunConclusion: CheckRunConclusion;
  readonly commitStatusState: CommitStatusState;
  /** the Markdown summary's banner */
  readonly banner: string;
  /** the strongest element the JUnit file must hold: an `<error>`, a `<failure>`, or neither */
  readonly junit: 'error' | 'failure' | 'none';
  /** the strongest annotation level the check run must carry (null: none needed) */
  readonly annotation: AnnotationLevel | null;
}

type Row = Omit<RunOutcome, 'verdict' | 'failOn'>;

/**
 * The one table: verdict × fail-on → every output. Warn is green unless fail-on warn makes
 * it failing, and then it fails everywhere at once (exit 1, check failure, status failure,
 * JUnit failures). Error is "could not run": exit 3, a failed check run whose title says so,
 * an `error` commit status, JUnit errors.
 */
const TABLE: Readonly<Record<FailOn, Readonly<Record<Verdict, Row>>>> = {
  fail: {
    pass: { exitCode: 0, failsJob: false, checkRunConclusion: 'success', commitStatusState: 'success', banner: '✅ PASS', junit: 'none', annotation: null },
    warn: { exitCode: 0, failsJob: false, checkRunConclusion: 'neutral', commitStatusState: 'success', banner: '⚠️ WARN', junit: 'none', annotation: 'warning' },
    fail: { exitCode: 1, failsJob: true, checkRunConclusion: 'failure', commitStatusState: 'failure', banner: '❌ FAIL', junit: 'failure', annotation: 'failure' },
    error: { exitCode: 3, failsJob: true, checkRunConclusion: 'failure', commitStatusState: 'error', banner: '🛑 ERROR (could not run)', junit: 'error', annotation: 'failure' },
  },
  warn: {
    pass: { exitCode: 0, failsJob: false, checkRunConclusion: 'success', commitStatusState: 'success', banner: '✅ PASS', junit: 'none', annotation: null },
    warn: { exitCode: 1, failsJob: true, checkRunConclusion: 'failure', commitStatusState: 'failure', banner: '⚠️ WARN (failing: fail-on warn)', junit: 'failure', annotation: 'failure' },
    fail: { exitCode: 1, failsJob: true, checkRunConclusion: 'failure', commitStatusState: 'failure', banner: '❌ FAIL', junit: 'failure', annotation: 'failure' },
    error: { exitCode: 3, failsJob: true, checkRunConclusion: 'failure', commitStatusState: 'error', banner: '🛑 ERROR (could not run)', junit: 'error', annotation: 'failure' },
  },
};

export function runOutcome(verdict: Verdict, failOn: FailOn = 'fail'): RunOutcome {
  return { verdict, failOn, ...TABLE[failOn][verdict] };
}

/** Exit code for a verdict (DESIGN.md: 0 pass/warn, 1 fail, 3 error; --fail-on warn makes warn 1). */
export function exitCodeFor(verdict: Verdict, failOn: FailOn = 'fail'): 0 | 1 | 3 {
  return runOutcome(verdict, failOn).exitCode;
}

/** What one check becomes in JUnit and in the annotations. */
export interface CheckOutcome {
  readonly junit: 'pass' | 'failure' | 'skipped';
  readonly annotation: AnnotationLevel | null;
}

const CHECK_TABLE: Readonly<Record<FailOn, Readonly<Record<CheckStatus, CheckOutcome>>>> = {
  fail: {
    pass: { junit: 'pass', annotation: null },
    // a passing test case that says WARN in its output: JUnit has no warning
    warn: { junit: 'pass', annotation: 'warning' },
    fail: { junit: 'failure', annotation: 'failure' },
    skip: { junit: 'skipped', annotation: null },
  },
  warn: {
    pass: { junit: 'pass', annotation: null },
    warn: { junit: 'failure', annotation: 'failure' },
    fail: { junit: 'failure', annotation: 'failure' },
    skip: { junit: 'skipped', annotation: null },
  },
};

export function checkOutcome(status: CheckStatus, failOn: FailOn = 'fail'): CheckOutcome {
  return CHECK_TABLE[failOn][status];
}

/** What one step becomes: a step that found a problem is a failure, one that could not run an error; the rest say nothing by themselves. */
export interface StepOutcome {
  readonly junit: 'error' | 'failure' | null;
  readonly annotation: AnnotationLevel | null;
}

const STEP_TABLE: Readonly<Record<StepStatus, StepOutcome>> = {
  pass: { junit: null, annotation: null },
  // a skipped step's checks are skipped test cases with the reason
  skip: { junit: null, annotation: null },
  fail: { junit: 'failure', annotation: 'failure' },
  error: { junit: 'error', annotation: 'failure' },
};

export function stepOutcome(status: StepStatus): StepOutcome {
  return STEP_TABLE[status];
}
