import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport } from '../src/report/model.js';
import { CLI, readReport, runCli } from './support/cli.js';
import { describeNeeding, sshdStatus } from './support/infra.js';
import { BAD_EXPECTED, badTreePlan, buildSnapshotTree, FIXTURE_NOW, goodTreePlan, makeReadableByAll, snapshotFindings, treeManifest } from './support/snapshot-tree.js';
import { startAtoCoreExec, startCuttingProxy, startSilentServer, startSshd, type SshFixture } from './support/ssh-server.js';

/** Every command the harness may send, as the remote shell receives it (src/remote/commands.ts), each under the host's `timeout`. */
const ALLOWED_COMMANDS: readonly RegExp[] = [
  /^LC_ALL=C timeout -k \d+(\.\d)? \d+(\.\d)? find -H '[^']+'( '[^']+')* -maxdepth 0 -printf '%y\\0%p\\0'$/,
  /^LC_ALL=C timeout -k \d+(\.\d)? \d+(\.\d)? find -H '[^']+' -mindepth 1( -maxdepth 1)? -printf '%y\\0%s\\0%T@\\0%l\\0%b\\0%P\\0'$/,
  /^LC_ALL=C timeout -k \d+(\.\d)? \d+(\.\d)? head -c \d+ -- '[^']+'$/,
  /^LC_ALL=C timeout -k \d+(\.\d)? \d+(\.\d)? sha256sum -b -- '[^']+'( '[^']+')*$/,
  /^LC_ALL=C timeout -k \d+(\.\d)? \d+(\.\d)? cat -- '[^']+'$/,
  /^LC_ALL=C timeout -k \d+(\.\d)? \d+(\.\d)? df -Pk -- '[^']+'$/,
];

