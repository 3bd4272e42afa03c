import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport } from '../src/report/model.js';
import { PROJECT_ROOT, readReport, runCli, startCli, statusOf } from './support/cli.js';
import { describeNeeding, sshdStatus } from './support/infra.js';
import { makeReadableByAll, treeManifest } from './support/snapshot-tree.js';
import { startCuttingProxy, startSshd, type SshFixture } from './support/ssh-server.js';

/** The only commands a rehearsal sends: listings, bounded reads, whole files streamed, each under the host's `timeout`. */
const ALLOWED_COMMANDS: readonly RegExp[] = [
  /^LC_ALL=C timeout -k \d+(\.\d)? \d+(\.\d)? find -H '[^']+'( '[^']+')* -maxdepth 0 -printf '%y\\0%p\\0'$/,
  /^LC_ALL=C timeout -k \d+(\.\d)? \d+(\.\d)? find -H '[^']+' -mindepth 1( -maxdepth 1)? -printf '%y\\0%s\\0%T@\\0%l\\0%b\\0%P\\0'$/,
  /^LC_ALL=C timeout -k \d+(\.\d)? \d+(\.\d)? head -c \d+ -- '[^']+'$/,
  /^LC_ALL=C timeout -k \d+(\.\d)? \d+(\.\d)? cat -- '[^']+'$/,
];

