import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI, PROJECT_ROOT } from './support/cli.js';
import { describeNeeding, dockerStatus } from './support/infra.js';
import { eventually } from './support/processes.js';

// made in the suite's beforeAll: a suite skipped for want of Docker makes nothing
let work = '';

/** Containers of drills whose bind mounts come from `dir`: this test's own, whatever else runs on the engine. */
function containersUnder(dir: string): string[] {
  const ids = execFileSync('docker', ['ps', '-aq', '--no-trunc', '--filter', 'label=io.atocore-drill.run'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const inspected = spawnSync('docker', ['inspect', '--format', '{{.Id}}{{range .Mounts}} {{.Source}}{{end}}', ...ids], { encoding: 'utf8' }).stdout;
  return inspected
    .split('\n')
    .filter((line) => line.split(' ').slice(1).some((source) => source.startsWith(`${dir}/`)))
    .map((line) => line.split(' ')[0]!);
}

describeNeeding('Docker', dockerStatus())('signals in a container drill', () => {
  // the stand-in behind a PID 1 that ignores SIGTERM: `docker stop` waits its whole timeout for it
  const stubborn = `atocore-drill/test-ignores-sigterm:${process.pid}`;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'atocore-drill-signals-container-'));
    const image = execFileSync(join(PROJECT_ROOT, 'fixtures/atocore/build-image'), ['--schema-level', '1'], { encoding: 'utf8', timeout: 600_000 }).trim().split('\n').at(-1)!;
    const dockerfile = `FROM ${image}\nENTRYPOINT ["sh", "-c", "trap '' TERM INT; python3 -m atocore & wait"]\n`;
    execFileSync('docker', ['build', '-q', '-t', stubborn, '-'], { input: dockerfile, timeout: 300_000 });
  }, 900_000);
  afterAll(() => {
    spawnSync('docker', ['rmi', '-f', stubborn]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a second signal removes the run\'s containers at once (a service that ignores SIGTERM too): exit 3, no container and no root left', async () => {
    const tmp = mkdtempSync(join(work, 'second-'));
    const child = spawn(process.execPath, [CLI, 'drill', '--image', stubborn], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, TMPDIR: tmp, TESTCONTAINERS_RYUK_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const closed = new Promise<{ code: number | null; at: number }>((resolve) => child.on('close', (code) => resolve({ code, at: Date.now() })));
    if (!(await eventually(() => out.includes('Seed the registry') && containersUnder(tmp).length > 0, 180_000))) throw new Error(`no container:\n${out}`);
    child.kill('SIGTERM');
    // the orderly stop now waits for a container that does not stop (13 s)
    await new Promise((r) => setTimeout(r, 1_000));
    expect(containersUnder(tmp).length).toBeGreaterThan(0);
    const second = Date.now();
    child.kill('SIGTERM');
    const { code, at } = await closed;
    expect(code, out).toBe(3);
    expect(at - second, 'ends within the grace, not after docker stop\'s timeout').toBeLessThan(6_000);
    expect(containersUnder(tmp)).toEqual([]);
    // (testcontainers keeps its own port lock file in the temp dir; that one is not the drill's)
    expect(readdirSync(tmp).filter((name) => !name.startsWith('testcontainers-node-'))).toEqual([]);
  }, 300_000);

  it('the first signal while AtoCore\'s container is being stopped removes it at once: the stop step is an error, not a pass', async () => {
    const tmp = mkdtempSync(join(work, 'first-'));
    const report = join(work, 'first-signal.json');
    const child = spawn(process.execPath, [CLI, 'drill', '--image', stubborn, '--report-json', report], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, TMPDIR: tmp, TESTCONTAINERS_RYUK_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const closed = new Promise<{ code: number | null; at: number }>((resolve) => child.on('close', (code) => resolve({ code, at: Date.now() })));
    if (!(await eventually(() => out.includes('… Stop AtoCore'), 180_000))) throw new Error(`never reached the stop:\n${out}`);
    // docker stop has sent SIGTERM by now, and the container ignores it
    await new Promise((r) => setTimeout(r, 1_000));
    const sent = Date.now();
    child.kill('SIGINT');
    const { code, at } = await closed;
    expect(code, out).toBe(3);
    expect(at - sent, 'removed at the first signal, not after docker stop\'s timeout').toBeLessThan(8_000);
    expect(out).toMatch(/^! Stop AtoCore .*interrupted by SIGINT/m);
    expect(out).not.toMatch(/^✓ Stop AtoCore/m);
    const written = JSON.parse(readFileSync(report, 'utf8')) as { steps: Array<{ id: string; status: string }>; error: string | null };
    expect(written.steps.find((s) => s.id === 'stop')).toMatchObject({ status: 'error' });
    expect(written.error).toMatch(/interrupted by SIGINT/);
    expect(containersUnder(tmp)).toEqual([]);
  }, 300_000);
});
