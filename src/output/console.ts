import { clearLine, cursorTo } from 'node:readline';
import { formatDuration } from '../common/duration.js';
import type { DrillObserver } from '../engine/runner.js';
import { SERVICE_OUTPUT_MARK, type CheckResult, type DrillReport, type StepRecord } from '../report/model.js';
import type { PlannedStep } from '../engine/planner.js';

const MARK: Record<string, string> = { pass: '✓', fail: '✗', error: '!', skip: '-', warn: '~' };

/**
 * Progress on the terminal: on a TTY a live task list (the running step's line is
 * rewritten when it ends); otherwise one plain line per step, fit for CI logs.
 */
export function consoleProgress(stream: NodeJS.WriteStream): DrillObserver {
  const tty = stream.isTTY === true;
  let running: { line: string; began: number; timer: NodeJS.Timeout | undefined } | undefined;
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  return {
    stepStarted(step: PlannedStep) {
      if (!tty) {
        stream.write(`… ${step.title}\n`);
        return;
      }
      let frame = 0;
      const line = step.title;
      const draw = (): void => {
        clearLine(stream, 0);
        cursorTo(stream, 0);
        stream.write(`${frames[frame++ % frames.length]} ${line} ${formatDuration(Date.now() - began)}`);
      };
      const began = Date.now();
      draw();
      running = { line, began, timer: setInterval(draw, 100) };
      running.timer?.unref();
    },
    stepFinished(record: StepRecord, checks: readonly CheckResult[]) {
      if (running?.timer) clearInterval(running.timer);
      if (tty && running) {
        clearLine(stream, 0);
        cursorTo(stream, 0);
      }
      running = undefined;
      const mark = MARK[record.status] ?? '?';
      const detail = record.status === 'pass' ? '' : `: ${record.detail.split('\n')[0]}`;
      stream.write(`${mark} ${record.title} (${formatDuration(record.duration_ms)})${detail}\n`);
      if (record.status === 'error' || record.status === 'fail') stream.write(renderServiceOutput(record.detail));
      for (const c of checks) stream.write(`    ${MARK[c.status] ?? '?'} ${c.id}: ${c.message}\n`);
    },
  };
}

const SERVICE_OUTPUT_LINES = 15;
const SERVICE_OUTPUT_LINE_CHARS = 300;

/**
 * The last lines the service printed, indented under the step that went wrong (a service
 * that dies at start says why only there). The output is the service's, so untrusted: control
 * characters (terminal escapes) are shown as `?`, lines and their number are bounded.
 */
export function renderServiceOutput(detail: string): string {
  const at = detail.lastIndexOf(SERVICE_OUTPUT_MARK);
  if (at === -1) return '';
  const lines = detail
    .slice(at + SERVICE_OUTPUT_MARK.length)
    .split(/\r?\n/)
    .map((line) => line.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?').trimEnd())
    .filter((line) => line.length > 0);
  if (lines.length === 0) return '';
  const shown = lines.slice(-SERVICE_OUTPUT_LINES).map((line) => (line.length > SERVICE_OUTPUT_LINE_CHARS ? `${line.slice(0, SERVICE_OUTPUT_LINE_CHARS)}…` : line));
  const header = lines.length > shown.length ? `AtoCore's output, last ${shown.length} lines:` : "AtoCore's output:";
  return `    ${header}\n${shown.map((line) => `    | ${line}\n`).join('')}`;
}

/** The readable end of a run: verdict, failing checks with evidence, RTO. */
export function renderConsoleSummary(report: DrillReport): string {
  const lines: string[] = [''];
  const failing = [...report.checks, ...report.snapshots.flatMap((s) => s.checks)].filter((c) => c.status === 'fail' || c.status === 'warn');
  for (const c of failing) {
    lines.push(`${c.status.toUpperCase()} ${c.id}: ${c.message}`);
    const evidence = JSON.stringify(c.evidence);
    lines.push(`     evidence: ${evidence.length > 600 ? `${evidence.slice(0, 600)}…` : evidence}`);
  }
  if (report.error) lines.push(`ERROR: ${report.error.split('\n')[0]}`);
  if (typeof report.target.data_root === 'string') lines.push(`kept the drill root for inspection: ${report.target.data_root}`);
  const passed = report.checks.filter((c) => c.status === 'pass').length;
  const m = report.metrics;
  lines.push(
    `verdict: ${report.verdict.toUpperCase()} — ${passed}/${report.checks.length} checks passed` +
      (m.rto_ms !== null ? `, RTO ${formatDuration(m.rto_ms)}` : '') +
      (m.restore_ms !== null ? `, restore ${formatDuration(m.restore_ms)}` : '') +
      (report.target.backup_stamp ? `, backup ${report.target.backup_stamp}` : '') +
      `, ${formatDuration(report.duration_ms)} in all`,
  );
  return `${lines.join('\n')}\n`;
}

