import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planDrill, plannedCheckIds } from '../src/atocore/drill/plan.js';
import { CLI, PROJECT_ROOT, readReport, runCli, statusOf } from './support/cli.js';
import { failingChecks } from './support/faults.js';

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-beyond-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let counter = 0;
async function drill(args: string[], env: NodeJS.ProcessEnv = {}) {
  const json = join(work, `run-${++counter}.json`);
  const run = await runCli(['drill', '--timeout', '3m', ...args, '--report-json', json], { timeoutMs: 180_000, env });
  return { run, report: existsSync(json) ? readReport(json) : undefined };
}

const ROTATION = ['rotation.dry_run_changes_nothing', 'rotation.keeps_root', 'rotation.keeps_newest', 'rotation.keeps_promised', 'rotation.keeps_foreign', 'rotation.removes_expired'];
const VERIFICATION = ['verification.accepts_good', 'verification.catches_corrupt_database', 'verification.catches_corrupt_json', 'verification.catches_missing_file'];

describe('atocore-drill drill --drills (the stand-in as a local process)', () => {
  it('restore,rotation,verification: every check passes; the restore drill is the one without --drills, then verification and rotation', async () => {
    const { run, report } = await drill(['--drills', 'restore,rotation,verification', '--keep']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const root = String(report!.target.data_root);
    try {
      expect(report!.verdict).toBe('pass');
      const restoreOnly = plannedCheckIds(planDrill({ includeChroma: false }));
      expect(report!.checks.map((c) => c.id)).toEqual([...restoreOnly, ...VERIFICATION, ...ROTATION]);
      expect(report!.checks.filter((c) => c.status !== 'pass')).toEqual([]);
      expect(report!.steps.map((s) => s.id).slice(-3)).toEqual(['verification', 'rotation', 'teardown']);
      expect(report!.target.drills).toEqual(['restore', 'verification', 'rotation']);
      expect(run.stdout).toContain('then verification and rotation');
      // what cleanup left: the foreign directory, no corrupted copy, far fewer snapshots than were made
      const left = readdirSync(join(root, 'backups', 'snapshots'));
      expect(left).toContain('lost+found');
      expect(left.filter((name) => name.startsWith('2000'))).toEqual([]);
      const rotation = report!.checks.find((c) => c.id === 'rotation.keeps_promised')!;
      expect(left.filter((name) => /^\d{8}T\d{6}Z$/.test(name)).sort()).toEqual([...(rotation.evidence['promised'] as string[])].sort());
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('rotation,verification alone: a backup of its own, no restore', async () => {
    const { run, report } = await drill(['--drills', 'verification,rotation']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(report!.steps.map((s) => s.id)).toEqual(['start', 'seed', 'backup', 'verification', 'rotation', 'teardown']);
    expect(report!.checks.map((c) => c.id)).toEqual(['backup.created', 'backup.valid', 'backup.independent_integrity', ...VERIFICATION, ...ROTATION]);
    expect(report!.verdict).toBe('pass');
    expect(run.stdout).toContain('verification and rotation only: no restore');
  });

  it('without --drills the check list is the restore drill exactly as before', async () => {
    const { run, report } = await drill([]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(report!.checks.map((c) => c.id)).toEqual(plannedCheckIds(planDrill({ includeChroma: false })));
    expect(report!.checks.map((c) => c.id).filter((id) => id.startsWith('rotation.') || id.startsWith('verification.'))).toEqual([]);
  });

  // each fault and exactly the checks it must fail (or warn); any other failing check is a false alarm
  const cases: { fault: string; fails: string[]; warns?: string[] }[] = [
    { fault: 'validate-always-valid', fails: ['verification.catches_corrupt_database', 'verification.catches_corrupt_json', 'verification.catches_missing_file'] },
    { fault: 'validate-skips-integrity', fails: ['verification.catches_corrupt_database'] },
    { fault: 'validate-always-invalid', fails: ['backup.valid', 'verification.accepts_good'] },
    { fault: 'cleanup-ignores-dry-run', fails: ['rotation.dry_run_changes_nothing'] },
    // the newest snapshot is always the newest of the most recent day: promised too
    { fault: 'cleanup-deletes-newest', fails: ['rotation.keeps_newest', 'rotation.keeps_promised'] },
    { fault: 'cleanup-deletes-root', fails: ['rotation.keeps_root', 'rotation.keeps_newest', 'rotation.keeps_promised', 'rotation.keeps_foreign'] },
    { fault: 'cleanup-deletes-foreign', fails: ['rotation.keeps_foreign'] },
    { fault: 'cleanup-ignores-weekly', fails: ['rotation.keeps_promised'] },
    { fault: 'cleanup-deletes-nothing', fails: [], warns: ['rotation.removes_expired'] },
  ];
  it.each(cases)('$fault', async ({ fault, fails, warns = [] }) => {
    const { run, report } = await drill(['--drills', 'verification,rotation', '--fault', fault]);
    expect(run.code, run.stdout + run.stderr).toBe(fails.length > 0 ? 1 : 0);
    expect(report, `no report: ${run.stderr}`).toBeDefined();
    const status = statusOf(report!);
    expect(failingChecks(status)).toEqual([...fails].sort());
    expect(Object.entries(status).filter(([, s]) => s === 'warn').map(([id]) => id)).toEqual(warns);
    expect(Object.entries(status).filter(([, s]) => s === 'skip')).toEqual([]);
    for (const id of fails) expect(report!.checks.find((c) => c.id === id)!.step).toBe(id.startsWith('backup.') ? 'backup' : id.split('.')[0]);
  });

  it('a snapshot without the registry it should hold: nothing to corrupt, the check skips and the step fails naming it', async () => {
    const { run, report } = await drill(['--drills', 'verification', '--fault', 'backup-skips-registry']);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const status = statusOf(report!);
    expect(failingChecks(status)).toEqual([]);
    expect(status['verification.catches_corrupt_json']).toBe('skip');
    expect(status['verification.catches_missing_file']).toBe('pass');
    const step = report!.steps.find((s) => s.id === 'verification')!;
    expect(step.status).toBe('fail');
    expect(step.detail).toMatch(/holds no config\/project-registry\.json to corrupt, which the live data root has/);
  });

  it('a validate killed from outside is no answer: the check is skip, the step an error, exit 3', async () => {
    // the backup CLI, wrapped: validating the first corrupted copy kills it (as the OOM killer would)
    const wrapper = join(work, 'killed-validate.sh');
    writeFileSync(wrapper, '#!/bin/sh\ncase "$1 $2" in "validate 20000101T000001Z") kill -KILL $$ ;; esac\nexec python3 -m atocore.ops.backup "$@"\n');
    chmodSync(wrapper, 0o755);
    const { run, report } = await drill(['--drills', 'verification', '--command', 'python3 -m atocore', '--backup-cli', wrapper], { PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore') });
    expect(run.code, run.stdout + run.stderr).toBe(3);
    expect(report!.verdict).toBe('error');
    const status = statusOf(report!);
    expect(status['verification.accepts_good']).toBe('pass');
    expect(status['verification.catches_corrupt_database']).toBe('skip');
    expect(failingChecks(status)).toEqual([]);
    expect(report!.steps.find((s) => s.id === 'verification')!.status).toBe('error');
    expect(report!.error).toMatch(/validate 20000101T000001Z was killed by SIGKILL/);
  });

  it('an interrupt while validate looks at a corrupted copy: exit 3, the checks skip, nothing of the drill is left', async () => {
    const tmp = join(work, 'interrupted');
    mkdirSync(tmp);
    const marker = join(work, 'validating');
    const wrapper = join(work, 'slow-validate.sh');
    writeFileSync(wrapper, `#!/bin/sh\ncase "$1 $2" in "validate 20000101T000002Z") touch '${marker}'; sleep 30 ;; esac\nexec python3 -m atocore.ops.backup "$@"\n`);
    chmodSync(wrapper, 0o755);
    const json = join(work, 'interrupted.json');
    const child = spawn(process.execPath, [CLI, 'drill', '--drills', 'verification', '--command', 'python3 -m atocore', '--backup-cli', wrapper, '--report-json', json], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, TMPDIR: tmp, PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const started = Date.now();
    while (!existsSync(marker)) {
      if (Date.now() - started > 60_000) throw new Error(`validate of the corrupted copy never started:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGINT');
    expect(await closed, output).toBe(3);
    expect(Date.now() - started).toBeLessThan(25_000);
    const report = readReport(json);
    const status = statusOf(report);
    expect(status['verification.catches_corrupt_database']).toBe('pass');
    expect(status['verification.catches_corrupt_json']).toBe('skip');
    expect(failingChecks(status)).toEqual([]);
    expect(report.steps.find((s) => s.id === 'verification')!.status).toBe('error');
    expect(readdirSync(tmp)).toEqual([]);
  });

  it.each([
    [['--drills', 'offsite'], /--drills: offsite: AtoCore's backup module has no off-site step.*AtoCore's drills: restore, verification, rotation/],
    [['--drills', 'restore,rotaton'], /--drills: "rotaton" is not a drill \(known: restore, verification, offsite, rotation\)/],
    [['--drills', ' , '], /--drills: names no drill/],
    [['--image', 'b', '--from-image', 'a', '--drills', 'rotation'], /--from-image is a restore drill .*--drills must name restore/],
  ])('refuses %j with exit 2 naming the flag', async (args, message) => {
    const run = await runCli(['drill', ...args], { timeoutMs: 30_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
