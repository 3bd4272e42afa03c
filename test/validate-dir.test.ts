import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport } from '../src/report/model.js';
import { readReport, runCli } from './support/cli.js';
import {
  BAD_EXPECTED,
  badTreePlan,
  buildSnapshotTree,
  FIXTURE_NOW,
  goodTreePlan,
  snapshotFindings,
  STANDIN_VALIDATOR,
  standinValidatorEnv,
  treeManifest,
} from './support/snapshot-tree.js';

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-validate-dir-'));
const good = join(work, 'good');
const bad = join(work, 'bad');
afterAll(() => rmSync(work, { recursive: true, force: true }));
beforeAll(() => {
  buildSnapshotTree(good, goodTreePlan());
  buildSnapshotTree(bad, badTreePlan());
});

const overall = (report: DrillReport): Record<string, string> => Object.fromEntries(report.checks.map((c) => [c.id, c.status]));

async function validate(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; report: DrillReport | null; stdout: string; stderr: string }> {
  const reportFile = join(work, `report-${Math.random().toString(36).slice(2)}.json`);
  const run = await runCli(['validate', '--now', FIXTURE_NOW, '--report-json', reportFile, ...args], { env, timeoutMs: 90_000 });
  return { code: run.code, report: existsSync(reportFile) ? readReport(reportFile) : null, stdout: run.stdout, stderr: run.stderr };
}

