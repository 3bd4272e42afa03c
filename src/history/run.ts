import type { CheckResult, DrillReport, ReportTarget } from '../report/model.js';

/** One run as the history keeps it: the figures a trend needs, not the whole report. */
export interface HistoryRun {
  readonly kind: string;
  /** what was drilled or validated, as a label: runs of the same kind and target are compared */
  readonly target: string;
  readonly verdict: string;
  readonly backup_stamp: string | null;
  readonly rto_ms: number | null;
  readonly restore_ms: number | null;
  readonly rpo_s: number | null;
  readonly started_at: string;
  readonly duration_ms: number;
  /** ids of the checks that failed (and of steps that failed or could not run, as `step:ID`) */
  readonly failing_checks: readonly string[];
  readonly steps: ReadonlyArray<{ readonly id: string; readonly status: string; readonly duration_ms: number }>;
  /** sizes the report states, in bytes, by name (`db_bytes`, …) */
  readonly sizes: Readonly<Record<string, number>>;
}

/** A run read back from the history. */
export interface StoredRun extends HistoryRun {
  readonly id: number;
}

/** Labels are shown in tables and charts and compared: bounded. */
const LABEL_CHARS = 300;

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

/**
 * The label runs are grouped by: the report's own `label` or `location` (a validation's
 * source, a rehearsal's), else the service profile, runtime and image(s) of a drill.
 */
export function targetLabel(target: Pick<ReportTarget, 'runtime' | 'image'> & Readonly<Record<string, unknown>>): string {
  const own = text(target.label) ?? text(target.location);
  if (own) return own.slice(0, LABEL_CHARS);
  const image = text(target.image);
  const from = text(target.from_image);
  const parts = [text(target.profile), text(target.runtime) ?? 'unknown', from && image ? `${from}→${image}` : image].filter((part): part is string => part !== null);
  return parts.join(' ').slice(0, LABEL_CHARS);
}

function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * The sizes the report states: metrics named `*_bytes`; the database of the backup a drill
 * made (its `backup.created` evidence); the newest snapshot's database in a validation.
 */
export function sizesOf(report: DrillReport): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const [name, value] of Object.entries(report.metrics)) if (name.endsWith('_bytes') && isSize(value)) sizes[name] = value;
  const created = report.checks.find((c) => c.id === 'backup.created');
  const answer = created?.evidence.answer as Record<string, unknown> | undefined;
  if (created?.status === 'pass' && answer && isSize(answer.db_size_bytes)) sizes.db_bytes ??= answer.db_size_bytes;
  const newest = [...report.snapshots].sort((a, b) => (a.stamp < b.stamp ? 1 : -1))[0];
  const integrity = newest?.checks.find((c: CheckResult) => c.id === 'snapshot.integrity');
  if (integrity && isSize(integrity.evidence.size_bytes)) sizes.db_bytes ??= integrity.evidence.size_bytes;
  return sizes;
}

/** The ids of what failed: checks (run-level and per snapshot, once each), then steps that failed or could not run. */
export function failingIds(report: DrillReport): string[] {
  const ids = new Set<string>();
  for (const c of report.checks) if (c.status === 'fail') ids.add(c.id);
  for (const snapshot of report.snapshots) for (const c of snapshot.checks) if (c.status === 'fail') ids.add(c.id);
  for (const step of report.steps) if (step.status === 'fail' || step.status === 'error') ids.add(`step:${step.id}`);
  return [...ids];
}

/** The history's record of a report. */
export function historyRunOf(report: DrillReport): HistoryRun {
  return {
    kind: report.kind,
    target: targetLabel(report.target),
    verdict: report.verdict,
    backup_stamp: text(report.target.backup_stamp),
    rto_ms: finiteOrNull(report.metrics.rto_ms),
    restore_ms: finiteOrNull(report.metrics.restore_ms),
    rpo_s: finiteOrNull(report.metrics.rpo_s),
    started_at: report.started_at,
    duration_ms: finiteOrNull(report.duration_ms) ?? 0,
    failing_checks: failingIds(report),
    steps: report.steps.map((step) => ({ id: step.id, status: step.status, duration_ms: finiteOrNull(step.duration_ms) ?? 0 })),
    sizes: sizesOf(report),
  };
}
