/**
 * A process the target leaves behind (a daemon, a `setsid` child) that keeps the target's
 * stdout/stderr open never holds a run past its bound, and nothing of the drill's is left.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SnapshotStamp } from '../src/atocore/stamp.js';
import { runProcess } from '../src/common/child-process.js';
import { PROJECT_ROOT, runCli } from './support/cli.js';
import { processesUnder } from './support/processes.js';
import { buildSnapshotTree, FIXTURE_NOW } from './support/snapshot-tree.js';

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-lingering-'));
const MARK = `ATOCORE_DRILL_LINGERING_TEST=${process.pid}`;

/** Pids whose environment carries this file's mark: what a test started and a run may have left. */
function marked(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(MARK)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

afterAll(() => {
  for (const pid of marked()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(work, { recursive: true, force: true });
});

const markEnv = { ...process.env, ATOCORE_DRILL_LINGERING_TEST: String(process.pid) };

describe('runProcess: pipes held by what the process left behind', () => {
  it('a process that exits while a setsid child holds its pipes: its output, within about a second, marked incomplete', async () => {
    const began = Date.now();
    const result = await runProcess(['sh', '-c', 'echo said; setsid sleep 30 & exit 0'], { timeoutMs: 20_000, env: markEnv });
    expect(Date.now() - began).toBeLessThan(3_000);
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, outputIncomplete: true });
    expect(result.stdout).toBe('said\n');
  });

  it('a process cut at its bound while a setsid child holds its pipes: resolves at the bound, not when the child ends', async () => {
    const began = Date.now();
    const result = await runProcess(['sh', '-c', 'setsid sleep 30 & sleep 30'], { timeoutMs: 500, env: markEnv });
    expect(Date.now() - began).toBeLessThan(3_000);
    expect(result.timedOut).toBe(true);
  });

  it('a process whose pipes close with it: complete output, no mark', async () => {
    const result = await runProcess(['sh', '-c', 'echo out; echo err >&2'], { timeoutMs: 10_000 });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'out\n', stderr: 'err\n' });
    expect(result.outputIncomplete).toBeUndefined();
  });
});

describe('the CLI is not held by a lingering grandchild', () => {
  it('drill: a confirmed restore that leaves a setsid child holding its pipes ends long before the child, and the child is gone', async () => {
    const cli = join(work, 'd.py');
    writeFileSync(
      cli,
      [
        'import os, runpy, sys, time',
        "if 'restore' in sys.argv and '--confirm-service-stopped' in sys.argv:",
        '    if os.fork() == 0:',
        '        os.setsid()',
        '        time.sleep(120)',
        '        os._exit(0)',
        "runpy.run_module('atocore.ops.backup', run_name='__main__')",
      ].join('\n'),
    );
    const tmp = mkdtempSync(join(work, 'drill-'));
    const began = Date.now();
    const run = await runCli(['drill', '--command', 'python3 -m atocore', '--backup-cli', `python3 ${cli}`, '--timeout', '15s'], {
      env: { ...markEnv, TMPDIR: tmp, PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore') },
      timeoutMs: 60_000,
    });
    expect(Date.now() - began, run.stdout).toBeLessThan(30_000);
    // the restore said what it did before it exited: that is its answer
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // the child carries the drill's ATOCORE_DATA_DIR: the drill's own, removed with it
    expect(processesUnder(tmp)).toEqual([]);
  });

  it('validate: a validator that leaves a setsid child holding its pipes ends within --timeout', async () => {
    const tree = join(work, 'tree', 'atocore');
    buildSnapshotTree(tree, { snapshots: [{ stamp: '20260408T060000Z' as SnapshotStamp, kind: 'good' }] });
    const began = Date.now();
    const run = await runCli(['validate', '--dir', tree, '--atocore-validator', "sh -c 'setsid sleep 40 & exit 0' {stamp}", '--now', FIXTURE_NOW, '--timeout', '5s'], {
      env: { ...markEnv, TMPDIR: mkdtempSync(join(work, 'validate-')) },
      timeoutMs: 60_000,
    });
    expect(Date.now() - began, run.stdout + run.stderr).toBeLessThan(15_000);
    expect([0, 1, 3]).toContain(run.code);
  });

  it('drill: a service command that daemonizes (fork, setsid, the parent exits) is an error saying so, and its daemon is gone after the drill', async () => {
    const daemon = join(work, 'daemon.py');
    writeFileSync(daemon, ['import os, runpy', 'if os.fork() != 0:', '    os._exit(0)', 'os.setsid()', "runpy.run_module('atocore', run_name='__main__')"].join('\n'));
    const tmp = mkdtempSync(join(work, 'daemon-'));
    const run = await runCli(['drill', '--command', `python3 ${daemon}`, '--backup-cli', 'python3 -m atocore.ops.backup', '--timeout', '60s'], {
      env: { ...markEnv, TMPDIR: tmp, PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore') },
      timeoutMs: 90_000,
    });
    expect(run.code, run.stdout + run.stderr).toBe(3);
    expect(run.stdout).toMatch(/left the process group the drill started: the service command daemonizes/);
    expect(run.stdout).not.toMatch(/another program took the drill's port/);
    expect(processesUnder(tmp)).toEqual([]);
  });
});