describe('validate --dir on the fixture trees', () => {
  it('the good tree passes: 16 snapshots over six months, every check green, AtoCore\'s validator too', async () => {
    const { code, report, stdout } = await validate(['--dir', good, '--atocore-validator', STANDIN_VALIDATOR], standinValidatorEnv(good));
    expect(code, stdout).toBe(0);
    expect(report!.verdict).toBe('pass');
    expect(report!.kind).toBe('validate');
    expect(report!.snapshots).toHaveLength(16);
    expect(report!.snapshots.every((s) => s.status === 'pass')).toBe(true);
    expect(overall(report!)).toEqual({ 'snapshots.listing': 'pass', 'snapshots.future': 'pass', 'rpo.fresh': 'pass', 'retention.policy': 'pass', 'size.anomaly': 'pass', 'disk.headroom': 'pass' });
    expect(report!.metrics.rpo_s).toBe(3600);
    expect(report!.target.backup_stamp).toBe('20260408T060000Z');
    const ids = new Set(report!.snapshots[0]!.checks.map((c) => c.id));
    for (const id of ['snapshot.metadata', 'snapshot.paths', 'snapshot.file_types', 'snapshot.sidecars', 'snapshot.integrity', 'snapshot.complete', 'snapshot.atocore_validate', 'snapshot.registry', 'snapshot.chroma']) expect(ids).toContain(id);
  });

  it('the bad tree: every bad snapshot is caught with its own check id, the good ones stay green, nothing crashes', async () => {
    const before = treeManifest(bad, { ignoreDirectoryTimes: true });
    const { code, report, stdout } = await validate(['--dir', bad, '--atocore-validator', STANDIN_VALIDATOR], standinValidatorEnv(bad));
    expect(code, stdout).toBe(1);
    expect(report!.verdict).toBe('fail');
    expect(report!.steps.every((s) => s.status === 'pass')).toBe(true);
    for (const snapshot of report!.snapshots) {
      const expected = BAD_EXPECTED[snapshot.stamp] ?? { fails: [], warns: [] };
      expect(snapshotFindings(report!, snapshot.stamp), snapshot.stamp).toEqual({ fails: [...expected.fails].sort(), warns: [...expected.warns].sort() });
    }
    // the truncated snapshot is also a sudden drop, in the past (warn); the newest is fine
    expect(overall(report!)).toEqual({ 'snapshots.listing': 'warn', 'snapshots.future': 'pass', 'rpo.fresh': 'pass', 'retention.policy': 'pass', 'size.anomaly': 'warn', 'disk.headroom': 'pass' });
    const listing = report!.checks.find((c) => c.id === 'snapshots.listing')!;
    expect((listing.evidence.not_snapshots as Array<{ name: string }>).map((e) => e.name).sort()).toEqual(badTreePlan().foreign!.map((f) => f.name).sort());
    // AtoCore's validator opens snapshots read-write (its -wal/-shm come and go); every file is as it was
    expect(treeManifest(bad, { ignoreDirectoryTimes: true })).toEqual(before);
  });

  it('the JUnit and Markdown reports carry one suite and one line per snapshot', async () => {
    const junit = join(work, 'bad.xml');
    const summary = join(work, 'bad.md');
    const { code } = await validate(['--dir', bad, '--junit', junit, '--summary', summary]);
    expect(code).toBe(1);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toContain('name="atocore-drill.validate.20260402T060000Z"');
    expect(xml).toMatch(/<failure message="[^"]*row\(s\) written before 20260402T060000Z/);
    const markdown = readFileSync(summary, 'utf8');
    expect(markdown).toContain('AtoCore snapshot validation');
    expect(markdown).toMatch(/`20260322T060000Z`: `snapshot.paths`/);
  });

  it('stale backups fail rpo.fresh, and the missed days show in retention.policy', async () => {
    const { code, report } = await validate(['--dir', good, '--now', '2026-04-11T07:00:00Z']);
    expect(code).toBe(1);
    const rpo = report!.checks.find((c) => c.id === 'rpo.fresh')!;
    expect(rpo.status).toBe('fail');
    expect(rpo.message).toMatch(/20260408T060000Z, is 3d|is 7[0-9]h|old \(RPO 24h/);
    expect(report!.metrics.rpo_s).toBe(3 * 86_400 + 3600);
  });

  it('--chroma-rpo: Chroma older than allowed fails; "off" does not check it', async () => {
    const noChroma = join(work, 'no-chroma');
    buildSnapshotTree(noChroma, { snapshots: goodTreePlan().snapshots.map((s) => ({ ...s, chroma: s.stamp < '20260330T000000Z' })) });
    const strict = await validate(['--dir', noChroma]);
    expect(strict.report!.checks.find((c) => c.id === 'rpo.fresh')).toMatchObject({ status: 'fail', evidence: { newest_chroma: '20260329T060000Z' } });
    const off = await validate(['--dir', noChroma, '--chroma-rpo', 'off']);
    expect(off.report!.checks.find((c) => c.id === 'rpo.fresh')!.status).toBe('pass');
    const wide = await validate(['--dir', noChroma, '--chroma-rpo', '11d']);
    expect(wide.report!.checks.find((c) => c.id === 'rpo.fresh')!.status).toBe('pass');
  });

  it('a sudden drop in the newest snapshot fails size.anomaly; a snapshot larger than the free space fails disk.headroom', async () => {
    const wiped = join(work, 'wiped');
    buildSnapshotTree(wiped, {
      snapshots: ['20260405', '20260406', '20260407', '20260408'].map((day) => ({ stamp: `${day}T060000Z` as never, kind: day === '20260408' ? 'wiped' : 'good' })),
      rowsPerDay: 200,
      payloadBytes: 400,
    });
    const drop = await validate(['--dir', wiped]);
    expect(drop.code).toBe(1);
    expect(drop.report!.checks.find((c) => c.id === 'size.anomaly')).toMatchObject({ status: 'fail' });
    expect(drop.report!.snapshots.every((s) => s.status === 'pass')).toBe(true);

    const huge = join(work, 'huge');
    buildSnapshotTree(huge, { snapshots: [{ stamp: '20260407T060000Z' as never, kind: 'good' }, { stamp: '20260408T060000Z' as never, kind: 'huge-chroma', huge_bytes: 2 ** 43 }] });
    const full = await validate(['--dir', huge, '--chroma-rpo', 'off']);
    expect(full.report!.checks.find((c) => c.id === 'disk.headroom')).toMatchObject({ status: 'fail' });
  });

  it('--ledger remembers every file\'s hash: one changed byte in an old snapshot is snapshot.immutable failing there only', async () => {
    const tree = join(work, 'rot');
    cpSync(good, tree, { recursive: true });
    const ledger = join(work, 'rot-ledger.json');
    const first = await validate(['--dir', tree, '--ledger', ledger]);
    expect(first.code).toBe(0);
    expect(first.report!.snapshots.every((s) => s.checks.some((c) => c.id === 'snapshot.immutable' && c.status === 'pass' && /first seen/.test(c.message)))).toBe(true);
    const recorded = JSON.parse(readFileSync(ledger, 'utf8')) as { snapshots: Record<string, { files: Record<string, { sha256: string }> }> };
    expect(Object.keys(recorded.snapshots)).toHaveLength(16);
    expect(recorded.snapshots['20260329T060000Z']!.files['db/atocore.db']!.sha256).toMatch(/^[0-9a-f]{64}$/);

    // bit rot in a Chroma file: nothing else notices (the file is not SQLite and the sizes stay)
    const victim = join(tree, 'backups/snapshots/20260329T060000Z/chroma/chroma.sqlite3');
    const bytes = readFileSync(victim);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x01;
    writeFileSync(victim, bytes);
    const second = await validate(['--dir', tree, '--ledger', ledger]);
    expect(second.code).toBe(1);
    for (const snapshot of second.report!.snapshots) {
      expect(snapshotFindings(second.report!, snapshot.stamp).fails, snapshot.stamp).toEqual(snapshot.stamp === '20260329T060000Z' ? ['snapshot.immutable'] : []);
    }
    const rotted = second.report!.snapshots.find((s) => s.stamp === '20260329T060000Z')!.checks.find((c) => c.id === 'snapshot.immutable')!;
    expect(rotted.evidence.changed).toEqual([expect.objectContaining({ path: 'chroma/chroma.sqlite3' })]);
    // the first-seen hash is kept, so the finding does not go away by itself
    const third = await validate(['--dir', tree, '--ledger', ledger]);
    expect(third.code).toBe(1);
  });

  it('--max-deep rotates the deep checks, oldest verified first, until every snapshot is covered', async () => {
    const ledger = join(work, 'rotate-ledger.json');
    const covered = new Set<string>();
    for (let run = 0; run < 4; run++) {
      const { code, report } = await validate(['--dir', good, '--ledger', ledger, '--max-deep', '4']);
      expect(code).toBe(0);
      expect(report!.metrics.deep_checked).toBe(4);
      const deep = report!.snapshots.filter((s) => s.checks.find((c) => c.id === 'snapshot.integrity')!.status === 'pass').map((s) => s.stamp);
      expect(deep).toHaveLength(4);
      for (const stamp of deep) {
        expect(covered.has(stamp), `${stamp} checked twice before all were covered`).toBe(false);
        covered.add(stamp);
      }
      const skipped = report!.snapshots.find((s) => !deep.includes(s.stamp))!.checks.find((c) => c.id === 'snapshot.integrity')!;
      expect(skipped).toMatchObject({ status: 'skip' });
      expect(skipped.message).toMatch(/--max-deep 4/);
    }
    expect(covered.size).toBe(16);
  });

  it('--offhost DIR: the newest snapshot must be there with the same hashes', async () => {
    const copy = join(work, 'offhost');
    cpSync(join(good, 'backups'), join(copy, 'backups'), { recursive: true });
    const same = await validate(['--dir', good, '--offhost', copy]);
    expect(same.code).toBe(0);
    expect(same.report!.checks.find((c) => c.id === 'offhost.copy')).toMatchObject({ status: 'pass' });

    writeFileSync(join(copy, 'backups/snapshots/20260408T060000Z/config/project-registry.json'), '{"projects": []}\n');
    const changed = await validate(['--dir', good, '--offhost', copy]);
    expect(changed.code).toBe(1);
    expect(changed.report!.checks.find((c) => c.id === 'offhost.copy')).toMatchObject({ status: 'fail', evidence: { differing: [expect.objectContaining({ path: 'config/project-registry.json' })] } });

    rmSync(join(copy, 'backups/snapshots/20260408T060000Z'), { recursive: true });
    const behind = await validate(['--dir', good, '--offhost', copy]);
    expect(behind.report!.checks.find((c) => c.id === 'offhost.copy')!.message).toMatch(/20260408T060000Z is not in the off-host copy.*its newest is 20260407T060000Z/);
  });

  it('--offhost DIR: the listings are compared first; only files on both sides with equal sizes are read', async () => {
    const copy = join(work, 'offhost-listing');
    cpSync(join(good, 'backups'), join(copy, 'backups'), { recursive: true });
    const there = join(copy, 'backups/snapshots/20260408T060000Z');
    // an extra 8 GiB file and a registry of another size (8 GiB): holes, but reading them takes longer than the run has
    writeFileSync(join(there, 'junk.bin'), '');
    truncateSync(join(there, 'junk.bin'), 8 * 1024 ** 3);
    truncateSync(join(there, 'config/project-registry.json'), 8 * 1024 ** 3);
    // the same size, other bytes: only the hash tells
    const metadata = join(there, 'backup-metadata.json');
    const text = readFileSync(metadata, 'utf8');
    writeFileSync(metadata, text.replace('"', "'"));
    expect(readFileSync(metadata).length).toBe(Buffer.byteLength(text));
    // a special file and a link there are no regular files: not the snapshot's files
    execFileSync('mkfifo', [join(there, 'pipe')]);
    symlinkSync('/dev/zero', join(there, 'zero'));
    const began = Date.now();
    const run = await validate(['--dir', good, '--offhost', copy, '--timeout', '8s']);
    expect(Date.now() - began).toBeLessThan(8_000);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.report!.steps.find((s) => s.id === 'offhost')).toMatchObject({ status: 'pass' });
    const offhost = run.report!.checks.find((c) => c.id === 'offhost.copy')!;
    expect(offhost.status).toBe('fail');
    expect(offhost.evidence.extra).toEqual(['junk.bin']);
    expect(offhost.evidence.missing).toEqual([]);
    const differing = offhost.evidence.differing as Array<{ path: string; here: string | null; there: string | null; size_there: number }>;
    expect(differing.map((d) => d.path).sort()).toEqual(['backup-metadata.json', 'config/project-registry.json']);
    // read and hashed: equal sizes; never read: the other size
    expect(differing.find((d) => d.path === 'backup-metadata.json')).toMatchObject({ here: expect.stringMatching(/^[0-9a-f]{64}$/), there: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(differing.find((d) => d.path === 'config/project-registry.json')).toMatchObject({ there: null, size_there: 8 * 1024 ** 3 });
    expect(offhost.message).toMatch(/2 file\(s\) differ: .*; 1 extra file\(s\) there: junk\.bin$/);
  });

  it('more damage on copies of the good tree: half-written or missing metadata, a stamp-named link, a lost Sunday, no snapshot at all', async () => {
    const tree = join(work, 'damaged');
    cpSync(good, tree, { recursive: true });
    const snapshots = join(tree, 'backups/snapshots');
    const metadata = join(snapshots, '20260403T060000Z/backup-metadata.json');
    writeFileSync(metadata, readFileSync(metadata, 'utf8').slice(0, 120));
    rmSync(join(snapshots, '20260404T060000Z/backup-metadata.json'));
    symlinkSync('../../data', join(snapshots, '20260408T065000Z'));
    const damaged = await validate(['--dir', tree]);
    expect(damaged.code).toBe(1);
    expect(snapshotFindings(damaged.report!, '20260403T060000Z').fails).toEqual(['snapshot.metadata']);
    expect(damaged.report!.snapshots.find((s) => s.stamp === '20260403T060000Z')!.checks.find((c) => c.id === 'snapshot.metadata')!.message).toMatch(/not valid JSON/);
    expect(snapshotFindings(damaged.report!, '20260404T060000Z').fails).toEqual(['snapshot.metadata']);
    const link = damaged.report!.snapshots.find((s) => s.stamp === '20260408T065000Z')!;
    expect(link).toMatchObject({ status: 'fail', checks: [{ id: 'snapshot.paths', status: 'fail' }] });
    expect(link.checks[0]!.message).toMatch(/a symlink to "\.\.\/\.\.\/data"; refused, never opened/);
    // the link is not the newest backup: the real newest one counts, with a warning
    expect(damaged.report!.target.backup_stamp).toBe('20260408T060000Z');
    expect(damaged.report!.checks.find((c) => c.id === 'rpo.fresh')).toMatchObject({ status: 'warn', evidence: { newest_usable: '20260408T060000Z' } });

    const noSunday = join(work, 'no-sunday');
    cpSync(good, noSunday, { recursive: true });
    rmSync(join(noSunday, 'backups/snapshots/20260322T060000Z'), { recursive: true });
    const lost = await validate(['--dir', noSunday]);
    expect(lost.code).toBe(1);
    expect(lost.report!.checks.find((c) => c.id === 'retention.policy')).toMatchObject({ status: 'fail', evidence: { missing_sundays: ['2026-03-22'] } });

    const empty = join(work, 'empty');
    mkdirSync(join(empty, 'backups/snapshots'), { recursive: true });
    const none = await validate(['--dir', empty]);
    expect(none.code).toBe(1);
    expect(none.report!.checks.find((c) => c.id === 'snapshots.listing')).toMatchObject({ status: 'fail' });
    expect(none.report!.checks.find((c) => c.id === 'rpo.fresh')).toMatchObject({ status: 'fail' });
  });

  it('--stamp checks just that snapshot; the overall checks still see them all', async () => {
    const { code, report } = await validate(['--dir', bad, '--stamp', '20260402T060000Z', '--stamp', '20260403T060000Z']);
    expect(code).toBe(1);
    expect(report!.snapshots.map((s) => s.stamp)).toEqual(['20260403T060000Z', '20260402T060000Z']);
    expect(snapshotFindings(report!, '20260402T060000Z').fails).toEqual(['snapshot.complete']);
    expect(report!.metrics.snapshots).toBe(16);
  });

  it('AtoCore\'s validator that cannot run is "could not run" (exit 3), never a pass', async () => {
    const { code, report } = await validate(['--dir', good, '--atocore-validator', 'no-such-validator-here {stamp}']);
    expect(code).toBe(3);
    expect(report!.verdict).toBe('error');
    expect(report!.steps.find((s) => s.id === 'atocore_validate')).toMatchObject({ status: 'error' });
    expect(report!.error).toMatch(/no-such-validator-here/);
  });

  it('the console\'s last line counts every check, each snapshot\'s too, and agrees with the verdict and the exit code', async () => {
    const root = join(work, 'console-warn');
    buildSnapshotTree(root, { snapshots: ['20260405', '20260406', '20260407', '20260408'].map((day) => ({ stamp: `${day}T060000Z` as never, kind: 'good' as const })) });
    // a leftover shared-memory file beside the newest database: snapshot.sidecars warns, nothing else does
    writeFileSync(join(root, 'backups/snapshots/20260408T060000Z/db/atocore.db-shm'), Buffer.alloc(32768));
    const lastLine = (stdout: string): string => stdout.trimEnd().split('\n').at(-1)!;
    const warned = await validate(['--dir', root, '--fail-on', 'warn']);
    expect(warned.code, warned.stdout).toBe(1);
    expect(warned.report!.verdict).toBe('warn');
    const all = [...warned.report!.checks, ...warned.report!.snapshots.flatMap((x) => x.checks)];
    const passed = all.filter((c) => c.status === 'pass').length;
    const skipped = all.filter((c) => c.status === 'skip').length;
    expect(all.filter((c) => c.status === 'warn').map((c) => c.id)).toEqual(['snapshot.sidecars']);
    expect(lastLine(warned.stdout)).toMatch(new RegExp(`^verdict: WARN \\(failing: --fail-on warn, exit 1\\) — ${passed}/${all.length} checks passed, 1 warned${skipped ? `, ${skipped} skipped` : ''}, backup 20260408T060000Z, `));
    const lenient = await validate(['--dir', root]);
    expect(lenient.code).toBe(0);
    expect(lastLine(lenient.stdout)).toMatch(new RegExp(`^verdict: WARN \\(exit 0\\) — ${passed}/${all.length} checks passed, 1 warned`));
    rmSync(join(root, 'backups/snapshots/20260408T060000Z/db/atocore.db-shm'));
    const clean = await validate(['--dir', root]);
    expect(clean.code).toBe(0);
    const cleanAll = [...clean.report!.checks, ...clean.report!.snapshots.flatMap((x) => x.checks)];
    expect(lastLine(clean.stdout)).toMatch(new RegExp(`^verdict: PASS \\(exit 0\\) — ${cleanAll.filter((c) => c.status === 'pass').length}/${cleanAll.length} checks passed`));
  });
});

describe('validate: bad input is exit 2 with a message naming the thing', () => {
  it.each([
    [[], /exactly one of --dir/],
    [['--dir', '/nonexistent/root'], /--dir: \/nonexistent\/root is not a directory/],
    [['--dir', '.', '--ssh', 'dalidou'], /exactly one of --dir/],
    [['--dir', '.', '--root', '/srv'], /--root goes with --ssh/],
    [['--ssh', 'dalidou'], /--known-hosts FILE is required/],
    [['--ssh', 'dal idou', '--known-hosts', '/dev/null'], /--ssh: "dal idou" has an invalid host/],
    [['--ssh', 'dalidou:70000'], /--ssh: .*invalid port "70000"/],
    [['--ssh', 'dalidou', '--known-hosts', '/nonexistent/kh'], /--known-hosts: \/nonexistent\/kh does not exist/],
    [['--ssh', 'dalidou', '--known-hosts', 'package.json'], /no SSH key: give --identity FILE or put the key in \$ATOCORE_DRILL_SSH_KEY/],
    [['--ssh', 'dalidou', '--known-hosts', 'package.json', '--identity', 'package.json', '--root', '/srv/$(reboot)'], /--root: "\/srv\/\$\(reboot\)"/],
    [['--dir', '.', '--known-hosts', 'package.json'], /--known-hosts is for SSH/],
    [['--dir', '.', '--stamp', '2026-04-08'], /--stamp: "2026-04-08" is not a snapshot stamp/],
    [['--dir', '.', '--stamp', '20261332T060000Z'], /--stamp: "20261332T060000Z"/],
    [['--dir', '.', '--max-deep', '3'], /--max-deep needs --ledger/],
    [['--dir', '.', '--max-deep', '0', '--ledger', 'x.json'], /--max-deep: "0"/],
    [['--dir', '.', '--rpo', '24'], /--rpo: "24" is not a duration/],
    [['--dir', '.', '--chroma-rpo', 'weekly'], /--chroma-rpo: "weekly"/],
    [['--dir', '.', '--size-drop', '150'], /--size-drop: "150"/],
    [['--dir', '.', '--now', 'yesterday'], /--now: "yesterday"/],
    [['--dir', '.', '--now', '2026-04-08T07:00:00'], /--now: .*with a zone/],
    [['--dir', '.', '--concurrency', '64'], /--concurrency: "64"/],
    [['--dir', '.', '--atocore-validator', 'docker exec atocore validate {stamp} | tee log'], /--atocore-validator: .*shell syntax/],
    [['--dir', '.', '--offhost', 'nas:relative'], /--offhost: "nas:relative"/],
    [['--dir', '.', '--offhost', '/nonexistent/copy'], /--offhost: \/nonexistent\/copy is not a directory/],
    [['--dir', '.', '--ledger', '/'], /--ledger: \/ is a directory/],
    [['--dir', '.', '--report-json', '/'], /--report-json: \/ is a directory/],
    [['--dir', '/tmp'], /--dir: no snapshots directory under \/tmp/],
  ])('validate %j', async (args, message) => {
    const run = await runCli(['validate', ...(args as string[])], { timeoutMs: 30_000, env: { ATOCORE_DRILL_SSH_KEY: '' } });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toMatch(message as RegExp);
  });

  it('a --stamp that is not there is named', async () => {
    const run = await runCli(['validate', '--dir', good, '--stamp', '20200101T000000Z'], { timeoutMs: 30_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--stamp: no snapshot 20200101T000000Z/);
  });

  it('a ledger that is not one is refused, not overwritten', async () => {
    const ledger = join(work, 'not-a-ledger.json');
    writeFileSync(ledger, '{"something": "else"}');
    const run = await runCli(['validate', '--dir', good, '--ledger', ledger], { timeoutMs: 30_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--ledger: .* is not an atocore-drill ledger/);
    expect(readFileSync(ledger, 'utf8')).toBe('{"something": "else"}');
  });

  it('--help documents every validate flag, the key variables and the exit codes', async () => {
    const run = await runCli(['validate', '--help'], { timeoutMs: 30_000 });
    expect(run.code).toBe(0);
    for (const flag of [
      '--dir', '--ssh', '--known-hosts', '--identity', '--root', '--accept-new-host-key', '--stamp', '--deep', '--max-deep', '--ledger', '--atocore-validator',
      '--rpo', '--chroma-rpo', '--size-drop', '--offhost', '--now', '--timeout', '--connect-timeout', '--concurrency', '--fail-on', '--report-json', '--junit', '--summary',
      'ATOCORE_DRILL_SSH_KEY', 'ATOCORE_DRILL_SSH_KEY_PASSPHRASE', '/srv/storage/atocore', 'docker exec atocore python -m atocore.ops.backup validate {stamp}',
    ]) {
      expect(run.stdout).toContain(flag);
    }
    expect(run.stdout).toMatch(/3 +could not run/);
  });
});
