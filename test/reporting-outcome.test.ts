import { execFileSync } from 'node:child_process';
import { failureCarriedByChecks } from '../src/render/steps.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DrillReport, Verdict } from '../src/report/model.js';
import { exitCodeFor as exitCodeFromVerdictModule } from '../src/report/verdict.js';
import { CHECK_RUN_LIMITS, checkRunConclusion, checkRunFinishPayloads, reportAnnotations, type CheckRunAnnotation, type CheckRunOutput, type PublishTarget } from '../src/render/check-run.js';
import { commitStatusFinishPayload, commitStatusState } from '../src/render/commit-status.js';
import { renderJunit } from '../src/render/junit.js';
import { renderMarkdownSummary, SUMMARY_LIMIT_BYTES } from '../src/render/markdown.js';
import { checkOutcome, exitCodeFor, runOutcome, stepOutcome, type FailOn } from '../src/report/outcome.js';
import { printable } from '../src/render/text.js';
import { ReportGenerator } from './support/report-generator.js';

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-outcome-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const target = (failOn: FailOn): PublishTarget => ({
  checkName: 'AtoCore restore drill',
  headSha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  detailsUrl: 'https://github.example/atocore/atocore/actions/runs/1',
  externalId: '1',
  annotationPath: '.github/workflows/drill.yml',
  failOn,
  checksDocUrl: null,
});

describe('the outcome table: verdict × fail-on → every output', () => {
  // written out in full here, on purpose: a change to the table must change this test
  it.each([
    ['pass', 'fail', 0, 'success', 'success', '✅ PASS', 'none', null],
    ['warn', 'fail', 0, 'neutral', 'success', '⚠️ WARN', 'none', 'warning'],
    ['fail', 'fail', 1, 'failure', 'failure', '❌ FAIL', 'failure', 'failure'],
    ['error', 'fail', 3, 'failure', 'error', '🛑 ERROR (could not run)', 'error', 'failure'],
    ['pass', 'warn', 0, 'success', 'success', '✅ PASS', 'none', null],
    ['warn', 'warn', 1, 'failure', 'failure', '⚠️ WARN (failing: fail-on warn)', 'failure', 'failure'],
    ['fail', 'warn', 1, 'failure', 'failure', '❌ FAIL', 'failure', 'failure'],
    ['error', 'warn', 3, 'failure', 'error', '🛑 ERROR (could not run)', 'error', 'failure'],
  ] as const)('%s, fail-on %s → exit %d, check %s, status %s, banner %s, JUnit %s, annotation %s', (verdict, failOn, exitCode, conclusion, state, banner, junit, annotation) => {
    const outcome = runOutcome(verdict, failOn);
    expect(outcome).toEqual({ verdict, failOn, exitCode, failsJob: exitCode !== 0, checkRunConclusion: conclusion, commitStatusState: state, banner, junit, annotation });
    // every older entry point reads the table
    expect(exitCodeFor(verdict, failOn)).toBe(exitCode);
    expect(exitCodeFromVerdictModule(verdict, failOn)).toBe(exitCode);
    expect(checkRunConclusion(verdict, failOn)).toBe(conclusion);
    expect(commitStatusState(verdict, failOn)).toBe(state);
  });

  it('checks and steps: a warning fails only with fail-on warn; a failed step is a failure, an errored one an error', () => {
    expect(checkOutcome('warn', 'fail')).toEqual({ junit: 'pass', annotation: 'warning' });
    expect(checkOutcome('warn', 'warn')).toEqual({ junit: 'failure', annotation: 'failure' });
    expect(checkOutcome('fail', 'fail')).toEqual({ junit: 'failure', annotation: 'failure' });
    expect(checkOutcome('skip', 'warn')).toEqual({ junit: 'skipped', annotation: null });
    expect(checkOutcome('pass', 'warn')).toEqual({ junit: 'pass', annotation: null });
    expect(stepOutcome('fail')).toEqual({ junit: 'failure', annotation: 'failure' });
    expect(stepOutcome('error')).toEqual({ junit: 'error', annotation: 'failure' });
    expect(stepOutcome('skip').junit).toBeNull();
    expect(stepOutcome('pass').junit).toBeNull();
  });
});

