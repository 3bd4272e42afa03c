/**
 * What every run of a plan does the same way, whatever the service and whatever the run (the
 * AtoCore drill, a profile drill, a rehearsal): each step's action run through the step loop,
 * a step that found a problem in its checks going on as `fail`, a throw classified (a finding
 * fails the step, anything else — an interrupt above all — is an error), and the report's checks
 * in plan order, each named by the step that decides it, skipped with the reason when the run
 * never got to it. A run says what its steps do; this says how they add up.
 */
import type { Deadline } from '../common/deadline.js';
import { errorMessage } from '../common/errors.js';
import { check, decidedBy, type CheckResult, type DrillReport } from '../report/model.js';
import { decideVerdict } from '../report/verdict.js';
import { isExpectedError, stepStatusFor } from './classification.js';
import { diskNearlyFull } from './disk.js';
import { runPlan, type DrillObserver, type PlannedStep, type PlanRun, type StepOutcome } from './step-loop.js';

export abstract class PlannedRun<Id extends string> {
  protected readonly found = new Map<string, CheckResult>();
  protected abstract readonly plan: readonly PlannedStep<Id>[];
  /** each step's action; its detail when it passes */
  protected abstract readonly actions: Readonly<Record<Id, () => Promise<string>>>;
  protected abstract readonly deadline: Deadline;
  protected abstract readonly signal: AbortSignal | undefined;

  /** Runs the plan; the outcome and when it started, for the report. */
  protected async runSteps(observer: DrillObserver | undefined): Promise<{ run: PlanRun; startedAt: Date }> {
    const startedAt = new Date();
    const run = await runPlan(this.plan, (step) => this.perform(step), {
      started: (step) => observer?.stepStarted?.(step),
      finished: (record, step) => observer?.stepFinished?.(record, record.status === 'skip' ? [] : this.checksOf(step)),
    });
    return { run, startedAt };
  }

  /** Where the run's own files lie (its drill root), once there is one: a full disk there is the machine's doing. */
  protected abstract diskRoot(): string | null;
  /** The service, as messages name it ("AtoCore", "jellycore"). */
  protected abstract readonly serviceName: string;

  protected async perform(step: PlannedStep<Id>): Promise<StepOutcome> {
    let outcome: StepOutcome;
    const interruptedBefore = this.signal?.aborted === true;
    try {
      // a cleanup step runs whatever happened, interrupt and budget included
      if (!step.always) this.assertMayStart(step);
      const detail = await this.actions[step.id]();
      // an interrupt while the step ran made it hurry (a teardown kills the service at once): the run was interrupted, whatever the step reports
      if (!interruptedBefore && this.signal?.aborted) {
        return { status: 'error', detail: `${errorMessage(this.signal.reason)} during this step, which then ended in haste: ${detail}` };
      }
      // a step whose checks found a problem found it; the run goes on to see the rest
      outcome = this.checksOf(step).some((c) => c.status === 'fail') ? { status: 'fail', detail, halts: false } : { status: 'pass', detail };
    } catch (error) {
      if (step.always) return { status: 'error', detail: `${step.id} failed: ${errorMessage(error)}` };
      outcome = this.failure(step, error);
    }
    return this.unlessDiskFull(step, outcome);
  }

  /**
   * A step that found a problem while the disk under the drill root is full has found the
   * machine's problem, not the service's (a backup answering 500 "disk is full"): its failed
   * checks are not evidence, and the step is an error naming the disk.
   */
  private async unlessDiskFull(step: PlannedStep<Id>, outcome: StepOutcome): Promise<StepOutcome> {
    const failed = this.checksOf(step).filter((c) => c.status === 'fail');
    if (outcome.status !== 'fail' && failed.length === 0) return outcome;
    const root = this.diskRoot();
    const full = root === null ? null : await diskNearlyFull(root);
    if (full === null) return outcome;
    for (const c of failed) this.found.delete(c.id);
    const reason = `the filesystem holding the drill root has ${full}: what failed here says nothing about ${this.serviceName} (it was: ${(outcome.reason ?? outcome.detail).split('\n')[0]})`;
    return { status: 'error', detail: reason, reason };
  }

  protected assertMayStart(step: PlannedStep<Id>): void {
    this.assertNotInterrupted();
    this.deadline.assertTimeLeft(`step "${step.title}"`);
  }

  /** Between the pieces of a long step (copies, calls): an interrupt ends it there. */
  protected assertNotInterrupted(): void {
    if (this.signal?.aborted) throw this.signal.reason;
  }

  /**
   * A step that threw: a finding fails it, anything else (an interrupt above all) is an error.
   * Checks it recorded before it threw stand: each was decided on a call that ended by itself.
   * `serviceOutput`: what the service said lately, shown under a step that failed or could not run.
   */
  protected failure(step: PlannedStep<Id>, error: unknown, serviceOutput?: string): StepOutcome {
    const interrupted: unknown = this.signal?.aborted ? this.signal.reason : undefined;
    const reason = errorMessage(interrupted ?? error);
    const status = stepStatusFor(error, interrupted !== undefined);
    let detail = reason;
    if (!isExpectedError(error) && !interrupted) detail = `${detail}${error instanceof Error && error.stack ? `\n${error.stack}` : ''}`;
    // under a step that found a problem or could not run: a service that died says why there
    if (serviceOutput !== undefined) detail = `${detail}${serviceOutput}`;
    return { status, detail, reason };
  }

  protected record(result: CheckResult): void {
    this.found.set(result.id, result);
  }

  protected checksOf(step: PlannedStep<Id>): CheckResult[] {
    return step.checks.map((id) => this.found.get(id)).filter((c): c is CheckResult => c !== undefined);
  }

  /**
   * The report's common part: every planned check in plan order, named by its step, skipped
   * with the reason when never evaluated; when every step ran yet a check saw nothing, the
   * harness is wrong, not the service (an error naming them). `noun`: "drill", "rehearsal".
   */
  protected reportOf(
    run: PlanRun,
    startedAt: Date,
    noun: string,
    rest: Pick<DrillReport, 'kind' | 'target' | 'metrics'>,
  ): DrillReport {
    const checks = this.plan.flatMap((step) =>
      step.checks.map((id) => decidedBy(this.found.get(id) ?? check(id, 'skip', `not evaluated: ${run.halted ?? 'no observation'}`), step.id)),
    );
    let errorText = run.error;
    const unobserved = run.halted !== undefined ? [] : checks.filter((c) => c.status === 'skip').map((c) => c.id);
    if (unobserved.length > 0) errorText ??= `internal: the ${noun} ran every step but never evaluated ${unobserved.join(', ')}`;
    const finishedAt = new Date();
    return {
      schema: 'atocore-drill/report@1',
      kind: rest.kind,
      verdict: decideVerdict(run.steps, checks, errorText),
      started_at: startedAt.toISOString(),
      finished_at: finishedAt.toISOString(),
      duration_ms: finishedAt.getTime() - startedAt.getTime(),
      target: rest.target,
      steps: run.steps,
      checks,
      metrics: rest.metrics,
      snapshots: [],
      ...(errorText ? { error: errorText } : {}),
    };
  }
}
