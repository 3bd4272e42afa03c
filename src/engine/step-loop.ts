/**
 * The loop that runs a plan, apart from what its steps do: steps run in order, the first
 * failure halts the steps after it, and the steps marked `always` (teardown) run anyway.
 * No I/O of its own, so the rule is tested with steps that only say how they ended.
 */
import type { CheckResult, StepRecord } from '../report/model.js';

/** One step of a drill's plan, whatever the service: what it is called and which checks it decides. */
export interface PlannedStep<Id extends string = string> {
  readonly id: Id;
  readonly title: string;
  /** check ids this step decides, in report order */
  readonly checks: readonly string[];
  /**
   * runs even when an earlier step halted the drill, interrupted or out of time (teardown);
   * its own failure is an error of the run but halts nothing
   */
  readonly always: boolean;
}

/** Who watches a drill as it runs (the console, the action's log groups). */
export interface DrillObserver {
  stepStarted?(step: PlannedStep): void;
  stepFinished?(record: StepRecord, checks: readonly CheckResult[]): void;
}

/** Every check id a plan decides, in order. */
export function plannedCheckIds(plan: readonly PlannedStep[]): string[] {
  return plan.flatMap((step) => step.checks);
}

/** How one step ended. */
export interface StepOutcome {
  readonly status: 'pass' | 'fail' | 'error';
  /** the step record's detail */
  readonly detail: string;
  /** a failure in its own words (no stack, no service output); default: the detail */
  readonly reason?: string;
  /** false: a step that found a problem its checks record, after which the run can go on (default: a failure halts) */
  readonly halts?: boolean;
}

export interface StepLoopHooks<Step extends PlannedStep> {
  /** a step is about to run (not called for a step the halt skips) */
  started?(step: Step): void;
  /** a step's record, whether it ran or was skipped */
  finished?(record: StepRecord, step: Step): void;
}

export interface PlanRun {
  /** one record per planned step, in plan order */
  readonly steps: StepRecord[];
  /** why the steps after a failure did not run */
  readonly halted?: string;
  /** the reason of the first step that could not run */
  readonly error?: string;
}

export async function runPlan<Step extends PlannedStep>(
  plan: readonly Step[],
  perform: (step: Step) => Promise<StepOutcome>,
  hooks: StepLoopHooks<Step> = {},
): Promise<PlanRun> {
  const steps: StepRecord[] = [];
  let halted: string | undefined;
  let error: string | undefined;
  for (const step of plan) {
    if (halted !== undefined && !step.always) {
      const skipped: StepRecord = { id: step.id, title: step.title, status: 'skip', duration_ms: 0, detail: `not run: ${halted}` };
      steps.push(skipped);
      hooks.finished?.(skipped, step);
      continue;
    }
    hooks.started?.(step);
    const began = Date.now();
    const outcome = await perform(step);
    const record: StepRecord = { id: step.id, title: step.title, status: outcome.status, duration_ms: Date.now() - began, detail: outcome.detail };
    steps.push(record);
    if (outcome.status !== 'pass') {
      const reason = outcome.reason ?? outcome.detail;
      if (outcome.status === 'error') error ??= reason;
      // a step that runs after a halt anyway only cleans up: its failure prevents nothing
      if (!step.always && outcome.halts !== false) halted ??= haltReason(step, outcome.status, reason);
    }
    hooks.finished?.(record, step);
  }
  return { steps, ...(halted !== undefined ? { halted } : {}), ...(error !== undefined ? { error } : {}) };
}

function haltReason(step: PlannedStep, status: 'fail' | 'error', reason: string): string {
  return `step ${step.id} ${status === 'fail' ? 'failed' : 'could not run'}: ${(reason.split('\n')[0] ?? '').slice(0, 300)}`;
}
