import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfrastructureError } from '../src/common/errors.js';
import { demuxDockerLogs, proveBindMountReaches } from '../src/runtimes/container.js';
import { CONTAINER_ROLE_LABEL, CONTAINER_RUN_LABEL } from '../src/runtimes/types.js';
import { PROJECT_ROOT, readReport } from './support/cli.js';
import { describeNeeding, dockerStatus } from './support/infra.js';

/**
 * The harness inside a job container that talks to the host's Docker through its socket, as
 * GitHub's `container:` jobs and every Gitea act_runner job do: bind-mount paths name the
 * host's files, not the job container's.
 */
const describeDocker = describeNeeding('Docker', dockerStatus());
const BUILD_IMAGE = join(PROJECT_ROOT, 'fixtures/atocore/build-image');
const OFFLINE_BASE = 'atocore-drill/base:bookworm-python3';
const SUITE = `atocore-drill-job-${process.pid}`;

function haveImage(image: string): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', image], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** The canary containers still there after other runs' short-lived ones had time to go. */
async function canariesGone(): Promise<string[]> {
  for (let attempt = 0; attempt < 30 && canaryContainers().length > 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 500));
  return canaryContainers();
}

/** Canary containers, this test's own when `runId` says which (other files run container drills at the same time). */
function canaryContainers(runId?: string): string[] {
  const filters = ['--filter', `label=${CONTAINER_ROLE_LABEL}=canary`, ...(runId ? ['--filter', `label=${CONTAINER_RUN_LABEL}=${runId}`] : [])];
  return execFileSync('docker', ['ps', '-aq', ...filters], { encoding: 'utf8', timeout: 20_000 }).split('\n').filter(Boolean);
}

interface JobRun {
  readonly code: number | null;
  readonly output: string;
}