describeNeeding('an OpenSSH sshd on loopback', sshdStatus())('validate --ssh', () => {
  describe('against a real OpenSSH sshd', () => {
    let work: string;
    let trees: string;
    let good: string;
    let bad: string;
    let big: string;
    let sshd: SshFixture;
    let goodValidator: { command: string; stop(): void };
    let badValidator: { command: string; stop(): void };

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'atocore-drill-validate-ssh-'));
      chmodSync(work, 0o755);
      trees = join(work, 'trees');
      good = join(trees, 'good');
      bad = join(trees, 'bad');
      big = join(trees, 'big');
      buildSnapshotTree(good, goodTreePlan());
      buildSnapshotTree(bad, badTreePlan());
      // large enough that a database is still streaming when the connection is cut
      buildSnapshotTree(big, { snapshots: [{ stamp: '20260407T060000Z' as never, kind: 'good' }, { stamp: '20260408T060000Z' as never, kind: 'good' }], rowsPerDay: 4000, payloadBytes: 1500 });
      makeReadableByAll(trees);
      mkdirSync(join(work, 'tmp'));
      sshd = await startSshd(join(work, 'ssh'));
      goodValidator = await startAtoCoreExec(join(work, 'exec-good'), good);
      badValidator = await startAtoCoreExec(join(work, 'exec-bad'), bad);
    });

    afterAll(async () => {
      goodValidator?.stop();
      badValidator?.stop();
      await sshd?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    const sshArgs = (root: string, extra: readonly string[] = [], knownHosts = sshd.knownHosts, port = sshd.port): string[] => [
      'validate',
      '--ssh',
      sshd.address(port),
      '--known-hosts',
      knownHosts,
      '--identity',
      sshd.identityFile,
      '--root',
      root,
      '--now',
      FIXTURE_NOW,
      ...extra,
    ];

    async function run(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; report: DrillReport | null; stdout: string; stderr: string; reportText: string }> {
      const reportFile = join(work, `report-${Math.random().toString(36).slice(2)}.json`);
      const result = await runCli([...args, '--report-json', reportFile], { env: { TMPDIR: join(work, 'tmp'), ...env }, timeoutMs: 120_000 });
      const reportText = existsSync(reportFile) ? readFileSync(reportFile, 'utf8') : '';
      return { ...result, report: reportText ? readReport(reportFile) : null, reportText };
    }

    /** Per snapshot, each check's status: what "the same per-snapshot verdicts" means. */
    const verdicts = (report: DrillReport): Record<string, Record<string, string>> =>
      Object.fromEntries(report.snapshots.map((s) => [s.stamp, { status: s.status, ...Object.fromEntries(s.checks.map((c) => [c.id, c.status])) }]));
    const overall = (report: DrillReport): Record<string, string> => Object.fromEntries(report.checks.map((c) => [c.id, c.status]));

    it('the good tree passes over SSH (deep, with AtoCore\'s validator), with the same verdicts as --dir, on one connection', async () => {
      const connectionsBefore = sshd.connections();
      const ssh = await run(sshArgs(good, ['--deep', '--atocore-validator', goodValidator.command]));
      expect(ssh.code, ssh.stdout + ssh.stderr).toBe(0);
      expect(ssh.report!.verdict).toBe('pass');
      expect(ssh.report!.snapshots).toHaveLength(16);
      expect(ssh.report!.metrics.deep_checked).toBe(16);
      expect(sshd.connections() - connectionsBefore).toBe(1);
      const dir = await run(['validate', '--dir', good, '--now', FIXTURE_NOW, '--atocore-validator', goodValidator.command]);
      expect(dir.code).toBe(0);
      expect(verdicts(ssh.report!)).toEqual(verdicts(dir.report!));
      expect(overall(ssh.report!)).toEqual(overall(dir.report!));
    });

    it('the bad tree: every bad snapshot caught with its id, and --dir and --ssh give the same per-snapshot verdicts', async () => {
      const ssh = await run(sshArgs(bad, ['--deep', '--atocore-validator', badValidator.command]));
      expect(ssh.code, ssh.stdout + ssh.stderr).toBe(1);
      expect(ssh.report!.steps.every((s) => s.status === 'pass')).toBe(true);
      for (const snapshot of ssh.report!.snapshots) {
        const expected = BAD_EXPECTED[snapshot.stamp] ?? { fails: [], warns: [] };
        expect(snapshotFindings(ssh.report!, snapshot.stamp), snapshot.stamp).toEqual({ fails: [...expected.fails].sort(), warns: [...expected.warns].sort() });
      }
      const dir = await run(['validate', '--dir', bad, '--now', FIXTURE_NOW, '--atocore-validator', badValidator.command]);
      expect(dir.code).toBe(1);
      expect(verdicts(ssh.report!)).toEqual(verdicts(dir.report!));
      expect(overall(ssh.report!)).toEqual(overall(dir.report!));
    });

    it('without --deep over SSH: AtoCore\'s validator and the size check still catch the damaged databases; integrity_check is skipped, not passed', async () => {
      const ssh = await run(sshArgs(bad, ['--atocore-validator', badValidator.command]));
      expect(ssh.code).toBe(1);
      const integrity = (stamp: string) => ssh.report!.snapshots.find((s) => s.stamp === stamp)!.checks.find((c) => c.id === 'snapshot.integrity')!;
      expect(integrity('20251201T060000Z').status).toBe('fail');
      expect(integrity('20260408T060000Z')).toMatchObject({ status: 'skip' });
      expect(integrity('20260408T060000Z').message).toMatch(/without --deep/);
      for (const stamp of ['20260101T060000Z', '20260201T060000Z']) expect(snapshotFindings(ssh.report!, stamp).fails).toContain('snapshot.atocore_validate');
    });

    it('reads only: the tree is byte-for-byte unchanged, every command is from the fixed list, none names what is not a snapshot', async () => {
      // the SSH user cannot write anywhere in the tree
      const writable = execFileSync('runuser', ['-u', sshd.user, '--', 'find', trees, '-writable', '-print', '-quit'], { encoding: 'utf8' });
      expect(writable).toBe('');
      const before = treeManifest(trees);
      sshd.clearCommands();
      const ledger = join(work, 'readonly-ledger.json');
      const ssh = await run(sshArgs(bad, ['--deep', '--ledger', ledger, '--atocore-validator', 'none']));
      expect(ssh.code).toBe(1);
      expect(treeManifest(trees)).toEqual(before);
      const commands = sshd.commands();
      expect(commands.length).toBeGreaterThan(40);
      for (const command of commands) {
        expect(ALLOWED_COMMANDS.some((pattern) => pattern.test(command)), command).toBe(true);
        for (const quoted of command.match(/'[^']*'/g)!.filter((q) => q.startsWith("'/"))) expect(quoted.startsWith(`'${bad}`), command).toBe(true);
        for (const name of ['pwned', 'manual-copy', 'README', '.partial', '$(', '`']) expect(command, command).not.toContain(name);
      }
      // databases are streamed only with --deep, once each; nothing is read twice; the truncated
      // one is judged by its size against the metadata and never streamed
      expect(commands.filter((c) => / cat -- /.test(c)).length).toBe(16 - 1);
      expect(commands.filter((c) => / cat -- /.test(c) && c.includes('20251201T060000Z'))).toEqual([]);
      expect(readdirSync(join(work, 'tmp')).filter((name) => name.startsWith('atocore-drill-'))).toEqual([]);
    });

    it('host keys: a changed key and an unknown host are refused (exit 2); hashed entries work; trust on first use only with its flag', async () => {
      const quick = ['--stamp', '20260408T060000Z', '--atocore-validator', 'none'];
      const changed = await run(sshArgs(good, quick, sshd.wrongKnownHosts));
      expect(changed.code).toBe(2);
      expect(changed.stderr).toMatch(/--known-hosts: the host key of atocore-drill-ro@127\.0\.0\.1:\d+ has CHANGED: it presented SHA256:[A-Za-z0-9+/]{43}/);
      expect(changed.report).toBeNull();

      const unknown = await run(sshArgs(good, quick, sshd.otherHostKnownHosts));
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/is not in .*known_hosts\.other; refusing its host key SHA256:.*--accept-new-host-key/);

      const hashed = await run(sshArgs(good, quick, sshd.hashedKnownHosts));
      expect(hashed.code, hashed.stderr).toBe(0);
      expect(readFileSync(sshd.hashedKnownHosts, 'utf8')).toMatch(/^\|1\|/);

      const tofuFile = join(work, 'known_hosts.tofu');
      copyFileSync(sshd.otherHostKnownHosts, tofuFile);
      const first = await run(sshArgs(good, [...quick, '--accept-new-host-key'], tofuFile));
      expect(first.code, first.stderr).toBe(0);
      expect(readFileSync(tofuFile, 'utf8').trim().split('\n').at(-1)).toMatch(/^\|1\|[^ ]+ ssh-ed25519 /);
      const again = await run(sshArgs(good, quick, tofuFile));
      expect(again.code, again.stderr).toBe(0);
      // a changed key is never trusted, flag or not
      const stillChanged = await run(sshArgs(good, [...quick, '--accept-new-host-key'], sshd.wrongKnownHosts));
      expect(stillChanged.code).toBe(2);
      expect(stillChanged.stderr).toMatch(/CHANGED/);
    });

    it('a connection dropped in the middle of a transfer is exit 3 (could not run), never a pass; nothing is left behind', async () => {
      const proxy = await startCuttingProxy(sshd.port, 2 * 1024 * 1024);
      try {
        const cut = await run(sshArgs(big, ['--deep', '--atocore-validator', 'none'], sshd.knownHostsForPort(proxy.port), proxy.port));
        expect(cut.code, cut.stdout + cut.stderr).toBe(3);
        expect(proxy.cuts()).toBe(1);
        expect(cut.report!.verdict).toBe('error');
        expect(cut.report!.steps.find((s) => s.id === 'snapshots')).toMatchObject({ status: 'error' });
        expect(cut.report!.error).toMatch(/streaming .*atocore\.db|connection|closed|lost/i);
        expect(cut.report!.checks.find((c) => c.id === 'rpo.fresh')).toMatchObject({ status: 'skip' });
        expect(readdirSync(join(work, 'tmp')).filter((name) => name.startsWith('atocore-drill-'))).toEqual([]);
      } finally {
        await proxy.stop();
      }
    });

    it('a link that hangs in the middle of a transfer is exit 3 within the --timeout budget', async () => {
      const proxy = await startCuttingProxy(sshd.port, 2 * 1024 * 1024, 'stall');
      try {
        const began = Date.now();
        const hung = await run(sshArgs(big, ['--deep', '--atocore-validator', 'none', '--timeout', '8s'], sshd.knownHostsForPort(proxy.port), proxy.port));
        expect(hung.code, hung.stdout + hung.stderr).toBe(3);
        expect(proxy.cuts()).toBe(1);
        expect(Date.now() - began).toBeLessThan(40_000);
        expect(hung.report!.error).toMatch(/stalled|timed out|no channel within|keepalive/i);
      } finally {
        await proxy.stop();
      }
    });

    it('SIGINT during a hung transfer ends the run at once: exit 3, the report says interrupted, nothing left behind', async () => {
      const proxy = await startCuttingProxy(sshd.port, 2 * 1024 * 1024, 'stall');
      const tmp = mkdtempSync(join(work, 'sigint-'));
      const reportFile = join(work, 'sigint.json');
      try {
        const args = [...sshArgs(big, ['--deep', '--atocore-validator', 'none'], sshd.knownHostsForPort(proxy.port), proxy.port), '--report-json', reportFile];
        const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
        const deadline = Date.now() + 30_000;
        while (proxy.cuts() === 0) {
          if (Date.now() > deadline) throw new Error(`the transfer never started:\n${out}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const interrupted = Date.now();
        child.kill('SIGINT');
        const code = await closed;
        expect(code, out).toBe(3);
        expect(Date.now() - interrupted, out).toBeLessThan(5_000);
        expect(readReport(reportFile)).toMatchObject({ verdict: 'error' });
        expect(readReport(reportFile).error).toMatch(/interrupted by SIGINT/);
        expect(readdirSync(tmp)).toEqual([]);
      } finally {
        await proxy.stop();
      }
    });

    it('a host that never answers the handshake is exit 3 after --connect-timeout; a closed port at once', async () => {
      const silent = await startSilentServer();
      try {
        const began = Date.now();
        const hung = await run(sshArgs(good, ['--connect-timeout', '2s'], sshd.knownHostsForPort(silent.port), silent.port));
        expect(hung.code).toBe(3);
        expect(Date.now() - began).toBeLessThan(20_000);
        expect(hung.report!.error).toMatch(/no SSH handshake within 2\.0s/);
      } finally {
        await silent.stop();
      }
      const refused = await run(sshArgs(good, [], sshd.knownHostsForPort(1), 1));
      expect(refused.code).toBe(3);
      expect(refused.report!.error).toMatch(/ECONNREFUSED/);
    });

    it('the key from $ATOCORE_DRILL_SSH_KEY works and appears nowhere: not in the output, not in any report', async () => {
      const key = readFileSync(sshd.identityFile, 'utf8');
      const args = sshArgs(good, ['--stamp', '20260408T060000Z', '--atocore-validator', 'none']).filter((a, i, all) => a !== '--identity' && all[i - 1] !== '--identity');
      const junit = join(work, 'secret.xml');
      const summary = join(work, 'secret.md');
      const result = await run([...args, '--junit', junit, '--summary', summary], { ATOCORE_DRILL_SSH_KEY: key });
      expect(result.code, result.stderr).toBe(0);
      expect(result.report!.target.identity).toBe('the key in $ATOCORE_DRILL_SSH_KEY');
      const body = key.split('\n').filter((line) => line && !line.startsWith('-----')).join('');
      const everything = [result.stdout, result.stderr, result.reportText, readFileSync(junit, 'utf8'), readFileSync(summary, 'utf8')].join('\n');
      for (let i = 0; i + 16 <= body.length; i += 16) expect(everything).not.toContain(body.slice(i, i + 16));

      // a key the host does not accept is named by where it came from, still without its content
      const stranger = join(work, 'stranger');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
      const refused = await run(sshArgs(good, ['--atocore-validator', 'none']).map((a) => (a === sshd.identityFile ? stranger : a)));
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(new RegExp(`--identity ${stranger}: atocore-drill-ro@127\\.0\\.0\\.1:\\d+ refused the key`));
      expect(refused.stderr).not.toContain(readFileSync(stranger, 'utf8').split('\n')[1]!.slice(0, 20));
    });

    it('a remote command that hangs without a byte of output is cut at its bound: exit 3 within --timeout, the validator check skip, nothing left running on the host', async () => {
      const slow = join(work, 'silent-validator.sh');
      writeFileSync(slow, '#!/bin/sh\nexec sleep 300\n');
      chmodSync(slow, 0o755);
      const running = (): string => {
        try {
          return execFileSync('pgrep', ['-u', sshd.user, '-f', 'sleep 300'], { encoding: 'utf8' });
        } catch {
          return '';
        }
      };
      const began = Date.now();
      const silent = await run(sshArgs(good, ['--stamp', '20260408T060000Z', '--timeout', '8s', '--atocore-validator', `${slow} {stamp}`]));
      // the host's own `timeout` (its KILL included) is computed from what is left of the run's
      // budget when the command is sent: it has ended the command by the time the run has exited
      expect(running()).toBe('');
      expect(silent.code, silent.stdout + silent.stderr).toBe(3);
      expect(Date.now() - began).toBeLessThan(15_000);
      const validator = silent.report!.snapshots.find((s) => s.stamp === '20260408T060000Z')!.checks.find((c) => c.id === 'snapshot.atocore_validate')!;
      expect(validator.status).toBe('skip');
      expect(validator.message).toMatch(/timed out after/);
      expect(silent.report!.steps.find((s) => s.id === 'atocore_validate')).toMatchObject({ status: 'error' });
      const sent = /^timeout -k (\d+(?:\.\d)?) (\d+(?:\.\d)?) '.*silent-validator\.sh' '20260408T060000Z'$/.exec(sshd.commands().at(-1) ?? '');
      expect(sent, sshd.commands().at(-1)).not.toBeNull();
      // TERM and KILL both within the 8 s budget, less what the run had spent before sending it
      expect(Number(sent![1]) + Number(sent![2])).toBeLessThan(8);
    });

    it('special files, stray WALs and links on the host: the same findings as --dir, nothing special ever read', async () => {
      const hostile = join(trees, 'hostile');
      buildSnapshotTree(hostile, {
        snapshots: [
          { stamp: '20260405T060000Z' as never, kind: 'good' },
          { stamp: '20260406T060000Z' as never, kind: 'good' },
          { stamp: '20260407T060000Z' as never, kind: 'empty-wal' },
          { stamp: '20260408T060000Z' as never, kind: 'stray-wal' },
        ],
      });
      execFileSync('mkfifo', [join(hostile, 'backups/snapshots/20260406T060000Z/db/atocore.db-wal')]);
      // a sparse 8 GiB database whose metadata agrees: mostly holes, judged from the listing, never streamed
      const sparse = join(hostile, 'backups/snapshots/20260405T060000Z');
      truncateSync(join(sparse, 'db/atocore.db'), 8 * 1024 ** 3);
      const metadata = JSON.parse(readFileSync(join(sparse, 'backup-metadata.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(sparse, 'backup-metadata.json'), JSON.stringify({ ...metadata, db_size_bytes: 8 * 1024 ** 3 }));
      symlinkSync('/etc/passwd', join(hostile, 'backups/snapshots/20260407T060000Z/db/atocore.db-journal'));
      // a name that is not UTF-8: listed and reported the same both ways, never read
      writeFileSync(Buffer.concat([Buffer.from(join(hostile, 'backups/snapshots/20260408T060000Z/db/')), Buffer.from([0xff, 0x41])]), 'x');
      makeReadableByAll(trees);
      sshd.clearCommands();
      const ssh = await run(sshArgs(hostile, ['--deep', '--timeout', '20s', '--atocore-validator', 'none']));
      expect(ssh.code, ssh.stdout + ssh.stderr).toBe(1);
      const dir = await run(['validate', '--dir', hostile, '--now', FIXTURE_NOW, '--timeout', '20s']);
      expect(dir.code).toBe(1);
      expect(verdicts(ssh.report!)).toEqual(verdicts(dir.report!));
      expect(snapshotFindings(ssh.report!, '20260406T060000Z').fails).toEqual(['snapshot.file_types', 'snapshot.sidecars']);
      expect(snapshotFindings(ssh.report!, '20260407T060000Z').fails).toEqual(['snapshot.paths', 'snapshot.sidecars']);
      expect(snapshotFindings(ssh.report!, '20260408T060000Z').fails).toEqual(['snapshot.sidecars']);
      const paths = (report: DrillReport): string => report.snapshots.find((x) => x.stamp === '20260408T060000Z')!.checks.find((c) => c.id === 'snapshot.paths')!.message;
      expect(paths(ssh.report!)).toContain('"db/\\\\xffA"');
      expect(paths(ssh.report!)).toBe(paths(dir.report!));
      expect(snapshotFindings(ssh.report!, '20260405T060000Z').warns).toContain('snapshot.integrity');
      expect(sshd.commands().filter((c) => / cat -- /.test(c) && c.includes('20260405T060000Z'))).toEqual([]);
      // the stray WAL's head is read (to count its frames); the FIFO and the link never are
      const reads = sshd.commands().filter((c) => / (head|cat|sha256sum) /.test(c));
      expect(reads.some((c) => c.includes('20260408T060000Z/db/atocore.db-wal'))).toBe(true);
      expect(reads.filter((c) => c.includes('20260406T060000Z/db/atocore.db-wal') || c.includes('atocore.db-journal'))).toEqual([]);
    });

    it('the ledger is the same whichever way the snapshots were read, and an off-host copy over SSH shares the one connection', async () => {
      const ledger = join(work, 'shared-ledger.json');
      const viaSsh = await run(sshArgs(good, ['--deep', '--ledger', ledger, '--atocore-validator', 'none']));
      expect(viaSsh.code).toBe(0);
      const viaDir = await run(['validate', '--dir', good, '--now', FIXTURE_NOW, '--ledger', ledger]);
      expect(viaDir.code).toBe(0);
      expect(viaDir.report!.snapshots.every((s) => s.checks.find((c) => c.id === 'snapshot.immutable')!.message.startsWith('all '))).toBe(true);

      const copy = join(trees, 'offhost');
      cpSync(join(good, 'backups'), join(copy, 'backups'), { recursive: true });
      writeFileSync(join(copy, 'backups/snapshots/20260408T060000Z/backup-metadata.json'), readFileSync(join(good, 'backups/snapshots/20260408T060000Z/backup-metadata.json'), 'utf8').replace('"validated": true', '"validated": false'));
      makeReadableByAll(copy);
      const connectionsBefore = sshd.connections();
      const offhost = await run(sshArgs(good, ['--atocore-validator', 'none', '--offhost', `${sshd.user}@127.0.0.1:${sshd.port}:${copy}`]));
      expect(sshd.connections() - connectionsBefore).toBe(1);
      expect(offhost.code).toBe(1);
      expect(offhost.report!.checks.find((c) => c.id === 'offhost.copy')).toMatchObject({ status: 'fail', evidence: { differing: [expect.objectContaining({ path: 'backup-metadata.json' })] } });
      rmSync(copy, { recursive: true });
    });
  });
});
