import { formatDuration } from '../common/duration.js';
import { failureCarriedByChecks } from './steps.js';
import type { CheckResult, DrillReport, Verdict } from '../report/model.js';
import { renderMarkdownSummary } from './markdown.js';
import { checkOutcome, runOutcome, stepOutcome, type AnnotationLevel, type FailOn } from '../report/outcome.js';
import { boundedJson, cutText, firstLine, printable, reportTitle } from './text.js';

/** GitHub's documented limits for a check run (REST "Update a check run"). */
export const CHECK_RUN_LIMITS = {
  /** output.summary and output.text, in characters */
  outputChars: 65_535,
  /** annotations per request */
  annotationsPerRequest: 50,
  /** annotation title, in characters */
  annotationTitleChars: 255,
  /** annotation message and raw_details: GitHub says 64 KB; kept a little under */
  annotationBytes: 64_000,
} as const;

export type CheckRunConclusion = 'success' | 'neutral' | 'failure' | 'cancelled';

export interface CheckRunAnnotation {
  readonly path: string;
  readonly start_line: number;
  readonly end_line: number;
  readonly annotation_level: 'notice' | AnnotationLevel;
  readonly message: string;
  readonly title: string;
  readonly raw_details?: string;
}

export interface CheckRunOutput {
  readonly title: string;
  readonly summary: string;
  readonly text?: string;
  readonly annotations?: CheckRunAnnotation[];
}

/** Where and how a report is published: the same for check runs and commit statuses. */
export interface PublishTarget {
  /** the check run's name, or the commit status's context */
  readonly checkName: string;
  readonly headSha: string;
  /** the workflow run (details_url / target_url) */
  readonly detailsUrl: string | null;
  readonly externalId: string | null;
  /** the file annotations point at: the workflow that ran the drill */
  readonly annotationPath: string;
  readonly failOn: FailOn;
  /** where "what each check means and what to do" lives */
  readonly checksDocUrl: string | null;
}

/** The check run's conclusion: the one table's (outcome.ts). An interrupted run is `cancelled` (see the post step). */
export function checkRunConclusion(verdict: Verdict, failOn: FailOn): Exclude<CheckRunConclusion, 'cancelled'> {
  return runOutcome(verdict, failOn).checkRunConclusion;
}

function allChecks(report: DrillReport): Array<{ check: CheckResult; stamp: string | null }> {
  return [...report.checks.map((check) => ({ check, stamp: null })), ...report.snapshots.flatMap((s) => s.checks.map((check) => ({ check, stamp: s.stamp })))];
}


/** How many characters of a headline there are at most (it is also the failed step's message). */
const HEADLINE_CHARS = 1_000;

/** One line that says how it went; the check run's title, the commit status's description, the failure message. */
export function reportHeadline(report: DrillReport): string {
  return cutText(printable(headline(report)), HEADLINE_CHARS);
}

function headline(report: DrillReport): string {
  const checks = allChecks(report).map((c) => c.check);
  const failing = checks.filter((c) => c.status === 'fail').map((c) => c.id);
  const warning = checks.filter((c) => c.status === 'warn').map((c) => c.id);
  const rto = report.metrics.rto_ms !== null ? `, RTO ${formatDuration(report.metrics.rto_ms)}` : '';
  switch (report.verdict) {
    case 'error':
      return `could not run: ${firstLine(cutText(report.error ?? report.steps.find((s) => s.status === 'error')?.detail ?? 'see the summary', HEADLINE_CHARS))}`;
    case 'fail': {
      const failedSteps = report.steps.filter((s) => s.status === 'fail' && !failureCarriedByChecks(report, s)).map((s) => s.id);
      const names = unique([...failing, ...failedSteps]);
      // a merged report: a failure outranks the targets that could not be told, which the title still names
      const untold = (report.target.targets ?? []).filter((t) => t.verdict === 'error').map((t) => t.label);
      const also = untold.length > 0 ? `; ${untold.length} target${untold.length === 1 ? '' : 's'} could not be told: ${untold.slice(0, 10).join(', ')}` : '';
      return `FAIL: ${names.length} problem${names.length === 1 ? '' : 's'}: ${names.slice(0, 50).join(', ')}${also}`;
    }
    case 'warn':
      return `WARN: ${warning.slice(0, 50).join(', ')}${rto}`;
    case 'pass':
      return `PASS: ${checks.filter((c) => c.status === 'pass').length}/${checks.length} checks${rto}`;
  }
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}