describeDocker('a container drill run from inside a job container (host Docker socket mounted)', () => {
  let standin: string;
  let jobImage: string;
  let outDir: string;
  let sharedDir: string;
  let runs = 0;

  beforeAll(() => {
    standin = execFileSync(BUILD_IMAGE, ['--schema-level', '1'], { encoding: 'utf8', timeout: 600_000 }).trim().split('\n').at(-1)!;
    // a Debian with nothing of the harness: Node comes in as one binary, the project read-only, no docker CLI
    jobImage = haveImage(OFFLINE_BASE) ? OFFLINE_BASE : standin;
    outDir = mkdtempSync(join(tmpdir(), `${SUITE}-out-`));
    sharedDir = mkdtempSync(join(tmpdir(), `${SUITE}-shared-`));
  }, 660_000);

  afterAll(() => {
    for (let i = 1; i <= runs; i++) {
      try {
        execFileSync('docker', ['rm', '-f', `${SUITE}-${i}`], { stdio: 'ignore', timeout: 20_000 });
      } catch {
        // already gone (--rm)
      }
    }
    for (const dir of [outDir, sharedDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** `docker run` of the harness; the job container sees only what `mounts` share with the host. */
  function runJob(mounts: readonly string[], drillArgs: readonly string[], hostOverride = true): Promise<JobRun> {
    const name = `${SUITE}-${++runs}`;
    const args = [
      'run', '--rm', '--name', name,
      '-v', '/var/run/docker.sock:/var/run/docker.sock',
      '-v', `${PROJECT_ROOT}:${PROJECT_ROOT}:ro`,
      '-v', `${process.execPath}:/usr/local/bin/node:ro`,
      '-v', `${outDir}:${outDir}`,
      ...mounts.flatMap((m) => ['-v', m]),
      // the service's published port is on the host: reached through Docker's host gateway
      '--add-host', 'host.docker.internal:host-gateway',
      ...(hostOverride ? ['-e', 'TESTCONTAINERS_HOST_OVERRIDE=host.docker.internal'] : []),
      '-e', 'TESTCONTAINERS_RYUK_DISABLED=true',
      '-w', PROJECT_ROOT,
      jobImage,
      'node', 'bin/atocore-drill.js', 'drill', '--image', standin, '--timeout', '3m', ...drillArgs,
    ];
    return new Promise((resolve) => {
      execFile('docker', args, { encoding: 'utf8', timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : null) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      });
    });
  }

  it('where testcontainers falls back to localhost (no TESTCONTAINERS_HOST_OVERRIDE): exit 3 naming the fix, never a service finding', async () => {
    const job = await runJob([`${sharedDir}:${sharedDir}`], ['--work-dir', sharedDir, '--timeout', '25s'], false);
    // engines whose bridge network names its gateway let testcontainers find the host by itself
    if (job.code === 0) return;
    expect(job.code, job.output).toBe(3);
    expect(job.output).toMatch(/localhost is not the Docker host .* TESTCONTAINERS_HOST_OVERRIDE/);
    expect(job.output).not.toMatch(/✗ service\.health|FAIL/);
  }, 300_000);

  it('without a shared work directory: exit 3, naming --work-dir and a directory shared at the same path', async () => {
    const reportPath = join(outDir, 'unshared.json');
    const run = await runJob([], ['--report-json', reportPath]);
    expect(run.code, run.output).toBe(3);
    expect(run.output).toMatch(/the job seems to run in a container whose paths the Docker host does not see/);
    expect(run.output).toMatch(/--work-dir DIR \(action input work-dir\)/);
    expect(run.output).toMatch(/-v \/srv\/atocore-drill-work:\/srv\/atocore-drill-work/);
    const report = readReport(reportPath);
    expect(report.verdict).toBe('error');
    // no check is passed or failed on a drill that could not run
    expect(report.checks.filter((c) => c.status === 'pass' || c.status === 'fail')).toEqual([]);
    // other files' drills prove their mounts too, for a moment each: none may stay
    expect(await canariesGone()).toEqual([]);
  }, 300_000);

  it('with one (-v DIR:DIR, --work-dir DIR): the drill passes, and leaves DIR empty', async () => {
    const reportPath = join(outDir, 'shared.json');
    const run = await runJob([`${sharedDir}:${sharedDir}`], ['--work-dir', sharedDir, '--report-json', reportPath]);
    expect(run.code, run.output).toBe(0);
    const report = readReport(reportPath);
    expect(report.verdict).toBe('pass');
    expect(report.target.runtime).toBe('container');
    expect(readdirSync(sharedDir)).toEqual([]);
    // other files' drills prove their mounts too, for a moment each: none may stay
    expect(await canariesGone()).toEqual([]);
  }, 300_000);

  it('a work directory the job container has but the host does not share: still exit 3', async () => {
    // the same path exists on both sides, but they are two different directories
    const run = await runJob([], ['--work-dir', '/srv']);
    expect(run.code, run.output).toBe(3);
    expect(run.output).toMatch(/would be empty \(the Docker host has no such directory\)/);
  }, 300_000);
});

describeDocker('the bind-mount proof on its own', () => {
  let standin: string;
  let dir: string;
  const emptyImage = `atocore-drill/test-empty:${process.pid}`;

  beforeAll(() => {
    standin = execFileSync(BUILD_IMAGE, ['--schema-level', '1'], { encoding: 'utf8', timeout: 600_000 }).trim().split('\n').at(-1)!;
    dir = mkdtempSync(join(tmpdir(), `${SUITE}-proof-`));
    // an image with nothing in it: no python3 to read the canary with
    execFileSync('docker', ['import', '-', emptyImage], { input: execFileSync('tar', ['-c', '-f', '-', '-T', '/dev/null']), stdio: ['pipe', 'ignore', 'pipe'], timeout: 60_000 });
  }, 660_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    try {
      execFileSync('docker', ['rmi', '-f', emptyImage], { stdio: 'ignore', timeout: 60_000 });
    } catch {
      // never made
    }
  });

  it('where the Docker host sees the directory: passes, leaving neither the canary nor its container', async () => {
    await proveBindMountReaches(dir, { image: standin, user: '0:0', runId: `proof-${process.pid}` });
    expect(readdirSync(dir)).toEqual([]);
    expect(canaryContainers(`proof-${process.pid}`)).toEqual([]);
  }, 60_000);

  it('an image that cannot read the canary: exit 3 saying what was being done, not the work-dir advice', async () => {
    const error = await proveBindMountReaches(dir, { image: emptyImage, user: '0:0', runId: `proof-${process.pid}` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect((error as Error).message).toMatch(/could not prove the drill's bind mounts with a container of atocore-drill\/test-empty/);
    expect((error as Error).message).not.toMatch(/--work-dir/);
    expect(readdirSync(dir)).toEqual([]);
    expect(canaryContainers(`proof-${process.pid}`)).toEqual([]);
  }, 60_000);

  it('an interrupt before the proof: no container is left', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await proveBindMountReaches(dir, { image: standin, user: '0:0', runId: `proof-${process.pid}`, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect(canaryContainers(`proof-${process.pid}`)).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  }, 60_000);
});

describe("Docker's multiplexed log frames", () => {
  const frame = (stream: number, text: string): Buffer => {
    const body = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(body.length, 4);
    return Buffer.concat([header, body]);
  };

  it('splits stdout from stderr, keeps a cut last frame, stops at the bound', () => {
    expect(demuxDockerLogs(Buffer.concat([frame(1, 'canary:'), frame(2, 'oops'), frame(1, 'abc')]))).toEqual({ stdout: 'canary:abc', stderr: 'oops' });
    expect(demuxDockerLogs(frame(1, 'abcdef').subarray(0, 11))).toEqual({ stdout: 'abc', stderr: '' });
    expect(demuxDockerLogs(Buffer.from('short'))).toEqual({ stdout: '', stderr: '' });
    expect(demuxDockerLogs(Buffer.concat([frame(1, 'x'.repeat(10)), frame(1, 'y')]), 5).stdout).toBe('x'.repeat(10));
  });
});
