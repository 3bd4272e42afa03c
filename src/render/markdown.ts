import { formatDuration } from '../common/duration.js';
import type { CheckResult, DrillReport } from '../report/model.js';
import { runOutcome, type FailOn } from '../report/outcome.js';
import { stepsGantt, trendChart, type FigureTrend } from './mermaid.js';
import { boundedJson, cutText, firstLine, printable, reportTitle } from './text.js';

const ICON: Record<string, string> = { pass: '✅', warn: '⚠️', fail: '❌', skip: '⏭️', error: '🛑' };

/** GitHub's job summary is capped at 1 MiB; stay well under it. */
export const SUMMARY_LIMIT_BYTES = 900 * 1024;
/** Kept free for the notes that say what was left out. */
const NOTE_RESERVE_BYTES = 4 * 1024;
/** How much of a message a table cell shows (the JSON report has all of it). */
const CELL_CHARS = 300;

/** A table cell: one line of printable text, no HTML, no column breaks. */
function cell(text: string, max = CELL_CHARS): string {
  return escapeHtml(printable(cutText(text, max)))
    .replace(/\|/g, '\\|')
    .replace(/\r?\n|\r/g, '<br>');
}

/** Inline code: no backticks or line breaks inside, bounded. */
function code(text: string): string {
  return `\`${printable(cutText(text, 200)).replace(/[`\r\n]/g, ' ')}\``;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function metric(value: number | null, render: (n: number) => string): string {
  return value === null ? '—' : render(value);
}

