/**
 * In containers, a killed backup-CLI container exits 137: never a refusal. Ryuk's absence is
 * named with the way around it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, readReport, runCli, startCli } from './support/cli.js';
import { describeNeeding, dockerStatus } from './support/infra.js';

const RYUK_OFF = { TESTCONTAINERS_RYUK_DISABLED: 'true' };
let work = '';

function runContainers(runId: string): string[] {
  return execFileSync('docker', ['ps', '-aq', '--filter', `label=io.atocore-drill.run=${runId}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

describeNeeding('Docker', dockerStatus())('container drills and the verdict', () => {
  let image = '';
  // created here, not at load time: a skipped suite creates nothing
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'atocore-drill-container-class-'));
    image = execFileSync(join(PROJECT_ROOT, 'fixtures/atocore/build-image'), ['--schema-level', '1'], { encoding: 'utf8', timeout: 600_000 }).trim().split('\n').at(-1)!;
  }, 660_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('SIGTERM while the unconfirmed restore runs in its container: exit 3, no refusal counted, no container left', async () => {
    const json = join(work, 'sigterm.json');
    let sent = false;
    const { code, output } = await startCli(['drill', '--image', image, '--fault', 'slow-refuse', '--report-json', json], (so_far, child) => {
      if (sent || !so_far.includes('without --confirm-service-stopped')) return;
      sent = true;
      // long enough for the one-off container to be running its (slow) refusal
      setTimeout(() => child.kill('SIGTERM'), 2_500);
    }, RYUK_OFF);
    expect(code, output).toBe(3);
    const report = readReport(json);
    expect(report.verdict).toBe('error');
    expect(report.checks.find((c) => c.id === 'restore.refuses_without_confirm')).toMatchObject({ status: 'skip' });
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(runContainers(String(report.target.run_id))).toEqual([]);
  }, 180_000);

  it('the one-off restore container killed from outside (exit 137, as docker kill or the OOM killer do): error, not a refusal', async () => {
    const json = join(work, 'outside-kill.json');
    let killed = false;
    let seen = '';
    const poll = setInterval(() => {
      if (killed || !seen.includes('without --confirm-service-stopped')) return;
      const running = execFileSync('docker', ['ps', '-q', '--filter', 'label=io.atocore-drill.role=backup-cli', '--filter', 'status=running'], { encoding: 'utf8' }).split('\n').filter(Boolean);
      // only this drill's slow refusal: other test files may be running drills of their own
      const ids = running.filter((id) => execFileSync('docker', ['inspect', '-f', '{{json .Config.Env}}', id], { encoding: 'utf8' }).includes('ATOCORE_STANDIN_FAULTS=slow-refuse'));
      if (ids.length === 0) return;
      killed = true;
      execFileSync('docker', ['kill', ...ids]);
    }, 300);
    const { code, output } = await startCli(['drill', '--image', image, '--fault', 'slow-refuse', '--report-json', json], (so_far) => (seen = so_far), RYUK_OFF);
    clearInterval(poll);
    expect(killed, output).toBe(true);
    expect(code, output).toBe(3);
    const report = readReport(json);
    expect(report.checks.find((c) => c.id === 'restore.refuses_without_confirm')).toMatchObject({ status: 'skip' });
    expect(report.error).toMatch(/killed by SIGKILL, not by anything it did/);
    expect(runContainers(String(report.target.run_id))).toEqual([]);
  }, 180_000);

  it('without Ryuk\'s image and without TESTCONTAINERS_RYUK_DISABLED: exit 3 naming Ryuk and the variable', async (context) => {
    const present = execFileSync('docker', ['images', '-q', 'testcontainers/ryuk'], { encoding: 'utf8' }).trim();
    if (present !== '') context.skip("Ryuk's image is on this machine, so Ryuk starts");
    const json = join(work, 'ryuk.json');
    const run = await runCli(['drill', '--image', image, '--timeout', '2m', '--report-json', json], { env: { TESTCONTAINERS_RYUK_DISABLED: 'false' }, timeoutMs: 150_000 });
    expect(run.code, run.stdout + run.stderr).toBe(3);
    expect(readReport(json).error).toMatch(/Ryuk.*TESTCONTAINERS_RYUK_DISABLED=true/);
  }, 180_000);
});
