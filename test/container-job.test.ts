import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONTAINER_ROLE_LABEL } from '../src/runtimes/types.js';
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

function canaryContainers(): string[] {
  return execFileSync('docker', ['ps', '-aq', '--filter', `label=${CONTAINER_ROLE_LABEL}=canary`], { encoding: 'utf8', timeout: 20_000 }).split('\n').filter(Boolean);
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
  function runJob(mounts: readonly string[], drillArgs: readonly string[]): Promise<JobRun> {
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
      '-e', 'TESTCONTAINERS_HOST_OVERRIDE=host.docker.internal',
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
    expect(canaryContainers()).toEqual([]);
  }, 300_000);

  it('with one (-v DIR:DIR, --work-dir DIR): the drill passes, and leaves DIR empty', async () => {
    const reportPath = join(outDir, 'shared.json');
    const run = await runJob([`${sharedDir}:${sharedDir}`], ['--work-dir', sharedDir, '--report-json', reportPath]);
    expect(run.code, run.output).toBe(0);
    const report = readReport(reportPath);
    expect(report.verdict).toBe('pass');
    expect(report.target.runtime).toBe('container');
    expect(readdirSync(sharedDir)).toEqual([]);
    expect(canaryContainers()).toEqual([]);
  }, 300_000);

  it('a work directory the job container has but the host does not share: still exit 3', async () => {
    // the same path exists on both sides, but they are two different directories
    const run = await runJob([], ['--work-dir', '/srv']);
    expect(run.code, run.output).toBe(3);
    expect(run.output).toMatch(/would be empty \(the Docker host has no such directory\)/);
  }, 300_000);
});