interface ParsedCase {
  readonly name: string;
  readonly time: string;
  readonly children: string[];
}
interface ParsedSuite {
  readonly attrs: Record<string, string>;
  readonly cases: ParsedCase[];
}
interface ParsedJunit {
  readonly ok: boolean;
  readonly error?: string;
  readonly root?: Record<string, string>;
  readonly suites?: ParsedSuite[];
}

/** Parses each file with Python's expat (a strict XML 1.0 parser) and returns its structure. */
function parseStrictly(paths: readonly string[]): ParsedJunit[] {
  const script = `
import json, sys, xml.etree.ElementTree as ET
out = []
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
        assert root.tag == 'testsuites', root.tag
        suites = [{'attrs': dict(s.attrib), 'cases': [{'name': c.get('name'), 'time': c.get('time'), 'children': [x.tag for x in c]} for c in s.findall('testcase')]} for s in root.findall('testsuite')]
        out.append({'ok': True, 'root': dict(root.attrib), 'suites': suites})
    except Exception as e:
        out.append({'ok': False, 'error': str(e)})
json.dump(out, sys.stdout)
`;
  return JSON.parse(execFileSync('python3', ['-c', script, ...paths], { maxBuffer: 512 * 1024 * 1024 }).toString()) as ParsedJunit[];
}

// everything XML 1.0 forbids, and lone surrogates (which Node would silently turn into U+FFFD on the way to the file)
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function strongest(levels: ReadonlyArray<CheckRunAnnotation['annotation_level']>): 'failure' | 'warning' | null {
  if (levels.includes('failure')) return 'failure';
  if (levels.includes('warning')) return 'warning';
  return null;
}

const KIND_TITLE: Record<DrillReport['kind'], string> = { drill: 'AtoCore restore drill', validate: 'AtoCore snapshot validation', rehearse: 'AtoCore restore rehearsal' };

