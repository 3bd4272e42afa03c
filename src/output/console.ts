import { clearLine, cursorTo } from 'node:readline';
import { formatDuration } from '../common/duration.js';
import type { DrillObserver } from '../engine/step-loop.js';
import { SERVICE_OUTPUT_MARK, type CheckResult, type DrillReport, type StepRecord } from '../report/model.js';
import type { PlannedStep } from '../engine/step-loop.js';
import { cutText } from '../render/text.js';
import { runOutcome, type FailOn } from '../report/outcome.js';

const MARK: Record<string, string> = { pass: '✓', fail: '✗', error: '!', skip: '-', warn: '~' };

/** The longest piece of the target's text one console line carries. */
const LINE_CHARS = 1_000;

/**
 * Text that came from the target (step details, check messages, evidence, its output) as the
 * terminal gets it: every control character, the line breaks included, is shown as an escape
 * (`\x1b`, `\n`) and never acted on (no terminal sequence, no overwritten or forged line);
 * so are the bidirectional overrides that reorder what is shown. Bounded to one line's worth.
 */
export function terminalText(text: string, max = LINE_CHARS): string {
  const visible = text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r' };
    const code = c.charCodeAt(0);
    return named[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
  });
  return cutText(visible, max);
}

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
      const detail = record.status === 'pass' ? '' : `: ${terminalText(record.detail.split('\n')[0] ?? '')}`;
      stream.write(`${mark} ${record.title} (${formatDuration(record.duration_ms)})${detail}\n`);
      if (record.status === 'error' || record.status === 'fail') stream.write(renderStepOutput(record.detail));
      for (const c of checks) stream.write(`    ${MARK[c.status] ?? '?'} ${c.id}: ${terminalText(c.message)}\n`);
    },
  };
}

const SERVICE_OUTPUT_LINES = 15;
const SERVICE_OUTPUT_LINE_CHARS = 300;

/**
 * What a step that went wrong said past its first line (a failed backup CLI's last words),
 * then the last lines the service printed (a service that dies at start says why only
 * there), indented under the step. Both are the target's, so untrusted: control characters
 * (terminal escapes) are shown as escapes, lines and their number are bounded.
 */
export function renderStepOutput(detail: string): string {
  const at = detail.lastIndexOf(SERVICE_OUTPUT_MARK);
  const own = (at === -1 ? detail : detail.slice(0, at)).split(/\r?\n/).slice(1);
  return outputBlock(null, own) + renderServiceOutput(detail);
}

/** The service's output section of a step's detail, as {@link renderStepOutput} shows it. */
export function renderServiceOutput(detail: string): string {
  const at = detail.lastIndexOf(SERVICE_OUTPUT_MARK);
  if (at === -1) return '';
  return outputBlock("AtoCore's output", detail.slice(at + SERVICE_OUTPUT_MARK.length).split(/\r?\n/));
}

/** The last lines of a text under a step, each escaped and cut; a title line when given (and when lines were left out). */
function outputBlock(title: string | null, raw: readonly string[]): string {
  const lines = raw.map((line) => line.trimEnd()).filter((line) => line.length > 0);
  if (lines.length === 0) return '';
  const shown = lines.slice(-SERVICE_OUTPUT_LINES).map((line) => terminalText(line, SERVICE_OUTPUT_LINE_CHARS + 1));
  const cut = lines.length > shown.length ? `last ${shown.length} lines` : '';
  const header = title !== null ? [`${title}${cut ? `, ${cut}` : ''}:`] : cut ? [`(${cut})`] : [];
  return [...header.map((line) => `    ${line}\n`), ...shown.map((line) => `    | ${line}\n`)].join('');
}

/**
 * The process exits with another code than its verdict gives, and why (a passing run whose
 * history was not kept exits 3): the verdict line says the code the process exits with.
 */
export interface ExitOverride {
  readonly exitCode: number;
  readonly why: string;
}

/**
 * The verdict line's head: the verdict as the outcome table reads it (with the exit code it
 * gives, or the override's and why), and every check counted, the overall ones and each
 * snapshot's, so the line can never say "all passed" while a snapshot check warns or fails.
 */
function verdictHead(report: DrillReport, failOn: FailOn, exit?: ExitOverride): string {
  const outcome = runOutcome(report.verdict, failOn);
  const exitText = exit === undefined ? `exit ${outcome.exitCode}` : `exit ${exit.exitCode}: ${terminalText(exit.why, 200)}`;
  const checks: CheckResult[] = [...report.checks, ...report.snapshots.flatMap((s) => s.checks)];
  const count = (status: CheckResult['status']): number => checks.filter((c) => c.status === status).length;
  const others = ([['fail', 'failed'], ['warn', 'warned'], ['skip', 'skipped']] as const).filter(([status]) => count(status) > 0).map(([status, word]) => `${count(status)} ${word}`);
  const failing = report.verdict === 'warn' && outcome.failsJob ? 'failing: --fail-on warn, ' : '';
  return `verdict: ${report.verdict.toUpperCase()} (${failing}${exitText}) — ${count('pass')}/${checks.length} checks passed${others.map((o) => `, ${o}`).join('')}`;
}

/** A `*_tail` field (what a service said last) keeps its end, where its last words are, and comes last. */
const TAIL_CHARS = 300;

/** A check's evidence as one line of the console summary. */
function evidenceLine(evidence: Record<string, unknown>): string {
  const entries = Object.entries(evidence);
  const isTail = ([key, value]: [string, unknown]): boolean => key.endsWith('_tail') && typeof value === 'string';
  const shown = [...entries.filter((e) => !isTail(e)), ...entries.filter(isTail).map(([key, value]) => [key, (value as string).length > TAIL_CHARS ? `…${(value as string).slice(-TAIL_CHARS)}` : value] as const)];
  return terminalText(JSON.stringify(Object.fromEntries(shown)) ?? 'null', 600);
}

/** The readable end of a run: verdict, failing checks with evidence, RTO. */
export function renderConsoleSummary(report: DrillReport, failOn: FailOn = 'fail', exit?: ExitOverride): string {
  const lines: string[] = [''];
  const failing = [...report.checks, ...report.snapshots.flatMap((s) => s.checks)].filter((c) => c.status === 'fail' || c.status === 'warn');
  for (const c of failing) {
    lines.push(`${c.status.toUpperCase()} ${c.id}: ${terminalText(c.message)}`);
    lines.push(`     evidence: ${evidenceLine(c.evidence)}`);
  }
  if (report.error) lines.push(`ERROR: ${terminalText(report.error.split('\n')[0] ?? '')}`);
  if (typeof report.target.data_root === 'string') lines.push(`kept the drill root for inspection: ${terminalText(report.target.data_root)}`);
  const m = report.metrics;
  lines.push(
    verdictHead(report, failOn, exit) +
      (m.rto_ms !== null ? `, RTO ${formatDuration(m.rto_ms)}` : '') +
      (m.restore_ms !== null ? `, restore ${formatDuration(m.restore_ms)}` : '') +
      (report.target.backup_stamp ? `, backup ${terminalText(report.target.backup_stamp, 100)}` : '') +
      `, ${formatDuration(report.duration_ms)} in all`,
  );
  return `${lines.join('\n')}\n`;
}

