import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planDrill, plannedCheckIds } from '../src/atocore/drill/plan.js';
import { CLI, PROJECT_ROOT, readReport, runCli, statusOf } from './support/cli.js';
import { FAULT_CASES, failingChecks } from './support/faults.js';
import { describeNeeding, dockerStatus } from './support/infra.js';

const BUILD_IMAGE = join(PROJECT_ROOT, 'fixtures/atocore/build-image');
const env = { TESTCONTAINERS_RYUK_DISABLED: process.env.TESTCONTAINERS_RYUK_DISABLED ?? 'true' };
// made in the suite's beforeAll: a suite skipped for want of Docker makes nothing
let work = '';

/**
 * This run's containers only, never a global count: other drills may run on the same engine
 * at the same time. By the run id the report names, or by a bind mount from a folder of ours.
 */
function containersOfRun(runId: string): string[] {
  return execFileSync('docker', ['ps', '-aq', '--filter', `label=io.atocore-drill.run=${runId}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

function drillContainersUnder(dir: string): string[] {
  const ids = execFileSync('docker', ['ps', '-aq', '--no-trunc', '--filter', 'label=io.atocore-drill.run'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  let inspected = '';
  try {
    inspected = execFileSync('docker', ['inspect', '--format', '{{.Id}}{{range .Mounts}} {{.Source}}{{end}}', ...ids], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (error) {
    // one of them went away between the two calls: what inspect did print is still right
    inspected = String((error as { stdout?: unknown }).stdout ?? '');
  }
  return inspected
    .split('\n')
    .filter((line) => line.split(' ').slice(1).some((source) => source.startsWith(`${dir}/`)))
    .map((line) => line.split(' ')[0]!);
}

let counter = 0;
async function drill(args: string[], wrap?: string[]) {
  const json = join(work, `run-${++counter}.json`);
  const run = await runCli(['drill', '--timeout', '4m', ...args, '--report-json', json], { env, timeoutMs: 300_000, ...(wrap ? { wrap } : {}) });
  return { run, report: readReport(json) };
}

describeNeeding('Docker', dockerStatus())('drills in containers', () => {
  let level1 = '';
  let level2 = '';
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'atocore-drill-container-'));
    // the project's own script: reuses what is built; the first build of the offline base takes about a minute
    const build = (level: string) => execFileSync(BUILD_IMAGE, ['--schema-level', level], { encoding: 'utf8', timeout: 600_000 }).trim().split('\n').at(-1)!;
    level1 = build('1');
    level2 = build('2');
  }, 660_000);

  describe('the container runtime', () => {
    it('passes a drill with --include-chroma: every check, restored files owned by the service user 1000:1000', async () => {
      const { run, report } = await drill(['--runtime', 'container', '--image', level1, '--include-chroma']);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(report.verdict).toBe('pass');
      expect(report.target).toMatchObject({ runtime: 'container', image: level1 });
      expect(report.checks.map((c) => c.id)).toEqual(plannedCheckIds(planDrill({ includeChroma: true })));
      expect(report.checks.every((c) => c.status === 'pass')).toBe(true);
      expect(report.checks.find((c) => c.id === 'restore.ownership')?.message).toMatch(/owned by 1000:1000/);
      expect(report.target.run_id).toMatch(/\S/);
      expect(containersOfRun(String(report.target.run_id))).toEqual([]);
    });

    describe('catches every fault as the process runtime does', () => {
      it.each(FAULT_CASES)('$faults', async ({ faults, fails, passes }) => {
        const { run, report } = await drill(['--image', level1, '--include-chroma', ...faults.flatMap((f) => ['--fault', f])]);
        const status = statusOf(report);
        expect(run.code, run.stdout).toBe(1);
        expect(failingChecks(status)).toEqual([...fails].sort());
        for (const id of passes) expect(status[id], id).toBe('pass');
      });

      it('backup-corrupts-db, alone and with validate-always-valid', async () => {
        const alone = statusOf((await drill(['--image', level1, '--fault', 'backup-corrupts-db'])).report);
        expect(failingChecks(alone)).toEqual(['backup.independent_integrity', 'backup.valid']);
        const lying = statusOf((await drill(['--image', level1, '--fault', 'backup-corrupts-db', '--fault', 'validate-always-valid'])).report);
        expect(lying['backup.valid']).toBe('pass');
        expect(lying['backup.independent_integrity']).toBe('fail');
      });

      it('never-healthy: exit 3 naming the timeout, the container logs in the report', async () => {
        const { run, report } = await drill(['--image', level1, '--fault', 'never-healthy', '--timeout', '6s']);
        expect(run.code).toBe(3);
        expect(report.verdict).toBe('error');
        expect(report.error).toMatch(/did not become healthy.*within/);
        expect(report.steps[0]?.detail).toMatch(/AtoCore output/);
      });
    });

    it('the migration rollback drill passes from level 1 to level 2 and back', async () => {
      const { run, report } = await drill(['--from-image', level1, '--image', level2, '--include-chroma']);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(report.target).toMatchObject({ image: level2, from_image: level1 });
      const status = statusOf(report);
      for (const id of ['migration.upgrade_healthy', 'migration.schema_additive', 'migration.data_preserved', 'migration.schema_restored', 'baseline.intact']) {
        expect(status[id], id).toBe('pass');
      }
      expect(report.checks.find((c) => c.id === 'migration.schema_additive')?.evidence).toMatchObject({ added: expect.arrayContaining(['table memory_links', 'column memories.embedding_version']) });
    });

    it('the migration drill fails when B rewrites data destructively, and only there', async () => {
      const { run, report } = await drill(['--from-image', level1, '--image', level2, '--fault', 'migration-destructive']);
      expect(run.code).toBe(1);
      expect(failingChecks(statusOf(report))).toEqual(['migration.data_preserved']);
    });

    it('a migration drill from an image to itself warns that the schema did not change', async () => {
      const { run, report } = await drill(['--from-image', level1, '--image', level1, '--fail-on', 'warn']);
      expect(report.verdict).toBe('warn');
      expect(statusOf(report)['migration.schema_additive']).toBe('warn');
      expect(run.code).toBe(1);
    });

    it('an image that is not on the machine: exit 3 naming it, nothing pulled', async () => {
      const { run, report } = await drill(['--image', 'atocore-drill/no-such-image:never']);
      expect(run.code).toBe(3);
      expect(report.error).toMatch(/atocore-drill\/no-such-image:never is not on this machine/);
    });

    // the engine's socket hidden in a private mount namespace (root only): a machine without Docker
    it.runIf(process.getuid?.() === 0)('no Docker reachable: exit 3 with a clear message', async () => {
      const { run, report } = await drill(['--image', level1], ['unshare', '-m', 'sh', '-c', 'mount -t tmpfs none /run && exec "$0" "$@"']);
      expect(run.code).toBe(3);
      expect(report.error).toMatch(/no Docker engine reachable/);
    });

    it('SIGTERM mid-drill leaves no container and no temp dir', async () => {
      const tmp = mkdtempSync(join(work, 'killed-'));
      const child = spawn(process.execPath, [CLI, 'drill', '--image', level1, '--include-chroma'], { cwd: PROJECT_ROOT, env: { ...process.env, ...env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const deadline = Date.now() + 120_000;
      while (!out.includes('✓ Write marker A')) {
        if (Date.now() > deadline) throw new Error(`the drill never got going:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(drillContainersUnder(tmp).length).toBeGreaterThan(0);
      child.kill('SIGTERM');
      expect(await closed).toBe(3);
      expect(drillContainersUnder(tmp)).toEqual([]);
      // (testcontainers keeps its own port lock file in the temp dir; that one is not the drill's)
      expect(readdirSync(tmp).filter((name) => !name.startsWith('testcontainers-node-'))).toEqual([]);
    });
  });
});
