import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stampOf } from '../src/atocore/stamp.js';
import type { DrillReport } from '../src/engine/types.js';
import { freeLoopbackPort } from '../src/runtimes/free-port.js';
import { RunnerJob, actionCheckout, commands } from './support/action-runner.js';
import { PROJECT_ROOT } from './support/cli.js';
import { LoopbackGitHubApi } from './support/github-api.js';
import { allRequestProblems } from './support/github-api-schema.js';
import type { InfraStatus } from './support/infra.js';
import { needs } from './support/infra.js';
import { badTreePlan, buildSnapshotTree, makeReadableByAll, retainedDailyStamps } from './support/snapshot-tree.js';

const SSHD = '/usr/sbin/sshd';

function sshdStatus(): InfraStatus {
  if (!existsSync(SSHD)) return { ok: false, reason: `${SSHD} is missing (Debian: openssh-server; .ci/run installs it)` };
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, reason: 'ssh-keygen is missing (Debian: openssh-client)' };
  }
  return { ok: true, reason: '' };
}

/** A real OpenSSH server on a loopback port, for this user, with a key made for the test. */
class TestSshd {
  readonly user = userInfo().username;
  readonly dir: string;
  port = 0;
  privateKey = '';
  knownHosts = '';
  #child: ChildProcess | undefined;
  #log = '';

  constructor(parent: string) {
    this.dir = join(parent, 'sshd');
    mkdirSync(this.dir, { recursive: true });
  }

