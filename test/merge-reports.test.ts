/**
 * merge-reports: several runs' reports (a fleet: one per host or image) become one, for one
 * summary, one check run and one exit code. Real reports from real runs, the CLI as a real
 * process, the action as the runner runs it; the merged report must satisfy the schema.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mergeReports, type ReportSource } from '../src/merge/merge.js';
import { readReportFile } from '../src/merge/report-file.js';
import { reportAnnotations, reportHeadline } from '../src/render/check-run.js';
import { renderJunit } from '../src/render/junit.js';
import { renderMarkdownSummary } from '../src/render/markdown.js';
import type { CheckResult, DrillReport, StepRecord } from '../src/report/model.js';
import { runOutcome } from '../src/report/outcome.js';
import { RunnerJob, actionCheckout, commands } from './support/action-runner.js';
import { PROJECT_ROOT, readReport, runCli } from './support/cli.js';
import { LoopbackGitHubApi } from './support/github-api.js';
import { allRequestProblems } from './support/github-api-schema.js';
import { ReportGenerator } from './support/report-generator.js';
import { badTreePlan, buildSnapshotTree, FIXTURE_NOW } from './support/snapshot-tree.js';

const ajv = new Ajv2020({ allErrors: true, strict: true });
(addFormatsModule as unknown as (ajv: Ajv2020) => void)(ajv);
const validateReport = ajv.compile(JSON.parse(readFileSync(join(PROJECT_ROOT, 'schema/report.schema.json'), 'utf8')) as object);

function expectValid(report: unknown): void {
  const valid = validateReport(JSON.parse(JSON.stringify(report)));
  expect(validateReport.errors ?? [], JSON.stringify(validateReport.errors, null, 1)).toEqual([]);
  expect(valid).toBe(true);
}

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-merge-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Real reports of real runs: a passing drill, a failing one (a fault), a failing validation. */
beforeAll(async () => {
  const root = join(work, 'tree');
  buildSnapshotTree(root, badTreePlan());
  const runs = await Promise.all([
    runCli(['drill', '--report-json', 'pass.json'], { cwd: work }),
    runCli(['drill', '--fault', 'restore-skips-registry', '--report-json', 'fail.json'], { cwd: work }),
    runCli(['validate', '--dir', root, '--now', FIXTURE_NOW, '--report-json', 'validate.json'], { cwd: work }),
  ]);
  expect(runs.map((r) => r.code), runs.map((r) => r.stderr).join('\n')).toEqual([0, 1, 1]);
}, 180_000);