/** Cuts text to `max` UTF-16 units without splitting a surrogate pair, marking the cut. */
export function truncateText(text: string, max: number, note = '\n\n… (cut to fit; the JSON report has all of it)'): string {
  return cutText(text, max, note);
}

/** Cuts text to `maxBytes` of UTF-8. */
export function truncateBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const note = '\n… (cut)';
  const room = maxBytes - Buffer.byteLength(note);
  let cut = text.slice(0, Math.max(0, room));
  while (Buffer.byteLength(cut) > room) cut = cut.slice(0, Math.floor(cut.length * 0.9));
  const code = cut.charCodeAt(cut.length - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut}${note}`;
}

/**
 * One annotation per step that found a problem or could not run and per check the table
 * marks (a failing check; a warning one, as a failure with fail-on warn), a snapshot's
 * named by its stamp. If the verdict calls for an annotation none of those gives (a run
 * that could not start has no steps), one for the run itself. The Checks API wants a file:
 * the annotations point at line 1 of the workflow that ran the drill.
 */
export function reportAnnotations(report: DrillReport, target: Pick<PublishTarget, 'annotationPath'> & Partial<Pick<PublishTarget, 'failOn'>>): CheckRunAnnotation[] {
  const failOn = target.failOn ?? 'fail';
  const annotations: CheckRunAnnotation[] = [];
  const at = { path: target.annotationPath, start_line: 1, end_line: 1 };
  const title = (text: string): string => cutText(printable(firstLine(cutText(text, 4 * CHECK_RUN_LIMITS.annotationTitleChars))), CHECK_RUN_LIMITS.annotationTitleChars);
  const body = (text: string): string => truncateBytes(printable(cutText(text, CHECK_RUN_LIMITS.annotationBytes)), CHECK_RUN_LIMITS.annotationBytes);
  for (const step of report.steps) {
    const level = stepOutcome(step.status).annotation;
    if (level === null || failureCarriedByChecks(report, step)) continue;
    annotations.push({
      ...at,
      annotation_level: level,
      title: title(`${step.status === 'error' ? 'could not run' : 'step failed'}: ${step.id}`),
      message: body(`${step.title}: ${step.detail}`),
    });
  }
  for (const { check, stamp } of allChecks(report)) {
    const level = checkOutcome(check.status, failOn).annotation;
    if (level === null) continue;
    annotations.push({
      ...at,
      annotation_level: level,
      title: title(stamp ? `${stamp}: ${check.id}` : check.id),
      message: body(check.message),
      raw_details: body(boundedJson(check.evidence, CHECK_RUN_LIMITS.annotationBytes)),
    });
  }
  const wanted = runOutcome(report.verdict, failOn).annotation;
  if (wanted !== null && !annotations.some((a) => a.annotation_level === wanted)) {
    annotations.unshift({ ...at, annotation_level: wanted, title: title(`${report.kind}: ${report.verdict}`), message: body(reportHeadline(report)) });
  }
  return annotations;
}

/** Splits annotations into requests of at most `size` (the Checks API takes 50 a request). */
export function annotationBatches<T>(annotations: readonly T[], size: number = CHECK_RUN_LIMITS.annotationsPerRequest): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < annotations.length; i += size) batches.push(annotations.slice(i, i + size));
  return batches;
}

/** The check run's summary: the verdict, the metrics, what failed and where to read about it. */
export function checkRunSummary(report: DrillReport, target: Pick<PublishTarget, 'checksDocUrl' | 'detailsUrl'> & Partial<Pick<PublishTarget, 'failOn'>>): string {
  const lines: string[] = [];
  const m = report.metrics;
  lines.push(`**${reportTitle(report)}: ${runOutcome(report.verdict, target.failOn ?? 'fail').banner}**`, '');
  if (report.error) lines.push(`> ${cutText(firstLine(cutText(report.error, 2_000)), 1_000)}`, '');
  lines.push(
    `RTO ${m.rto_ms === null ? '—' : formatDuration(m.rto_ms)} · restore ${m.restore_ms === null ? '—' : formatDuration(m.restore_ms)} · RPO ${m.rpo_s === null ? '—' : formatDuration(m.rpo_s * 1000)} · backup \`${report.target.backup_stamp ?? '—'}\` · ${formatDuration(report.duration_ms)} in all`,
    '',
  );
  const bad = allChecks(report).filter(({ check }) => check.status === 'fail' || check.status === 'warn');
  for (const { check, stamp } of bad.slice(0, 100)) lines.push(`- ${check.status === 'fail' ? '❌' : '⚠️'} \`${cutText(`${stamp ? `${stamp}: ` : ''}${check.id}`, 200).replace(/[`\r\n]/g, ' ')}\`: ${cutText(firstLine(cutText(check.message, 2_000)), 500)}`);
  if (bad.length > 100) lines.push(`- … and ${bad.length - 100} more`);
  if (bad.length > 0) lines.push('');
  if (target.checksDocUrl) lines.push(`What each check means and what to do when it fails: ${target.checksDocUrl}`);
  if (target.detailsUrl) lines.push(`The run, its job summary and the report artifact: ${target.detailsUrl}`);
  return truncateText(printable(lines.join('\n')), CHECK_RUN_LIMITS.outputChars);
}

