/**
 * `validate --profile jellycore --ssh`: real JellyCore backups read over a real OpenSSH sshd
 * on loopback by a read-only user, with the same verdicts as `--dir`, only the fixed
 * commands sent, nothing written.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport } from '../src/report/model.js';
import { readReport, runCli } from './support/cli.js';
import { describeNeeding, sshdStatus } from './support/infra.js';
import { plantBackups, readableByAll, sixHourly, startJellyCoreStack, type JellyCoreStack } from './support/jellycore-backups.js';
import { startCuttingProxy, startSshd, type SshFixture } from './support/ssh-server.js';

const NEWEST_MS = Date.parse('2026-11-29T06:00:00Z');
const NOW = '2026-11-29T07:00:00Z';

/** Every command a JellyCore validation may send (src/remote/commands.ts), each under the host's `timeout`. */
const ALLOWED_COMMANDS: readonly RegExp[] = [
  /^LC_ALL=C timeout -k \d+(\.\d)? \d+(\.\d)? find -H '[^']+' -maxdepth 0 -printf '%y\\0%p\\0'$/,
  /^LC_ALL=C timeout -k \d+(\.\d)? \d+(\.\d)? find -H '[^']+' -mindepth 1( -maxdepth 1)? -printf '%y\\0%s\\0%T@\\0%l\\0%b\\0%P\\0'$/,
  /^LC_ALL=C timeout -k \d+(\.\d)? \d+(\.\d)? head -c \d+ -- '[^']+'$/,
  /^LC_ALL=C timeout -k \d+(\.\d)? \d+(\.\d)? cat -- '[^']+'$/,
  /^LC_ALL=C timeout -k \d+(\.\d)? \d+(\.\d)? df -Pk -- '[^']+'$/,
];

/** Everything a write would change in a tree; FIFOs are lstat'ed, never opened (that would block). */
function manifest(root: string): Record<string, string> {
  const seen: Record<string, string> = {};
  const walk = (relative: string): void => {
    const full = relative === '' ? root : join(root, relative);
    const stats = lstatSync(full, { bigint: true });
    let line = `${stats.mode.toString(8)} ${stats.size} m${stats.mtimeNs} c${stats.ctimeNs}`;
    if (stats.isSymbolicLink()) line += ` -> ${readlinkSync(full)}`;
    else if (stats.isFile()) line += ` ${createHash('sha256').update(readFileSync(full)).digest('hex')}`;
    seen[relative === '' ? '.' : relative] = line;
    if (stats.isDirectory()) for (const name of readdirSync(full).sort()) walk(relative === '' ? name : `${relative}/${name}`);
  };
  walk('');
  return seen;
}

