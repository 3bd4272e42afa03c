import type { ReportPaths } from '../output/report-files.js';
import type { FailOn } from '../report/verdict.js';

/** What every run (drill, validation, rehearsal) does with its verdict: the report files, the exit code's rule, the history. */
export interface RunOutputs extends ReportPaths {
  readonly failOn: FailOn;
  /** absolute; the run history appended to after the run (src/history/); null: none */
  readonly history: string | null;
  /** absolute; the history's chart; null: none */
  readonly chart: string | null;
}

/** rto.budget and rpo.budget, judged after the steps; null: not stated. */
export type { RunBudgets } from '../history/budgets.js';

/** The whole run's time budget, and how its user named it (`--timeout`, `input timeout`) for messages. */
export interface RunTimeout {
  readonly timeoutMs: number;
  readonly timeoutName: string;
}
