import { InfrastructureError, errorMessage } from '../common/errors.js';
import { writeOutputFile } from '../output/output-file.js';
import { check, type CheckResult, type DrillReport } from '../report/model.js';
import { renderHistoryChart } from '../render/chart.js';
import type { FigureTrend } from '../render/mermaid.js';
import type { SummaryExtras } from '../render/markdown.js';
import { regressionBaseline, rpoBudgetCheck, rtoBudgetCheck, rtoRegressionCheck, withRunChecks, type RunBudgets } from './budgets.js';
import { historyRunOf, targetLabel, type StoredRun } from './run.js';
import { HistoryStore } from './store.js';

/** How many runs of a target the chart and the summary's trend show (the newest). */
export const CHART_RUNS = 200;
/** The summary's Mermaid chart stays readable with this many points. */
export const SUMMARY_RUNS = 30;

/** What a run does with its history: the file (null: none), where its chart goes, the budgets it is held to. */
export interface RunHistoryOptions extends RunBudgets {
  readonly history: string | null;
  readonly chart: string | null;
}

/** How the entry names the history's field in messages (`--history`, `input history`). */
export type HistoryName = string;

/**
 * The checks computed after the steps: each budget stated (rto.budget, rpo.budget) and, with a
 * history, rto.regression against the earlier runs of the same kind and target. Reading the
 * history is all this does with it: the run is recorded afterwards (recordRun).
 */
export function judgeRun(report: DrillReport, options: RunHistoryOptions): DrillReport {
  const why = report.error ?? null;
  const added: CheckResult[] = [];
  if (options.rtoBudgetMs !== null) added.push(rtoBudgetCheck(report.metrics.rto_ms, options.rtoBudgetMs, why));
  if (options.rpoBudgetMs !== null) added.push(rpoBudgetCheck(report.metrics.rpo_s, options.rpoBudgetMs, why));
  if (options.history !== null) added.push(regressionCheck(report, options.history));
  return withRunChecks(report, added);
}

function regressionCheck(report: DrillReport, path: string): CheckResult {
  const target = targetLabel(report.target);
  let earlier: StoredRun[];
  try {
    // the newest runs are enough to find the last 10 passing ones
    earlier = readRuns(path, 'the history', { kind: report.kind, target, limit: CHART_RUNS });
  } catch (error) {
    // not the target's doing: the run's figures stand, the comparison is not made (recording then says what is wrong)
    return check('rto.regression', 'skip', `not compared: ${errorMessage(error)}`, { history: path });
  }
  return rtoRegressionCheck(report.metrics.rto_ms, regressionBaseline(earlier, report.kind, target));
}

/** The runs of a history (newest `limit`, oldest first); a history not there yet has none. */
export function readRuns(path: string, name: HistoryName, filter: { kind?: string; target?: string; limit?: number } = {}): StoredRun[] {
  const store = HistoryStore.openForReading(path, name);
  if (store === null) return [];
  try {
    return store.runs(filter);
  } finally {
    store.close();
  }
}

/**
 * Appends the report's run to the history at `historyPath`, creating the file when it is not
 * there yet. For every entry that runs something (drill, validate, rehearse). Throws an
 * InfrastructureError naming the file when the run could not be recorded; the report is not
 * changed either way.
 */
export function recordRun(historyPath: string, report: DrillReport, name: HistoryName = '--history'): void {
  try {
    const store = HistoryStore.openForWriting(historyPath, name);
    try {
      store.append(historyRunOf(report));
    } finally {
      store.close();
    }
  } catch (error) {
    const message = errorMessage(error);
    throw new InfrastructureError(`${message.startsWith(name) ? message : `${name}: ${historyPath}: ${message}`} (the run was not recorded; its verdict stands)`, { cause: error });
  }
}

/** What keeping the history gave: this target's runs (for the summary's trend), and what went wrong, if anything. */
export interface KeptHistory {
  readonly runs: readonly StoredRun[];
  readonly problems: readonly string[];
}

/**
 * After a run: records it, then writes the chart of its target's runs. Each part is attempted
 * whatever became of the other; a part that fails is a problem said by the entry, never a
 * change to the report.
 */
export async function keepRunHistory(report: DrillReport, options: RunHistoryOptions, names: { history: HistoryName; chart: HistoryName }): Promise<KeptHistory> {
  if (options.history === null) return { runs: [], problems: [] };
  const problems: string[] = [];
  try {
    recordRun(options.history, report, names.history);
  } catch (error) {
    problems.push(errorMessage(error));
  }
  let runs: StoredRun[] = [];
  try {
    runs = readRuns(options.history, names.history, { kind: report.kind, target: targetLabel(report.target), limit: CHART_RUNS });
  } catch (error) {
    problems.push(`${names.history}: the runs could not be read back: ${errorMessage(error)}`);
  }
  if (options.chart !== null) {
    try {
      await writeOutputFile(options.chart, renderHistoryChart(runs, { title: `${report.kind} · ${targetLabel(report.target)}`, rtoBudgetMs: options.rtoBudgetMs, rpoBudgetMs: options.rpoBudgetMs }), { writeThrough: true });
    } catch (error) {
      problems.push(`${names.chart}: not written: ${errorMessage(error)}`);
    }
  }
  return { runs, problems };
}

/**
 * The exit code once the history was kept: the verdict's, except that a run whose verdict
 * would exit 0 exits 3 when its history or chart could not be written (a pass that left no
 * record would let the trend and the regression check go blind unnoticed). A fail (1) stays 1:
 * the finding matters more than the record.
 */
export function exitCodeAfterHistory(verdictExitCode: number, problems: readonly string[]): number {
  return verdictExitCode === 0 && problems.length > 0 ? 3 : verdictExitCode;
}

/**
 * When exitCodeAfterHistory changes the verdict's exit code: the code and why, for the verdict
 * line (every output says the code the process exits with); null when it does not change it.
 */
export function historyExitOverride(verdictExitCode: number, problems: readonly string[]): { exitCode: number; why: string } | null {
  const exitCode = exitCodeAfterHistory(verdictExitCode, problems);
  return exitCode === verdictExitCode ? null : { exitCode, why: 'the history was not kept' };
}

/** What the summary shows of a kept history: its trend, and what was not kept (the run exits 3 for it when it passed). */
export function historySummaryExtras(kind: string, kept: { readonly runs: readonly StoredRun[]; readonly problems: readonly string[] }, budgets: RunBudgets): SummaryExtras {
  return { trend: summaryTrend(kind, kept.runs, budgets), ...(kept.problems.length > 0 ? { historyProblems: kept.problems } : {}) };
}

/**
 * The summary's trend: the newest runs that measured the figure that matters for the kind
 * (RPO for a validation, RTO otherwise), labelled by number and start (UTC), with its budget.
 */
export function summaryTrend(kind: string, runs: readonly StoredRun[], budgets: RunBudgets): FigureTrend {
  const rpo = kind === 'validate';
  const value = (run: StoredRun): number | null => (rpo ? (run.rpo_s === null ? null : run.rpo_s * 1000) : run.rto_ms);
  return {
    figure: rpo ? 'RPO' : 'RTO',
    points: runs
      .filter((run) => value(run) !== null)
      .slice(-SUMMARY_RUNS)
      .map((run) => ({ label: `run ${run.id} ${run.started_at.slice(5, 16).replace('T', ' ')}`, ms: value(run)! })),
    budgetMs: rpo ? budgets.rpoBudgetMs : budgets.rtoBudgetMs,
  };
}
