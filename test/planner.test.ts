import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InterruptedError } from '../src/common/errors.js';
import { planDrill, plannedCheckIds, type DrillStepId, type PlannedStep } from '../src/atocore/drill/plan.js';
import { runDrill } from '../src/atocore/drill/drill.js';
import { loadSeed } from '../src/atocore/drill/seed.js';
import { runPlan, type StepOutcome } from '../src/engine/step-loop.js';
import { ProcessRuntime } from '../src/runtimes/process.js';
import { decideVerdict, exitCodeFor } from '../src/report/verdict.js';
import { check, type StepRecord } from '../src/report/model.js';

const DESIGN_DRILL_CHECKS = [
  'backup.created',
  'backup.valid',
  'backup.independent_integrity',
  'marker.pre_backup_present',
  'marker.post_backup_gone',
  'registry.restored',
  'chroma.restored',
  'restore.refuses_without_confirm',
  'restore.integrity',
  'restore.pre_restore_snapshot',
  'service.health',
  'service.stats',
  'service.projects',
  'service.context',
  'baseline.intact',
];

describe('planDrill', () => {
  it('orders the steps as DESIGN.md does: backup, mutate, stop, restore, start, verify, teardown last', () => {
    const ids = planDrill({ includeChroma: true }).map((s) => s.id);
    expect(ids).toEqual(['start', 'seed', 'marker_a', 'backup', 'baseline', 'marker_b', 'stop', 'restore_unconfirmed', 'restore', 'restart', 'verify_service', 'teardown']);
  });

  it('decides every drill check id of DESIGN.md when Chroma is included, plus restore.ownership', () => {
    expect(plannedCheckIds(planDrill({ includeChroma: true })).sort()).toEqual([...DESIGN_DRILL_CHECKS, 'restore.ownership'].sort());
  });

  it('adds the upgrade step and the migration checks for the rollback drill', () => {
    const plan = planDrill({ includeChroma: false, migration: true });
    expect(plan.map((s) => s.id).slice(4, 7)).toEqual(['baseline', 'upgrade', 'marker_b']);
    expect(plannedCheckIds(plan).filter((id) => id.startsWith('migration.'))).toEqual([
      'migration.upgrade_healthy',
      'migration.schema_additive',
      'migration.data_preserved',
      'migration.schema_restored',
    ]);
  });

  it('leaves chroma.restored out when Chroma is not backed up', () => {
    const ids = plannedCheckIds(planDrill({ includeChroma: false }));
    expect(ids).not.toContain('chroma.restored');
    expect(ids).toHaveLength(DESIGN_DRILL_CHECKS.length);
  });

  it('marks only teardown as running after a failure', () => {
    expect(planDrill({ includeChroma: false }).filter((s) => s.always).map((s) => s.id)).toEqual(['teardown']);
  });
});

describe('runPlan: the loop honours the plan', () => {
  const step = (id: string, always = false): PlannedStep => ({ id: id as DrillStepId, title: `the ${id} step`, checks: [], always });
  /** Runs a plan whose steps end as `ends` says (default pass), noting what ran and what the hooks saw. */
  async function loop(plan: PlannedStep[], ends: Record<string, StepOutcome> = {}) {
    const performed: string[] = [];
    const started: string[] = [];
    const finished: string[] = [];
    const run = await runPlan(
      plan,
      async (s) => {
        performed.push(s.id);
        return ends[s.id] ?? { status: 'pass', detail: `${s.id} done` };
      },
      { started: (s) => started.push(s.id), finished: (record) => finished.push(`${record.id}:${record.status}`) },
    );
    return { run, performed, started, finished };
  }

  it('runs every step in order when all pass, with no halt and no error', async () => {
    const { run, performed, finished } = await loop([step('a'), step('b'), step('teardown', true)]);
    expect(performed).toEqual(['a', 'b', 'teardown']);
    expect(finished).toEqual(['a:pass', 'b:pass', 'teardown:pass']);
    expect(run.halted).toBeUndefined();
    expect(run.error).toBeUndefined();
    expect(run.steps.map((r) => r.detail)).toEqual(['a done', 'b done', 'teardown done']);
  });

  it('skips what follows a failure, but still runs the steps marked always', async () => {
    const plan = [step('a'), step('b'), step('c'), step('collect', true), step('d'), step('teardown', true)];
    const { run, performed, started, finished } = await loop(plan, { b: { status: 'fail', detail: 'marker gone\nstack and logs', reason: 'marker gone\nsecond line' } });
    expect(performed).toEqual(['a', 'b', 'collect', 'teardown']);
    // a skipped step is reported, never started
    expect(started).toEqual(['a', 'b', 'collect', 'teardown']);
    expect(finished).toEqual(['a:pass', 'b:fail', 'c:skip', 'collect:pass', 'd:skip', 'teardown:pass']);
    expect(run.halted).toBe('step b failed: marker gone');
    expect(run.steps.find((r) => r.id === 'c')).toMatchObject({ status: 'skip', duration_ms: 0, detail: 'not run: step b failed: marker gone' });
    expect(run.steps.find((r) => r.id === 'b')?.detail).toBe('marker gone\nstack and logs');
    // a finding is not an error of the run
    expect(run.error).toBeUndefined();
  });

  it('names the first error in its own words; an always step that fails halts nothing and does not replace it', async () => {
    const { run, finished } = await loop([step('a'), step('b'), step('teardown', true)], {
      a: { status: 'error', detail: 'interrupted by SIGTERM\n--- output ---', reason: 'interrupted by SIGTERM' },
      teardown: { status: 'error', detail: 'teardown failed: EBUSY' },
    });
    expect(finished).toEqual(['a:error', 'b:skip', 'teardown:error']);
    expect(run.halted).toBe('step a could not run: interrupted by SIGTERM');
    expect(run.error).toBe('interrupted by SIGTERM');

    const cleanupOnly = await loop([step('a'), step('teardown', true), step('b')], { teardown: { status: 'error', detail: 'teardown failed: EBUSY' } });
    expect(cleanupOnly.finished).toEqual(['a:pass', 'teardown:error', 'b:pass']);
    expect(cleanupOnly.run.halted).toBeUndefined();
    expect(cleanupOnly.run.error).toBe('teardown failed: EBUSY');
  });

  it('cuts a long reason to its first line and 300 characters in the halt', async () => {
    const { run } = await loop([step('a'), step('b')], { a: { status: 'fail', detail: 'x'.repeat(400) } });
    expect(run.halted).toBe(`step a failed: ${'x'.repeat(300)}`);
  });
});

