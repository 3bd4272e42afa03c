import type { DrillReport } from '../report/model.js';
import { renderConsoleSummary } from '../output/console.js';
import { runOutcome, type FailOn } from '../report/outcome.js';
import { describeUnwritten, writeReportFiles, type ReportPaths } from '../output/report-files.js';
import type { SummaryExtras } from '../render/markdown.js';
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
export async function finishRun(report: DrillReport, inputs: ReportPaths & { readonly failOn: FailOn }, io: Io, summaryExtras?: SummaryExtras): Promise<number> {
  consoleStream(inputs, io).write(renderConsoleSummary(report, inputs.failOn));
  const unwritten = await writeReportFiles(report, inputs, { failOn: inputs.failOn, stdout: io.stdout, ...(summaryExtras ? { summaryExtras } : {}) });
  for (const item of unwritten) io.stderr.write(`atocore-drill: ${describeUnwritten(item)}\n`);
  return runOutcome(report.verdict, inputs.failOn).exitCode;
}
