import { errorMessage, UsageError } from '../common/errors.js';
import type { CheckResult, DrillReport, SnapshotReport, StepRecord } from '../report/model.js';
import { decideVerdict } from '../report/verdict.js';

/** Who watches a validation's steps as they run (the console, the action's log groups). */
export interface StepWatcher {
  stepStarted?(id: string, title: string): void;
  stepFinished?(record: StepRecord): void;
}

/** What every validation run is given beside what it validates. */
export interface ValidationRunOptions {
  /** "now" for freshness and retention (injectable so fixed fixture trees give stable verdicts) */
  readonly nowMs: number;
  readonly timeoutMs: number;
  /** how the run's user named it, for messages (default --timeout) */
  readonly timeoutName?: string;
  /** snapshots (backups) worked on at once */
  readonly concurrency: number;
  readonly signal: AbortSignal;
  readonly scratchDir: string;
  readonly target: Record<string, unknown>;
}

/** Why a run stops: its signal's reason when that is an error. */
export function interruption(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('interrupted');
}

/**
 * The steps of a validation (AtoCore's snapshots, JellyCore's backups) as they are done: each
 * recorded with its time, the first error ending what is in flight (the run's own signal,
 * which also follows the caller's), a usage error ending the run (exit 2).
 */
export class RunSteps {
  readonly steps: StepRecord[] = [];
  /** fires on the caller's interrupt and on the run's first error: stops whatever is in flight */
  readonly internal = new AbortController();
  errorText: string | undefined;
  readonly #watcher: StepWatcher | undefined;

  constructor(watcher?: StepWatcher) {
    this.#watcher = watcher;
  }

  /** Runs `work` with the run's signal following `outer` (the caller's interrupt). */
  async following<T>(outer: AbortSignal, work: () => Promise<T>): Promise<T> {
    const onAbort = (): void => this.internal.abort(outer.reason);
    if (outer.aborted) onAbort();
    else outer.addEventListener('abort', onAbort, { once: true });
    try {
      return await work();
    } finally {
      outer.removeEventListener('abort', onAbort);
    }
  }

  /** Runs a step; a usage error ends the run (exit 2), anything else that stops it is `error`. */
  async step(id: string, title: string, work: () => Promise<string>): Promise<boolean> {
    const began = Date.now();
    this.#watcher?.stepStarted?.(id, title);
    let record: StepRecord;
    try {
      if (this.internal.signal.aborted) throw interruption(this.internal.signal);
      record = { id, title, status: 'pass', duration_ms: 0, detail: await work() };
    } catch (error) {
      if (error instanceof UsageError) {
        // stop whatever else is in flight before the run ends with exit 2
        this.internal.abort(error);
        throw error;
      }
      record = { id, title, status: 'error', duration_ms: 0, detail: errorMessage(error) };
      this.errorText ??= `${title}: ${errorMessage(error)}`;
      this.internal.abort(error);
    }
    this.add({ ...record, duration_ms: Date.now() - began });
    return record.status === 'pass';
  }

  /** A step recorded as it ended (one the run tracks itself). */
  add(record: StepRecord): void {
    this.steps.push(record);
    this.#watcher?.stepFinished?.(record);
  }

  noError(): boolean {
    return this.steps.every((s) => s.status !== 'error');
  }
}

/**
 * A validation's report, the same envelope for AtoCore's snapshots and JellyCore's backups:
 * its steps, the overall checks, each snapshot newest first, the verdict by the one rule
 * (report/verdict.ts) over all of their checks; `target` after the runtime and image no
 * validation has.
 */
export function validationReport(
  run: RunSteps,
  parts: { readonly startedAt: Date; readonly overall: CheckResult[]; readonly snapshots: readonly SnapshotReport[]; readonly metrics: DrillReport['metrics']; readonly target: { readonly backup_stamp: string | null } & Record<string, unknown> },
): DrillReport {
  const finishedAt = new Date();
  const snapshots = [...parts.snapshots].sort((a, b) => (a.stamp < b.stamp ? 1 : -1));
  return {
    schema: 'atocore-drill/report@1',
    kind: 'validate',
    verdict: decideVerdict(run.steps, [...parts.overall, ...snapshots.flatMap((s) => s.checks)]),
    started_at: parts.startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
    duration_ms: finishedAt.getTime() - parts.startedAt.getTime(),
    target: { runtime: null, image: null, ...parts.target },
    steps: run.steps,
    checks: parts.overall,
    metrics: parts.metrics,
    snapshots,
    ...(run.errorText ? { error: run.errorText } : {}),
  };
}