describe('runDrill runs the plan\'s always step (teardown) after a halt', () => {
  /** The drill with the stand-in, interrupted as `step` starts; what the root looked like then. */
  async function interruptedAt(step: DrillStepId) {
    const controller = new AbortController();
    const runtime = new ProcessRuntime({ signal: controller.signal });
    let root: string | undefined;
    let rootExisted = false;
    const report = await runDrill({
      runtime,
      seed: await loadSeed(),
      includeChroma: false,
      keep: false,
      timeoutMs: 60_000,
      signal: controller.signal,
      observer: {
        stepStarted(started) {
          if (started.id !== step) return;
          root = runtime.layout.root;
          rootExisted = existsSync(root);
          controller.abort(new InterruptedError('SIGTERM'));
        },
      },
    });
    return { report, root: root!, rootExisted };
  }

  it('an interrupt halts the drill at seed; teardown still runs and removes the data root', async () => {
    const { report, root, rootExisted } = await interruptedAt('seed');
    expect(rootExisted).toBe(true);
    expect(report.verdict).toBe('error');
    expect(report.steps.map((s) => `${s.id}:${s.status}`)).toEqual([
      'start:pass',
      'seed:error',
      ...planDrill({ includeChroma: false })
        .slice(2, -1)
        .map((s) => `${s.id}:skip`),
      'teardown:pass',
    ]);
    expect(report.steps.at(-1)?.detail).toBe('removed everything the drill created');
    expect(existsSync(root)).toBe(false);
  });

  it('a service that never gets healthy uses up --timeout; teardown runs anyway, past the budget', async () => {
    const runtime = new ProcessRuntime({ faults: ['never-healthy'] });
    const report = await runDrill({ runtime, seed: await loadSeed(), includeChroma: false, keep: false, timeoutMs: 3_000, faults: ['never-healthy'] });
    expect(report.verdict).toBe('error');
    expect(report.steps[0]).toMatchObject({ id: 'start', status: 'error' });
    expect(report.steps.slice(1, -1).every((s) => s.status === 'skip')).toBe(true);
    expect(report.steps.at(-1)).toMatchObject({ id: 'teardown', status: 'pass' });
    expect(existsSync(runtime.layout.root)).toBe(false);
  });
});

describe('decideVerdict', () => {
  const step = (status: StepRecord['status']): StepRecord => ({ id: 's', title: 's', status, duration_ms: 0, detail: '' });
  it('is pass only when every step and check passes', () => {
    expect(decideVerdict([step('pass')], [check('a', 'pass', '')])).toBe('pass');
  });
  it('is warn on a warning, fail on a failing check or step, error on a step that could not run', () => {
    expect(decideVerdict([step('pass')], [check('a', 'warn', '')])).toBe('warn');
    expect(decideVerdict([step('pass')], [check('a', 'warn', ''), check('b', 'fail', '')])).toBe('fail');
    expect(decideVerdict([step('fail'), step('skip')], [check('a', 'skip', '')])).toBe('fail');
    expect(decideVerdict([step('error')], [check('a', 'fail', '')])).toBe('error');
  });
  it('maps verdicts to exit codes, with --fail-on warn', () => {
    expect([exitCodeFor('pass'), exitCodeFor('warn'), exitCodeFor('fail'), exitCodeFor('error')]).toEqual([0, 0, 1, 3]);
    expect(exitCodeFor('warn', 'warn')).toBe(1);
  });
});
