import { describe, expect, it } from 'vitest';
import { workflowAnnotations, WORKFLOW_ANNOTATIONS_PER_LEVEL } from '../src/github/workflow-annotations.js';
import { reportAnnotations } from '../src/render/check-run.js';
import { check, type DrillReport } from '../src/report/model.js';
import { decideVerdict } from '../src/report/verdict.js';
import { ReportGenerator } from './support/report-generator.js';

function report(checks: ReturnType<typeof check>[]): DrillReport {
  const steps = [{ id: 'restore', title: 'Restore', status: 'pass' as const, duration_ms: 10, detail: '' }];
  return {
    schema: 'atocore-drill/report@1',
    kind: 'drill',
    verdict: decideVerdict(steps, checks),
    started_at: '2026-04-07T06:00:00.000Z',
    finished_at: '2026-04-07T06:01:00.000Z',
    duration_ms: 60_000,
    target: { runtime: 'process', image: null, backup_stamp: null },
    steps,
    checks,
    metrics: { rto_ms: null, restore_ms: null, rpo_s: null },
    snapshots: [],
  };
}

describe('workflow-command annotations', () => {
  it('one per failing or warning check, deduplicated, capped per level with a note of the rest', () => {
    const failing = Array.from({ length: 14 }, (_, i) => check(`restore.c${i}`, 'fail', `problem ${i}`));
    const twice = check('registry.restored', 'fail', 'the registry was not restored');
    const annotations = workflowAnnotations(report([...failing, twice, twice, check('service.context', 'warn', 'no probes'), check('service.health', 'pass', 'ok')]), 'fail');
    expect(annotations.filter((a) => a.level === 'error')).toHaveLength(WORKFLOW_ANNOTATIONS_PER_LEVEL);
    expect(annotations.filter((a) => a.level === 'warning')).toEqual([{ level: 'warning', title: 'service.context', message: 'no probes' }]);
    expect(annotations.at(-1)).toMatchObject({ level: 'notice', message: expect.stringMatching(/^5 more errors: /) });
    expect(annotations.some((a) => a.title === 'service.health')).toBe(false);
  });

  it('with fail-on warn a warning is an error, as the check run and the exit code say', () => {
    expect(workflowAnnotations(report([check('service.context', 'warn', 'no probes')]), 'warn')).toEqual([{ level: 'error', title: 'service.context', message: 'no probes' }]);
  });

  it('say what the check run says, for any report', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const generated = new ReportGenerator(seed).report();
      for (const failOn of ['fail', 'warn'] as const) {
        const fromCheckRun = new Set(reportAnnotations(generated, { annotationPath: '', failOn }).map((a) => `${a.annotation_level === 'failure' ? 'error' : a.annotation_level}|${a.title}|${a.message}`));
        const ours = workflowAnnotations(generated, failOn).filter((a) => a.title !== 'more in the report');
        for (const a of ours) expect(fromCheckRun.has(`${a.level}|${a.title}|${a.message}`), `seed ${seed}`).toBe(true);
        // nothing the check run flags is silently dropped: kept, or counted in the note
        const levels = new Set([...fromCheckRun].map((k) => k.split('|')[0]));
        for (const level of levels) expect(ours.some((a) => a.level === level), `seed ${seed} ${level}`).toBe(true);
      }
    }
  });
});