/** The title a check run shows next to its name. */
export function checkRunTitle(report: DrillReport): string {
  return truncateText(reportHeadline(report), 200, '…');
}

/**
 * The outputs of a finished check run, one per request: each carries the title, summary
 * and text (GitHub wants title and summary every time) and up to 50 annotations; GitHub
 * appends the annotations of successive requests.
 */
export function checkRunOutputs(report: DrillReport, target: PublishTarget): CheckRunOutput[] {
  const base = {
    title: checkRunTitle(report),
    summary: checkRunSummary(report, target),
    text: truncateText(renderMarkdownSummary(report, target.failOn), CHECK_RUN_LIMITS.outputChars),
  };
  const batches = annotationBatches(reportAnnotations(report, target));
  if (batches.length === 0) return [base];
  return batches.map((annotations) => ({ ...base, annotations }));
}

/** POST /repos/{owner}/{repo}/check-runs when the drill starts. */
export function checkRunStartPayload(target: PublishTarget, what: string, startedAt: Date): Record<string, unknown> {
  return {
    name: target.checkName,
    head_sha: target.headSha,
    status: 'in_progress',
    started_at: isoSeconds(startedAt),
    ...(target.detailsUrl ? { details_url: target.detailsUrl } : {}),
    ...(target.externalId ? { external_id: target.externalId } : {}),
    output: { title: 'Running', summary: truncateText(`Running: ${what}.`, CHECK_RUN_LIMITS.outputChars) },
  };
}

/**
 * The requests that finish a check run: all but the last add annotations; the last one
 * completes it. `created` false: the first request creates the run (POST), already completed.
 */
export function checkRunFinishPayloads(report: DrillReport, target: PublishTarget, created: boolean): Array<Record<string, unknown>> {
  const outputs = checkRunOutputs(report, target);
  const completion = {
    status: 'completed',
    conclusion: checkRunConclusion(report.verdict, target.failOn),
    completed_at: isoSeconds(new Date(report.finished_at)),
  };
  if (!created) {
    const [first, ...rest] = outputs;
    return [
      {
        name: target.checkName,
        head_sha: target.headSha,
        started_at: isoSeconds(new Date(report.started_at)),
        ...(target.detailsUrl ? { details_url: target.detailsUrl } : {}),
        ...(target.externalId ? { external_id: target.externalId } : {}),
        ...completion,
        output: first,
      },
      ...rest.map((output) => ({ output })),
    ];
  }
  return outputs.map((output, index) => (index === outputs.length - 1 ? { ...completion, output } : { output }));
}

/** The check run of a run that never finished (main stopped or killed): post completes it as cancelled. */
export function checkRunCancelPayload(reason: string, now: Date): Record<string, unknown> {
  return {
    status: 'completed',
    conclusion: 'cancelled',
    completed_at: isoSeconds(now),
    output: {
      title: 'Did not finish',
      summary: truncateText(`The drill did not finish and reported no verdict: ${reason}. Nothing it started is left running (the post step cleaned up).`, CHECK_RUN_LIMITS.outputChars),
    },
  };
}

/** `YYYY-MM-DDTHH:MM:SSZ`, as the Checks API documents its timestamps. */
export function isoSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
