import { check, decidedBy, type CheckResult, type DrillReport, type MergedTarget, type SnapshotReport, type StepRecord, type Verdict } from '../report/model.js';
import { decideVerdict } from '../report/verdict.js';
import { reportHeadline } from '../render/check-run.js';
import { cutText, printable } from '../render/text.js';

/** A report read for merging, and the file it came from (as the user gave it). */
export interface ReportSource {
  readonly file: string;
  readonly report: DrillReport;
}

/** Within one run, an error outranks everything (decideVerdict): the run stopped. */
const RUN_SEVERITY: Readonly<Record<Verdict, number>> = { pass: 0, warn: 1, fail: 2, error: 3 };

/**
 * Across targets, a failure outranks an error. Targets are independent: one target that
 * failed settles that the fleet is not sound, whatever the targets that could not be told
 * would have shown (three-valued logic: false and unknown is false). An error still wins
 * over warn and pass, since the unknown target might have failed. The error stays in sight
 * through its target's row, its steps and its annotations.
 */
const FLEET_SEVERITY: Readonly<Record<Verdict, number>> = { pass: 0, warn: 1, error: 2, fail: 3 };

function worst(verdicts: readonly Verdict[], severity: Readonly<Record<Verdict, number>>): Verdict {
  return verdicts.reduce<Verdict>((a, b) => (severity[b] > severity[a] ? b : a), 'pass');
}

/** Every check of a report, its snapshots' included. */
function allChecks(report: DrillReport): CheckResult[] {
  return [...report.checks, ...report.snapshots.flatMap((s) => s.checks)];
}

/**
 * What a target's report shows, not only what it says: the worse of its verdict and the one
 * its steps and checks decide, and never a pass without a single check to prove it.
 */
function targetVerdict(report: DrillReport): { verdict: Verdict; note: string | null } {
  const checks = allChecks(report);
  const shown = decideVerdict(report.steps, checks, report.error);
  if (checks.length === 0 && report.verdict !== 'error' && shown !== 'error' && shown !== 'fail') {
    return { verdict: 'error', note: `the report says ${report.verdict} but holds no check: nothing proves it` };
  }
  const verdict = worst([report.verdict, shown], RUN_SEVERITY);
  return { verdict, note: verdict === report.verdict ? null : `the report says ${report.verdict} but its steps and checks say ${verdict}` };
}

const LABEL_CHARS = 200;

/** One line, printable, bounded: a label goes into every message of its target. */
function cleanLabel(text: string): string {
  return cutText(printable(text).replace(/[\r\n\t]+/g, ' ').trim(), LABEL_CHARS) || 'target';
}

/** What names a target: where its snapshots are, the image it ran, or the runtime; else its file. */
function baseLabel(source: ReportSource): string {
  const target = source.report.target;
  const text = (key: string): string | null => (typeof target[key] === 'string' && (target[key] as string).trim() !== '' ? (target[key] as string) : null);
  const image = text('image');
  const fromImage = text('from_image');
  const named = text('location') ?? text('where') ?? (image && fromImage ? `${fromImage} → ${image}` : image) ?? text('runtime');
  return cleanLabel(named ?? source.file);
}

/** Labels, unique: targets that would share one are told apart by their files. */
export function targetLabels(sources: readonly ReportSource[]): string[] {
  const base = sources.map(baseLabel);
  const count = new Map<string, number>();
  for (const label of base) count.set(label, (count.get(label) ?? 0) + 1);
  const labels = base.map((label, i) => ((count.get(label) ?? 0) > 1 ? cleanLabel(`${label} (${sources[i]!.file})`) : label));
  // a file given twice (not through the input rules) still gets its own label
  const seen = new Map<string, number>();
  return labels.map((label) => {
    const n = (seen.get(label) ?? 0) + 1;
    seen.set(label, n);
    return n === 1 ? label : `${label} #${n}`;
  });
}

/** A check of one target: its id unchanged (a stable reason code), its message and evidence naming the target. */
function labelledCheck(c: CheckResult, label: string): CheckResult {
  const evidence = 'target' in c.evidence ? { target: label, evidence: c.evidence } : { target: label, ...c.evidence };
  // check() bounds the message and the evidence again: they come from a file
  const labelled = check(c.id, c.status, `${label}: ${c.message}`, evidence);
  return c.step === undefined ? labelled : decidedBy(labelled, c.step);
}

function labelledStep(step: StepRecord, label: string): StepRecord {
  return { id: step.id, title: `${label}: ${step.title}`, status: step.status, duration_ms: step.duration_ms, detail: step.detail };
}

function labelledSnapshot(snapshot: SnapshotReport, label: string): SnapshotReport {
  return { stamp: `${label}: ${snapshot.stamp}`, status: snapshot.status, checks: snapshot.checks.map((c) => labelledCheck(c, label)) };
}

