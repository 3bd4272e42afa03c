import type { DrillReport } from '../report/model.js';
import { renderConsoleSummary, type ExitOverride } from '../output/console.js';
import { runOutcome, type FailOn } from '../report/outcome.js';
import { describeUnwritten, writeReportFiles, type ReportPaths } from '../output/report-files.js';
import type { SummaryExtras } from '../render/markdown.js';
import { namedFor } from '../inputs/fields.js';
import { CLI_NAMES, reportsToStdout } from './options.js';

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
 * does not change what the run found. `exit` overrides it (a history not kept), and the
 * verdict line says so.
 */
export async function finishRun(report: DrillReport, inputs: ReportPaths & { readonly failOn: FailOn }, io: Io, summaryExtras?: SummaryExtras, exit?: ExitOverride): Promise<number> {
  consoleStream(inputs, io).write(renderConsoleSummary(report, inputs.failOn, exit));
  const unwritten = await writeReportFiles(report, inputs, { failOn: inputs.failOn, stdout: io.stdout, ...(summaryExtras ? { summaryExtras } : {}) });
  for (const item of unwritten) io.stderr.write(`atocore-drill: ${describeUnwritten(item)}\n`);
  return exit?.exitCode ?? runOutcome(report.verdict, inputs.failOn).exitCode;
}

/**
 * A run's command, the same for drill, validate and rehearse: the interrupt set up before
 * anything is created (parsing probes the report folders), the inputs named as flags, the
 * line saying what runs on the console the reports leave free, then the run and its finish.
 */
export async function runCommand<I extends ReportPaths>(
  io: Io,
  interrupt: { readonly signal: AbortSignal; dispose(): void },
  steps: { parse(): I; describe(inputs: I): string; run(inputs: I, out: NodeJS.WriteStream, signal: AbortSignal): Promise<number> },
): Promise<number> {
  try {
    return await namedFor(CLI_NAMES, async () => {
      const inputs = steps.parse();
      const out = consoleStream(inputs, io);
      out.write(`atocore-drill: ${steps.describe(inputs)}\n`);
      return steps.run(inputs, out, interrupt.signal);
    });
  } finally {
    interrupt.dispose();
  }
}