describe('property: over generated reports, every output agrees with the verdict and with the others', () => {
  const generator = new ReportGenerator(20260407);
  const reports = Array.from({ length: 300 }, () => generator.report());
  const cases = reports.flatMap((report, index) => (['fail', 'warn'] as const).map((failOn) => ({ report, index, failOn })));
  const junits = cases.map(({ report, failOn }) => renderJunit(report, failOn));
  const paths = junits.map((xml, i) => {
    const path = join(work, `${i}.xml`);
    writeFileSync(path, xml);
    return path;
  });
  const parsed = parseStrictly(paths);

  it('the generator covers every verdict, hostile strings and huge ones', () => {
    const verdicts = new Set(reports.map((r) => r.verdict));
    expect([...verdicts].sort()).toEqual(['error', 'fail', 'pass', 'warn']);
    const text = JSON.stringify(reports);
    for (const piece of ['\\u0000', '\\ud800', ']]>', '|']) expect(text).toContain(piece);
    expect(reports.some((r) => JSON.stringify(r).length > 100_000)).toBe(true);
    expect(reports.some((r) => r.verdict === 'error' && r.steps.length === 0)).toBe(true);
  });

  it.each(cases.map((c, i) => [i, c.index, c.report.verdict, c.failOn] as const))('case %d (report %d, %s, fail-on %s)', (i) => {
    const { report, failOn } = cases[i]!;
    const outcome = runOutcome(report.verdict, failOn);
    const xml = junits[i]!;
    const tree = parsed[i]!;

    // JUnit: well-formed for a strict parser, nothing XML forbids, counts agree with the cases
    expect(tree.ok, tree.error).toBe(true);
    expect(FORBIDDEN.test(xml)).toBe(false);
    const suites = tree.suites!;
    const allCases = suites.flatMap((s) => s.cases);
    const count = (tag: string, list: readonly ParsedCase[]): number => list.filter((c) => c.children.includes(tag)).length;
    for (const suite of suites) {
      expect(Number(suite.attrs.tests)).toBe(suite.cases.length);
      expect(Number(suite.attrs.failures)).toBe(count('failure', suite.cases));
      expect(Number(suite.attrs.errors)).toBe(count('error', suite.cases));
      expect(Number(suite.attrs.skipped)).toBe(count('skipped', suite.cases));
      expect(Number.isFinite(Number(suite.attrs.time))).toBe(true);
    }
    for (const key of ['tests', 'failures', 'errors', 'skipped'] as const) expect(Number(tree.root![key])).toBe(suites.reduce((sum, s) => sum + Number(s.attrs[key]), 0));
    for (const c of allCases) {
      expect(Number(c.time)).toBeGreaterThanOrEqual(0);
      expect(c.children.filter((tag) => ['failure', 'error', 'skipped'].includes(tag)).length).toBeLessThanOrEqual(1);
    }
    expect(Number(tree.root!.time)).toBeCloseTo(report.duration_ms / 1000, 2);
    // each check is a case, as the table says; each failed or errored step too, unless its own failed checks already say it
    const everyCheck = [...report.checks, ...report.snapshots.flatMap((s) => s.checks)];
    const ownCase = report.steps.filter((s) => stepOutcome(s.status).junit !== null && !failureCarriedByChecks(report, s));
    const expectedFailures = everyCheck.filter((c) => checkOutcome(c.status, failOn).junit === 'failure').length + ownCase.filter((s) => s.status === 'fail').length;
    const expectedErrors = report.steps.filter((s) => s.status === 'error').length;
    const synthetic = allCases.length - everyCheck.length - ownCase.length;
    expect(synthetic === 0 || synthetic === 1).toBe(true);
    expect(Number(tree.root!.failures) + Number(tree.root!.errors)).toBe(expectedFailures + expectedErrors + synthetic);
    expect(Number(tree.root!.skipped)).toBe(everyCheck.filter((c) => c.status === 'skip').length);
    // JUnit and the verdict: errors exactly when the run could not run; failures or errors exactly when the job fails
    if (outcome.junit === 'error') expect(Number(tree.root!.errors)).toBeGreaterThan(0);
    else expect(Number(tree.root!.errors)).toBe(0);
    expect(Number(tree.root!.failures) + Number(tree.root!.errors) > 0).toBe(outcome.failsJob);
    if (report.steps.some((s) => s.status === 'fail')) expect(Number(tree.root!.failures)).toBeGreaterThan(0);
    // real time: the steps' time is in the suites
    const stepMs = report.steps.reduce((sum, s) => sum + s.duration_ms, 0);
    if (report.duration_ms > 0) expect(Number(suites[0]!.attrs.time)).toBeGreaterThan(0);
    if (stepMs > 0 && report.steps.some((s) => stepOutcome(s.status).junit !== null && s.duration_ms > 0)) expect(allCases.some((c) => Number(c.time) > 0)).toBe(true);

    // check run and commit status: the table's, and in agreement with the exit code
    const payloads = checkRunFinishPayloads(report, target(failOn), true);
    const last = payloads.at(-1)!;
    expect(last.conclusion).toBe(outcome.checkRunConclusion);
    expect(commitStatusFinishPayload(report, target(failOn)).state).toBe(outcome.commitStatusState);
    expect(last.conclusion === 'failure').toBe(outcome.exitCode !== 0);
    expect(['failure', 'error'].includes(outcome.commitStatusState)).toBe(outcome.exitCode !== 0);

    // annotations: the strongest level is the table's; each one within GitHub's limits and printable
    const annotations = reportAnnotations(report, target(failOn));
    expect(strongest(annotations.map((a) => a.annotation_level))).toBe(outcome.annotation);
    expect(annotations.some((a) => a.annotation_level === 'failure')).toBe(outcome.failsJob);
    const sent = payloads.flatMap((p) => (p.output as CheckRunOutput).annotations ?? []);
    expect(sent).toEqual(annotations);
    for (const a of annotations) {
      expect(a.title.length).toBeLessThanOrEqual(CHECK_RUN_LIMITS.annotationTitleChars);
      expect(Buffer.byteLength(a.message)).toBeLessThanOrEqual(CHECK_RUN_LIMITS.annotationBytes);
      expect(Buffer.byteLength(a.raw_details ?? '')).toBeLessThanOrEqual(CHECK_RUN_LIMITS.annotationBytes);
      expect(FORBIDDEN.test(`${a.title}${a.message}${a.raw_details ?? ''}`)).toBe(false);
    }
    for (const payload of payloads) {
      const output = payload.output as CheckRunOutput;
      expect(output.summary.length).toBeLessThanOrEqual(CHECK_RUN_LIMITS.outputChars);
      expect((output.text ?? '').length).toBeLessThanOrEqual(CHECK_RUN_LIMITS.outputChars);
      expect(output.summary).toContain(outcome.banner);
    }

    // the summary: the table's banner first, under 1 MiB, printable, one table row per line
    const summary = renderMarkdownSummary(report, failOn);
    expect(summary.split('\n')[0]).toBe(`## ${KIND_TITLE[report.kind]}: ${outcome.banner}`);
    expect(Buffer.byteLength(summary)).toBeLessThan(SUMMARY_LIMIT_BYTES);
    expect(Buffer.byteLength(summary)).toBeLessThan(1024 * 1024);
    expect(FORBIDDEN.test(summary)).toBe(false);
    for (const line of summary.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| …'))) expect(line.split(/(?<!\\)\|/).length).toBeGreaterThanOrEqual(4);
  });
});

describe('JUnit for a failed drill', () => {
  const base = (verdict: Verdict, extra: Partial<DrillReport>): DrillReport => ({
    schema: 'atocore-drill/report@1',
    kind: 'drill',
    verdict,
    started_at: '2026-04-07T06:00:00.000Z',
    finished_at: '2026-04-07T06:01:00.000Z',
    duration_ms: 60_000,
    target: { runtime: 'process', image: null, backup_stamp: null },
    steps: [],
    checks: [],
    metrics: { rto_ms: null, restore_ms: null, rpo_s: null },
    snapshots: [],
    ...extra,
  });

  it('a step that failed without a failing check is a failure, and the checks it prevented are skipped with the reason', () => {
    const xml = renderJunit(
      base('fail', {
        steps: [
          { id: 'marker_a', title: 'Write marker A', status: 'fail', duration_ms: 1_200, detail: 'AtoCore lost the memory it just accepted' },
          { id: 'backup', title: 'Back up', status: 'skip', duration_ms: 0, detail: 'not run: step marker_a failed' },
        ],
        checks: [{ id: 'backup.created', status: 'skip', message: 'not evaluated: step marker_a failed', evidence: {} }],
      }),
    );
    expect(xml).toMatch(/<testsuites [^>]*failures="1"/);
    expect(xml).toMatch(/<testcase classname="atocore-drill.drill.steps" name="marker_a" time="1.200">\s*<failure message="AtoCore lost the memory it just accepted" type="step.fail">/);
    expect(xml).toMatch(/<testcase classname="atocore-drill.drill" name="backup.created" time="0.000">\s*<skipped message="not evaluated: step marker_a failed"\/>/);
  });

  it('a check takes its share of the time of the step that decided it', () => {
    const xml = renderJunit(
      base('fail', {
        steps: [{ id: 'backup', title: 'Back up', status: 'pass', duration_ms: 3_000, detail: '' }],
        checks: [
          { id: 'backup.created', status: 'pass', message: 'ok', evidence: {}, step: 'backup' },
          { id: 'backup.valid', status: 'fail', message: 'AtoCore says invalid', evidence: {}, step: 'backup' },
          { id: 'backup.independent_integrity', status: 'pass', message: 'ok', evidence: {}, step: 'backup' },
        ],
      }),
    );
    expect(xml).toContain('name="backup.valid" time="1.000"');
    expect(xml).toMatch(/<testsuite name="atocore-drill.drill" [^>]*time="60.000"/);
  });

  it('a run that could not start has one error case that says why', () => {
    const xml = renderJunit(base('error', { error: 'no Docker: connect ENOENT /var/run/docker.sock' }));
    expect(xml).toMatch(/<testsuites [^>]*tests="1" failures="0" errors="1"/);
    expect(xml).toMatch(/name="run" time="0.000">\s*<error message="no Docker: connect ENOENT \/var\/run\/docker.sock"/);
  });

  it('fail-on warn makes a warning a failure in JUnit, as in the exit code', () => {
    const report = base('warn', { checks: [{ id: 'size.anomaly', status: 'warn', message: 'smaller by 60%', evidence: {} }] });
    expect(renderJunit(report, 'fail')).toMatch(/failures="0"/);
    expect(renderJunit(report, 'fail')).toContain('<system-out>WARN: smaller by 60%</system-out>');
    expect(renderJunit(report, 'warn')).toMatch(/<testsuites [^>]*failures="1"/);
  });

  it('any byte in a message: NUL, ESC, lone surrogates, U+FFFF and ]]> become printable, valid XML', () => {
    const message = 'bad\u0000byte \u001b[31m \ud800 \uffff ]]> <x> & "q"';
    const xml = renderJunit(base('fail', { checks: [{ id: 'service.context', status: 'fail', message, evidence: { body: message } }] }));
    expect(FORBIDDEN.test(xml)).toBe(false);
    expect(xml).toContain(`message="${'bad\ufffdbyte \ufffd[31m \ufffd \ufffd ]]&gt; &lt;x&gt; &amp; &quot;q&quot;'}"`);
    expect(printable('a\ud83d\ude00b')).toBe('a\ud83d\ude00b');
    const path = join(work, 'bytes.xml');
    writeFileSync(path, xml);
    expect(parseStrictly([path])[0]!.ok).toBe(true);
  });

  it('bidirectional controls never reorder what a reader sees: JUnit, the summary, the check run and its annotations show them as escapes', () => {
    const message = 'restore ok \u202e\u2066liaf\u2069 \u200f\u061c';
    const report = base('fail', { checks: [{ id: 'service.context', status: 'fail', message, evidence: { body: message } }] });
    const target: PublishTarget = { checkName: 'Restore drill', headSha: 'a'.repeat(40), detailsUrl: null, externalId: null, annotationPath: '.github/workflows/drill.yml', failOn: 'fail', checksDocUrl: null };
    const outputs = [renderJunit(report), renderMarkdownSummary(report), JSON.stringify(checkRunFinishPayloads(report, target, true)), JSON.stringify(reportAnnotations(report, target))];
    for (const text of outputs) {
      expect(text).not.toMatch(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
      expect(text).toMatch(/\\+u202e/);
    }
  });
});

describe('titles name the service and the drills that ran', () => {
  const drill = (target: DrillReport['target']): DrillReport => ({
    schema: 'atocore-drill/report@1',
    kind: 'drill',
    verdict: 'pass',
    started_at: '2026-04-07T06:00:00.000Z',
    finished_at: '2026-04-07T06:01:00.000Z',
    duration_ms: 60_000,
    target,
    steps: [],
    checks: [],
    metrics: { rto_ms: null, restore_ms: null, rpo_s: null },
    snapshots: [],
  });
  it.each<[DrillReport['target'], string]>([
    [{ runtime: 'process', image: null, backup_stamp: null }, '## AtoCore restore drill: '],
    [{ runtime: 'process', image: null, backup_stamp: null, drills: ['restore', 'verification', 'rotation'] }, '## AtoCore drills: restore, verification, rotation: '],
    [{ runtime: 'process', image: null, backup_stamp: 'b', profile: 'jellycore', drills: ['restore'] }, '## jellycore restore drill: '],
    [{ runtime: 'process', image: null, backup_stamp: 'b', profile: 'jellycore', drills: ['restore', 'offsite'] }, '## jellycore drills: restore, offsite: '],
  ])('%j', (target, title) => {
    expect(renderMarkdownSummary(drill(target)).startsWith(title)).toBe(true);
  });
});

describe('the Markdown summary stays under 1 MiB whatever the report holds', () => {
  it('20 000 failing checks with 10 kB messages and evidence: cut cells, counted rows, bounded evidence', () => {
    const big = 'é|\n'.repeat(3_500);
    const checks = Array.from({ length: 20_000 }, (_, i) => ({ id: `check.n${i}`, status: 'fail' as const, message: big, evidence: { body: big } }));
    const report: DrillReport = {
      schema: 'atocore-drill/report@1',
      kind: 'validate',
      verdict: 'fail',
      started_at: '2026-04-07T06:00:00.000Z',
      finished_at: '2026-04-07T06:01:00.000Z',
      duration_ms: 60_000,
      target: { runtime: null, image: null, backup_stamp: null },
      steps: [{ id: 'snapshots', title: 'check each snapshot', status: 'pass', duration_ms: 50_000, detail: big }],
      checks,
      metrics: { rto_ms: null, restore_ms: null, rpo_s: null },
      snapshots: Array.from({ length: 2_000 }, (_, i) => ({ stamp: `20260401T0600${String(i).padStart(2, '0')}Z`, status: 'fail' as const, checks: checks.slice(0, 30) })),
    };
    const summary = renderMarkdownSummary(report);
    expect(Buffer.byteLength(summary)).toBeLessThan(SUMMARY_LIMIT_BYTES);
    expect(summary).toMatch(/\| … \| \d+ more checks in the JSON report \| \|/);
    expect(summary).toMatch(/… \d+ more snapshot\(s\) in the JSON report|evidence of \d+ more check\(s\) in the JSON report/);
    expect(summary.startsWith('## AtoCore snapshot validation: ❌ FAIL\n')).toBe(true);
  });
});