/** A code fence longer than any run of backticks in the text, so the text cannot close it. */
function fenced(text: string, info: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${text}\n${fence}`;
}

function evidenceBlock(c: CheckResult, budget: number): string {
  let json = printable(boundedJson(c.evidence, budget));
  const bytes = Buffer.byteLength(json);
  // the budget is in bytes; characters outside ASCII take more than one
  if (bytes > budget) json = cutText(json, Math.floor((json.length * budget) / bytes) - 64, '… (cut; the JSON report has all of it)');
  return `<details><summary>${code(c.id)}: ${cell(firstLine(cutText(c.message, 4 * CELL_CHARS)))}</summary>\n\n${fenced(json, 'json')}\n\n</details>\n`;
}

/** Markdown within a byte budget: lines are added while they fit; what does not fit is counted, not written. */
class BoundedText {
  readonly #lines: string[] = [];
  #bytes = 0;
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get remaining(): number {
    return this.#limit - this.#bytes;
  }

  /** Adds the line if it fits within `reserve` bytes of the end; says whether it did. */
  add(line: string, reserve = NOTE_RESERVE_BYTES): boolean {
    const size = Buffer.byteLength(line) + 1;
    if (this.#bytes + size > this.#limit - reserve) return false;
    this.#lines.push(line);
    this.#bytes += size;
    return true;
  }

  /** Adds rows in order until one does not fit, then a note saying how many were left out. */
  addRows(rows: readonly string[], what: string): void {
    let index = 0;
    for (; index < rows.length; index++) if (!this.add(rows[index]!)) break;
    if (index < rows.length) this.add(`| … | ${rows.length - index} more ${what} in the JSON report | |`, 0);
  }

  toString(): string {
    return this.#lines.join('\n');
  }
}


/** What the summary shows beside the report itself: the trend of this target's runs, this one included (`--history`). */
export interface SummaryExtras {
  readonly trend?: FigureTrend;
  /** why the run history was not kept (`--history`): the verdict stands, a pass exits 3 */
  readonly historyProblems?: readonly string[];
}

/**
 * The report as Markdown: the verdict's banner (the outcome table's), step timeline, checks,
 * metrics, evidence of failures. Under SUMMARY_LIMIT_BYTES whatever the report holds:
 * cells are cut, rows and evidence that do not fit are counted and left to the JSON report.
 */
export function renderMarkdownSummary(report: DrillReport, failOn: FailOn = 'fail', extras: SummaryExtras = {}): string {
  const out = new BoundedText(SUMMARY_LIMIT_BYTES);
  out.add(`## ${reportTitle(report)}: ${runOutcome(report.verdict, failOn).banner}`);
  out.add('');
  const target = report.target;
  const targets = target.targets ?? [];
  out.add(
    `${targets.length > 0 ? `${targets.length} target${targets.length === 1 ? '' : 's'}` : `Runtime ${code(target.runtime ?? '—')}${target.image ? `, image ${code(target.image)}` : ''}, backup ${code(target.backup_stamp ?? '—')}`}, ` +
      `${formatDuration(report.duration_ms)} (${cell(report.started_at, 40)} → ${cell(report.finished_at, 40)})`,
  );
  out.add('');
  if (targets.length > 0) {
    // a merged report (merge-reports): each target with its own verdict, before anything else
    out.add('### Targets');
    out.add('');
    out.add('| | target | verdict | time | result |');
    out.add('|---|---|---|---|---|');
    out.addRows(
      targets.map((t) => `| ${ICON[t.verdict] ?? '?'} | ${cell(t.label, 200)} | ${t.verdict.toUpperCase()} | ${formatDuration(t.duration_ms)} | ${cell(firstLine(cutText(t.headline, 1_000)), 200)} |`),
      'targets',
    );
    out.add('');
  }
  for (const problem of extras.historyProblems ?? []) {
    out.add(`> **Run history not kept:** ${cell(firstLine(cutText(problem, 1_000)), 400)}. The verdict stands${report.verdict === 'pass' || report.verdict === 'warn' ? '; the run exits 3 for this (docs/history.md)' : ''}.`);
    out.add('');
  }
  if (report.error) {
    out.add(`> **Could not run:** ${cell(firstLine(cutText(report.error, 4 * CELL_CHARS)))}`);
    out.add('');
  }
  out.add('| RTO | restore | RPO |');
  out.add('|---|---|---|');
  out.add(`| ${metric(report.metrics.rto_ms, formatDuration)} | ${metric(report.metrics.restore_ms, formatDuration)} | ${metric(report.metrics.rpo_s, (s) => formatDuration(s * 1000))} |`);
  out.add('');
  const trend = extras.trend ? trendChart(extras.trend) : null;
  if (trend && out.add(trend)) out.add('');
  if (report.steps.length > 0) {
    out.add('### Steps');
    out.add('');
    out.add('| | step | time | detail |');
    out.add('|---|---|---|---|');
    out.addRows(
      report.steps.map((step) => `| ${ICON[step.status] ?? '?'} | ${cell(step.title, 200)} | ${formatDuration(step.duration_ms)} | ${cell(firstLine(cutText(step.detail, 1_000)), 200)} |`),
      'steps',
    );
    out.add('');
    // a merged report's targets ran side by side: laid end to end their steps would tell a false story
    const gantt = targets.length === 0 ? stepsGantt(report.steps, 'Step timeline') : null;
    if (gantt && out.add(gantt)) out.add('');
  }
  out.add('### Checks');
  out.add('');
  out.add('| | check | result |');
  out.add('|---|---|---|');
  out.addRows(
    report.checks.map((c) => `| ${ICON[c.status] ?? '?'} | ${code(c.id)} | ${cell(c.message)} |`),
    'checks',
  );
  out.add('');
  let snapshotsLeft = report.snapshots.length;
  for (const snapshot of report.snapshots) {
    const bad = snapshot.checks.filter((c) => c.status === 'fail' || c.status === 'warn');
    const shown = bad.slice(0, 20).map((c) => `${code(c.id)} ${cell(c.message, 200)}`);
    const more = bad.length > shown.length ? `; ${bad.length - shown.length} more` : '';
    if (!out.add(`- ${ICON[snapshot.status] ?? '?'} ${code(snapshot.stamp)}${bad.length ? `: ${shown.join('; ')}${more}` : ''}`)) break;
    snapshotsLeft -= 1;
  }
  if (snapshotsLeft > 0) out.add(`- … ${snapshotsLeft} more snapshot(s) in the JSON report`, 0);
  if (report.snapshots.length > 0) out.add('');
  const failures = [...report.checks, ...report.snapshots.flatMap((s) => s.checks)].filter((c) => c.status === 'fail' || c.status === 'warn');
  if (failures.length > 0 && out.add('### Evidence')) {
    out.add('');
    const perCheck = Math.max(2_000, Math.floor((out.remaining - NOTE_RESERVE_BYTES) / failures.length) - 600);
    let shown = 0;
    for (const failure of failures) {
      if (!out.add(evidenceBlock(failure, perCheck))) break;
      shown += 1;
    }
    if (shown < failures.length) out.add(`\n… evidence of ${failures.length - shown} more check(s) in the JSON report.\n`, 0);
  }
  return `${out.toString()}\n`;
}
