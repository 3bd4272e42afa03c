import { create } from 'xmlbuilder2';
import type { CheckResult, DrillReport } from '../engine/types.js';

function addCase(suite: ReturnType<ReturnType<typeof create>['ele']>, classname: string, c: CheckResult): void {
  const testcase = suite.ele('testcase', { classname, name: c.id, time: '0' });
  const evidence = JSON.stringify(c.evidence, null, 2).slice(0, 64 * 1024);
  if (c.status === 'fail') testcase.ele('failure', { message: c.message, type: c.id }).txt(evidence);
  else if (c.status === 'skip') testcase.ele('skipped', { message: c.message });
  else if (c.status === 'warn') testcase.ele('system-out').txt(`WARN: ${c.message}`);
}

/** JUnit XML: one testsuite for the run's checks, one per snapshot; steps that could not run are errors. */
export function renderJunit(report: DrillReport): string {
  const root = create({ version: '1.0', encoding: 'UTF-8' }).ele('testsuites', { name: `atocore-drill ${report.kind}` });
  const all = [...report.checks, ...report.snapshots.flatMap((s) => s.checks)];
  const stepErrors = report.steps.filter((s) => s.status === 'error');
  root.att('tests', String(all.length + stepErrors.length));
  root.att('failures', String(all.filter((c) => c.status === 'fail').length));
  root.att('errors', String(stepErrors.length));
  root.att('time', (report.duration_ms / 1000).toFixed(3));
  const suite = root.ele('testsuite', {
    name: `atocore-drill.${report.kind}`,
    tests: String(report.checks.length + stepErrors.length),
    failures: String(report.checks.filter((c) => c.status === 'fail').length),
    errors: String(stepErrors.length),
    skipped: String(report.checks.filter((c) => c.status === 'skip').length),
    time: (report.duration_ms / 1000).toFixed(3),
    timestamp: report.started_at,
  });
  for (const step of stepErrors) {
    suite.ele('testcase', { classname: `atocore-drill.${report.kind}.steps`, name: step.id, time: (step.duration_ms / 1000).toFixed(3) }).ele('error', { message: step.detail.split('\n')[0] ?? '' }).txt(step.detail);
  }
  for (const c of report.checks) addCase(suite, `atocore-drill.${report.kind}`, c);
  for (const snapshot of report.snapshots) {
    const snapshotSuite = root.ele('testsuite', {
      name: `atocore-drill.${report.kind}.${snapshot.stamp}`,
      tests: String(snapshot.checks.length),
      failures: String(snapshot.checks.filter((c) => c.status === 'fail').length),
      errors: '0',
      skipped: String(snapshot.checks.filter((c) => c.status === 'skip').length),
    });
    for (const c of snapshot.checks) addCase(snapshotSuite, `atocore-drill.${report.kind}.${snapshot.stamp}`, c);
  }
  return `${root.end({ prettyPrint: true })}\n`;
}
