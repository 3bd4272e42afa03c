import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult, DrillReport } from '../src/report/model.js';
import { readReport, runCli } from './support/cli.js';
import { describeNeeding, sshdStatus } from './support/infra.js';
import { buildSnapshotTree, FIXTURE_NOW, makeReadableByAll } from './support/snapshot-tree.js';
import { startSshd, type SshFixture } from './support/ssh-server.js';

/**
 * rpo.fresh on real snapshot trees, through the CLI: it passes only on evidence about the
 * snapshot it names. A renamed old snapshot, a newest snapshot nobody inspected (outside
 * --stamp), and a newest database nothing checked (SSH without --deep, no validator).
 */

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-validate-rpo-'));
chmodSync(work, 0o755);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const snapshotsOf = (root: string): string => join(root, 'backups/snapshots');
const rpoOf = (report: DrillReport): CheckResult => report.checks.find((c) => c.id === 'rpo.fresh')!;
const checkOf = (report: DrillReport, stamp: string, id: string): CheckResult => report.snapshots.find((s) => s.stamp === stamp)!.checks.find((c) => c.id === id)!;

async function validate(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; report: DrillReport; output: string }> {
  const reportFile = join(work, `report-${Math.random().toString(36).slice(2)}.json`);
  const run = await runCli(['validate', '--now', FIXTURE_NOW, '--report-json', reportFile, ...args], { env, timeoutMs: 120_000 });
  expect(existsSync(reportFile), run.stdout + run.stderr).toBe(true);
  return { code: run.code, report: readReport(reportFile), output: run.stdout + run.stderr };
}

/** Renames a snapshot directory and the paths its metadata records, as someone tidying up by hand would; created_at stays. */
function renameSnapshot(root: string, from: string, to: string): void {
  renameSync(join(snapshotsOf(root), from), join(snapshotsOf(root), to));
  const metadata = join(snapshotsOf(root), to, 'backup-metadata.json');
  writeFileSync(metadata, readFileSync(metadata, 'utf8').replaceAll(from, to));
}

describe('rpo.fresh on a local tree', () => {
  it('an old snapshot renamed to a fresh stamp counts from its created_at, and fails the RPO', async () => {
    const root = join(work, 'renamed');
    buildSnapshotTree(root, { snapshots: [{ stamp: '20260401T060000Z' as never, kind: 'good' }] });
    renameSnapshot(root, '20260401T060000Z', '20260408T060000Z');
    const { code, report } = await validate(['--dir', root]);
    expect(code).toBe(1);
    // everything else about it is sound: only the metadata's time tells
    expect(checkOf(report, '20260408T060000Z', 'snapshot.metadata')).toMatchObject({ status: 'warn', message: expect.stringMatching(/604800s away from the stamp: a renamed directory\?/) });
    expect(checkOf(report, '20260408T060000Z', 'snapshot.integrity').status).toBe('pass');
    expect(rpoOf(report)).toMatchObject({
      status: 'fail',
      message: 'the newest usable snapshot, 20260408T060000Z (counted from its created_at 2026-04-01T06:00:00.000Z, 168h00m before its stamp: a renamed directory?), is 169h00m old (RPO 24h00m)',
      evidence: { newest_usable: '20260408T060000Z', newest_usable_counted_from: 'created_at' },
    });
    expect(report.metrics.rpo_s).toBe(169 * 3600);
  });

  it('retention.policy places a renamed snapshot on the day it counts from: it does not fill the day of its stamp', async () => {
    const root = join(work, 'renamed-retention');
    const week = ['20260402T060000Z', '20260403T060000Z', '20260404T060000Z', '20260405T060000Z', '20260406T060000Z', '20260407T060000Z', '20260408T060000Z'];
    buildSnapshotTree(root, { snapshots: week.map((stamp) => ({ stamp: stamp as never, kind: 'good' as const })) });
    const retentionOf = (report: DrillReport): CheckResult => report.checks.find((c) => c.id === 'retention.policy')!;
    expect(retentionOf((await validate(['--dir', root])).report)).toMatchObject({ status: 'pass', evidence: { missing_days: [] } });
    // today's snapshot lost, and Friday's renamed into its place
    rmSync(join(snapshotsOf(root), '20260408T060000Z'), { recursive: true });
    renameSnapshot(root, '20260403T060000Z', '20260408T060000Z');
    const { report } = await validate(['--dir', root]);
    expect(retentionOf(report)).toMatchObject({
      status: 'warn',
      message: 'no snapshot on 2026-04-08 (20260408T060000Z counts from its created_at 2026-04-03T06:00:00.000Z: a renamed directory?)',
      evidence: { missing_days: ['2026-04-08'], prune_due: [], counted_from_created_at: [{ stamp: '20260408T060000Z', created_at: '2026-04-03T06:00:00.000Z' }] },
    });
    expect(rpoOf(report)).toMatchObject({ status: 'fail', evidence: { newest_usable: '20260407T060000Z' } });
  });

  describe('--stamp: snapshots outside it are listed, never counted', () => {
    const root = join(work, 'stamp-selection');
    const newest = '20260408T060000Z';
    beforeAll(() => {
      buildSnapshotTree(root, { snapshots: [{ stamp: '20260406T060000Z' as never, kind: 'good' }, { stamp: newest as never, kind: 'good' }] });
      // the newest: zeros of the right size where the database was, and a FIFO beside it
      const db = join(snapshotsOf(root), newest, 'db/atocore.db');
      writeFileSync(db, Buffer.alloc(statSync(db).size));
      execFileSync('mkfifo', [`${db}-wal`]);
    });

    it('judged, the broken newest does not count', async () => {
      const { report } = await validate(['--dir', root]);
      expect(checkOf(report, newest, 'snapshot.integrity').status).toBe('fail');
      expect(rpoOf(report)).toMatchObject({ status: 'fail', evidence: { newest_usable: '20260406T060000Z', not_usable: [{ stamp: newest }] } });
    });

    it('outside --stamp, the same newest does not make rpo.fresh pass: skip, naming it and --stamp', async () => {
      const { report } = await validate(['--dir', root, '--stamp', '20260406T060000Z']);
      expect(report.snapshots.map((s) => s.stamp)).toEqual(['20260406T060000Z']);
      expect(rpoOf(report)).toMatchObject({
        status: 'skip',
        message: `freshness not judged: only snapshots not inspected this run (outside --stamp) could be within the RPO of 24h00m: ${newest}; the newest usable snapshot inspected, 20260406T060000Z, is 49h00m old; validate them (without --stamp, or --stamp ${newest}) to judge it`,
        evidence: { newest, newest_usable: '20260406T060000Z', not_inspected: [newest] },
      });
      expect(report.metrics.rpo_s).toBeNull();
      expect(report.verdict).not.toBe('pass');
    });

    it('outside --stamp with an inspected snapshot within the RPO: a pass names the inspected one', async () => {
      const { report } = await validate(['--dir', root, '--stamp', '20260406T060000Z', '--rpo', '72h']);
      expect(rpoOf(report)).toMatchObject({
        status: 'pass',
        message: `newest inspected 20260406T060000Z, 49h00m old; Chroma 49h00m old; 1 newer snapshot(s) not inspected this run (outside --stamp), not counted: ${newest}`,
        evidence: { newest_usable: '20260406T060000Z', not_inspected: [newest] },
      });
      expect(report.metrics.rpo_s).toBe(49 * 3600);
    });
  });
});

