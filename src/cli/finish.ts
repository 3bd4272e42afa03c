import type { CheckResult, DrillReport } from '../report/model.js';
import { renderConsoleSummary } from '../output/console.js';
import { runOutcome, type FailOn } from '../report/outcome.js';
import { describeUnwritten, writeReportFiles, type ReportPaths } from '../output/report-files.js';
import { reportsToStdout } from './options.js';

interface Io {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

/** Where progress and the console summary go: stderr when a report is written to standard output. */
export function consoleStream(paths: ReportPaths, io: Io): NodeJS.WriteStream {
  return reportsToStdout(paths) ? io.stderr : io.stdout;
}

/**
 * The end of a CLI run: the console summary, every report file attempted, each one not
 * written named on stderr. The exit code is the verdict's (the outcome table's), whatever
 * became of the files: they were checked before the run, and a write failing after it
 * does not change what the run found.
 */
export async function finishRun(report: DrillReport, inputs: ReportPaths & { readonly failOn: FailOn }, io: Io): Promise<number> {
  consoleStream(inputs, io).write(withVerdictLine(renderConsoleSummary(report), report, inputs.failOn));
  const unwritten = await writeReportFiles(report, inputs, { failOn: inputs.failOn, stdout: io.stdout });
  for (const item of unwritten) io.stderr.write(`atocore-drill: ${describeUnwritten(item)}\n`);
  return runOutcome(report.verdict, inputs.failOn).exitCode;
}

/**
 * The head of the console's last line: the verdict as the outcome table reads it (with the
 * exit code it gives), and every check counted, the overall ones and each snapshot's, so the
 * line can never say "all passed" while a snapshot check warns or fails.
 */
export function verdictHead(report: DrillReport, failOn: FailOn): string {
  const outcome = runOutcome(report.verdict, failOn);
  const checks: CheckResult[] = [...report.checks, ...report.snapshots.flatMap((s) => s.checks)];
  const count = (status: CheckResult['status']): number => checks.filter((c) => c.status === status).length;
  const others = ([['fail', 'failed'], ['warn', 'warned'], ['skip', 'skipped']] as const).filter(([status]) => count(status) > 0).map(([status, word]) => `${count(status)} ${word}`);
  const failing = report.verdict === 'warn' && outcome.failsJob ? 'failing: --fail-on warn, ' : '';
  return `verdict: ${report.verdict.toUpperCase()} (${failing}exit ${outcome.exitCode}) — ${count('pass')}/${checks.length} checks passed${others.map((o) => `, ${o}`).join('')}`;
}

/** The console summary with its verdict line's head from verdictHead (the rest of the line, RTO and all, kept). */
export function withVerdictLine(summary: string, report: DrillReport, failOn: FailOn): string {
  const head = verdictHead(report, failOn);
  const pattern = /^verdict: [A-Z]+ — \d+\/\d+ checks passed/m;
  return pattern.test(summary) ? summary.replace(pattern, head) : `${summary}${head}\n`;
}