  async start(): Promise<void> {
    const keygen = (file: string): void => {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'atocore-drill-test', '-f', file], { stdio: 'ignore' });
    };
    keygen(join(this.dir, 'host_ed25519'));
    keygen(join(this.dir, 'client_ed25519'));
    this.privateKey = readFileSync(join(this.dir, 'client_ed25519'), 'utf8');
    writeFileSync(join(this.dir, 'authorized_keys'), readFileSync(join(this.dir, 'client_ed25519.pub')));
    this.port = await freeLoopbackPort();
    this.knownHosts = `[127.0.0.1]:${this.port} ${readFileSync(join(this.dir, 'host_ed25519.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`;
    // privilege separation wants its empty directory when sshd runs as root
    if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    writeFileSync(
      join(this.dir, 'sshd_config'),
      [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(this.dir, 'host_ed25519')}`,
        `PidFile ${join(this.dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
        `AllowUsers ${this.user}`,
        'StrictModes no',
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PermitRootLogin prohibit-password',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    const child = spawn(SSHD, ['-D', '-e', '-f', join(this.dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    child.stderr!.on('data', (d: Buffer) => (this.#log += d.toString()));
    const started = Date.now();
    while (!(await this.#answers())) {
      if (child.exitCode !== null || Date.now() - started > 15_000) throw new Error(`sshd did not start: ${this.#log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  #answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(this.port, '127.0.0.1');
      socket.once('data', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  }

  stop(): void {
    this.#child?.kill('SIGTERM');
  }
}

if (needs('sshd', sshdStatus())) {
  const work = mkdtempSync(join(tmpdir(), 'atocore-drill-action-validate-'));
  const action = actionCheckout(work);
  const sshd = new TestSshd(work);
  const goodRoot = join(work, 'good', 'atocore');
  const badRoot = join(work, 'bad', 'atocore');
  let newest = '';
  let api: LoopbackGitHubApi | undefined;
  const jobs: RunnerJob[] = [];

  beforeAll(async () => {
    await sshd.start();
    // a daily 06:00 backup up to the last 06:00 that has passed, as AtoCore's retention leaves it
    const now = new Date();
    const lastBackup = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 6));
    if (lastBackup.getTime() > now.getTime()) lastBackup.setUTCDate(lastBackup.getUTCDate() - 1);
    const from = new Date(lastBackup.getTime() - 200 * 86_400_000);
    const stamps = retainedDailyStamps(from.toISOString().slice(0, 10), lastBackup.toISOString().slice(0, 10));
    newest = stampOf(lastBackup);
    expect(stamps.at(-1)).toBe(newest);
    buildSnapshotTree(goodRoot, { snapshots: stamps.map((stamp) => ({ stamp, kind: 'good' as const })) });
    buildSnapshotTree(badRoot, badTreePlan());
    makeReadableByAll(join(work, 'good'));
    makeReadableByAll(join(work, 'bad'));
  }, 180_000);

  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  afterAll(() => {
    sshd.stop();
    for (const job of jobs) rmSync(job.dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  async function validate(inputs: Record<string, string>): Promise<{ runner: RunnerJob; main: Awaited<ReturnType<RunnerJob['run']>> }> {
    api = await LoopbackGitHubApi.start('github');
    const runner = new RunnerJob(action, {
      apiUrl: api.url,
      token: api.token,
      inputs: {
        mode: 'validate',
        'ssh-host': '127.0.0.1',
        'ssh-port': String(sshd.port),
        'ssh-user': sshd.user,
        'ssh-key': sshd.privateKey,
        'known-hosts': sshd.knownHosts,
        'check-name': 'Dalidou snapshot validation',
        ...inputs,
      },
    });
    jobs.push(runner);
    return { runner, main: await runner.run('main', 180_000) };
  }

  function bodies(): Array<Record<string, any>> {
    return api!.requests.map((r) => r.body as Record<string, any>);
  }

  describe('mode validate against a real sshd, run as the runner runs it', () => {
    it('a good backup root: outputs, summary, a schema-valid check run; the key never leaves the action', async () => {
      // AtoCore's validator here is the stand-in's own backup module on the "host"
      const validator = `env PYTHONPATH=${join(PROJECT_ROOT, 'fixtures/atocore')} PYTHONDONTWRITEBYTECODE=1 ATOCORE_BACKUP_DIR=${join(goodRoot, 'backups')} python3 -m atocore.ops.backup validate {stamp}`;
      const { runner, main } = await validate({ root: goodRoot, rpo: '2d', 'atocore-validator': validator, deep: 'true' });
      expect(main.code, main.stdout + main.stderr).toBe(0);
      expect(commands(main.stdout, 'warning')).toEqual([]);
      expect(main.outputs).toMatchObject({ verdict: 'pass', 'backup-stamp': newest, 'rto-ms': '' });
      expect(Number(main.outputs['rpo-s'])).toBeGreaterThanOrEqual(0);

      const report = JSON.parse(readFileSync(main.outputs.report!, 'utf8')) as DrillReport;
      expect(report).toMatchObject({ kind: 'validate', verdict: 'pass' });
      expect(report.snapshots.length).toBeGreaterThan(10);
      expect(report.snapshots.every((s) => s.checks.some((c) => c.id === 'snapshot.integrity' && c.status === 'pass'))).toBe(true);

      expect(runner.summary).toMatch(/^## AtoCore snapshot validation: ✅ PASS/);
      expect(runner.summary).toContain(`\`${newest}\``);

      expect(api!.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /repos/atocore/atocore/check-runs', 'PATCH /repos/atocore/atocore/check-runs/4000001']);
      expect(allRequestProblems(api!.requests)).toEqual([]);
      expect(bodies()[0]).toMatchObject({ name: 'Dalidou snapshot validation', status: 'in_progress' });
      expect(bodies()[1]).toMatchObject({ conclusion: 'success', output: { title: expect.stringMatching(/^PASS: \d+\/\d+ checks/) } });

      // the key: each of its lines masked in the log, nowhere in what was sent or written, never on disk
      const keyLines = sshd.privateKey.split('\n').filter((line) => line.length >= 6 && !line.startsWith('-----'));
      const masks = commands(main.stdout, 'add-mask');
      for (const line of keyLines) expect(masks).toContain(line);
      const everything = [JSON.stringify(bodies()), runner.summary, readFileSync(main.outputs.report!, 'utf8'), readFileSync(main.outputs.junit!, 'utf8'), main.stdout, main.stderr].join('\n');
      for (const line of keyLines) expect(everything.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n')).not.toContain(line);
      expect(main.state.runtime).toBe('ssh');
      expect(existsSync(main.state['work-dir']!)).toBe(false);

      const post = await runner.run('post');
      expect(post.code).toBe(0);
      expect(post.stdout).toContain('nothing left behind');
    }, 180_000);

    it('a damaged backup root: the step fails naming the problems, one annotation per failing check, titled with its stamp', async () => {
      const { runner, main } = await validate({ root: badRoot, 'atocore-validator': 'none' });
      expect(main.code).toBe(1);
      expect(main.outputs.verdict).toBe('fail');
      expect(commands(main.stdout, 'error')[0]).toMatch(/^Dalidou snapshot validation: FAIL: \d+ problems: /);
      expect(allRequestProblems(api!.requests)).toEqual([]);
      const finish = bodies().at(-1)!;
      expect(finish).toMatchObject({ status: 'completed', conclusion: 'failure' });
      const titles = bodies().flatMap((b) => (b.output?.annotations ?? []).map((a: { title: string }) => a.title));
      expect(titles).toEqual(expect.arrayContaining(['20251201T060000Z: snapshot.integrity', 'rpo.fresh']));
      expect(runner.summary).toContain('## AtoCore snapshot validation: ❌ FAIL');
      expect(readFileSync(main.outputs.junit!, 'utf8')).toContain('atocore-drill.validate.20251201T060000Z');
    }, 180_000);

    it('a host key that does not match known-hosts: could not run, naming the host', async () => {
      const other = join(work, 'other_host_key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other], { stdio: 'ignore' });
      const wrong = `[127.0.0.1]:${sshd.port} ${readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`;
      const { main } = await validate({ root: goodRoot, 'known-hosts': wrong, 'atocore-validator': 'none' });
      expect(main.code).toBe(1);
      expect(main.outputs.verdict).toBe('error');
      expect(commands(main.stdout, 'error')[0]).toMatch(/could not run: .*127\.0\.0\.1/);
      expect(bodies().at(-1)).toMatchObject({ conclusion: 'failure', output: { title: expect.stringMatching(/^could not run: /) } });
    }, 120_000);
  });
}