describeNeeding('an OpenSSH sshd on loopback', sshdStatus())('validate --profile jellycore --ssh', () => {
  let work: string;
  let trees: string;
  let good: string;
  let bad: string;
  let big: string;
  let stack: JellyCoreStack;
  let sshd: SshFixture;
  const names = sixHourly(NEWEST_MS, 7);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'atocore-drill-validate-jellycore-ssh-'));
    chmodSync(work, 0o755);
    stack = await startJellyCoreStack(join(work, 'stack'));
    const corrected = stack.backup('corrected');
    stack.stop();
    trees = join(work, 'trees');
    good = join(trees, 'good');
    bad = join(trees, 'bad');
    big = join(trees, 'big');
    plantBackups(good, corrected, names);
    const dirs = plantBackups(bad, corrected, names);
    const fd = openSync(join(dirs[4]!, 'oracle.db'), 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xab), 0, 4096, 4096);
    closeSync(fd);
    const knowledge = join(dirs[8]!, 'knowledge.tar.gz');
    truncateSync(knowledge, Math.floor(statSync(knowledge).size / 2));
    rmSync(join(dirs[12]!, 'chromadb'), { recursive: true });
    symlinkSync('/etc', join(dirs[12]!, 'chromadb'));
    rmSync(join(dirs[16]!, 'nanoclaw.db'));
    execFileSync('mkfifo', [join(dirs[16]!, 'nanoclaw.db')]);
    rmSync(join(dirs[20]!, '.ipc-secret'));
    // megabytes that are not gzip: the read stops at the first chunk, the remote cat is ended early
    writeFileSync(join(dirs[24]!, 'auth.tar.gz'), randomBytes(3 * 1024 * 1024));
    // a knowledge tarball of some megabytes, still streaming when a connection is cut
    const bulky = join(work, 'bulky');
    mkdirSync(bulky);
    writeFileSync(join(bulky, 'random.bin'), randomBytes(6 * 1024 * 1024));
    const [bigDir] = plantBackups(big, corrected, [names.at(-1)!]);
    execFileSync('tar', ['czf', join(bigDir!, 'knowledge.tar.gz'), '-C', bulky, '.']);
    readableByAll(trees);
    mkdirSync(join(work, 'tmp'));
    sshd = await startSshd(join(work, 'ssh'));
  }, 180_000);

  /** tmpfs mounted by the tests, unmounted before the work directory goes */
  const mounts: string[] = [];

  afterAll(async () => {
    stack?.stop();
    await sshd?.stop();
    for (const mount of mounts) execFileSync('umount', ['-l', mount], { stdio: 'ignore' });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const sshArgs = (root: string, extra: readonly string[] = [], port = sshd.port, knownHosts = sshd.knownHosts): string[] => [
    'validate', '--profile', 'jellycore', '--ssh', sshd.address(port), '--known-hosts', knownHosts, '--identity', sshd.identityFile, '--root', root, '--now', NOW, ...extra,
  ];

  async function run(args: readonly string[]): Promise<{ code: number | null; report: DrillReport | null; stdout: string; stderr: string }> {
    const reportFile = join(work, `report-${Math.random().toString(36).slice(2)}.json`);
    const result = await runCli([...args, '--report-json', reportFile], { env: { TMPDIR: join(work, 'tmp') }, timeoutMs: 120_000 });
    return { ...result, report: existsSync(reportFile) ? readReport(reportFile) : null };
  }

  const verdicts = (report: DrillReport): Record<string, Record<string, string>> =>
    Object.fromEntries(report.snapshots.map((s) => [s.stamp, { status: s.status, ...Object.fromEntries(s.checks.map((c) => [c.id, c.status])) }]));
  const overall = (report: DrillReport): Record<string, string> => Object.fromEntries(report.checks.map((c) => [c.id, c.status]));

  it('a week of good backups passes over SSH, with the same verdicts as --dir, on one connection', async () => {
    const before = sshd.connections();
    const ssh = await run(sshArgs(good));
    expect(ssh.code, ssh.stdout + ssh.stderr).toBe(0);
    expect(ssh.report!.verdict).toBe('pass');
    expect(ssh.report!.snapshots).toHaveLength(names.length);
    expect(ssh.report!.metrics.deep_checked).toBe(2 * names.length);
    expect(ssh.report!.target).toMatchObject({ profile: 'jellycore', source: 'ssh', snapshots_dir: good });
    expect(sshd.connections() - before).toBe(1);
    const dir = await run(['validate', '--profile', 'jellycore', '--dir', good, '--now', NOW]);
    expect(verdicts(ssh.report!)).toEqual(verdicts(dir.report!));
    expect(overall(ssh.report!)).toEqual(overall(dir.report!));
  }, 120_000);

  it('damaged and hostile backups fail over SSH as they do with --dir; only the fixed commands are sent and nothing is written', async () => {
    const writable = execFileSync('runuser', ['-u', sshd.user, '--', 'find', trees, '-writable', '-print', '-quit'], { encoding: 'utf8' });
    expect(writable).toBe('');
    const before = manifest(bad);
    sshd.clearCommands();
    const ssh = await run(sshArgs(bad));
    expect(ssh.code, ssh.stdout + ssh.stderr).toBe(1);
    expect(ssh.report!.steps.every((s) => s.status === 'pass')).toBe(true);
    const failing = (name: string): string[] => ssh.report!.snapshots.find((s) => s.stamp === name)!.checks.filter((c) => c.status === 'fail').map((c) => c.id).sort();
    expect(failing(names[4]!)).toEqual(['jellycore.backup.oracle_db']);
    expect(failing(names[8]!)).toEqual(['jellycore.backup.knowledge_tar']);
    expect(failing(names[12]!)).toEqual(['jellycore.backup.chromadb', 'jellycore.backup.paths']);
    expect(failing(names[16]!)).toEqual(['jellycore.backup.file_types', 'jellycore.backup.nanoclaw_db']);
    expect(failing(names[20]!)).toEqual(['jellycore.backup.ipc_secret']);
    expect(failing(names[24]!)).toEqual(['jellycore.backup.auth_tar']);
    const notGzip = ssh.report!.snapshots.find((s) => s.stamp === names[24])!.checks.find((c) => c.id === 'jellycore.backup.auth_tar')!;
    expect(notGzip.message).toMatch(/not gzip/);
    expect(notGzip.evidence.compressed_bytes).toBeLessThan(3 * 1024 * 1024);
    const dir = await run(['validate', '--profile', 'jellycore', '--dir', bad, '--now', NOW]);
    expect(verdicts(ssh.report!)).toEqual(verdicts(dir.report!));
    expect(overall(ssh.report!)).toEqual(overall(dir.report!));

    expect(manifest(bad)).toEqual(before);
    const commands = sshd.commands();
    for (const command of commands) {
      expect(ALLOWED_COMMANDS.some((pattern) => pattern.test(command)), command).toBe(true);
      for (const quoted of command.match(/'[^']*'/g)!.filter((q) => q.startsWith("'/"))) expect(quoted.startsWith(`'${bad}`), command).toBe(true);
      // the secret is never read, the link and the FIFO never opened
      for (const never of ['.ipc-secret', '/etc', `${names[12]}/chromadb/`, `${names[16]}/nanoclaw.db'`]) expect(command, command).not.toContain(never);
    }
    // each database (Chroma's catalogue too) and tarball streamed once: five a backup, less the FIFO and the linked chromadb
    expect(commands.filter((c) => / cat -- /.test(c)).length).toBe(5 * names.length - 2);
    expect(readdirSync(join(work, 'tmp')).filter((name) => name.startsWith('atocore-drill-'))).toEqual([]);
  }, 120_000);

  it('a connection cut while a tarball streams is exit 3 (could not run), never a finding; nothing is left behind', async () => {
    const proxy = await startCuttingProxy(sshd.port, 2 * 1024 * 1024);
    try {
      const cut = await run(sshArgs(big, [], proxy.port, sshd.knownHostsForPort(proxy.port)));
      expect(cut.code, cut.stdout + cut.stderr).toBe(3);
      expect(proxy.cuts()).toBe(1);
      expect(cut.report!.verdict).toBe('error');
      expect(cut.report!.error).toMatch(/connection|closed|lost|streaming/i);
      expect(cut.report!.snapshots).toEqual([]);
      expect(cut.report!.checks.find((c) => c.id === 'jellycore.rpo.fresh')).toMatchObject({ status: 'skip' });
      expect(readdirSync(join(work, 'tmp')).filter((name) => name.startsWith('atocore-drill-'))).toEqual([]);
    } finally {
      await proxy.stop();
    }
  }, 120_000);

  it('the read-only user meets a backup it cannot read: exit 3, not a finding', async () => {
    const locked = join(trees, 'locked');
    const [dir] = plantBackups(locked, join(good, names.at(-1)!), [names.at(-1)!]);
    readableByAll(locked);
    chmodSync(join(dir!, 'oracle.db'), 0o600);
    const denied = await run(sshArgs(locked));
    expect(denied.code, denied.stdout + denied.stderr).toBe(3);
    expect(denied.report!.error).toMatch(/oracle\.db/);
    expect(readFileSync(join(dir!, 'oracle.db')).length).toBeGreaterThan(0);
  }, 60_000);

  it('a backup whose listing passes the SSH bound (its bytes) fails its paths check naming it; the others are read on the same connection', async () => {
    const disk = join(trees, 'long-names');
    mkdirSync(disk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', disk]);
    mounts.push(disk);
    chmodSync(disk, 0o755);
    const root = join(disk, 'backups');
    const dirs = plantBackups(root, join(good, names.at(-1)!), names.slice(-4));
    // 16000 entries whose paths are 3500 bytes long: more than 200000 × 256 bytes of listing
    let deep = join(dirs.at(-1)!, 'chromadb');
    for (let i = 0; i < 13; i++) deep = join(deep, `${String(i).padStart(2, '0')}${'d'.repeat(248)}`);
    mkdirSync(deep, { recursive: true });
    for (let i = 0; i < 16_000; i++) closeSync(openSync(join(deep, `${String(i).padStart(5, '0')}${'f'.repeat(245)}`), 'w'));
    readableByAll(root);
    const before = sshd.connections();
    const over = await run(sshArgs(root));
    expect(over.report!.steps.every((s) => s.status === 'pass'), over.stdout + over.stderr).toBe(true);
    const refused = over.report!.snapshots.find((s) => s.stamp === names.at(-1))!;
    expect(refused.checks.map((c) => `${c.id} ${c.status}`)).toEqual(['jellycore.backup.paths fail']);
    expect(refused.checks[0]!.message).toMatch(/is larger than the harness lists: more than 51200000 bytes of listing \(200000 entries of 256 bytes\)/);
    expect(`${over.stdout}${over.stderr}${JSON.stringify(over.report)}`).not.toMatch(/AtoCore/);
    for (const name of names.slice(-4, -1)) expect(over.report!.snapshots.find((s) => s.stamp === name)!.status, name).toBe('pass');
    expect(sshd.connections() - before).toBe(1);
  }, 120_000);

  it("an old backup renamed to the newest name counts from its files' times over SSH as with --dir: the times find prints are read", async () => {
    const root = join(trees, 'renamed');
    const recent = names.slice(-5);
    const dirs = plantBackups(root, join(good, names.at(-1)!), recent);
    // what each run writes anew, dated a minute after its name (fractions of a second: both listings round alike)
    const written = ['nanoclaw.db', 'oracle.db', 'knowledge.tar.gz', 'auth.tar.gz', 'chromadb-collections.json'];
    recent.forEach((name, i) => execFileSync('touch', ['-d', `@${(nameMs(name) + 60_000) / 1000}.123456789`, ...written.map((f) => join(dirs[i]!, f))]));
    readableByAll(root);
    const fresh = await run(sshArgs(root));
    expect(fresh.report!.checks.find((c) => c.id === 'jellycore.rpo.fresh'), fresh.stdout + fresh.stderr).toMatchObject({ status: 'pass', evidence: { newest_usable_counted_from: 'name' } });
    // the newest replaced by the oldest, moved into its place (mv keeps its files' times)
    rmSync(dirs.at(-1)!, { recursive: true });
    execFileSync('mv', [dirs[0]!, dirs.at(-1)!]);
    const ssh = await run(sshArgs(root));
    const rpo = ssh.report!.checks.find((c) => c.id === 'jellycore.rpo.fresh')!;
    expect(rpo.status, ssh.stdout + ssh.stderr).toBe('fail');
    expect(rpo.message).toMatch(new RegExp(`^the newest usable backup, ${recent.at(-2)}, is 7h00m old \\(RPO 6h00m\\); ${recent.at(-1)} \\(counted from its files' times, newest 2026-11-28T06:01:00\\.123Z, 23h59m before its name: a renamed directory\\?\\) counts as older than ${recent.at(-2)}`));
    expect(rpo.evidence.counted_from_files).toEqual([{ backup: recent.at(-1), named_at: '2026-11-29T06:00:00.000Z', files_written_at: '2026-11-28T06:01:00.123Z' }]);
    expect(ssh.report!.metrics.rpo_s).toBe(7 * 3600);
    const dir = await run(['validate', '--profile', 'jellycore', '--dir', root, '--now', NOW]);
    expect(dir.report!.checks.find((c) => c.id === 'jellycore.rpo.fresh')).toEqual(rpo);
    expect(overall(ssh.report!)).toEqual(overall(dir.report!));
  }, 120_000);

  it('a backup being written that the read-only user cannot list yet (umask 077): in progress within 30 minutes of its name, exit 3 after', async () => {
    const root = join(trees, 'writing');
    plantBackups(root, join(good, names.at(-1)!), names.slice(-4));
    readableByAll(root);
    const partialName = backupNameAt(NEWEST_MS + 6 * 60_000);
    const partial = join(root, partialName);
    mkdirSync(partial, { mode: 0o700 });
    writeFileSync(join(partial, 'nanoclaw.db'), readFileSync(join(good, names.at(-1)!, 'nanoclaw.db')));
    chmodSync(partial, 0o700);
    const at = (minutes: number): string[] => sshArgs(root).map((arg) => (arg === NOW ? new Date(NEWEST_MS + minutes * 60_000).toISOString() : arg));
    const during = await run(at(7));
    // the week is short (retention fails); what matters: no error, and the partial backup is its own skip
    expect(during.report!.steps.every((s) => s.status === 'pass'), during.stdout + during.stderr).toBe(true);
    const finding = during.report!.snapshots.find((s) => s.stamp === partialName)!;
    expect(finding.checks.map((c) => `${c.id} ${c.status}`)).toEqual(['jellycore.backup.in_progress skip']);
    expect(finding.checks[0]!.message).toMatch(/its listing failed twice \(.*Permission denied/);
    expect(overall(during.report!)['jellycore.rpo.fresh']).toBe('pass');
    const after = await run(at(6 + 31));
    expect(after.code, after.stdout + after.stderr).toBe(3);
    expect(after.report!.error).toContain(partialName);
    // that backup is not judged (the harness's trouble); every other one is, and the overall checks see them
    const unlisted = after.report!.snapshots.find((s) => s.stamp === partialName)!;
    expect(unlisted, JSON.stringify({ error: after.report!.error, steps: after.report!.steps.map((s) => `${s.id} ${s.status}`), stamps: after.report!.snapshots.map((s) => s.stamp) })).toBeDefined();
    expect(unlisted.checks.map((c) => `${c.id} ${c.status}`)).toEqual(['jellycore.backup.paths skip']);
    expect(unlisted.checks[0]!.message).toMatch(/not judged: the harness could not list the backup .*Permission denied/);
    expect(after.report!.snapshots.filter((s) => s.stamp !== partialName).every((s) => s.checks.length > 3)).toBe(true);
    // it never counts as a restore point: freshness goes by the backups that were judged
    expect(after.report!.checks.find((c) => c.id === 'jellycore.rpo.fresh')!.evidence.newest_usable).not.toBe(partialName);
    expect(after.report!.checks.map((c) => c.status)).not.toContain('error');
  }, 60_000);
});

/** `YYYYMMDD_HHMMSS` for a UTC instant. */
function backupNameAt(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '_');
}

/** The UTC instant a `YYYYMMDD_HHMMSS` name stands for. */
function nameMs(name: string): number {
  return Date.UTC(Number(name.slice(0, 4)), Number(name.slice(4, 6)) - 1, Number(name.slice(6, 8)), Number(name.slice(9, 11)), Number(name.slice(11, 13)), Number(name.slice(13, 15)));
}