describeNeeding('an OpenSSH sshd on loopback', sshdStatus())('rpo.fresh over SSH', () => {
  let sshd: SshFixture;
  const root = join(work, 'ssh-trees/corrupt');
  const newest = '20260408T060000Z';

  beforeAll(async () => {
    buildSnapshotTree(root, { snapshots: [{ stamp: '20260407T060000Z' as never, kind: 'good' }, { stamp: newest as never, kind: 'good' }], rowsPerDay: 400, payloadBytes: 1000 });
    // pages 3-9 of the newest database overwritten: size and header intact, the database malformed
    const db = join(snapshotsOf(root), newest, 'db/atocore.db');
    const head = readFileSync(db).subarray(0, 100);
    const pageSize = head.readUInt16BE(16) === 1 ? 65_536 : head.readUInt16BE(16);
    expect(statSync(db).size).toBeGreaterThanOrEqual(10 * pageSize);
    const fd = openSync(db, 'r+');
    writeSync(fd, Buffer.alloc(7 * pageSize, 0xab), 0, 7 * pageSize, 2 * pageSize);
    closeSync(fd);
    makeReadableByAll(join(work, 'ssh-trees'));
    mkdirSync(join(work, 'tmp'), { recursive: true });
    sshd = await startSshd(join(work, 'ssh'));
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  const sshArgs = (extra: readonly string[]): string[] => ['--ssh', sshd.address(), '--known-hosts', sshd.knownHosts, '--identity', sshd.identityFile, '--root', root, ...extra];

  it('without --deep and with AtoCore\'s validator off, a malformed newest database still counts, and rpo.fresh says nothing checked it', async () => {
    const { code, report } = await validate(sshArgs(['--atocore-validator', 'none']), { TMPDIR: join(work, 'tmp') });
    expect(code).toBe(0);
    expect(checkOf(report, newest, 'snapshot.integrity')).toMatchObject({ status: 'skip', message: expect.stringMatching(/^integrity_check not run over SSH without --deep/) });
    expect(rpoOf(report)).toMatchObject({
      status: 'warn',
      message: `the integrity of the newest snapshot, ${newest}, was not checked by anything this run (integrity_check not run over SSH without --deep; AtoCore's validator not run (--atocore-validator none)); only its size and SQLite header are known`,
      evidence: { newest_usable: newest, integrity_unchecked: [{ stamp: newest }] },
    });
    expect(report.verdict).toBe('warn');
  });

  it('with --deep the same database fails its integrity check, and freshness counts from the snapshot before it', async () => {
    const { code, report } = await validate(sshArgs(['--deep', '--atocore-validator', 'none']), { TMPDIR: join(work, 'tmp') });
    expect(code).toBe(1);
    expect(checkOf(report, newest, 'snapshot.integrity').status).toBe('fail');
    expect(rpoOf(report)).toMatchObject({ status: 'fail', evidence: { newest_usable: '20260407T060000Z', not_usable: [{ stamp: newest, why: expect.stringMatching(/snapshot\.integrity/) }] } });
    expect(rpoOf(report).evidence.integrity_unchecked).toBeUndefined();
  });
});
