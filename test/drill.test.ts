import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { create } from 'xmlbuilder2';
import { planDrill, plannedCheckIds } from '../src/atocore/drill/plan.js';
import { PROJECT_ROOT, readReport, runCli, statusOf } from './support/cli.js';
import { FAULT_CASES, failingChecks } from './support/faults.js';

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let counter = 0;
async function drill(args: string[]) {
  const name = `run-${++counter}`;
  const files = { json: join(work, `${name}.json`), junit: join(work, `${name}.xml`), summary: join(work, `${name}.md`) };
  const run = await runCli(['drill', '--timeout', '3m', ...args, '--report-json', files.json, '--junit', files.junit, '--summary', files.summary]);
  return { run, report: readReport(files.json), files };
}


describe('the embedded drill (stand-in as a local process)', () => {
  it('passes with --include-chroma, every DESIGN.md drill check present and passing, reports written', async () => {
    const { run, report, files } = await drill(['--include-chroma']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(report.schema).toBe('atocore-drill/report@1');
    expect(report.kind).toBe('drill');
    expect(report.verdict).toBe('pass');
    expect(report.checks.map((c) => c.id).sort()).toEqual(plannedCheckIds(planDrill({ includeChroma: true })).sort());
    expect(report.checks.every((c) => c.status === 'pass')).toBe(true);
    expect(report.steps.map((s) => s.status).every((s) => s === 'pass')).toBe(true);
    expect(report.target.backup_stamp).toMatch(/^\d{8}T\d{6}Z$/);
    expect(report.metrics.rto_ms).toBeGreaterThan(0);
    expect(report.metrics.restore_ms).toBeGreaterThan(0);
    expect(report.metrics.rpo_s).toBeGreaterThanOrEqual(0);
    expect(run.stdout).toMatch(/verdict: PASS/);
    expect(run.stdout).toMatch(/RTO \d/);

    const junit = create(readFileSync(files.junit, 'utf8')).end({ format: 'object' }) as { testsuites: { '@tests': string; '@failures': string } };
    expect(Number(junit.testsuites['@tests'])).toBe(report.checks.length);
    expect(junit.testsuites['@failures']).toBe('0');
    const summary = readFileSync(files.summary, 'utf8');
    expect(summary).toContain('PASS');
    expect(summary).toContain('`chroma.restored`');
  });

  it('two drills at once each get their own root and port, and both pass', async () => {
    const [first, second] = await Promise.all([drill([]), drill(['--include-chroma'])]);
    expect([first.run.code, second.run.code]).toEqual([0, 0]);
    expect(first.report.target.run_id).not.toBe(second.report.target.run_id);
  });

  it('--keep leaves the drill root with its data and snapshots, and says where', async () => {
    const { run, report } = await drill(['--keep']);
    const root = String(report.target.data_root);
    try {
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`kept the drill root for inspection: ${root}`);
      expect(readdirSync(join(root, 'backups', 'snapshots')).filter((n) => /^\d{8}T\d{6}Z$/.test(n)).length).toBeGreaterThanOrEqual(2);
      expect(existsSync(join(root, 'data', 'db', 'atocore.db'))).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('drills "your own AtoCore" through --command/--backup-cli in the caller\'s environment', async () => {
    const json = join(work, 'own.json');
    const run = await runCli(['drill', '--command', 'python3 -m atocore', '--backup-cli', 'python3 -m atocore.ops.backup', '--report-json', json], {
      env: { PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore') },
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('your AtoCore (python3 -m atocore)');
    expect(readReport(json).verdict).toBe('pass');
  });

  it('passes without Chroma, and then decides no chroma.restored', async () => {
    const { run, report } = await drill([]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(report.verdict).toBe('pass');
    expect(report.checks.map((c) => c.id)).not.toContain('chroma.restored');
    expect(report.checks.map((c) => c.id)).toEqual(plannedCheckIds(planDrill({ includeChroma: false })));
  });
});

describe.concurrent('each stand-in fault gives its expected failing check and no false alarm', () => {
  it.each(FAULT_CASES)('$faults', async ({ faults, fails, passes }) => {
    const { run, report } = await drill(['--include-chroma', ...faults.flatMap((f) => ['--fault', f])]);
    const status = statusOf(report);
    expect(run.code, run.stdout).toBe(1);
    expect(report.verdict).toBe('fail');
    expect(failingChecks(status)).toEqual([...fails].sort());
    for (const id of passes) expect(status[id], id).toBe('pass');
    // the steps that decided the failing checks found the problem; nothing was halted by it
    const deciders = new Set<string>(planDrill({ includeChroma: true }).filter((step) => step.checks.some((id) => fails.includes(id))).map((step) => step.id));
    expect(report.steps.filter((s) => s.status !== 'pass').map((s) => s.id).sort()).toEqual([...deciders].sort());
    expect(report.steps.filter((s) => s.status === 'fail').every((s) => deciders.has(s.id))).toBe(true);
    expect(report.steps.some((s) => s.status === 'skip')).toBe(false);
  });

  it('backup-corrupts-db: both validators reject the snapshot, AtoCore refuses to restore it', async () => {
    const { run, report } = await drill(['--fault', 'backup-corrupts-db']);
    const status = statusOf(report);
    expect(run.code).toBe(1);
    expect(failingChecks(status)).toEqual(['backup.independent_integrity', 'backup.valid']);
    expect(status['backup.created']).toBe('pass');
    expect(status['restore.refuses_without_confirm']).toBe('pass');
    expect(report.steps.find((s) => s.id === 'restore')?.status).toBe('fail');
    expect(report.checks.find((c) => c.id === 'backup.independent_integrity')?.message).toMatch(/damaged/);
  });

  it('backup-corrupts-db + validate-always-valid: AtoCore says valid, the harness\'s own check fails', async () => {
    const { run, report } = await drill(['--fault', 'backup-corrupts-db', '--fault', 'validate-always-valid']);
    const status = statusOf(report);
    expect(run.code).toBe(1);
    expect(status['backup.valid']).toBe('pass');
    expect(status['backup.independent_integrity']).toBe('fail');
    // the corrupt snapshot was restored, and the harness sees it in the restored file too
    expect(status['restore.integrity']).toBe('fail');
  });

  it('never-healthy: verdict error, exit 3, the message names the timeout', async () => {
    const { run, report } = await drill(['--fault', 'never-healthy', '--timeout', '4s']);
    expect(run.code).toBe(3);
    expect(report.verdict).toBe('error');
    // the wait is what was left of the budget when it began (less on a loaded machine)
    expect(report.error).toMatch(/did not become healthy.*\/health.*within [34]\.\ds \(what was left of --timeout 4\.0s\)/);
    // the last real answer, not an attempt clipped by the end of the budget
    expect(report.error).toMatch(/last: HTTP 503$/);
    expect(run.stdout + run.stderr).toMatch(/--timeout 4\.0s/);
    expect(report.steps.find((s) => s.id === 'start')?.status).toBe('error');
    expect(report.steps.find((s) => s.id === 'teardown')?.status).toBe('pass');
  });
});
