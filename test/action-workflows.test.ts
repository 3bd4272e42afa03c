import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROJECT_ROOT } from './support/cli.js';
// @ts-expect-error -- a plain ES module script (also run by CI as `npm run lint:workflows`)
import { lintAction, lintWorkflow, workflowFiles } from '../scripts/lint-workflows.mjs';

type Workflow = { on: Record<string, any>; jobs: Record<string, any>; permissions?: Record<string, string> };
const lint = { lintAction, lintWorkflow, workflowFiles } as {
  lintAction(): Promise<string[]>;
  lintWorkflow(path: string): Promise<string[]>;
  workflowFiles(): Promise<string[]>;
};

function workflow(name: string): Workflow {
  return parse(readFileSync(join(PROJECT_ROOT, '.github/workflows', name), 'utf8')) as Workflow;
}

describe("GitHub's workflow parser (@actions/workflow-parser) accepts", () => {
  it('action.yml', async () => {
    expect(await lint.lintAction()).toEqual([]);
  });

  it('the six workflows', async () => {
    const files = (await lint.workflowFiles()).map((f) => basename(f));
    expect(files).toEqual(['ci.yml', 'dalidou-validate.yml', 'drill-dispatch.yml', 'drill-migration-gate.yml', 'drill-monthly.yml', 'drill.yml']);
  });

  it.each(['ci.yml', 'dalidou-validate.yml', 'drill-dispatch.yml', 'drill-migration-gate.yml', 'drill-monthly.yml', 'drill.yml'])('%s', async (file) => {
    expect(await lint.lintWorkflow(join(PROJECT_ROOT, '.github/workflows', file))).toEqual([]);
  });

  it('and finds problems when there are some (a misspelled input of the reusable workflow)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atocore-drill-lint-'));
    const broken = join(dir, 'drill-monthly.yml');
    writeFileSync(broken, readFileSync(join(PROJECT_ROOT, '.github/workflows/drill-monthly.yml'), 'utf8').replace('include-chroma: true', 'include-chrome: true'));
    try {
      const problems = await lint.lintWorkflow(broken);
      expect(problems.join('\n')).toMatch(/include-chrome is not defined in the referenced workflow/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the workflows do what the issue asks', () => {
  it('ci.yml runs the tests, check-dist and the workflow lint, and the action itself', () => {
    const ci = workflow('ci.yml');
    const runs = JSON.stringify(ci.jobs);
    expect(runs).toContain('./.ci/run');
    expect(runs).toContain('npm run package');
    expect(runs).toContain('git status --porcelain -- dist/');
    expect(runs).toContain('npm run lint:workflows');
    expect(ci.jobs.action.steps.some((s: { uses?: string }) => s.uses === './')).toBe(true);
  });

  it('drill.yml is reusable (workflow_call) and runs the action', () => {
    const drill = workflow('drill.yml');
    expect(Object.keys(drill.on)).toEqual(['workflow_call']);
    for (const input of ['image', 'from-image', 'build-context', 'from-ref', 'include-chroma', 'fail-on']) expect(drill.on.workflow_call.inputs).toHaveProperty(input);
    expect(drill.on.workflow_call.outputs).toHaveProperty('verdict');
    expect(drill.jobs.drill.steps.find((s: { id?: string }) => s.id === 'drill').uses).toBe('./.atocore-drill/harness');
  });

  it('its callers: a monthly schedule, the schema-migration gate on pull requests, a manual dispatch with inputs', () => {
    const monthly = workflow('drill-monthly.yml');
    expect(monthly.on.schedule[0].cron).toMatch(/^\S+ \S+ 1 \* \*$/);
    expect(monthly.jobs.drill.uses).toBe('./.github/workflows/drill.yml');

    const gate = workflow('drill-migration-gate.yml');
    expect(gate.on.pull_request.paths.length).toBeGreaterThan(0);
    expect(gate.jobs['rollback-drill'].uses).toBe('./.github/workflows/drill.yml');
    expect(gate.jobs['rollback-drill'].with['from-ref']).toBe('${{ github.event.pull_request.base.sha }}');
    expect(gate.jobs['rollback-drill'].with.ref).toBe('${{ github.event.pull_request.head.sha }}');

    const dispatch = workflow('drill-dispatch.yml');
    expect(Object.keys(dispatch.on.workflow_dispatch.inputs)).toEqual(expect.arrayContaining(['image', 'from-image', 'include-chroma', 'timeout', 'fail-on']));
    expect(dispatch.jobs.drill.uses).toBe('./.github/workflows/drill.yml');
  });

  it('dalidou-validate.yml: daily, self-hosted runner label, key and known_hosts from secrets', () => {
    const dalidou = workflow('dalidou-validate.yml');
    expect(dalidou.on.schedule[0].cron).toMatch(/^\S+ \S+ \* \* \*$/);
    expect(dalidou.jobs.validate['runs-on']).toEqual(['self-hosted', 'linux', 'atocore-dalidou']);
    const step = dalidou.jobs.validate.steps.find((s: { uses?: string }) => s.uses === './');
    expect(step.with.mode).toBe('validate');
    expect(step.with['ssh-key']).toBe('${{ secrets.DALIDOU_SSH_KEY }}');
    expect(step.with['known-hosts']).toBe('${{ secrets.DALIDOU_KNOWN_HOSTS }}');
  });

  it('every job that publishes has checks: write and statuses: write, and nothing more than it needs', () => {
    for (const file of ['ci.yml', 'drill.yml', 'dalidou-validate.yml']) {
      const wf = workflow(file);
      expect(wf.permissions?.contents, file).toBe('read');
    }
    expect(workflow('drill.yml').permissions).toEqual({ contents: 'read', checks: 'write', statuses: 'write' });
  });

  it('no run: script interpolates an input or an event field directly (script injection)', () => {
    for (const file of ['ci.yml', 'drill.yml', 'drill-monthly.yml', 'drill-migration-gate.yml', 'drill-dispatch.yml', 'dalidou-validate.yml']) {
      const wf = workflow(file);
      for (const job of Object.values(wf.jobs)) {
        for (const step of (job as { steps?: Array<{ run?: string }> }).steps ?? []) {
          if (step.run) expect(step.run, `${file}: ${step.run.slice(0, 60)}`).not.toMatch(/\$\{\{\s*(inputs|github\.event)\./);
        }
      }
    }
  });
});