function makeSnapshotRoot(root: string, sourcesPrefix?: string): void {
  execFileSync('python3', [join(PROJECT_ROOT, 'test/support/rehearsal-snapshot.py'), root, join(PROJECT_ROOT, 'fixtures/seed'), ...(sourcesPrefix ? [sourcesPrefix] : [])], {
    env: { ...process.env, PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore'), PYTHONDONTWRITEBYTECODE: '1', REHEARSAL_FIXTURE_FAULTS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
}

describeNeeding('an OpenSSH sshd on loopback', sshdStatus())('rehearse --ssh', () => {
  let work: string;
  let good: string;
  let elsewhere: string;
  let sshd: SshFixture;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'atocore-drill-rehearse-ssh-'));
    chmodSync(work, 0o755);
    good = join(work, 'trees', 'good');
    elsewhere = join(work, 'trees', 'elsewhere');
    makeSnapshotRoot(good);
    makeSnapshotRoot(elsewhere, '/home/someone-else/atocore/sources');
    // the SSH user only reads
    makeReadableByAll(join(work, 'trees'));
    sshd = await startSshd(join(work, 'ssh'));
  }, 120_000);

  afterAll(async () => {
    await sshd?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function rehearse(args: readonly string[]): Promise<{ code: number | null; report: DrillReport | null; stdout: string; stderr: string; tmp: string }> {
    const tmp = join(work, `tmp-${Math.random().toString(36).slice(2, 8)}`);
    mkdirSync(tmp);
    const reportFile = join(work, `report-${Math.random().toString(36).slice(2, 8)}.json`);
    const run = await runCli(['rehearse', ...args, '--report-json', reportFile], { env: { TMPDIR: tmp }, timeoutMs: 120_000 });
    return { code: run.code, stdout: run.stdout, stderr: run.stderr, report: existsSync(reportFile) ? readReport(reportFile) : null, tmp };
  }

  const over = (root: string, knownHosts = sshd.knownHosts, port = sshd.port): string[] => ['--ssh', `${sshd.address(port)}:${root}`, '--known-hosts', knownHosts, '--identity', sshd.identityFile];

  it('a fixture snapshot rehearsed over the real sshd passes: one connection, only reads, progress on stderr, nothing left behind', async () => {
    const before = treeManifest(good);
    const connectionsBefore = sshd.connections();
    sshd.clearCommands();
    const { code, report, stdout, stderr, tmp } = await rehearse(over(good));
    expect(code, stdout + stderr).toBe(0);
    expect(report!.verdict).toBe('pass');
    expect(Object.values(statusOf(report!))).toEqual(Array(7).fill('pass'));
    expect(report!.target).toMatchObject({ source: 'ssh', backup_stamp: readdirSync(join(good, 'backups', 'snapshots'))[0] });
    expect(sshd.connections() - connectionsBefore).toBe(1);
    const commands = sshd.commands();
    expect(commands.filter((c) => !ALLOWED_COMMANDS.some((pattern) => pattern.test(c)))).toEqual([]);
    // every file of the snapshot streamed once: the database, the metadata, the registry
    expect(commands.filter((c) => / cat -- /.test(c))).toHaveLength(3);
    expect(stderr).toMatch(/copying \d{8}T\d{6}Z: [\d.]+ MiB of [\d.]+ MiB/);
    expect(treeManifest(good)).toEqual(before);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('a snapshot from another deployment, over SSH, fails rehearsal.deployment and nothing else', async () => {
    const { code, report, stdout, stderr } = await rehearse(['--ssh', sshd.address(), '--root', elsewhere, '--known-hosts', sshd.knownHosts, '--identity', sshd.identityFile]);
    expect(code, stdout + stderr).toBe(1);
    expect(report!.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['rehearsal.deployment']);
  });

  it('the connection cut mid-transfer: exit 3, the checks skipped with the reason, no copy left', async () => {
    // past the handshake and the listings, into the files
    const proxy = await startCuttingProxy(sshd.port, 24_000, 'reset');
    try {
      const { code, report, stdout, stderr, tmp } = await rehearse(over(good, sshd.knownHostsForPort(proxy.port), proxy.port));
      expect(code, stdout + stderr).toBe(3);
      expect(proxy.cuts()).toBeGreaterThan(0);
      expect(report!.verdict).toBe('error');
      expect(report!.steps.find((s) => s.id === 'select')!.status).toBe('error');
      expect(report!.steps.find((s) => s.id === 'select')!.detail).toMatch(/^copying \S+\/db\/atocore\.db: the SSH connection .* was lost/);
      for (const c of report!.checks) {
        expect(c.status, c.id).toBe('skip');
        expect(c.message).toMatch(/^not evaluated: step select could not run/);
      }
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('a file whose transfer is cut short on a connection that stands is copied again, that file only', async () => {
    // the host's side of a cut: the first cat of the database ends early, with exit 0
    const wrapper = join(sshd.dir, 'log-command.sh');
    const original = readFileSync(wrapper, 'utf8');
    const marks = join(work, 'marks');
    mkdirSync(marks, { mode: 0o777 });
    chmodSync(marks, 0o777);
    const mark = join(marks, 'cut-once');
    writeFileSync(
      wrapper,
      original.replace(
        'exec /bin/sh -c',
        `case "$SSH_ORIGINAL_COMMAND" in *"cat -- '"*"/db/atocore.db'") if [ ! -e '${mark}' ]; then : > '${mark}'; f=\${SSH_ORIGINAL_COMMAND##*cat -- \\'}; f=\${f%\\'}; head -c 1000 -- "$f"; exit 0; fi;; esac\nexec /bin/sh -c`,
      ),
    );
    try {
      sshd.clearCommands();
      const { code, report, stdout, stderr, tmp } = await rehearse(over(good));
      expect(code, stdout + stderr).toBe(0);
      expect(report!.verdict).toBe('pass');
      expect(existsSync(mark)).toBe(true);
      const cats = sshd.commands().filter((c) => / cat -- /.test(c));
      expect(cats.filter((c) => c.endsWith("/db/atocore.db'"))).toHaveLength(2);
      expect(cats.filter((c) => !c.endsWith("/db/atocore.db'"))).toHaveLength(2);
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      writeFileSync(wrapper, original);
    }
  });

  it('SIGTERM while the database is being copied: exit 3, the checks skipped, no copy left', async () => {
    // the host's cat of the database is slow to start: the run is mid-copy when the signal comes
    const wrapper = join(sshd.dir, 'log-command.sh');
    const original = readFileSync(wrapper, 'utf8');
    writeFileSync(wrapper, original.replace('exec /bin/sh -c', `case "$SSH_ORIGINAL_COMMAND" in *"cat -- '"*"/db/atocore.db'") sleep 20;; esac\nexec /bin/sh -c`));
    const tmp = join(work, 'tmp-sigterm');
    mkdirSync(tmp);
    const reportFile = join(work, 'report-sigterm.json');
    try {
      let signalled = false;
      const { code, output } = await startCli(
        ['rehearse', ...over(good), '--report-json', reportFile],
        (text, child) => {
          if (!signalled && /copying \d{8}T\d{6}Z: .*\(db\/atocore\.db\)/.test(text)) {
            signalled = true;
            child.kill('SIGTERM');
          }
        },
        { TMPDIR: tmp },
      );
      expect(signalled, output).toBe(true);
      expect(code, output).toBe(3);
      const report = readReport(reportFile);
      expect(report.verdict).toBe('error');
      expect(report.steps.find((s) => s.id === 'select')!.status).toBe('error');
      expect(report.checks.every((c) => c.status === 'skip')).toBe(true);
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      writeFileSync(wrapper, original);
    }
  });

  it('an unknown host key is bad input (exit 2) and leaves nothing behind', async () => {
    const { code, stderr, tmp } = await rehearse(over(good, sshd.otherHostKnownHosts));
    expect(code).toBe(2);
    expect(stderr).toMatch(/SHA256:/);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