/** A target that could not be told but has no step saying so (it could not start) gets one, so every output shows the error. */
function errorStep(report: DrillReport, label: string, verdict: Verdict, why: string): StepRecord | null {
  if (verdict !== 'error' || report.steps.some((s) => s.status === 'error')) return null;
  return { id: 'run', title: `${label}: could not run`, status: 'error', duration_ms: report.duration_ms, detail: why };
}

function plainValues(record: Record<string, unknown>): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [key, value] of Object.entries(record).slice(0, 50)) {
    if (key === 'targets') continue;
    if (typeof value === 'string') out[cutText(key, 100)] = cutText(value, 1_000);
    else if (typeof value === 'number' || typeof value === 'boolean' || value === null) out[cutText(key, 100)] = value;
  }
  return out;
}

function timeOf(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? 0 : ms;
}

/** The value all targets share, else null (a fleet has no one runtime or image). */
function shared(values: ReadonlyArray<string | null>): string | null {
  const first = values[0] ?? null;
  return values.every((v) => v === first) ? first : null;
}

/** The slowest recovery and the oldest snapshot of the fleet: the number an objective is held to. */
function worstMetric(reports: readonly DrillReport[], key: 'rto_ms' | 'restore_ms' | 'rpo_s'): number | null {
  const values = reports.map((r) => r.metrics[key]).filter((v): v is number => typeof v === 'number');
  return values.length === 0 ? null : Math.max(...values);
}

/**
 * One report from several (a fleet: one per host or image), which every renderer and the
 * outcome table take as they take any run's. The fleet's verdict is the worst of its
 * targets' (FLEET_SEVERITY); every check, step and snapshot is kept, named by its target;
 * target.targets lists each target with its verdict. Same kind throughout: that kind; mixed
 * kinds: `drill`, the project's name for the whole proof (each target keeps its own kind).
 */
export function mergeReports(sources: readonly ReportSource[]): DrillReport {
  if (sources.length === 0) throw new Error('mergeReports needs at least one report');
  const labels = targetLabels(sources);
  const reports = sources.map((s) => s.report);
  const targets: MergedTarget[] = [];
  const steps: StepRecord[] = [];
  const checks: CheckResult[] = [];
  const snapshots: SnapshotReport[] = [];
  const couldNotTell: string[] = [];
  sources.forEach((source, i) => {
    const label = labels[i]!;
    const report = source.report;
    const { verdict, note } = targetVerdict(report);
    const headline = note ?? reportHeadline(report);
    targets.push({
      label,
      file: source.file,
      kind: report.kind,
      verdict,
      headline,
      started_at: report.started_at,
      duration_ms: report.duration_ms,
      target: plainValues(report.target),
      metrics: Object.fromEntries(Object.entries(report.metrics).filter(([, v]) => typeof v === 'number' || v === null)) as Record<string, number | null>,
    });
    const added = errorStep(report, label, verdict, note ?? report.error ?? headline);
    if (added) steps.push(added);
    // one at a time: spreading a report's 150 000 checks into push() overflows the stack
    for (const step of report.steps) steps.push(labelledStep(step, label));
    for (const check of report.checks) checks.push(labelledCheck(check, label));
    for (const snapshot of report.snapshots) snapshots.push(labelledSnapshot(snapshot, label));
    if (verdict === 'error') couldNotTell.push(`${label}: ${cutText(note ?? report.error ?? headline, 300)}`);
  });
  const verdict = worst(targets.map((t) => t.verdict), FLEET_SEVERITY);
  const started = Math.min(...reports.map((r) => timeOf(r.started_at)));
  const finished = Math.max(...reports.map((r) => timeOf(r.finished_at)), started);
  const kinds = new Set(reports.map((r) => r.kind));
  return {
    schema: 'atocore-drill/report@1',
    kind: kinds.size === 1 ? reports[0]!.kind : 'drill',
    verdict,
    started_at: new Date(started).toISOString(),
    finished_at: new Date(finished).toISOString(),
    duration_ms: Math.max(0, Math.round(finished - started)),
    target: {
      runtime: shared(reports.map((r) => r.target.runtime)),
      image: shared(reports.map((r) => r.target.image)),
      backup_stamp: shared(reports.map((r) => r.target.backup_stamp)),
      targets,
    },
    steps,
    checks,
    metrics: { rto_ms: worstMetric(reports, 'rto_ms'), restore_ms: worstMetric(reports, 'restore_ms'), rpo_s: worstMetric(reports, 'rpo_s') },
    snapshots,
    ...(verdict === 'error' ? { error: cutText(`could not tell for ${couldNotTell.length} of ${targets.length} targets: ${couldNotTell.join('; ')}`, 4_000) } : {}),
  };
}
