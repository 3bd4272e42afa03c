import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SnapshotStamp } from '../src/atocore/stamp.js';
import type { DrillReport } from '../src/report/model.js';
import { CLI, PROJECT_ROOT } from './support/cli.js';
import { eventually, groupAlive, processesUnder, stubbornScript } from './support/processes.js';
import { buildSnapshotTree, FIXTURE_NOW } from './support/snapshot-tree.js';

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-signals-'));
const stragglers: number[] = [];
afterAll(() => {
  // a failed test must not leave its stubborn scripts behind
  for (const pgid of stragglers) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(work, { recursive: true, force: true });
});

interface RunningCli {
  readonly child: ChildProcess;
  readonly tmp: string;
  output(): string;
  exited(): boolean;
  readonly closed: Promise<{ code: number | null; at: number }>;
}

function startDrill(name: string, args: readonly string[]): RunningCli {
  const tmp = join(work, name);
  mkdirSync(tmp);
  // the stand-in as "your AtoCore": the service and the backup CLI are what the flags say
  const env = { ...process.env, TMPDIR: tmp, PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore') };
  const child = spawn(process.execPath, [CLI, 'drill', ...args], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  const closed = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on('close', (code) => {
      exited = true;
      resolve({ code, at: Date.now() });
    }),
  );
  return { child, tmp, output: () => out, exited: () => exited, closed };
}

async function waitFor(what: string, cli: RunningCli, ready: () => boolean): Promise<void> {
  if (!(await eventually(() => ready() || cli.exited(), 90_000)) || !ready()) throw new Error(`${what} never happened:\n${cli.output()}`);
}

function pidIn(file: string): number {
  const pid = Number(readFileSync(file, 'utf8').trim());
  stragglers.push(pid);
  return pid;
}

describe('signals: a run that is told to stop stops, and leaves nothing running', () => {
  it.each(['SIGHUP', 'SIGQUIT'] as const)('%s (a closed terminal; Ctrl-\\) tears down like SIGTERM: exit 3, nothing left', async (signal) => {
    const cli = startDrill(signal.toLowerCase(), ['--command', 'python3 -m atocore', '--backup-cli', 'python3 -m atocore.ops.backup']);
    await waitFor('a running service', cli, () => cli.output().includes('Seed the registry') && processesUnder(cli.tmp).length > 0);
    cli.child.kill(signal);
    const { code } = await cli.closed;
    expect(code, cli.output()).toBe(3);
    expect(cli.output()).toMatch(new RegExp(`interrupted by ${signal}`));
    expect(processesUnder(cli.tmp)).toEqual([]);
    expect(readdirSync(cli.tmp)).toEqual([]);
  });

  it('a signal during the teardown hurries it (the service killed at once): the teardown is an error, exit 3, the checks keep their evidence, nothing left', async () => {
    // a service that ignores SIGTERM: its orderly stop takes the whole stop bound
    const stubborn = join(work, 'ignores-term.py');
    writeFileSync(stubborn, ['import signal', 'signal.signal(signal.SIGTERM, signal.SIG_IGN)', 'from atocore import server', 'raise SystemExit(server.main())', ''].join('\n'));
    const report = join(work, 'teardown-signal.json');
    const cli = startDrill('teardown', ['--command', `python3 ${stubborn}`, '--backup-cli', 'python3 -m atocore.ops.backup', '--report-json', report]);
    await waitFor('the teardown', cli, () => cli.output().includes('… Tear down'));
    cli.child.kill('SIGINT');
    const { code } = await cli.closed;
    expect(code, cli.output()).toBe(3);
    const written = JSON.parse(readFileSync(report, 'utf8')) as DrillReport;
    expect(written.verdict).toBe('error');
    const teardown = written.steps.find((s) => s.id === 'teardown')!;
    expect(teardown.status).toBe('error');
    expect(teardown.detail).toMatch(/interrupted by SIGINT during this step, which then ended in haste: removed everything the drill created/);
    // every check was decided before the signal, on its own evidence
    expect(written.checks.filter((c) => c.status !== 'pass').map((c) => c.id)).toEqual([]);
    expect(cli.output()).toMatch(/verdict: ERROR \(exit 3\)/);
    expect(processesUnder(cli.tmp)).toEqual([]);
    expect(readdirSync(cli.tmp)).toEqual([]);
  });

  it('a second signal kills a backup CLI that ignores SIGTERM (its whole process group) at once: exit 3, report written', async () => {
    const scripts = mkdtempSync(join(work, 'scripts-'));
    const stubborn = stubbornScript(scripts);
    const report = join(work, 'second-signal.json');
    const cli = startDrill('second', ['--command', 'python3 -m atocore', '--backup-cli', stubborn.argv, '--report-json', report]);
    // the first backup-CLI call is AtoCore's validate, after the backup: the stubborn script is running then
    await waitFor('the stubborn backup CLI', cli, stubborn.ready);
    const pgid = pidIn(stubborn.pidFile);
    expect(groupAlive(pgid)).toBe(true);
    cli.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    expect(groupAlive(pgid), 'the script ignores SIGTERM: still there after the first signal').toBe(true);
    const second = Date.now();
    cli.child.kill('SIGTERM');
    const { code, at } = await cli.closed;
    expect(code, cli.output()).toBe(3);
    // without the emergency kill the script outlives the harness for good
    expect(await eventually(() => !groupAlive(pgid), 1_000), 'the stubborn group is gone').toBe(true);
    expect(at - second, 'the run ends within the second signal\'s grace').toBeLessThan(4_000);
    expect(processesUnder(cli.tmp)).toEqual([]);
    expect(readdirSync(cli.tmp)).toEqual([]);
    const written = JSON.parse(readFileSync(report, 'utf8')) as DrillReport;
    expect(written.verdict).toBe('error');
    expect(written.error).toMatch(/interrupted by SIGTERM/);
    expect(cli.output()).toContain('atocore-drill: SIGTERM again: killing everything the run started, then exiting');
  });

  it('a second signal also kills what a backup CLI forked out of its process group (it carries the drill\'s ATOCORE_DATA_DIR)', async () => {
    const scripts = mkdtempSync(join(work, 'scripts-'));
    const escapee = join(scripts, 'escapee.pid');
    const cli = join(scripts, 'forks.py');
    // the validate call forks a child into a session of its own, then waits, deaf to SIGTERM
    writeFileSync(
      cli,
      [
        'import os, runpy, signal, sys, time',
        "if sys.argv[1:2] == ['validate']:",
        '    if os.fork() == 0:',
        '        os.setsid()',
        `        open(${JSON.stringify(`${escapee}.tmp`)}, 'w').write(str(os.getpid()))`,
        `        os.rename(${JSON.stringify(`${escapee}.tmp`)}, ${JSON.stringify(escapee)})`,
        '        time.sleep(600)',
        '        os._exit(0)',
        '    signal.signal(signal.SIGTERM, signal.SIG_IGN)',
        '    time.sleep(600)',
        "runpy.run_module('atocore.ops.backup', run_name='__main__')",
      ].join('\n'),
    );
    const run = startDrill('escapee', ['--command', 'python3 -m atocore', '--backup-cli', `python3 ${cli}`]);
    await waitFor('the forked child', run, () => existsSync(escapee));
    const pid = Number(readFileSync(escapee, 'utf8'));
    stragglers.push(pid);
    run.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    run.child.kill('SIGTERM');
    const { code } = await run.closed;
    expect(code, run.output()).toBe(3);
    expect(await eventually(() => processesUnder(run.tmp).length === 0, 1_000), 'nothing of the drill\'s is left').toBe(true);
    expect(readdirSync(run.tmp)).toEqual([]);
  });

  it('a second signal kills a service that ignores SIGTERM at once', async () => {
    const scripts = mkdtempSync(join(work, 'scripts-'));
    const stubborn = stubbornScript(scripts);
    const cli = startDrill('service', ['--command', stubborn.argv, '--backup-cli', 'python3 -m atocore.ops.backup', '--timeout', '5m']);
    // it never answers /health: the harness waits for it, and the signals come meanwhile
    await waitFor('the stubborn service', cli, stubborn.ready);
    const pgid = pidIn(stubborn.pidFile);
    cli.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 200));
    cli.child.kill('SIGINT');
    const { code } = await cli.closed;
    expect(code, cli.output()).toBe(3);
    expect(await eventually(() => !groupAlive(pgid), 1_000), 'the stubborn service group is gone').toBe(true);
    expect(readdirSync(cli.tmp)).toEqual([]);
  });

  it('the first signal while AtoCore is being stopped kills a service that ignores SIGTERM at once: the stop step is an error, not a pass', async () => {
    const scripts = mkdtempSync(join(work, 'scripts-'));
    const service = join(scripts, 'deaf.py');
    // the stand-in, deaf to SIGTERM (its own handler is swapped for "ignore")
    writeFileSync(
      service,
      [
        'import runpy, signal',
        '_install = signal.signal',
        'signal.signal = lambda sig, handler: _install(sig, signal.SIG_IGN if sig == signal.SIGTERM else handler)',
        "runpy.run_module('atocore', run_name='__main__')",
      ].join('\n'),
    );
    const report = join(work, 'deaf-stop.json');
    const cli = startDrill('deaf', ['--command', `python3 ${service}`, '--backup-cli', 'python3 -m atocore.ops.backup', '--report-json', report]);
    await waitFor('the stop step', cli, () => cli.output().includes('… Stop AtoCore'));
    // SIGTERM has reached the service by now, and it ignores it
    await new Promise((r) => setTimeout(r, 300));
    const sent = Date.now();
    cli.child.kill('SIGINT');
    const { code, at } = await cli.closed;
    expect(code, cli.output()).toBe(3);
    expect(at - sent, 'the service is killed at the first signal, not after the stop\'s 30 s').toBeLessThan(5_000);
    expect(cli.output()).toMatch(/^! Stop AtoCore .*interrupted by SIGINT/m);
    expect(cli.output()).not.toMatch(/^✓ Stop AtoCore/m);
    const written = JSON.parse(readFileSync(report, 'utf8')) as DrillReport;
    expect(written.steps.find((s) => s.id === 'stop')).toMatchObject({ status: 'error' });
    expect(written.steps.find((s) => s.id === 'restore_unconfirmed')).toMatchObject({ status: 'skip' });
    expect(written.error).toMatch(/interrupted by SIGINT/);
    expect(processesUnder(cli.tmp)).toEqual([]);
    expect(readdirSync(cli.tmp)).toEqual([]);
  });

  it('validate: a second signal kills a validator that ignores SIGTERM at once; the report says error', async () => {
    const tmp = join(work, 'validate');
    mkdirSync(tmp);
    const tree = join(work, 'validate-tree', 'atocore');
    buildSnapshotTree(tree, { snapshots: [{ stamp: '20260408T060000Z' as SnapshotStamp, kind: 'good' }] });
    const stubborn = stubbornScript(mkdtempSync(join(work, 'scripts-')));
    const report = join(work, 'validate.json');
    const args = ['validate', '--dir', tree, '--atocore-validator', `${stubborn.argv} {stamp}`, '--now', FIXTURE_NOW, '--report-json', report];
    const child = spawn(process.execPath, [CLI, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    if (!(await eventually(stubborn.ready, 60_000))) throw new Error(`the validator never ran:\n${out}`);
    const pgid = pidIn(stubborn.pidFile);
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGINT');
    expect(await closed, out).toBe(3);
    expect(await eventually(() => !groupAlive(pgid), 1_000), 'the validator group is gone').toBe(true);
    expect(readdirSync(tmp)).toEqual([]);
    expect((JSON.parse(readFileSync(report, 'utf8')) as DrillReport).verdict).toBe('error');
  });

  it('a closed terminal (the pty hangs up) ends the run with exit 3 and stops AtoCore', async () => {
    const tmp = join(work, 'pty');
    mkdirSync(tmp);
    // python's pty: the CLI runs as the session leader on a terminal whose other end then closes
    const helper = join(work, 'hangup.py');
    writeFileSync(
      helper,
      [
        'import json, os, pty, select, sys, time',
        'pid, fd = pty.fork()',
        'if pid == 0:',
        '    os.execv(sys.argv[1], sys.argv[1:])',
        'out = b""',
        'deadline = time.time() + 90',
        'while b"Seed the registry" not in out and time.time() < deadline:',
        '    if select.select([fd], [], [], 0.5)[0]:',
        '        try:',
        '            out += os.read(fd, 65536)',
        '        except OSError:',
        '            break',
        'os.close(fd)',
        '_, status = os.waitpid(pid, 0)',
        'print(json.dumps({"exit": os.waitstatus_to_exitcode(status), "seen": "Seed the registry" in out.decode("utf8", "replace")}))',
      ].join('\n'),
    );
    const env = { ...process.env, TMPDIR: tmp };
    const result = await new Promise<string>((resolve, reject) => {
      const child = spawn('python3', [helper, process.execPath, CLI, 'drill'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('close', () => resolve(out));
    });
    const { exit, seen } = JSON.parse(result) as { exit: number; seen: boolean };
    expect(seen, 'the drill got going before the hangup').toBe(true);
    expect(exit).toBe(3);
    expect(processesUnder(tmp)).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
