/**
 * schema/report.schema.json describes what the runs really write: real drill and validate
 * reports of every verdict are valid, and the schema is strict enough to refuse a wrong one.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, describe, expect, it } from 'vitest';
import { InterruptedError } from '../src/common/errors.js';
import { runDrill } from '../src/atocore/drill/drill.js';
import { loadSeed } from '../src/atocore/drill/seed.js';
import type { DrillReport } from '../src/report/model.js';
import { ProcessRuntime } from '../src/runtimes/process.js';
import { PROJECT_ROOT, readReport, runCli } from './support/cli.js';
import { badTreePlan, buildSnapshotTree, FIXTURE_NOW } from './support/snapshot-tree.js';

const ajv = new Ajv2020({ allErrors: true, strict: true });
(addFormatsModule as unknown as (ajv: Ajv2020) => void)(ajv);
const validateReport = ajv.compile(JSON.parse(readFileSync(join(PROJECT_ROOT, 'schema/report.schema.json'), 'utf8')) as object);

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-schema-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function expectValid(report: unknown): void {
  // the report as a file holds it: through JSON, as --report-json writes it
  const valid = validateReport(JSON.parse(JSON.stringify(report)));
  expect(validateReport.errors ?? [], JSON.stringify(validateReport.errors, null, 1)).toEqual([]);
  expect(valid).toBe(true);
}

async function drill(faults: string[], interruptAtStep?: string, timeoutMs = 60_000): Promise<DrillReport> {
  const controller = new AbortController();
  const runtime = new ProcessRuntime({ faults, signal: controller.signal });
  return runDrill({
    runtime,
    seed: await loadSeed(),
    includeChroma: true,
    keep: false,
    timeoutMs,
    faults,
    signal: controller.signal,
    observer: { stepStarted: (step) => step.id === interruptAtStep && controller.abort(new InterruptedError('SIGINT')) },
  });
}

describe('the report schema', () => {
  it('accepts real drill reports of every verdict', async () => {
    const reports = await Promise.all([drill([]), drill(['restore-skips-registry']), drill([], 'restore'), drill(['never-healthy'], undefined, 3_000)]);
    const why = reports.map((r) => r.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.message}`));
    expect(reports.map((r) => r.verdict).slice(0, 3), JSON.stringify(why, null, 1)).toEqual(['pass', 'fail', 'error']);
    for (const report of reports) expectValid(report);
  }, 120_000);

  it('accepts a real validate report with findings, per snapshot', async () => {
    const root = join(work, 'bad');
    buildSnapshotTree(root, badTreePlan());
    const json = join(work, 'validate.json');
    const run = await runCli(['validate', '--dir', root, '--now', FIXTURE_NOW, '--report-json', json], { timeoutMs: 90_000 });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const report = readReport(json);
    expect(report.snapshots.length).toBeGreaterThan(0);
    expectValid(report);
  }, 120_000);

  it('refuses what is not a report: a wrong status, a missing field, an unknown key', () => {
    const base = { schema: 'atocore-drill/report@1', kind: 'drill', verdict: 'pass', started_at: '2026-04-07T06:00:00.000Z', finished_at: '2026-04-07T06:01:00.000Z', duration_ms: 60_000, target: { runtime: 'process', image: null, backup_stamp: '20260407T060000Z' }, steps: [], checks: [], metrics: { rto_ms: 1, restore_ms: 1, rpo_s: 1 }, snapshots: [] };
    expect(validateReport(base)).toBe(true);
    const wrong = [
      { ...base, verdict: 'ok' },
      { ...base, checks: [{ id: 'backup.created', status: 'error', message: '', evidence: {} }] },
      { ...base, steps: [{ id: 'start', status: 'pass', duration_ms: 1, detail: '' }] },
      { ...base, target: { ...base.target, backup_stamp: 'yesterday' } },
      // a profile drill names its backup by its directory, but never by a path
      { ...base, target: { ...base.target, profile: 'jellycore', backup_stamp: 'x'.repeat(256) } },
      { ...base, metrics: { rto_ms: '1s', restore_ms: 1, rpo_s: 1 } },
      { ...base, extra: true },
      (({ snapshots: _, ...rest }) => rest)(base),
    ];
    for (const report of wrong) expect(validateReport(report), JSON.stringify(report)).toBe(false);
  });
});