describe('atocore-drill merge-reports, as a real process', () => {
  it('a passing and a failing report: one failing summary listing both targets, exit 1, a schema-valid report', async () => {
    const run = await runCli(['merge-reports', 'pass.json', 'fail.json', '--summary', 'summary.md', '--report-json', 'merged.json', '--junit', 'junit.xml'], { cwd: work });
    expect(run.code, run.stdout + run.stderr).toBe(1);

    const summary = readFileSync(join(work, 'summary.md'), 'utf8');
    expect(summary).toMatch(/^## AtoCore restore drill: ❌ FAIL/);
    expect(summary).toContain('2 targets');
    expect(summary).toMatch(/\| ✅ \| process \(pass\.json\) \| PASS \| [^|]+ \| PASS: \d+\/\d+ checks/);
    expect(summary).toMatch(/\| ❌ \| process \(fail\.json\) \| FAIL \| [^|]+ \| FAIL: 1 problem: registry\.restored \|/);

    const merged = readReport(join(work, 'merged.json'));
    expectValid(merged);
    const pass = readReport(join(work, 'pass.json'));
    const fail = readReport(join(work, 'fail.json'));
    expect(merged).toMatchObject({ kind: 'drill', verdict: 'fail' });
    expect(merged.target.targets!.map((t) => [t.label, t.file, t.verdict])).toEqual([
      ['process (pass.json)', 'pass.json', 'pass'],
      ['process (fail.json)', 'fail.json', 'fail'],
    ]);
    // every check and step kept, its id stable, its target named
    expect(merged.checks.map((c) => c.id)).toEqual([...pass.checks, ...fail.checks].map((c) => c.id));
    expect(merged.steps.map((s) => s.id)).toEqual([...pass.steps, ...fail.steps].map((s) => s.id));
    const failing = merged.checks.filter((c) => c.status === 'fail');
    expect(failing.map((c) => [c.id, c.evidence.target])).toEqual([['registry.restored', 'process (fail.json)']]);
    expect(failing[0]!.message).toMatch(/^process \(fail\.json\): /);
    expect(merged.steps.every((s) => /^process \((pass|fail)\.json\): /.test(s.title))).toBe(true);
    // the worst recovery time of the fleet
    expect(merged.metrics.rto_ms).toBe(Math.max(pass.metrics.rto_ms!, fail.metrics.rto_ms!));
    expect(readFileSync(join(work, 'junit.xml'), 'utf8')).toContain('<failure message="process (fail.json): the registry');
  });

  it('two passing reports pass (exit 0); with the same report twice it is merged once', async () => {
    copyFileSync(join(work, 'pass.json'), join(work, 'pass-2.json'));
    const run = await runCli(['merge-reports', 'pass.json', 'pass-2.json', './pass.json', '--report-json', '-'], { cwd: work });
    expect(run.code, run.stderr).toBe(0);
    const merged = JSON.parse(run.stdout) as DrillReport;
    expectValid(merged);
    expect(merged.target.targets!.map((t) => t.label)).toEqual(['process (pass.json)', 'process (pass-2.json)']);
    expect(merged.verdict).toBe('pass');
  });

  it('a drill and a validation: kind drill, each target its own kind, snapshots named by their target', async () => {
    const run = await runCli(['merge-reports', 'pass.json', 'validate.json', '--report-json', 'mixed.json', '--summary', 'mixed.md'], { cwd: work });
    expect(run.code, run.stderr).toBe(1);
    const merged = readReport(join(work, 'mixed.json'));
    expectValid(merged);
    const validation = readReport(join(work, 'validate.json'));
    const label = merged.target.targets![1]!.label;
    expect(label).toBe(validation.target.location);
    expect(merged.kind).toBe('drill');
    expect(merged.target.targets!.map((t) => t.kind)).toEqual(['drill', 'validate']);
    expect(merged.snapshots.map((s) => s.stamp)).toEqual(validation.snapshots.map((s) => `${label}: ${s.stamp}`));
    expect(merged.metrics.rpo_s).toBe(Math.max(readReport(join(work, 'pass.json')).metrics.rpo_s!, validation.metrics.rpo_s!));
    expect(readFileSync(join(work, 'mixed.md'), 'utf8')).toContain(`| ❌ | ${label.replace(/\|/g, '\\|')} | FAIL |`);
  });

  describe('a file that is not a report is exit 2, naming it, and nothing is written', () => {
    const bad = join(work, 'bad');
    beforeAll(() => {
      mkdirSync(bad);
      const pass = readFileSync(join(work, 'pass.json'), 'utf8');
      writeFileSync(join(bad, 'cut.json'), pass.slice(0, 200));
      writeFileSync(join(bad, 'array.json'), '[]');
      writeFileSync(join(bad, 'other.json'), JSON.stringify({ schema: 'someone-else/report@3', verdict: 'pass' }));
      writeFileSync(join(bad, 'verdict.json'), pass.replace(/"verdict": "pass"/, '"verdict": "fine"'));
      writeFileSync(join(bad, 'latin1.json'), Buffer.concat([Buffer.from('{"schema": "'), Buffer.from([0xe9, 0xff]), Buffer.from('"}')]));
      writeFileSync(join(bad, 'huge.json'), Buffer.alloc(17 * 1024 * 1024, 0x20));
      mkdirSync(join(bad, 'folder.json'));
      execFileSync('mkfifo', [join(bad, 'fifo.json')]);
    });

    it.each([
      ['cut.json', 'not JSON'],
      ['array.json', 'its "schema" is not "atocore-drill/report@1"'],
      ['other.json', 'its "schema" is not "atocore-drill/report@1"'],
      ['verdict.json', '/verdict must be equal to one of the allowed values'],
      ['latin1.json', 'not UTF-8'],
      ['huge.json', 'more than a report can be'],
      ['folder.json', 'not a regular file'],
      ['fifo.json', 'not a regular file'],
      ['missing.json', 'cannot be read'],
    ])('%s', async (file, why) => {
      const out = join(bad, `merged-${file}`);
      const run = await runCli(['merge-reports', join(work, 'pass.json'), join(bad, file), '--report-json', out], { cwd: work, timeoutMs: 30_000 });
      expect(run.code, run.stdout + run.stderr).toBe(2);
      expect(run.stderr).toContain(`atocore-drill: ${join(bad, file)}: `);
      expect(run.stderr).toContain(why);
      expect(existsSync(out)).toBe(false);
    });

    it('the merged report over one of the reports it merges', async () => {
      copyFileSync(join(work, 'fail.json'), join(bad, 'target.json'));
      const run = await runCli(['merge-reports', join(work, 'pass.json'), join(bad, 'target.json'), '--report-json', join(bad, 'target.json')], { cwd: work });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`merge-reports FILE and --report-json name the same file (${join(bad, 'target.json')})`);
      expect(readFileSync(join(bad, 'target.json'), 'utf8')).toBe(readFileSync(join(work, 'fail.json'), 'utf8'));
    });

    it('no file at all', async () => {
      const run = await runCli(['merge-reports', '--summary', '-'], { cwd: work });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("missing required argument 'file'");
    });
  });

  it('a report nested deeper than any renderer walks is merged, its evidence bounded', async () => {
    const pass = readReport(join(work, 'pass.json'));
    const depth = 100_000;
    const deep = JSON.stringify({ ...pass, checks: [{ ...pass.checks[0]!, evidence: { deep: '@@' } }] }).replace('"@@"', `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
    writeFileSync(join(work, 'deep.json'), deep);
    const run = await runCli(['merge-reports', 'deep.json', 'fail.json', '--report-json', 'deep-merged.json', '--junit', 'deep.xml', '--summary', 'deep.md'], { cwd: work });
    expect(run.code, run.stderr).toBe(1);
    const merged = readReport(join(work, 'deep-merged.json'));
    expectValid(merged);
    expect(JSON.stringify(merged.checks[0]!.evidence)).toContain('nested deeper than the report keeps');
  });
});

/** Minimal reports of each kind of outcome, valid against the schema. */
function synthetic(verdict: DrillReport['verdict'], options: { checks?: CheckResult[]; steps?: StepRecord[]; error?: string; image?: string } = {}): DrillReport {
  const checks = options.checks ?? [{ id: 'backup.created', status: verdict === 'fail' ? 'fail' : verdict === 'warn' ? 'warn' : 'pass', message: `backup ${verdict}`, evidence: {} }];
  return {
    schema: 'atocore-drill/report@1',
    kind: 'drill',
    verdict,
    started_at: '2026-04-07T06:00:00.000Z',
    finished_at: '2026-04-07T06:01:00.000Z',
    duration_ms: 60_000,
    target: { runtime: 'container', image: options.image ?? `atocore:${verdict}`, backup_stamp: null },
    steps: options.steps ?? [],
    checks: verdict === 'error' && options.checks === undefined ? [] : checks,
    metrics: { rto_ms: null, restore_ms: null, rpo_s: null },
    snapshots: [],
    ...(options.error !== undefined ? { error: options.error } : verdict === 'error' ? { error: 'Docker is not running' } : {}),
  };
}

function merged(...reports: DrillReport[]): DrillReport {
  const report = mergeReports(reports.map((report, i): ReportSource => ({ file: `r${i}.json`, report })));
  expectValid(report);
  return report;
}

describe('the fleet verdict', () => {
  it('a report with 150 000 checks merges (one at a time, not spread into one call)', () => {
    const big = synthetic('pass');
    const many = { ...big, checks: Array.from({ length: 150_000 }, (_, i) => ({ id: 'backup.created', status: 'pass' as const, message: `ok ${i}`, evidence: {} })) };
    const report = merged(many, synthetic('pass'));
    expect(report.checks.length).toBe(150_000 + synthetic('pass').checks.length);
  });

  it('a failure outranks an error (exit 1), and the error stays in sight: the title, its row, a step, an annotation', () => {
    const report = merged(synthetic('error'), synthetic('fail'), synthetic('pass'));
    expect(report.verdict).toBe('fail');
    expect(runOutcome(report.verdict).exitCode).toBe(1);
    expect(report.target.targets!.map((t) => t.verdict)).toEqual(['error', 'fail', 'pass']);
    expect(reportHeadline(report)).toBe('FAIL: 1 problem: backup.created; 1 target could not be told: atocore:error');
    expect(report.steps).toEqual([{ id: 'run', title: 'atocore:error: could not run', status: 'error', duration_ms: 60_000, detail: 'Docker is not running' }]);
    const summary = renderMarkdownSummary(report);
    expect(summary).toContain('| 🛑 | atocore:error | ERROR |');
    expect(summary).toContain('| 🛑 | atocore:error: could not run |');
    expect(reportAnnotations(report, { annotationPath: '.github/workflows/drill.yml' }).map((a) => a.title)).toEqual(['could not run: run', 'backup.created']);
    expect(renderJunit(report)).toContain('<error message="Docker is not running" type="step.error">');
  });

  it('an error outranks warn and pass (exit 3): the fleet could not tell for everything, and says for which target', () => {
    const report = merged(synthetic('pass'), synthetic('error'), synthetic('warn'));
    expect(report.verdict).toBe('error');
    expect(runOutcome(report.verdict).exitCode).toBe(3);
    expect(report.error).toBe('could not tell for 1 of 3 targets: atocore:error: Docker is not running');
    expect(reportHeadline(report)).toMatch(/^could not run: could not tell for 1 of 3 targets: atocore:error/);
  });

  it('warn outranks pass; fail-on warn fails it', () => {
    const report = merged(synthetic('pass'), synthetic('warn'));
    expect(report.verdict).toBe('warn');
    expect(runOutcome(report.verdict, 'warn').exitCode).toBe(1);
  });

  it('a target is what its report shows, not only what it says: no pass without a check, no pass over a failing check', () => {
    const empty = synthetic('pass', { checks: [] });
    const lying = synthetic('pass', { checks: [{ id: 'registry.restored', status: 'fail', message: 'not restored', evidence: {} }], image: 'atocore:lying' });
    const report = merged(empty, lying);
    expect(report.target.targets!.map((t) => [t.verdict, t.headline])).toEqual([
      ['error', 'the report says pass but holds no check: nothing proves it'],
      ['fail', 'the report says pass but its steps and checks say fail'],
    ]);
    expect(report.verdict).toBe('fail');
  });

  it('evidence that names a target of its own keeps it', () => {
    const report = merged(synthetic('pass', { checks: [{ id: 'backup.created', status: 'pass', message: 'ok', evidence: { target: 'theirs' } }] }));
    expect(report.checks[0]!.evidence).toEqual({ target: 'atocore:pass', evidence: { target: 'theirs' } });
  });

  it('generated hostile reports: whatever the schema lets in merges into a valid report every renderer takes', () => {
    const reports: DrillReport[] = [];
    for (let seed = 1; reports.length < 60 && seed < 2_000; seed++) {
      const candidate = JSON.parse(JSON.stringify(new ReportGenerator(seed).report())) as DrillReport;
      if (validateReport(candidate)) reports.push(candidate);
    }
    expect(reports.length).toBe(60);
    for (let i = 0; i + 3 <= reports.length; i += 3) {
      const report = merged(reports[i]!, reports[i + 1]!, reports[i + 2]!);
      const severity = { pass: 0, warn: 1, error: 2, fail: 3 };
      expect(severity[report.verdict]).toBe(Math.max(...report.target.targets!.map((t) => severity[t.verdict])));
      expect(renderMarkdownSummary(report)).toContain('### Targets');
      expect(renderJunit(report)).toContain('<testsuites');
      expect(reportHeadline(report).length).toBeGreaterThan(0);
    }
  });

  it('reads a report file of the harness itself (the schema is found next to the module)', async () => {
    const { report } = await readReportFile(join(work, 'pass.json'));
    expect(report.verdict).toBe('pass');
  });
});

describe('the action in mode merge, run as the runner runs it', () => {
  let action = '';
  let api: LoopbackGitHubApi | undefined;
  const jobs: RunnerJob[] = [];
  beforeAll(() => {
    action = actionCheckout(join(work, 'action'));
  });
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  afterAll(() => {
    for (const job of jobs) rmSync(job.dir, { recursive: true, force: true });
  });

  async function job(inputs: Record<string, string>, files: Record<string, string>): Promise<RunnerJob> {
    api = await LoopbackGitHubApi.start('github');
    const runner = new RunnerJob(action, { apiUrl: api.url, token: api.token, inputs });
    jobs.push(runner);
    for (const [to, from] of Object.entries(files)) {
      mkdirSync(join(runner.workspace, to, '..'), { recursive: true });
      copyFileSync(join(work, from), join(runner.workspace, to));
    }
    return runner;
  }

  it('a passing and a failing report: one failing check run, one job summary listing both targets', async () => {
    // a glob's braces hold commas; a file two patterns match is merged once
    const runner = await job({ mode: 'merge', reports: 'reports/{atocore-a,atocore-b}/report.json\nreports/**/report.json\n' }, { 'reports/atocore-a/report.json': 'pass.json', 'reports/atocore-b/report.json': 'fail.json' });
    const main = await runner.run('main', 60_000);
    expect(main.code, main.stdout + main.stderr).toBe(1);
    expect(commands(main.stdout, 'error').at(-1)).toMatch(/^AtoCore drill \(all targets\): FAIL: 1 problem: registry\.restored/);
    expect(main.outputs.verdict).toBe('fail');

    expect(runner.summary).toMatch(/^## AtoCore restore drill: ❌ FAIL/);
    expect(runner.summary).toContain('| ✅ | process (reports/atocore-a/report.json) | PASS |');
    expect(runner.summary).toContain('| ❌ | process (reports/atocore-b/report.json) | FAIL |');

    expect(allRequestProblems(api!.requests)).toEqual([]);
    const checkRuns = api!.checkRunRequests();
    expect(checkRuns[0]).toMatchObject({ method: 'POST', body: { name: 'AtoCore drill (all targets)', status: 'in_progress' } });
    expect(checkRuns.at(-1)!.body).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(checkRuns.filter((r) => r.method === 'POST')).toHaveLength(1);

    const report = readReport(main.outputs.report!);
    expectValid(report);
    expect(report.target.targets!.map((t) => t.verdict)).toEqual(['pass', 'fail']);
    const post = await runner.run('post', 30_000);
    expect(post.code).toBe(0);
  });

  it('a file that is not a report: the verdict error, published, naming the file', async () => {
    const runner = await job({ mode: 'merge', reports: 'reports/a.json\nreports/b.json' }, { 'reports/a.json': 'pass.json', 'reports/b.json': 'pass.json' });
    writeFileSync(join(runner.workspace, 'reports/b.json'), '{"schema": "atocore-drill/report@1"}');
    const main = await runner.run('main', 60_000);
    expect(main.code).toBe(1);
    expect(main.outputs.verdict).toBe('error');
    expect(commands(main.stdout, 'error').at(-1)).toContain(`${join(runner.workspace, 'reports/b.json')}: not an atocore-drill/report@1 report`);
    expect(api!.checkRunRequests().at(-1)!.body).toMatchObject({ conclusion: 'failure', output: { title: expect.stringMatching(/^could not run: /) } });
  });

  it('a link that leads out of the workspace is refused before anything is published', async () => {
    const runner = await job({ mode: 'merge', reports: 'reports/*.json' }, { 'reports/a.json': 'pass.json' });
    symlinkSync(join(work, 'fail.json'), join(runner.workspace, 'reports/b.json'));
    const main = await runner.run('main', 30_000);
    expect(main.code).toBe(1);
    expect(commands(main.stdout, 'error')).toEqual([expect.stringMatching(/^input reports: "reports\/\*\.json": reports\/b\.json leads outside the workspace/)]);
    expect(api!.requests).toEqual([]);
  });

  it('known-hosts still works as the old name of ssh-known-hosts, with a warning', async () => {
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
    const hosts = 'dalidou ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE';
    const old = await job({ mode: 'validate', 'ssh-host': 'dalidou', 'ssh-key': key, 'known-hosts': 'no/such/known_hosts' }, {});
    const main = await old.run('main', 30_000);
    expect(commands(main.stdout, 'warning')).toEqual(['input known-hosts is deprecated: name it ssh-known-hosts (the old name goes in the next major version)']);
    // read as ssh-known-hosts: the file it names was looked for
    expect(commands(main.stdout, 'error')[0]).toMatch(/^input ssh-known-hosts: .*no\/such\/known_hosts/);
    await api?.close();
    const current = await job({ mode: 'validate', 'ssh-host': 'dalidou', 'ssh-key': 'not-a-key', 'ssh-known-hosts': hosts }, {});
    const run = await current.run('main', 30_000);
    expect(commands(run.stdout, 'warning')).toEqual([]);
    expect(commands(run.stdout, 'error')[0]).toContain('input ssh-key: not a private key');
  });
});
