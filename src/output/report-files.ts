import { resolve } from 'node:path';
import { errorMessage, UsageError } from '../common/errors.js';
import { bounded, checkOutputPlace, outputPlace, writeOutputFile } from './output-file.js';
import type { DrillReport } from '../report/model.js';
import { renderJsonReport } from '../render/json.js';
import { renderMarkdownSummary, type SummaryExtras } from '../render/markdown.js';
import type { FailOn } from '../report/outcome.js';

/** A report path that means standard output (DESIGN.md). */
export const STDOUT_PATH = '-';

/** Reports are written through devices and FIFOs, never over them (output/output-file.ts). */
const REPORT_RULES = { writeThrough: true } as const;

/**
 * A report file's place, checked before the run: `-` (standard output), or a path the
 * run can write by the output rules. A bad one is a UsageError naming `flag`.
 */
export function checkReportPath(value: string | undefined, flag: string): string | null {
  if (value === undefined) return null;
  if (value.trim() === '') throw new UsageError(`${flag}: the file name is empty`);
  if (value === STDOUT_PATH) return STDOUT_PATH;
  const path = resolve(value);
  checkOutputPlace(path, flag, REPORT_RULES);
  return path;
}

/**
 * At most one report may go to standard output (two would be interleaved), and no two
 * outputs may name the same file (one would overwrite the other: a report over the ledger
 * loses the ledger). Devices are fine to share.
 */
export function checkDistinctOutputs(paths: ReadonlyArray<readonly [flag: string, path: string | null]>): void {
  const toStdout = paths.filter(([, path]) => path === STDOUT_PATH).map(([flag]) => flag);
  if (toStdout.length > 1) throw new UsageError(`${toStdout.join(' and ')}: only one report can go to standard output (-)`);
  const seen = new Map<string, string>();
  for (const [flag, path] of paths) {
    if (path === null || path === STDOUT_PATH) continue;
    let place;
    try {
      place = outputPlace(path, REPORT_RULES);
    } catch {
      continue; // the flag's own check says what is wrong with it
    }
    if (place.kind !== 'file') continue;
    const other = seen.get(place.path);
    if (other !== undefined) throw new UsageError(`${other} and ${flag} name the same file (${place.path}): one would overwrite the other`);
    seen.set(place.path, flag);
  }
}

export interface ReportPaths {
  readonly reportJson: string | null;
  readonly junit: string | null;
  readonly summary: string | null;
}

/** A report that was asked for and not written, and why. */
export interface UnwrittenReport {
  readonly flag: string;
  readonly path: string;
  readonly reason: string;
}

/** How long a reader of standard output gets for a report: 30 s (as a FIFO's reader), and a second more per MiB. */
export function streamBoundMs(bytes: number): number {
  return 30_000 + Math.ceil(bytes / (1024 * 1024)) * 1_000;
}

/**
 * Writes to a stream and waits until it took the text (a pipe takes it in parts; the process
 * may exit right after); a reader that has not taken it within its bound is given up, as a
 * FIFO's reader is (output-file.ts).
 */
export async function writeStream(stream: NodeJS.WritableStream, content: string, boundMs = streamBoundMs(Buffer.byteLength(content))): Promise<void> {
  let onError: (error: Error) => void = () => {};
  const written = new Promise<void>((resolveWrite, reject) => {
    // a closed pipe (EPIPE) is also emitted as an event: not a crash, a report not written
    onError = reject;
    stream.once('error', onError);
    stream.write(content, (error) => (error ? reject(error) : resolveWrite()));
  });
  try {
    // given up, the write stays pending: when it fails later (the reader gone), that is no crash
    await bounded(written, boundMs, 'writing to standard output (its reader stopped reading)', () => stream.on('error', () => {}));
  } finally {
    stream.removeListener('error', onError);
  }
}

/**
 * The report files a run was asked for, each attempted whatever became of the others;
 * `-` is standard output. Returns what was not written (the verdict stands either way).
 * `flag` names in messages are the CLI's.
 */
export async function writeReportFiles(report: DrillReport, paths: ReportPaths, options: { failOn?: FailOn; stdout?: NodeJS.WritableStream; summaryExtras?: SummaryExtras } = {}): Promise<UnwrittenReport[]> {
  const failOn = options.failOn ?? 'fail';
  const files: Array<[string, string | null, () => Promise<string>]> = [
    ['--report-json', paths.reportJson, async () => renderJsonReport(report)],
    // xmlbuilder2 is loaded only when a JUnit file is asked for: it is a large part of the start-up
    ['--junit', paths.junit, async () => (await import('../render/junit.js')).renderJunit(report, failOn)],
    ['--summary', paths.summary, async () => renderMarkdownSummary(report, failOn, options.summaryExtras)],
  ];
  const unwritten: UnwrittenReport[] = [];
  // files first: a slow reader of standard output keeps none of them waiting
  files.sort(([, a], [, b]) => Number(a === STDOUT_PATH) - Number(b === STDOUT_PATH));
  for (const [flag, path, render] of files) {
    if (path === null) continue;
    try {
      if (path === STDOUT_PATH) await writeStream(options.stdout ?? process.stdout, await render());
      else await writeOutputFile(path, await render(), REPORT_RULES);
    } catch (error) {
      unwritten.push({ flag, path: path === STDOUT_PATH ? 'standard output' : path, reason: errorMessage(error) });
    }
  }
  return unwritten;
}

/** One line per report that was not written, for stderr or a warning. */
export function describeUnwritten(item: UnwrittenReport): string {
  return `${item.flag}: not written: ${item.reason.includes(item.path) ? item.reason : `${item.path}: ${item.reason}`}`;
}
