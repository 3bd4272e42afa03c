import { describe, expect, it } from 'vitest';
import { planDrill, plannedCheckIds } from '../src/engine/planner.js';
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
