import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stampOf } from '../src/atocore/stamp.js';
import type { DrillReport } from '../src/report/model.js';
import { RunnerJob, actionCheckout, commands } from './support/action-runner.js';
import { LoopbackGitHubApi } from './support/github-api.js';
import { allRequestProblems } from './support/github-api-schema.js';
import { describeNeeding, sshdStatus } from './support/infra.js';
import { badTreePlan, buildSnapshotTree, makeReadableByAll, retainedDailyStamps } from './support/snapshot-tree.js';
import { startAtoCoreExec, startSshd, type SshFixture } from './support/ssh-server.js';

describeNeeding('an OpenSSH sshd on loopback', sshdStatus())('the action in validate mode', () => {
  // created in beforeAll: a suite skipped for want of sshd creates nothing
  let work = '';
  let action = '';
  let sshd: SshFixture;
  let privateKey = '';
  let validator: { command: string; stop(): void } | undefined;
  let goodRoot = '';
  let badRoot = '';
  let newest = '';
  let api: LoopbackGitHubApi | undefined;
  const jobs: RunnerJob[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'atocore-drill-action-validate-'));
    // the SSH user is another, read-only account when the tests run as root: it must reach the trees
    chmodSync(work, 0o755);
    action = actionCheckout(work);
    goodRoot = join(work, 'good', 'atocore');
    badRoot = join(work, 'bad', 'atocore');
    // the project's test sshd: a read-only user (when root), every command it runs logged
    sshd = await startSshd(join(work, 'sshd'));
    privateKey = readFileSync(sshd.identityFile, 'utf8');
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
    // AtoCore's validator as Dalidou runs it (docker exec): as the snapshots' owner, not the SSH user
    validator = await startAtoCoreExec(join(work, 'sshd'), goodRoot);
  }, 180_000);

  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  afterAll(async () => {
    validator?.stop();
    await sshd?.stop();
    for (const job of jobs) rmSync(job.dir, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function validate(inputs: Record<string, string>): Promise<{ runner: RunnerJob; main: Awaited<ReturnType<RunnerJob['run']>> }> {
    api = await LoopbackGitHubApi.start('github');
    const runner = new RunnerJob(action, {
      apiUrl: api.url,
      token: api.token,
      inputs: {
        mode: 'validate',
        'ssh-host': sshd.host,
        'ssh-port': String(sshd.port),
        'ssh-user': sshd.user,
        'ssh-key': privateKey,
        // as a secret gives it: the lines, not a file
        'ssh-known-hosts': readFileSync(sshd.knownHosts, 'utf8'),
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
      sshd.clearCommands();
      const { runner, main } = await validate({ root: goodRoot, rpo: '2d', 'atocore-validator': validator!.command, deep: 'true' });
      expect(main.code, main.stdout + main.stderr).toBe(0);
      expect(commands(main.stdout, 'warning')).toEqual([]);
      expect(main.outputs).toMatchObject({ verdict: 'pass', 'backup-stamp': newest, 'rto-ms': '' });
      expect(Number(main.outputs['rpo-s'])).toBeGreaterThanOrEqual(0);

      const report = JSON.parse(readFileSync(main.outputs.report!, 'utf8')) as DrillReport;
      expect(report).toMatchObject({ kind: 'validate', verdict: 'pass' });
      expect(report.snapshots.length).toBeGreaterThan(10);
      expect(report.snapshots.every((s) => s.checks.some((c) => c.id === 'snapshot.integrity' && c.status === 'pass'))).toBe(true);
      expect(report.snapshots.every((s) => s.checks.some((c) => c.id === 'snapshot.atocore_validate' && c.status === 'pass'))).toBe(true);
      // read-only: the SSH user ran only the harness's fixed reading commands and the validator
      const ran = sshd.commands();
      expect(ran.length).toBeGreaterThan(0);
      for (const command of ran) expect(command, command).toMatch(/^(LC_ALL=C timeout -k 5 \d+ (find|head|sha256sum|cat|df) |timeout -k 5 \d+ '?\/usr\/bin\/python3'? )/);

      expect(runner.summary).toMatch(/^## AtoCore snapshot validation: ✅ PASS/);
      expect(runner.summary).toContain(`\`${newest}\``);

      expect(api!.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /repos/atocore/atocore/check-runs', 'PATCH /repos/atocore/atocore/check-runs/4000001']);
      expect(allRequestProblems(api!.requests)).toEqual([]);
      expect(bodies()[0]).toMatchObject({ name: 'Dalidou snapshot validation', status: 'in_progress' });
      expect(bodies()[1]).toMatchObject({ conclusion: 'success', output: { title: expect.stringMatching(/^PASS: \d+\/\d+ checks/) } });

      // the key: each of its lines masked in the log, nowhere in what was sent or written, never on disk
      const keyLines = privateKey.split('\n').filter((line) => line.length >= 6 && !line.startsWith('-----'));
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
      // setFailed's line last; before it one workflow-command annotation per failing check, titled with its stamp
      expect(commands(main.stdout, 'error').at(-1)).toMatch(/^Dalidou snapshot validation: FAIL: \d+ problems: /);
      expect(main.stdout).toMatch(/^::error title=\d{8}T\d{6}Z%3A snapshot\.[a-z_]+::/m);
      expect(allRequestProblems(api!.requests)).toEqual([]);
      const finish = bodies().at(-1)!;
      expect(finish).toMatchObject({ status: 'completed', conclusion: 'failure' });
      const titles = bodies().flatMap((b) => (b.output?.annotations ?? []).map((a: { title: string }) => a.title));
      expect(titles).toEqual(expect.arrayContaining(['20251201T060000Z: snapshot.integrity', 'rpo.fresh']));
      expect(runner.summary).toContain('## AtoCore snapshot validation: ❌ FAIL');
      expect(readFileSync(main.outputs.junit!, 'utf8')).toContain('atocore-drill.validate.20251201T060000Z');
    }, 180_000);

    it('a host key that does not match ssh-known-hosts: could not run, naming the host', async () => {
      // as a file this time (a path in the workspace or absolute)
      const { main } = await validate({ root: goodRoot, 'ssh-known-hosts': sshd.wrongKnownHosts, 'atocore-validator': 'none' });
      expect(main.code).toBe(1);
      expect(main.outputs.verdict).toBe('error');
      expect(commands(main.stdout, 'error').at(-1)).toMatch(/could not run: .*127\.0\.0\.1/);
      expect(bodies().at(-1)).toMatchObject({ conclusion: 'failure', output: { title: expect.stringMatching(/^could not run: /) } });
    }, 120_000);
  });
});
