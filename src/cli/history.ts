import type { Command } from 'commander';
import { formatDuration } from '../common/duration.js';
import { existsSync, lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { ExitCode, InfrastructureError, UsageError, errorMessage } from '../common/errors.js';
import { historyExitOverride, historySummaryExtras, keepRunHistory, CHART_RUNS } from '../history/keep.js';
import type { StoredRun } from '../history/run.js';
import { HistoryStore, HISTORY_READ_LIMIT } from '../history/store.js';
import { forField, namedFor, namedForSync } from '../inputs/fields.js';
import { budgetInputs } from '../inputs/history.js';
import { checkOutputPlace } from '../output/output-file.js';
import { terminalText } from '../output/console.js';
import { writeOutputFile } from '../output/output-file.js';
import { writeStream, type ReportPaths } from '../output/report-files.js';
import type { DrillReport } from '../report/model.js';
import { runOutcome, type FailOn } from '../report/outcome.js';
import { renderHistoryChart } from '../render/chart.js';
import { consoleStream, finishRun } from './finish.js';
import { CLI_NAMES } from './options.js';

interface Io {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

/** What a run's end needs to keep its history. */
export interface RunWithHistory extends ReportPaths {
  readonly failOn: FailOn;
  readonly history: string | null;
  readonly chart: string | null;
  readonly rtoBudgetMs?: number | null;
  /** a drill's rpo.budget, or a validation's RPO (drawn only) */
  readonly rpoBudgetMs?: number | null;
}

/**
 * The end of a run that keeps a history: the run recorded and its chart drawn first (so the
 * summary's trend holds this run), then the console summary and report files (finish.ts). Each
 * history problem is a line on stderr before the summary; the verdict and the report stay as
 * they are, and the exit code is decided by exitCodeAfterHistory (docs/history.md), which the
 * verdict line states.
 */
export async function finishWithHistory(report: DrillReport, inputs: RunWithHistory, io: Io): Promise<number> {
  if (inputs.history === null) return finishRun(report, inputs, io);
  const budgets = { rtoBudgetMs: inputs.rtoBudgetMs ?? null, rpoBudgetMs: inputs.rpoBudgetMs ?? null };
  const kept = await keepRunHistory(report, { history: inputs.history, chart: inputs.chart, ...budgets }, { history: CLI_NAMES.one('history'), chart: CLI_NAMES.one('chart') });
  for (const problem of kept.problems) io.stderr.write(`atocore-drill: ${terminalText(problem)}\n`);
  const exit = historyExitOverride(runOutcome(report.verdict, inputs.failOn).exitCode, kept.problems);
  const code = await finishRun(report, inputs, io, historySummaryExtras(report.kind, kept, budgets), exit ?? undefined);
  if (kept.problems.length === 0) {
    const chart = inputs.chart === null ? '' : `; chart: ${terminalText(inputs.chart)}`;
    consoleStream(inputs, io).write(`atocore-drill: recorded in ${terminalText(inputs.history)} (${kept.runs.length} run(s) of this target${chart})\n`);
  }
  return code;
}

/** `history` flags as commander hands them over. */
interface RawHistoryFlags {
  chart?: string;
  json?: boolean;
  kind?: string;
  target?: string;
  limit?: string;
  rtoBudget?: string;
  rpo?: string;
}

function ms(value: number | null): string {
  return value === null ? '—' : formatDuration(value);
}

/** The runs as a plain table, one line per run; every value from the file shown, never interpreted by the terminal. */
export function historyTable(runs: readonly StoredRun[]): string {
  const header = ['#', 'started (UTC)', 'kind', 'target', 'verdict', 'backup', 'RTO', 'restore', 'RPO', 'duration', 'failed'];
  const rows = runs.map((run) => [
    String(run.id),
    run.started_at.slice(0, 19).replace('T', ' '),
    run.kind,
    run.target,
    run.verdict,
    run.backup_stamp ?? '—',
    ms(run.rto_ms),
    ms(run.restore_ms),
    run.rpo_s === null ? '—' : formatDuration(run.rpo_s * 1000),
    formatDuration(run.duration_ms),
    run.failing_checks.join(', ') || '—',
  ].map((cell) => terminalText(cell, 120)));
  const widths = header.map((title, i) => Math.min(60, Math.max(title.length, ...rows.map((row) => row[i]!.length))));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

const HISTORY_HELP = `
Prints the runs recorded by --history (oldest first) and, with --chart, draws them: RTO,
restore time, snapshot age (RPO) and run duration, one point per run, failed runs in red,
--rto-budget and --rpo as dashed lines. The file is only read; one this user cannot write
(or in a folder it cannot write) is read from a private copy in the temp folder, and nothing
is written beside it. Reference: docs/history.md.`;

/** Registers `history FILE`; main.ts hands over its exit holder. */
export function registerHistoryCommand(program: Command, io: Io, exit: { code: number }): void {
  program
    .command('history')
    .description('Show the run history a --history FILE holds (a table, or --json), and draw it (--chart FILE, SVG).')
    .argument('<file>', 'the history file (--history of drill, validate, rehearse)')
    .option('--chart <file>', 'write the chart of the runs shown (SVG)')
    .option('--json', 'print the runs as JSON (steps and sizes included) instead of the table')
    .option('--kind <kind>', 'only runs of this kind: drill, validate, rehearse')
    .option('--target <label>', 'only runs of this target (the label in the table)')
    .option('--limit <n>', `only the newest N runs (default: all, at most ${HISTORY_READ_LIMIT}; the chart draws the newest ${CHART_RUNS})`)
    .option('--rto-budget <duration>', 'draw this RTO budget on the chart')
    .option('--rpo <duration>', 'draw this RPO budget on the chart')
    .addHelpText('after', HISTORY_HELP)
    .action(async (file: string, flags: RawHistoryFlags) => {
      exit.code = await namedFor(CLI_NAMES, () => showHistory(file, flags, io));
    });
}

/** `history`'s own flags: the file must exist (it is read, never created), the chart's place is checked like a run's. */
function historyFlags(file: string, flags: RawHistoryFlags): { history: string; chart: string | null; budgets: ReturnType<typeof budgetInputs>; limit: number } {
  const history = resolve(file);
  if (!existsSync(history) && !isLink(history)) throw new UsageError(`history FILE: ${history} does not exist`);
  const chart = flags.chart === undefined ? null : resolve(flags.chart);
  if (chart !== null) forField('chart', (name) => checkOutputPlace(chart, name, { writeThrough: true }));
  if (flags.limit !== undefined && !(/^\d+$/.test(flags.limit.trim()) && Number(flags.limit) >= 1 && Number(flags.limit) <= HISTORY_READ_LIMIT)) {
    throw new UsageError(`--limit: "${flags.limit}" is not a whole number from 1 to ${HISTORY_READ_LIMIT}`);
  }
  return { history, chart, budgets: budgetInputs(flags), limit: flags.limit === undefined ? HISTORY_READ_LIMIT : Number(flags.limit) };
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Prints to standard output and waits until the stream took it all: the process exits right
 * after, and a pipe (`history FILE --json | jq`) takes a long listing in parts. False when the
 * reader went away (`| head`): it chose to stop reading, nothing more to say.
 */
async function printed(stream: NodeJS.WriteStream, text: string): Promise<boolean> {
  try {
    await writeStream(stream, text);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') return false;
    throw new InfrastructureError(`standard output: not written: ${errorMessage(error)}`);
  }
}

async function showHistory(file: string, flags: RawHistoryFlags, io: Io): Promise<number> {
  const { history, chart, budgets, limit } = namedForSync(CLI_NAMES, () => historyFlags(file, flags));
  const store = HistoryStore.openForReading(history, 'history FILE');
  let runs: StoredRun[] = [];
  if (store !== null) {
    try {
      runs = store.runs({ ...(flags.kind ? { kind: flags.kind } : {}), ...(flags.target ? { target: flags.target } : {}), limit });
    } finally {
      store.close();
    }
  }
  const shown = flags.json ? `${JSON.stringify(runs, null, 2)}\n` : runs.length === 0 ? `atocore-drill: no runs recorded in ${terminalText(history)}${flags.kind || flags.target ? ' (for this kind/target)' : ''}\n` : historyTable(runs);
  if (!(await printed(io.stdout, shown))) return ExitCode.ok;
  if (chart !== null) {
    const title = [flags.kind, flags.target].filter(Boolean).join(' · ') || 'all runs';
    try {
      await writeOutputFile(chart, renderHistoryChart(runs.slice(-CHART_RUNS), { title, ...budgets }), { writeThrough: true });
    } catch (error) {
      throw new InfrastructureError(`--chart: not written: ${errorMessage(error)}`);
    }
    (flags.json ? io.stderr : io.stdout).write(`atocore-drill: chart of ${Math.min(runs.length, CHART_RUNS)} run(s) written to ${terminalText(chart)}\n`);
  }
  return ExitCode.ok;
}
