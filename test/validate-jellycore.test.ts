/**
 * `validate --profile jellycore --dir`: real JellyCore backups, made by the fixture's backup
 * scripts against its stand-ins (started once for the file), copied under the names a week
 * of 6-hourly runs would have, then damaged one part at a time.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, statfsSync, symlinkSync, truncateSync, writeFileSync, writeSync, closeSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport } from '../src/report/model.js';
import { readReport, runCli, startCli } from './support/cli.js';
import { backupName, JELLYCORE_FIXTURE, plantBackups, sixHourly, startJellyCoreStack, type JellyCoreStack } from './support/jellycore-backups.js';

const NEWEST_MS = Date.parse('2026-11-29T06:00:00Z');
/** an hour after the newest backup */
const NOW = '2026-11-29T07:00:00Z';

let work: string;
let stack: JellyCoreStack;
/** tmpfs mounted by the tests (root only), unmounted at the end */
const mounts: string[] = [];
/** one real backup made by the corrected script */
let corrected: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'atocore-drill-validate-jellycore-'));
  stack = await startJellyCoreStack(join(work, 'stack'));
  corrected = stack.backup('corrected');
}, 120_000);

afterAll(() => {
  for (const mount of mounts) execFileSync('umount', ['-l', mount], { stdio: 'ignore' });
  stack?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function validate(args: readonly string[], timeoutMs = 120_000): Promise<{ code: number | null; report: DrillReport | null; stdout: string; stderr: string }> {
  const reportFile = join(work, `report-${Math.random().toString(36).slice(2)}.json`);
  const result = await runCli(['validate', '--profile', 'jellycore', ...args, '--report-json', reportFile], { env: { TMPDIR: work }, timeoutMs });
  return { ...result, report: existsSync(reportFile) ? readReport(reportFile) : null };
}

/** Per backup, the ids of its failing and warning checks. */
function findings(report: DrillReport, name: string): { fails: string[]; warns: string[] } {
  const checks = report.snapshots.find((s) => s.stamp === name)?.checks ?? [];
  return { fails: checks.filter((c) => c.status === 'fail').map((c) => c.id).sort(), warns: checks.filter((c) => c.status === 'warn').map((c) => c.id).sort() };
}

function overall(report: DrillReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
}

/**
 * Dates a backup's files as its run leaves them (`touch -d`): what the run writes anew a
 * minute after its name's time, Chroma's copy (`cp -a`) and the secret (`cp -p`) a month
 * older, keeping the times they had.
 */
function dateLikeItsRun(dir: string, name: string): void {
  const named = Date.UTC(Number(name.slice(0, 4)), Number(name.slice(4, 6)) - 1, Number(name.slice(6, 8)), Number(name.slice(9, 11)), Number(name.slice(11, 13)), Number(name.slice(13, 15)));
  const at = (ms: number): string => `@${Math.floor(ms / 1000)}`;
  execFileSync('touch', ['-d', at(named + 60_000), ...['nanoclaw.db', 'oracle.db', 'knowledge.tar.gz', 'auth.tar.gz', 'chromadb-collections.json'].map((f) => join(dir, f))]);
  execFileSync('find', [join(dir, 'chromadb'), join(dir, '.ipc-secret'), '-exec', 'touch', '-h', '-d', at(named - 30 * 86_400_000), '{}', '+']);
}

function checkOf(report: DrillReport, name: string, id: string) {
  return report.snapshots.find((s) => s.stamp === name)!.checks.find((c) => c.id === id)!;
}

describe('validate --profile jellycore --dir', () => {
  it('a week of good corrected backups every 6 hours passes, latest and lost+found beside them', async () => {
    const root = join(work, 'good');
    const names = sixHourly(NEWEST_MS, 7);
    plantBackups(root, corrected, names);
    mkdirSync(join(root, 'lost+found'));
    const run = await validate(['--dir', root, '--now', NOW]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = run.report!;
    expect(report.verdict).toBe('pass');
    expect(report.kind).toBe('validate');
    expect(report.snapshots).toHaveLength(names.length);
    expect(report.target).toMatchObject({ profile: 'jellycore', backup_stamp: '20261129_060000', backup_time: '2026-11-29T06:00:00.000Z', stamp_timezone: 'UTC', retention: '7d', rpo: '6h00m' });
    expect(overall(report)).toEqual({
      'jellycore.backups.listing': 'pass',
      'jellycore.backups.future': 'pass',
      'jellycore.rpo.fresh': 'pass',
      'jellycore.retention.policy': 'pass',
      'jellycore.disk.headroom': 'pass',
    });
    for (const snapshot of report.snapshots) expect(snapshot.checks.map((c) => `${c.id} ${c.status}`)).toEqual([
      'jellycore.backup.paths pass',
      'jellycore.backup.file_types pass',
      'jellycore.backup.nanoclaw_db pass',
      'jellycore.backup.oracle_db pass',
      'jellycore.backup.knowledge_tar pass',
      'jellycore.backup.auth_tar pass',
      'jellycore.backup.chromadb pass',
      'jellycore.backup.collections pass',
      'jellycore.backup.ipc_secret pass',
    ]);
    expect(report.metrics).toMatchObject({ rpo_s: 3600, snapshots: names.length, inspected: names.length, deep_checked: 2 * names.length });
    // the marker written before the backup is in the collection list the backup saved
    expect(checkOf(report, names.at(-1)!, 'jellycore.backup.collections').evidence.names).toContain('drill-marker-A');
    expect(run.stdout).toMatch(/verdict: PASS/);
  }, 120_000);

  it('each damaged part is its own finding, and nothing else is', async () => {
    const root = join(work, 'bad');
    const names = sixHourly(NEWEST_MS, 7);
    const dirs = plantBackups(root, corrected, names);
    const damage: Record<string, { fails: string[]; warns: string[] }> = {};
    const at = (index: number, id: string): string => {
      damage[names[index]!] = { fails: [id], warns: [] };
      return dirs[index]!;
    };
    // a page of the Oracle's database overwritten: the header is still SQLite's
    const oracle = join(at(3, 'jellycore.backup.oracle_db'), 'oracle.db');
    const fd = openSync(oracle, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xab), 0, 4096, 4096);
    closeSync(fd);
    const knowledge = join(at(6, 'jellycore.backup.knowledge_tar'), 'knowledge.tar.gz');
    truncateSync(knowledge, Math.floor(statSync(knowledge).size / 2));
    writeFileSync(join(at(9, 'jellycore.backup.auth_tar'), 'auth.tar.gz'), 'not gzip at all\n');
    const chroma = join(at(12, 'jellycore.backup.chromadb'), 'chromadb');
    rmSync(chroma, { recursive: true });
    mkdirSync(chroma);
    writeFileSync(join(at(15, 'jellycore.backup.collections'), 'chromadb-collections.json'), '[{"name": "jellycore-knowledge"},');
    rmSync(join(at(18, 'jellycore.backup.ipc_secret'), '.ipc-secret'));
    // the NanoClaw database cut short by a page: its header counts more pages than the file holds
    const nanoclaw = join(at(21, 'jellycore.backup.nanoclaw_db'), 'nanoclaw.db');
    truncateSync(nanoclaw, statSync(nanoclaw).size - 4096);
    // the Oracle's database where NanoClaw's belongs: sound, but not NanoClaw's
    const swapped = at(24, 'jellycore.backup.nanoclaw_db');
    copyFileSync(join(swapped, 'oracle.db'), join(swapped, 'nanoclaw.db'));

    const run = await validate(['--dir', root, '--now', NOW]);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.report, run.stdout + run.stderr).not.toBeNull();
    const report = run.report!;
    expect(report.verdict).toBe('fail');
    expect(report.steps.every((s) => s.status === 'pass')).toBe(true);
    for (const name of names) expect(findings(report, name), name).toEqual(damage[name] ?? { fails: [], warns: [] });
    expect(checkOf(report, names[3]!, 'jellycore.backup.oracle_db').message).toMatch(/integrity_check|malformed/);
    expect(checkOf(report, names[6]!, 'jellycore.backup.knowledge_tar').message).toMatch(/truncated/);
    expect(checkOf(report, names[9]!, 'jellycore.backup.auth_tar').message).toMatch(/not gzip/);
    expect(checkOf(report, names[12]!, 'jellycore.backup.chromadb').message).toMatch(/holds no file/);
    expect(checkOf(report, names[15]!, 'jellycore.backup.collections').message).toMatch(/not valid JSON/);
    expect(checkOf(report, names[18]!, 'jellycore.backup.ipc_secret').message).toMatch(/missing/);
    expect(checkOf(report, names[21]!, 'jellycore.backup.nanoclaw_db').message).toMatch(/truncated/);
    expect(checkOf(report, names[24]!, 'jellycore.backup.nanoclaw_db').message).toMatch(/not its service's database: it lacks or cannot read chats, messages/);
    // the damaged backups do not count as restore points; the newest is fine, so freshness holds
    expect(overall(report)['jellycore.rpo.fresh']).toBe('pass');
    expect(overall(report)['jellycore.retention.policy']).toBe('pass');
  }, 120_000);

  it('a stale newest backup fails freshness; a history shorter than 7 days fails retention, a longer one warns', async () => {
    const root = join(work, 'stale');
    plantBackups(root, corrected, sixHourly(NEWEST_MS, 7));
    const stale = await validate(['--dir', root, '--now', '2026-11-29T13:00:00Z']);
    expect(stale.code).toBe(1);
    const rpo = stale.report!.checks.find((c) => c.id === 'jellycore.rpo.fresh')!;
    expect(rpo.status).toBe('fail');
    expect(rpo.message).toMatch(/20261129_060000, is 7h00m old \(RPO 6h00m\)/);
    expect(stale.report!.metrics.rpo_s).toBe(7 * 3600);
    // a tighter RPO given on the command line
    const tight = await validate(['--dir', root, '--now', NOW, '--rpo', '30m']);
    expect(overall(tight.report!)['jellycore.rpo.fresh']).toBe('fail');

    const short = join(work, 'short');
    plantBackups(short, corrected, sixHourly(NEWEST_MS, 2));
    const shortRun = await validate(['--dir', short, '--now', NOW]);
    expect(shortRun.code).toBe(1);
    const retention = shortRun.report!.checks.find((c) => c.id === 'jellycore.retention.policy')!;
    expect(retention.status).toBe('fail');
    expect(retention.message).toMatch(/reach back 2\.0 days .*7d are promised/);

    const long = join(work, 'long');
    plantBackups(long, corrected, sixHourly(NEWEST_MS, 10));
    const longRun = await validate(['--dir', long, '--now', NOW]);
    expect(longRun.code, longRun.stdout).toBe(0);
    const kept = longRun.report!.checks.find((c) => c.id === 'jellycore.retention.policy')!;
    expect(kept.status).toBe('warn');
    expect(kept.message).toMatch(/older than 7d are still here/);
    expect(longRun.report!.verdict).toBe('warn');
  }, 120_000);

  it("an old backup renamed (mv) to the newest name counts from its files' times, not its name: it is not fresh", async () => {
    const root = join(work, 'renamed');
    const names = sixHourly(NEWEST_MS, 7);
    const dirs = plantBackups(root, corrected, names);
    dirs.forEach((dir, i) => dateLikeItsRun(dir, names[i]!));
    // as made: every backup counts from its name, Chroma's month-old files change nothing
    const asMade = await validate(['--dir', root, '--now', NOW]);
    expect(asMade.code, asMade.stdout + asMade.stderr).toBe(0);
    expect(asMade.report!.checks.find((c) => c.id === 'jellycore.rpo.fresh')).toMatchObject({ status: 'pass', evidence: { newest_usable: names.at(-1), newest_usable_counted_from: 'name' } });
    expect(asMade.report!.metrics.rpo_s).toBe(3600);
    // the newest lost, and the backup of three days before moved into its place
    const old = names.at(-13)!;
    expect(old).toBe('20261126_060000');
    rmSync(dirs.at(-1)!, { recursive: true });
    execFileSync('mv', [join(root, old), dirs.at(-1)!]);
    const renamed = await validate(['--dir', root, '--now', NOW]);
    expect(renamed.code, renamed.stdout).toBe(1);
    const rpo = renamed.report!.checks.find((c) => c.id === 'jellycore.rpo.fresh')!;
    expect(rpo.status).toBe('fail');
    expect(rpo.message).toMatch(/^the newest usable backup, 20261129_000000, is 7h00m old \(RPO 6h00m\); 20261129_060000 \(counted from its files' times, newest 2026-11-26T06:01:00\.000Z, 71h59m before its name: a renamed directory\?\) counts as older than 20261129_000000; counting from 20261129_000000$/);
    expect(rpo.evidence).toMatchObject({ newest: '20261129_060000', newest_usable: '20261129_000000', counted_from_files: [{ backup: '20261129_060000', named_at: '2026-11-29T06:00:00.000Z', files_written_at: '2026-11-26T06:01:00.000Z' }] });
    expect(renamed.report!.metrics.rpo_s).toBe(7 * 3600);
    // alone, it is 3 days old
    const alone = join(work, 'renamed-alone');
    mkdirSync(alone);
    execFileSync('cp', ['-a', dirs.at(-1)!, join(alone, '20261129_060000')]);
    const aloneRun = await validate(['--dir', alone, '--now', NOW]);
    expect(aloneRun.report!.checks.find((c) => c.id === 'jellycore.rpo.fresh')).toMatchObject({ status: 'fail', message: expect.stringMatching(/^the newest usable backup, 20261129_060000 \(counted from its files' times.*a renamed directory\?\), is 72h59m old/) });
    expect(aloneRun.report!.metrics.rpo_s).toBe(3 * 86_400 + 59 * 60);
  }, 120_000);

  it("the plan's backups, named by the backup host's local time: in the future as UTC, fresh with --stamp-timezone", async () => {
    const plan = stack.backup('plan', { TZ: 'Asia/Bangkok' });
    const name = plan.split('/').at(-1)!;
    const root = join(work, 'plan-local');
    plantBackups(root, plan, [name], { latest: false });
    const now = new Date().toISOString();
    const asUtc = await validate(['--dir', root, '--now', now]);
    const future = asUtc.report!.checks.find((c) => c.id === 'jellycore.backups.future')!;
    expect(future.status).toBe('fail');
    expect(future.message).toMatch(/east of UTC/);
    const local = await validate(['--dir', root, '--now', now, '--stamp-timezone', 'Asia/Bangkok']);
    expect(overall(local.report!)).toMatchObject({ 'jellycore.backups.future': 'pass', 'jellycore.rpo.fresh': 'pass' });
    expect(local.report!.target.stamp_timezone).toBe('Asia/Bangkok');
    // read in Bangkok's time, the name is the backup's real time
    expect(local.report!.target.backup_stamp).toBe(name);
    expect(Math.abs(Date.parse(now) - Date.parse(String(local.report!.target.backup_time)))).toBeLessThan(10 * 60_000);
    // the same as an offset
    const offset = await validate(['--dir', root, '--now', now, '--stamp-timezone', '+07:00']);
    expect(overall(offset.report!)['jellycore.backups.future']).toBe('pass');
  }, 120_000);

  it("the plan's half-made backup (Chroma down mid-run) is caught, and the newest good one still counts", async () => {
    const root = join(work, 'half-made');
    stack.ctl('stop', 'chromadb');
    let half: { status: number | null; output: string };
    try {
      half = stack.tryBackup('plan');
    } finally {
      stack.ctl('start', 'chromadb');
    }
    expect(half.status).not.toBe(0);
    const left = readdirSync(stack.backups).filter((n) => /^\d{8}_\d{6}$/.test(n)).sort().map((n) => join(stack.backups, n)).filter((dir) => !existsSync(join(dir, 'knowledge.tar.gz')));
    expect(left).toHaveLength(1);
    const names = sixHourly(NEWEST_MS, 7);
    plantBackups(root, corrected, names.slice(0, -1));
    plantBackups(root, left[0]!, [names.at(-1)!], { latest: false });
    const run = await validate(['--dir', root, '--now', NOW]);
    expect(run.code).toBe(1);
    expect(findings(run.report!, names.at(-1)!).fails).toEqual(
      ['jellycore.backup.auth_tar', 'jellycore.backup.chromadb', 'jellycore.backup.collections', 'jellycore.backup.ipc_secret', 'jellycore.backup.knowledge_tar'].sort(),
    );
    const rpo = run.report!.checks.find((c) => c.id === 'jellycore.rpo.fresh')!;
    // the half-made one does not count; the one 6 hours before it is 7 hours old
    expect(rpo.status).toBe('fail');
    expect(rpo.evidence.newest_usable).toBe(names.at(-2));
    expect(rpo.message).toMatch(/does not count/);
  }, 120_000);

  it('hostile entries are findings, never followed or opened, and the run ends in time', async () => {
    const root = join(work, 'hostile');
    const names = sixHourly(NEWEST_MS, 7);
    const dirs = plantBackups(root, corrected, names);
    const fifo = dirs.at(-2)!;
    rmSync(join(fifo, 'oracle.db'));
    execFileSync('mkfifo', [join(fifo, 'oracle.db')]);
    const linked = dirs.at(-3)!;
    rmSync(join(linked, 'chromadb'), { recursive: true });
    symlinkSync('/etc', join(linked, 'chromadb'));
    // a tarball that is a link to a device, and a collection list that is a FIFO
    const odd = dirs.at(-4)!;
    rmSync(join(odd, 'auth.tar.gz'));
    symlinkSync('/dev/zero', join(odd, 'auth.tar.gz'));
    rmSync(join(odd, 'chromadb-collections.json'));
    execFileSync('mkfifo', [join(odd, 'chromadb-collections.json')]);
    // a backup-named link to somewhere else, a name that is not UTF-8, a stray
    symlinkSync('/etc', join(root, backupName(NEWEST_MS - 3 * 3_600_000)));
    writeFileSync(Buffer.concat([Buffer.from(`${dirs.at(-5)!}/`), Buffer.from([0x66, 0xff, 0x0a])]), 'x');
    writeFileSync(join(root, 'notes.txt'), 'manual copy\n');
    // collections nested a million deep: a list whose entry is not a collection, never a crash
    writeFileSync(join(dirs.at(-6)!, 'chromadb-collections.json'), `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`);

    const started = Date.now();
    const run = await validate(['--dir', root, '--now', NOW, '--timeout', '30s'], 60_000);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const report = run.report!;
    expect(report.steps.every((s) => s.status === 'pass')).toBe(true);
    expect(findings(report, names.at(-2)!).fails).toEqual(['jellycore.backup.file_types', 'jellycore.backup.oracle_db']);
    expect(checkOf(report, names.at(-2)!, 'jellycore.backup.oracle_db').message).toMatch(/a FIFO.*never opened/);
    expect(findings(report, names.at(-3)!).fails).toEqual(['jellycore.backup.chromadb', 'jellycore.backup.paths']);
    expect(checkOf(report, names.at(-3)!, 'jellycore.backup.chromadb').message).toMatch(/symlink to "\/etc".*never opened or followed/);
    expect(findings(report, names.at(-4)!).fails).toEqual(['jellycore.backup.auth_tar', 'jellycore.backup.collections', 'jellycore.backup.file_types', 'jellycore.backup.paths']);
    expect(findings(report, names.at(-5)!)).toEqual({ fails: [], warns: ['jellycore.backup.paths'] });
    expect(checkOf(report, names.at(-5)!, 'jellycore.backup.paths').message).toContain('\\\\xff');
    expect(findings(report, names.at(-6)!).fails).toEqual(['jellycore.backup.collections']);
    const refused = report.snapshots.find((s) => s.stamp === backupName(NEWEST_MS - 3 * 3_600_000))!;
    expect(refused.checks.map((c) => `${c.id} ${c.status}`)).toEqual(['jellycore.backup.paths fail']);
    expect(refused.checks[0]!.message).toMatch(/symlink to "\/etc".*refused/);
    expect(overall(report)['jellycore.backups.listing']).toBe('warn');
    // nothing was written into the tree
    expect(readFileSync(join(dirs.at(-5)!, '.ipc-secret')).length).toBeGreaterThan(0);
    expect(readdirSync(fifo).sort()).toEqual(readdirSync(dirs[0]!).sort());
  }, 90_000);

  it("the plan's copy of a running Chroma lacks a collection Chroma held in memory; the corrected backup's does not", async () => {
    // a collection created through Chroma's API lives in its memory until it next writes its directory
    stack.markers('write', 'B');
    const plan = stack.backup('plan');
    const corrected2 = stack.backup('corrected');
    const root = join(work, 'running-chroma');
    const names = sixHourly(NEWEST_MS, 7);
    plantBackups(root, corrected, names.slice(0, -2));
    plantBackups(root, plan, [names.at(-2)!], { latest: false });
    plantBackups(root, corrected2, [names.at(-1)!]);
    const run = await validate(['--dir', root, '--now', NOW]);
    expect(run.code, run.stdout).toBe(1);
    expect(findings(run.report!, names.at(-2)!).fails).toEqual(['jellycore.backup.chromadb']);
    const chroma = checkOf(run.report!, names.at(-2)!, 'jellycore.backup.chromadb');
    expect(chroma.message).toMatch(/not in the copy's catalogue: "drill-marker-B"/);
    expect(chroma.evidence.missing_collections).toEqual(['drill-marker-B']);
    expect(checkOf(run.report!, names.at(-2)!, 'jellycore.backup.collections').evidence.names).toContain('drill-marker-B');
    expect(findings(run.report!, names.at(-1)!)).toEqual({ fails: [], warns: [] });
    expect(checkOf(run.report!, names.at(-1)!, 'jellycore.backup.chromadb').message).toMatch(/the catalogue holds every listed collection/);
  }, 120_000);

  it('a tarball that inflates without end is bounded by --timeout and stopped by SIGINT: exit 3, never a verdict on the backup', async () => {
    // 8 GiB of zeros as one tar entry, from some megabytes of gzip members
    const root = join(work, 'bomb');
    const [dir] = plantBackups(root, corrected, [backupName(NEWEST_MS)]);
    const header = tarHeader('zeros.bin', 8 * 1024 ** 3 - 512);
    const member = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    writeFileSync(join(dir!, 'knowledge.tar.gz'), Buffer.concat([gzipSync(header), ...Array.from({ length: 128 }, () => member)]));
    const began = Date.now();
    const bounded = await validate(['--dir', root, '--now', NOW, '--timeout', '3s']);
    expect(bounded.code, bounded.stdout + bounded.stderr).toBe(3);
    expect(Date.now() - began).toBeLessThan(15_000);
    expect(bounded.report!.verdict).toBe('error');
    expect(bounded.report!.error).toMatch(/--timeout 3\.0s ran out/);
    expect(bounded.report!.snapshots).toEqual([]);
    expect(bounded.report!.checks.find((c) => c.id === 'jellycore.rpo.fresh')).toMatchObject({ status: 'skip' });

    const reportFile = join(work, 'bomb-sigint.json');
    let sent = 0;
    const interrupted = await startCli(['validate', '--profile', 'jellycore', '--dir', root, '--now', NOW, '--report-json', reportFile], (output, child) => {
      if (sent === 0 && output.includes('check each backup')) {
        sent = Date.now();
        setTimeout(() => child.kill('SIGINT'), 300);
      }
    }, { TMPDIR: work });
    expect(interrupted.code, interrupted.output).toBe(3);
    expect(Date.now() - sent).toBeLessThan(6_000);
    const report = readReport(reportFile);
    expect(report.error).toMatch(/interrupted by SIGINT/);
    expect(report.snapshots).toEqual([]);
    expect(readdirSync(work).filter((name) => name.startsWith('atocore-drill-validate-'))).toEqual([]);
  }, 60_000);

  it('bad input is exit 2 naming the field: an unknown profile, a field of AtoCore\'s, an unknown zone', async () => {
    const root = join(work, 'good');
    const unknown = await runCli(['validate', '--profile', 'nextcloud', '--dir', root], { env: { TMPDIR: work } });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--profile: "nextcloud" is not a known profile \(known: atocore, jellycore\)/);
    for (const [flags, named] of [
      [['--ledger', join(work, 'ledger.json')], '--ledger'],
      [['--atocore-validator', 'true'], '--atocore-validator'],
      [['--stamp', '20261129T060000Z'], '--stamp'],
      [['--deep'], '--deep'],
      [['--offhost', root], '--offhost'],
    ] as const) {
      const run = await runCli(['validate', '--profile', 'jellycore', '--dir', root, ...flags], { env: { TMPDIR: work } });
      expect(run.code, flags.join(' ')).toBe(2);
      expect(run.stderr).toContain(`${named} is for AtoCore's snapshots; with --profile jellycore it does not apply`);
    }
    const zone = await runCli(['validate', '--profile', 'jellycore', '--dir', root, '--stamp-timezone', 'Mars/Olympus'], { env: { TMPDIR: work } });
    expect(zone.code).toBe(2);
    expect(zone.stderr).toMatch(/--stamp-timezone: "Mars\/Olympus" is not a time zone/);
    const atocore = await runCli(['validate', '--dir', root, '--stamp-timezone', 'UTC'], { env: { TMPDIR: work } });
    expect(atocore.code).toBe(2);
    expect(atocore.stderr).toMatch(/--stamp-timezone goes with --profile jellycore/);
  }, 60_000);
});

const asRoot = process.getuid?.() === 0;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** A tmpfs of `size` mounted in the work directory (root only): a disk that really fills, and fast to fill with inodes. */
function tmpfs(name: string, size: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

/** The corrected plan's own verify.sh on one backup directory: how it ended and what it said. */
function verifySh(dir: string): { status: number | null; output: string } {
  const done = spawnSync(join(JELLYCORE_FIXTURE, 'corrected', 'verify.sh'), [dir], { encoding: 'utf8', timeout: 60_000 });
  return { status: done.status, output: `${done.stdout}${done.stderr}` };
}

function statuses(report: DrillReport, name: string): string[] {
  return report.snapshots.find((s) => s.stamp === name)!.checks.map((c) => `${c.id} ${c.status}`);
}

describe('validate --profile jellycore --dir: no weaker than the plan\'s verify.sh, one hostile backup among good ones, backups being written, sparse files', () => {
  it("an auth.tar.gz without session keys in auth/ fails, as the corrected verify.sh fails it; auth/ archived as ./auth passes", async () => {
    const root = join(work, 'auth-keys');
    const names = sixHourly(NEWEST_MS, 7);
    const dirs = plantBackups(root, corrected, names);
    // knowledge's tarball in auth's place: a sound archive holding ./drill-marker-A.md and the knowledge tree
    const swapped = dirs.at(-2)!;
    copyFileSync(join(swapped, 'knowledge.tar.gz'), join(swapped, 'auth.tar.gz'));
    // an auth/ with no file in it
    const empty = dirs.at(-3)!;
    mkdirSync(join(work, 'empty-nanoclaw', 'auth'), { recursive: true });
    execFileSync('tar', ['czf', join(empty, 'auth.tar.gz'), '-C', join(work, 'empty-nanoclaw'), 'auth']);
    // the same keys archived as ./auth: tar extracts them to the same place
    const dotted = dirs.at(-4)!;
    const keys = join(work, 'dotted-nanoclaw');
    mkdirSync(keys);
    execFileSync('tar', ['xzf', join(dotted, 'auth.tar.gz'), '-C', keys]);
    execFileSync('tar', ['czf', join(dotted, 'auth.tar.gz'), '-C', keys, './auth']);

    for (const dir of [swapped, empty]) expect(verifySh(dir)).toMatchObject({ status: 1, output: expect.stringMatching(/auth\.tar\.gz holds no session keys/) });
    for (const dir of [dotted, dirs.at(-1)!]) expect(verifySh(dir), dir).toMatchObject({ status: 0 });

    const run = await validate(['--dir', root, '--now', NOW]);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const report = run.report!;
    for (const name of names) {
      const want = name === names.at(-2) || name === names.at(-3) ? { fails: ['jellycore.backup.auth_tar'], warns: [] } : { fails: [], warns: [] };
      expect(findings(report, name), name).toEqual(want);
    }
    const auth = checkOf(report, names.at(-2)!, 'jellycore.backup.auth_tar');
    expect(auth.message).toMatch(/auth\.tar\.gz holds no session keys: no file in auth\/ .*drill-marker-A\.md.*paired again/);
    expect(auth.evidence.files_in_auth).toBe(0);
    expect(checkOf(report, names.at(-3)!, 'jellycore.backup.auth_tar').message).toMatch(/holds no session keys/);
    expect(checkOf(report, names.at(-4)!, 'jellycore.backup.auth_tar')).toMatchObject({ status: 'pass', evidence: { files_in_auth: expect.any(Number) } });
    expect(checkOf(report, names.at(-1)!, 'jellycore.backup.auth_tar').evidence.files_in_auth).toBeGreaterThan(0);
  }, 120_000);

  it('one backup of more than 200000 entries fails its paths check naming the bound; the other backups and the overall checks are judged', async () => {
    // on a tmpfs when the test may mount one: 200000 files are made in seconds there, in minutes on a busy disk
    const root = join(asRoot ? tmpfs('many-disk', '128m') : join(work, 'many-disk'), 'backups');
    const names = sixHourly(NEWEST_MS, 7);
    const dirs = plantBackups(root, corrected, names);
    // the newest backup: 200 directories of 1000 empty files in its Chroma copy (spread out: one huge directory is slow to fill)
    const many = join(dirs.at(-1)!, 'chromadb', 'm');
    for (let d = 0; d < 200; d++) {
      mkdirSync(join(many, String(d)), { recursive: true });
      for (let f = 0; f < 1000; f++) closeSync(openSync(join(many, String(d), String(f)), 'w'));
    }
    const run = await validate(['--dir', root, '--now', NOW], 240_000);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const report = run.report!;
    expect(report.verdict).toBe('fail');
    expect(report.steps.every((s) => s.status === 'pass')).toBe(true);
    expect(statuses(report, names.at(-1)!)).toEqual(['jellycore.backup.paths fail']);
    const refused = checkOf(report, names.at(-1)!, 'jellycore.backup.paths');
    expect(refused.message).toMatch(new RegExp(`the backup ${names.at(-1)!} is larger than the harness lists: more than 200000 entries \\(a JellyCore backup holds tens of entries`));
    expect(`${run.stdout}${run.stderr}${JSON.stringify(report)}`).not.toMatch(/AtoCore/);
    for (const name of names.slice(0, -1)) expect(findings(report, name), name).toEqual({ fails: [], warns: [] });
    expect(overall(report)).toEqual({
      'jellycore.backups.listing': 'pass',
      'jellycore.backups.future': 'pass',
      // the refused backup does not count: the one before it is 7 hours old
      'jellycore.rpo.fresh': 'fail',
      'jellycore.retention.policy': 'pass',
      'jellycore.disk.headroom': 'pass',
    });
    const rpo = report.checks.find((c) => c.id === 'jellycore.rpo.fresh')!;
    expect(rpo.evidence.newest_usable).toBe(names.at(-2));
    expect(rpo.message).toMatch(/does not count \(jellycore\.backup\.paths failed\)/);
    // the disk is sized by the newest backup whose listing was read
    expect(report.checks.find((c) => c.id === 'jellycore.disk.headroom')!.evidence.newest_backup).toBe(names.at(-2));
    expect(report.metrics).toMatchObject({ snapshots: names.length, inspected: names.length - 1 });
  }, 240_000);

  describe('a backup still being written', () => {
    const names = sixHourly(NEWEST_MS, 7);
    /** a good week with latest on the newest, and a directory a backup run has begun to fill, named `minutes` after the newest */
    function rootWithPartial(name: string, minutes: number, options: { latest?: boolean } = {}): { root: string; partial: string; partialName: string } {
      const root = join(work, name);
      plantBackups(root, corrected, names, options);
      const partialName = backupName(NEWEST_MS + minutes * MINUTE);
      const partial = join(root, partialName);
      mkdirSync(partial);
      copyFileSync(join(corrected, 'nanoclaw.db'), join(partial, 'nanoclaw.db'));
      return { root, partial, partialName };
    }
    const at = (minutes: number): string => new Date(NEWEST_MS + minutes * MINUTE).toISOString();
    /** a backup being written: its own skip, and what its listing shows judged */
    const IN_PROGRESS = ['jellycore.backup.in_progress skip', 'jellycore.backup.paths pass', 'jellycore.backup.file_types pass'];

    it('named minutes ago and newer than latest: its own skip, not counted, the run passes; still unfinished after the window it fails', async () => {
      const { root, partialName } = rootWithPartial('in-progress', 6);
      const run = await validate(['--dir', root, '--now', at(7)]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const report = run.report!;
      expect(report.verdict).toBe('pass');
      expect(statuses(report, partialName)).toEqual(IN_PROGRESS);
      const finding = checkOf(report, partialName, 'jellycore.backup.in_progress');
      expect(finding.message).toMatch(new RegExp(`being written, not judged: named 1m00s ago \\(newer than ${names.at(-1)!}, which latest names\\)`));
      expect(finding.evidence.not_yet_written).toEqual(['oracle.db', 'chromadb-collections.json', 'chromadb', 'knowledge.tar.gz', 'auth.tar.gz', '.ipc-secret']);
      // the console says why on the backup's own line
      expect(run.stdout).toMatch(new RegExp(`^ {4}- ${partialName}: being written, not judged`, 'm'));
      expect(overall(report)).toEqual({
        'jellycore.backups.listing': 'pass',
        'jellycore.backups.future': 'pass',
        'jellycore.rpo.fresh': 'pass',
        'jellycore.retention.policy': 'pass',
        'jellycore.disk.headroom': 'pass',
      });
      expect(report.checks.find((c) => c.id === 'jellycore.rpo.fresh')!.evidence).toMatchObject({ newest_usable: names.at(-1), being_written: [partialName] });
      expect(report.target.backup_stamp).toBe(names.at(-1));
      expect(report.metrics).toMatchObject({ snapshots: names.length + 1, inspected: names.length });
      expect(run.stdout).toMatch(/1 being written \(not judged\)/);

      // 31 minutes after its name, still unfinished: a backup that never finished fails like any broken one
      const stale = await validate(['--dir', root, '--now', at(6 + 31)]);
      expect(stale.code, stale.stdout).toBe(1);
      expect(findings(stale.report!, partialName).fails).toEqual(['jellycore.backup.auth_tar', 'jellycore.backup.chromadb', 'jellycore.backup.collections', 'jellycore.backup.ipc_secret', 'jellycore.backup.knowledge_tar', 'jellycore.backup.oracle_db']);
      const listing = stale.report!.checks.find((c) => c.id === 'jellycore.backups.listing')!;
      expect(listing).toMatchObject({ status: 'warn', message: expect.stringMatching(/latest names .* not the newest backup .*never finished/) });
      expect(stale.report!.checks.find((c) => c.id === 'jellycore.rpo.fresh')).toMatchObject({ status: 'warn', evidence: { newest_usable: names.at(-1) } });
    }, 120_000);

    it('overlapping the next 6-hourly run, the previous backup just past the RPO warns (the run started on time), never fails', async () => {
      const { root, partialName } = rootWithPartial('overlap', 6 * 60);
      const run = await validate(['--dir', root, '--now', at(6 * 60 + 2)]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.report!.verdict).toBe('warn');
      expect(statuses(run.report!, partialName)).toEqual(IN_PROGRESS);
      const rpo = run.report!.checks.find((c) => c.id === 'jellycore.rpo.fresh')!;
      expect(rpo.status).toBe('warn');
      expect(rpo.message).toMatch(new RegExp(`${names.at(-1)!}, is 6h02m old \\(RPO 6h00m\\), but the next, ${partialName}, started on time and is being written`));
      // without the run under way the same age fails
      rmSync(join(root, partialName), { recursive: true });
      const late = await validate(['--dir', root, '--now', at(6 * 60 + 2)]);
      expect(late.code).toBe(1);
      expect(overall(late.report!)['jellycore.rpo.fresh']).toBe('fail');
    }, 120_000);

    it('complete but latest not yet moved is judged as any backup; without latest (the plan) recency alone decides', async () => {
      const { root, partial, partialName } = rootWithPartial('complete-unlinked', 6);
      rmSync(partial, { recursive: true });
      plantBackups(root, corrected, [partialName], { latest: false });
      const run = await validate(['--dir', root, '--now', at(7)]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(findings(run.report!, partialName)).toEqual({ fails: [], warns: [] });
      expect(statuses(run.report!, partialName)).toHaveLength(9);
      expect(overall(run.report!)['jellycore.backups.listing']).toBe('pass');
      expect(run.report!.checks.find((c) => c.id === 'jellycore.rpo.fresh')!.evidence.newest_usable).toBe(partialName);

      const plan = rootWithPartial('no-latest', 6, { latest: false });
      const planRun = await validate(['--dir', plan.root, '--now', at(7)]);
      expect(planRun.code, planRun.stdout + planRun.stderr).toBe(0);
      expect(statuses(planRun.report!, plan.partialName)).toEqual(IN_PROGRESS);
      expect(checkOf(planRun.report!, plan.partialName, 'jellycore.backup.in_progress').message).toMatch(/the root has no latest link to a backup/);
      // what its listing shows is judged all the same: a link out of it fails now, not in 30 minutes
      symlinkSync('/etc', join(plan.partial, 'stray-link'));
      const linked = await validate(['--dir', plan.root, '--now', at(7)]);
      expect(linked.code, linked.stdout + linked.stderr).toBe(1);
      expect(statuses(linked.report!, plan.partialName)).toEqual(['jellycore.backup.in_progress skip', 'jellycore.backup.paths fail', 'jellycore.backup.file_types pass']);
      expect(linked.report!.snapshots.find((s) => s.stamp === plan.partialName)!.status).toBe('fail');
      rmSync(join(plan.partial, 'stray-link'));
      // a part missing before one the scripts write later: a run that ended, judged at once
      copyFileSync(join(corrected, 'knowledge.tar.gz'), join(plan.partial, 'knowledge.tar.gz'));
      const ended = await validate(['--dir', plan.root, '--now', at(7)]);
      expect(ended.code, ended.stdout + ended.stderr).toBe(1);
      expect(statuses(ended.report!, plan.partialName)).not.toContain('jellycore.backup.in_progress skip');
      expect(statuses(ended.report!, plan.partialName)).toContain('jellycore.backup.oracle_db fail');
      rmSync(join(plan.partial, 'knowledge.tar.gz'));
      // a partial directory named in the future is not in progress: it is named wrong
      const ahead = await validate(['--dir', plan.root, '--now', at(-4)]);
      expect(ahead.code).toBe(1);
      expect(overall(ahead.report!)['jellycore.backups.future']).toBe('fail');
    }, 120_000);
  });

  describe.runIf(asRoot)('disk headroom by what backups take on disk (a small tmpfs)', () => {
    it('a 50 GiB sparse database does not size the next backup; real bytes do, and fill the disk', async () => {
      const disk = tmpfs('headroom-disk', '32m');
      const root = join(disk, 'backups');
      const [dir] = plantBackups(root, corrected, [backupName(NEWEST_MS)]);
      truncateSync(join(dir!, 'nanoclaw.db'), 50 * 1024 ** 3);
      const sparse = await validate(['--dir', root, '--now', NOW]);
      const headroom = (report: DrillReport) => report.checks.find((c) => c.id === 'jellycore.disk.headroom')!;
      expect(headroom(sparse.report!)).toMatchObject({ status: 'pass', evidence: { sized_by: 'bytes allocated on disk' } });
      expect(headroom(sparse.report!).evidence.newest_backup_bytes).toBeLessThan(1024 * 1024);
      expect(checkOf(sparse.report!, backupName(NEWEST_MS), 'jellycore.backup.nanoclaw_db').status).toBe('warn');

      // 8 MiB of real data in the backup, the disk filled to leave room for one more such backup: fails
      copyFileSync(join(corrected, 'nanoclaw.db'), join(dir!, 'nanoclaw.db'));
      writeFileSync(join(dir!, 'extra.bin'), Buffer.alloc(8 * 1024 * 1024, 1));
      const free = (): number => statfsSync(disk).bavail * statfsSync(disk).bsize;
      writeFileSync(join(disk, 'filler'), Buffer.alloc(free() - 12 * 1024 * 1024, 1));
      const full = await validate(['--dir', root, '--now', NOW]);
      expect(headroom(full.report!)).toMatchObject({ status: 'fail', message: expect.stringMatching(/room for fewer than 2 backups/) });
      expect(headroom(full.report!).evidence.newest_backup_bytes).toBeGreaterThanOrEqual(8 * 1024 * 1024);

      // the same 8 MiB as a hole: nothing on disk, room again
      truncateSync(join(dir!, 'extra.bin'), 0);
      truncateSync(join(dir!, 'extra.bin'), 8 * 1024 * 1024);
      const holes = await validate(['--dir', root, '--now', NOW]);
      expect(headroom(holes.report!).status).toBe('pass');
    }, 120_000);
  });
});

/** A ustar header for one regular file of `size` bytes (at most 11 octal digits). */
function tarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 'utf8');
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\x0000', 257, 'latin1');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return header;
}
