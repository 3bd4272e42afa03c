import { create } from 'xmlbuilder2';
import { failureCarriedByChecks, stepOfCheck } from './steps.js';
import type { CheckResult, DrillReport, SnapshotReport, StepRecord } from '../report/model.js';
import { checkOutcome, runOutcome, stepOutcome, type FailOn } from '../report/outcome.js';
import { boundedJson, cutText, firstLine, printable } from './text.js';

/** Bounds: one attribute, one message, one evidence dump (a failing check's whole evidence is in the JSON report). */
const ATTRIBUTE_CHARS = 1_000;
const TEXT_CHARS = 16 * 1024;
const EVIDENCE_CHARS = 64 * 1024;

/** An attribute value: one line, printable, bounded. */
function attribute(text: string): string {
  return printable(cutText(firstLine(cutText(text, 4 * ATTRIBUTE_CHARS)), ATTRIBUTE_CHARS));
}

function body(text: string, max: number = TEXT_CHARS): string {
  return printable(cutText(text, max, '\n… (cut; the JSON report has all of it)'));
}

function seconds(ms: number): string {
  return (Math.max(0, Number.isFinite(ms) ? ms : 0) / 1000).toFixed(3);
}

interface Case {
  readonly classname: string;
  readonly name: string;
  /** the step whose time this case shares; null: none */
  readonly step: string | null;
  readonly element: { readonly kind: 'failure' | 'error' | 'skipped'; readonly message: string; readonly type: string; readonly text: string } | null;
  readonly out: string | null;
}

interface Suite {
  readonly name: string;
  readonly cases: Case[];
  /** null: the sum of its cases */
  timeMs: number | null;
}

function stepCase(classname: string, step: StepRecord): Case | null {
  const kind = stepOutcome(step.status).junit;
  if (kind === null) return null;
  return { classname, name: step.id, step: step.id, element: { kind, message: step.detail, type: `step.${step.status}`, text: step.detail }, out: null };
}

function checkCase(report: DrillReport, classname: string, check: CheckResult, stamp: string | null, failOn: FailOn): Case {
  const step = stepOfCheck(report, check, stamp);
  switch (checkOutcome(check.status, failOn).junit) {
    case 'failure':
      return {
        classname,
        name: check.id,
        step,
        element: { kind: 'failure', message: check.message, type: check.id, text: `${cutText(check.message, TEXT_CHARS)}\n\nevidence:\n${boundedJson(check.evidence, EVIDENCE_CHARS)}` },
        out: null,
      };
    case 'skipped':
      return { classname, name: check.id, step, element: { kind: 'skipped', message: check.message, type: check.id, text: '' }, out: null };
    case 'pass':
      return { classname, name: check.id, step, element: null, out: check.status === 'warn' ? `WARN: ${check.message}` : null };
  }
}

/** Each step's time shared equally by the cases it decided, so that the cases add up to the steps. */
function caseTimes(report: DrillReport, suites: readonly Suite[]): Map<Case, number> {
  const stepMs = new Map<string, number>();
  for (const step of report.steps) if (!stepMs.has(step.id)) stepMs.set(step.id, step.duration_ms);
  const sharing = new Map<string, number>();
  for (const suite of suites) for (const c of suite.cases) if (c.step !== null) sharing.set(c.step, (sharing.get(c.step) ?? 0) + 1);
  const times = new Map<Case, number>();
  for (const suite of suites) for (const c of suite.cases) times.set(c, c.step === null ? 0 : (stepMs.get(c.step) ?? 0) / (sharing.get(c.step) ?? 1));
  return times;
}

function counts(cases: readonly Case[]): { tests: number; failures: number; errors: number; skipped: number } {
  const of = (kind: string): number => cases.filter((c) => c.element?.kind === kind).length;
  return { tests: cases.length, failures: of('failure'), errors: of('error'), skipped: of('skipped') };
}

/**
 * The run as JUnit suites: one for the run (a test case per step that found a problem or
 * could not run, then one per check), one per snapshot. What each check and step becomes
 * is the outcome table's; if the verdict calls for a failure or an error that no case
 * carries (a run that could not start has no steps), a case for the run itself carries it.
 */
function suitesOf(report: DrillReport, failOn: FailOn): Suite[] {
  const base = `atocore-drill.${report.kind}`;
  const main: Suite = { name: base, cases: [], timeMs: null };
  for (const step of report.steps) {
    if (failureCarriedByChecks(report, step)) continue;
    const c = stepCase(`${base}.steps`, step);
    if (c) main.cases.push(c);
  }
  for (const check of report.checks) main.cases.push(checkCase(report, base, check, null, failOn));
  const snapshots = report.snapshots.map((snapshot: SnapshotReport): Suite => ({
    name: `${base}.${snapshot.stamp}`,
    cases: snapshot.checks.map((check) => checkCase(report, `${base}.${snapshot.stamp}`, check, snapshot.stamp, failOn)),
    timeMs: null,
  }));
  const all = [main, ...snapshots].flatMap((s) => s.cases);
  const wanted = runOutcome(report.verdict, failOn).junit;
  if (wanted !== 'none' && !all.some((c) => c.element?.kind === wanted)) {
    const why = report.error ?? `the verdict is ${report.verdict}${report.verdict === 'warn' ? ' and fail-on is warn' : ''}`;
    main.cases.unshift({ classname: `${base}.steps`, name: 'run', step: null, element: { kind: wanted, message: why, type: `verdict.${report.verdict}`, text: why }, out: null });
  }
  return [main, ...snapshots];
}

/** JUnit XML of a report. Valid XML whatever bytes its messages hold; bounded whatever their size. */
export function renderJunit(report: DrillReport, failOn: FailOn = 'fail'): string {
  const suites = suitesOf(report, failOn);
  const times = caseTimes(report, suites);
  const suiteMs = (suite: Suite): number => suite.cases.reduce((sum, c) => sum + (times.get(c) ?? 0), 0);
  const snapshotMs = suites.slice(1).reduce((sum, s) => sum + suiteMs(s), 0);
  // the run's own suite holds the rest of the run: setup, teardown, the steps that decide no check
  suites[0]!.timeMs = Math.max(suiteMs(suites[0]!), report.duration_ms - snapshotMs);
  const total = counts(suites.flatMap((s) => s.cases));
  const root = create({ version: '1.0', encoding: 'UTF-8' }).ele('testsuites', {
    name: attribute(`atocore-drill ${report.kind}`),
    tests: String(total.tests),
    failures: String(total.failures),
    errors: String(total.errors),
    skipped: String(total.skipped),
    time: seconds(Math.max(report.duration_ms, suites.reduce((sum, s) => sum + (s.timeMs ?? suiteMs(s)), 0))),
  });
  for (const suite of suites) {
    const n = counts(suite.cases);
    const element = root.ele('testsuite', {
      name: attribute(suite.name),
      tests: String(n.tests),
      failures: String(n.failures),
      errors: String(n.errors),
      skipped: String(n.skipped),
      time: seconds(suite.timeMs ?? suiteMs(suite)),
      timestamp: attribute(report.started_at),
    });
    for (const c of suite.cases) {
      const testcase = element.ele('testcase', { classname: attribute(c.classname), name: attribute(c.name), time: seconds(times.get(c) ?? 0) });
      if (c.element?.kind === 'skipped') testcase.ele('skipped', { message: attribute(c.element.message) });
      else if (c.element) testcase.ele(c.element.kind, { message: attribute(c.element.message), type: attribute(c.element.type) }).txt(body(c.element.text, EVIDENCE_CHARS + TEXT_CHARS));
      if (c.out !== null) testcase.ele('system-out').txt(body(c.out));
    }
  }
  return `${root.end({ prettyPrint: true })}\n`;
}
