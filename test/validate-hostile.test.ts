import { Deadline } from '../src/common/deadline.js';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult, DrillReport } from '../src/report/model.js';
import { InterruptedError } from '../src/common/errors.js';
import { copyRegularFile, NotRegularFileError, openRegularFile, ScratchSpaceError } from '../src/sqlite/scratch-copy.js';
import { inspectDatabaseFile } from '../src/sqlite/inspect.js';
import { inspectSnapshotDatabase } from '../src/validation/database.js';
import { killedWithin } from '../src/common/child-process.js';
import { hasExited } from '../src/runtimes/port-owner.js';
import { CLI, readReport, runCli } from './support/cli.js';
import { buildSnapshotTree, snapshotFindings, STANDIN_VALIDATOR, standinValidatorEnv } from './support/snapshot-tree.js';

/**
 * Snapshots built to hurt the harness: special files, links, sparse giants, stray WALs,
 * future stamps, hostile names and contents, a full scratch disk, a validator that hangs.
 * Each run must end within its --timeout with its own finding and the right exit code.
 */
const work = mkdtempSync(join(tmpdir(), 'atocore-drill-validate-hostile-'));
const base = join(work, 'base');
const NEWEST = '20260408T060000Z';
const NOW = '2026-04-08T07:00:00Z';
const mounts: string[] = [];

beforeAll(() => {
  buildSnapshotTree(base, { snapshots: ['20260405', '20260406', '20260407', '20260408'].map((day) => ({ stamp: `${day}T060000Z` as never, kind: 'good' as const })) });
});
afterAll(() => {
  for (const mount of mounts) execFileSync('umount', ['-l', mount], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
});

function copyOfBase(name: string): string {
  const root = join(work, name);
  cpSync(base, root, { recursive: true });
  return root;
}

function snapshotDir(root: string, stamp = NEWEST): string {
  return join(root, 'backups/snapshots', stamp);
}

/** A small tmpfs (root only): a scratch space that really fills up. */
function tmpfs(name: string, size: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

interface Run {
  readonly code: number | null;
  readonly report: DrillReport | null;
  readonly reportText: string;
  readonly elapsedMs: number;
  readonly output: string;
}

async function validate(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const reportFile = join(work, `report-${Math.random().toString(36).slice(2)}.json`);
  const began = Date.now();
  const run = await runCli(['validate', '--now', NOW, '--report-json', reportFile, ...args], { env, timeoutMs: 60_000 });
  const reportText = existsSync(reportFile) ? readFileSync(reportFile, 'utf8') : '';
  return { code: run.code, report: reportText ? readReport(reportFile) : null, reportText, elapsedMs: Date.now() - began, output: run.stdout + run.stderr };
}

function checkOf(report: DrillReport, stamp: string, id: string): CheckResult {
  const found = report.snapshots.find((s) => s.stamp === stamp)?.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no ${id} for ${stamp}`);
  return found;
}

function allChecks(report: DrillReport): CheckResult[] {
  return [...report.checks, ...report.snapshots.flatMap((s) => s.checks)];
}

const asRoot = process.getuid?.() === 0;

describe('validate --dir on hostile snapshots: bounded in type, size and time', () => {
  it('a FIFO as db/atocore.db-wal is refused before any open: snapshot.file_types and snapshot.sidecars fail, AtoCore\'s validator is not handed it; ends within --timeout', async () => {
    const root = copyOfBase('fifo');
    execFileSync('mkfifo', [join(snapshotDir(root), 'db/atocore.db-wal')]);
    const run = await validate(['--dir', root, '--timeout', '10s', '--atocore-validator', STANDIN_VALIDATOR], standinValidatorEnv(root));
    expect(run.code, run.output).toBe(1);
    expect(run.elapsedMs).toBeLessThan(10_000);
    expect(run.report!.steps.every((s) => s.status === 'pass')).toBe(true);
    expect(snapshotFindings(run.report!, NEWEST).fails).toEqual(['snapshot.file_types', 'snapshot.sidecars']);
    expect(checkOf(run.report!, NEWEST, 'snapshot.file_types').message).toMatch(/refused, never opened: "db\/atocore\.db-wal" \(a FIFO\)/);
    expect(checkOf(run.report!, NEWEST, 'snapshot.atocore_validate')).toMatchObject({ status: 'skip' });
    expect(checkOf(run.report!, NEWEST, 'snapshot.atocore_validate').message).toMatch(/special files/);
    // the database file itself is judged, on the harness's own copy
    expect(checkOf(run.report!, NEWEST, 'snapshot.integrity').status).toBe('pass');
    expect(snapshotFindings(run.report!, '20260407T060000Z').fails).toEqual([]);
  });

  it('a sidecar that is a symlink (to a FIFO outside) is refused, never followed: a follow would hang here', async () => {
    const root = copyOfBase('linked-sidecar');
    const outside = join(work, 'outside-fifo');
    execFileSync('mkfifo', [outside]);
    symlinkSync(outside, join(snapshotDir(root), 'db/atocore.db-wal'));
    const run = await validate(['--dir', root, '--timeout', '10s', '--atocore-validator', STANDIN_VALIDATOR], standinValidatorEnv(root));
    expect(run.code, run.output).toBe(1);
    expect(run.elapsedMs).toBeLessThan(10_000);
    expect(snapshotFindings(run.report!, NEWEST).fails).toEqual(['snapshot.paths', 'snapshot.sidecars']);
    expect(checkOf(run.report!, NEWEST, 'snapshot.sidecars').message).toMatch(/db\/atocore\.db-wal is not a regular file \(symlink\); refused, not opened/);
    expect(checkOf(run.report!, NEWEST, 'snapshot.paths').message).toMatch(/refused, not followed/);
    expect(checkOf(run.report!, NEWEST, 'snapshot.atocore_validate').message).toMatch(/would merge db\/atocore\.db-wal/);
    expect(checkOf(run.report!, NEWEST, 'snapshot.integrity').status).toBe('pass');
  });

  it.runIf(asRoot)('a sparse 8 GiB database is judged from its size, never copied: the scratch space is 16 MiB and stays untouched', async () => {
    const root = copyOfBase('sparse');
    const db = join(snapshotDir(root), 'db/atocore.db');
    const recorded = statSync(db).size;
    truncateSync(db, 8 * 1024 ** 3);
    const scratch = tmpfs('sparse-tmp', '16m');
    const grown = await validate(['--dir', root, '--timeout', '10s'], { TMPDIR: scratch });
    expect(grown.code, grown.output).toBe(1);
    expect(grown.elapsedMs).toBeLessThan(10_000);
    expect(snapshotFindings(grown.report!, NEWEST).fails).toEqual(['snapshot.integrity']);
    expect(checkOf(grown.report!, NEWEST, 'snapshot.integrity').message).toBe(`db/atocore.db is ${8 * 1024 ** 3} bytes; the metadata recorded ${recorded} (grown or rewritten; not copied)`);

    // the metadata made to agree: still mostly holes, still not copied; its header was real, so it warns
    const metadataFile = join(snapshotDir(root), 'backup-metadata.json');
    const metadata = JSON.parse(readFileSync(metadataFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(metadataFile, JSON.stringify({ ...metadata, db_size_bytes: 8 * 1024 ** 3 }));
    const agreeing = await validate(['--dir', root, '--timeout', '10s'], { TMPDIR: scratch });
    // (disk.headroom judges the apparent 8 GiB against this machine's free space: not asserted here)
    expect(agreeing.report!.steps.every((step) => step.status === 'pass'), agreeing.output).toBe(true);
    expect(snapshotFindings(agreeing.report!, NEWEST).fails).toEqual([]);
    expect(agreeing.elapsedMs).toBeLessThan(10_000);
    expect(checkOf(agreeing.report!, NEWEST, 'snapshot.integrity')).toMatchObject({ status: 'warn', evidence: { sqlite_header: 'ok' } });
    expect(checkOf(agreeing.report!, NEWEST, 'snapshot.integrity').message).toMatch(/mostly holes.*not copied.*never counts as a usable snapshot/);
    // never verified, so not a restore point: freshness counts from the day before (25 h: over the 24 h RPO)
    const rpo = agreeing.report!.checks.find((c) => c.id === 'rpo.fresh')!;
    expect(rpo).toMatchObject({ status: 'fail', evidence: { newest: NEWEST, newest_usable: '20260407T060000Z', not_usable: [{ stamp: NEWEST, why: 'its database could not be verified (snapshot.integrity warn)' }] } });
    expect(agreeing.report!.metrics.rpo_s).toBe(25 * 3600);
    expect(agreeing.code).toBe(1);
    expect(readdirSync(scratch)).toEqual([]);

    // nothing but holes (`truncate -s 8G` of an empty file): not SQLite at all, a failure whatever else
    writeFileSync(db, '');
    truncateSync(db, 8 * 1024 ** 3);
    const holes = await validate(['--dir', root, '--timeout', '10s'], { TMPDIR: scratch });
    expect(holes.code, holes.output).toBe(1);
    expect(holes.report!.verdict).toBe('fail');
    expect(holes.elapsedMs).toBeLessThan(10_000);
    expect(snapshotFindings(holes.report!, NEWEST).fails).toEqual(['snapshot.integrity']);
    expect(checkOf(holes.report!, NEWEST, 'snapshot.integrity').message).toBe('db/atocore.db: its first 100 bytes are all zeros: not an SQLite database (a hole, or never written)');
    expect(holes.report!.checks.find((c) => c.id === 'rpo.fresh')).toMatchObject({ status: 'fail', evidence: { newest_usable: '20260407T060000Z', not_usable: [{ stamp: NEWEST, why: 'snapshot.integrity failed' }] } });
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('a database file of the recorded size that is not SQLite fails snapshot.integrity even where no integrity_check runs', async () => {
    const root = copyOfBase('not-sqlite');
    const damaged = '20260407T060000Z';
    const db = join(snapshotDir(root, damaged), 'db/atocore.db');
    writeFileSync(db, Buffer.alloc(statSync(db).size, 'x'));
    // --max-deep 1: only the newest is copied and checked this run; the first 100 bytes of every one are still read
    const run = await validate(['--dir', root, '--timeout', '10s', '--max-deep', '1', '--ledger', join(root, 'ledger.json')]);
    expect(run.code, run.output).toBe(1);
    expect(run.report!.metrics.deep_checked).toBe(1);
    expect(snapshotFindings(run.report!, damaged).fails).toEqual(['snapshot.integrity']);
    expect(checkOf(run.report!, damaged, 'snapshot.integrity').message).toMatch(/^db\/atocore\.db: it does not start with "SQLite format 3\\0" \(first bytes: 78 78 78/);
    // the others not deep-checked this run keep counting: their size and header are right
    expect(checkOf(run.report!, '20260406T060000Z', 'snapshot.integrity')).toMatchObject({ status: 'skip', evidence: { sqlite_header: 'ok' } });
    expect(checkOf(run.report!, '20260406T060000Z', 'snapshot.integrity').message).toMatch(/the header is SQLite's \(\d+ pages of 4096 bytes\)/);
    expect(checkOf(run.report!, NEWEST, 'snapshot.integrity').status).toBe('pass');
  });

  it('a stray WAL with committed frames fails snapshot.sidecars (the database file alone is incomplete); an empty -wal and a -shm warn', async () => {
    const root = join(work, 'wal');
    buildSnapshotTree(root, {
      snapshots: [
        { stamp: '20260406T060000Z' as never, kind: 'good' },
        { stamp: '20260407T060000Z' as never, kind: 'empty-wal' },
        { stamp: '20260408T060000Z' as never, kind: 'stray-wal' },
      ],
    });
    const run = await validate(['--dir', root, '--timeout', '20s', '--atocore-validator', STANDIN_VALIDATOR], standinValidatorEnv(root));
    expect(run.code, run.output).toBe(1);
    const stray = checkOf(run.report!, NEWEST, 'snapshot.sidecars');
    expect(stray.status).toBe('fail');
    expect(stray.message).toMatch(/db\/atocore\.db-wal holds \d+ frame\(s\) of 4096-byte pages not yet in db\/atocore\.db: the database file alone \(what a restore copies\) is incomplete/);
    expect(stray.evidence.sidecars).toEqual([expect.objectContaining({ wal_header_valid: true, first_frame_valid: true })]);
    expect(snapshotFindings(run.report!, NEWEST)).toEqual({ fails: ['snapshot.sidecars'], warns: [] });
    // AtoCore's validator would merge the WAL into the snapshot's database: not run
    expect(checkOf(run.report!, NEWEST, 'snapshot.atocore_validate').message).toMatch(/would merge db\/atocore\.db-wal/);
    expect(snapshotFindings(run.report!, '20260407T060000Z')).toEqual({ fails: [], warns: ['snapshot.sidecars'] });
    expect(checkOf(run.report!, '20260407T060000Z', 'snapshot.sidecars').message).toMatch(/db\/atocore\.db-wal is empty.*db\/atocore\.db-shm|shared-memory/);
    expect(snapshotFindings(run.report!, '20260406T060000Z')).toEqual({ fails: [], warns: [] });
    expect(checkOf(run.report!, '20260406T060000Z', 'snapshot.atocore_validate').status).toBe('pass');
  });

  it('a future-dated snapshot is snapshots.future, and rpo.fresh counts from the newest real one (rpo_s positive)', async () => {
    const root = copyOfBase('future');
    cpSync(snapshotDir(root), snapshotDir(root, '20260415T060000Z'), { recursive: true });
    const run = await validate(['--dir', root, '--now', '2026-04-11T07:00:00Z']);
    expect(run.code, run.output).toBe(1);
    expect(run.report!.checks.find((c) => c.id === 'snapshots.future')).toMatchObject({ status: 'fail', evidence: { future: ['20260415T060000Z'] } });
    const rpo = run.report!.checks.find((c) => c.id === 'rpo.fresh')!;
    expect(rpo).toMatchObject({ status: 'fail', evidence: { newest_usable: NEWEST, not_counted_future: ['20260415T060000Z'] } });
    expect(run.report!.metrics.rpo_s).toBe(3 * 86_400 + 3600);
    expect(run.report!.target.backup_stamp).toBe(NEWEST);
    // retention is judged up to now: no day, Sunday or 1st not yet come is demanded
    expect(run.report!.checks.find((c) => c.id === 'retention.policy')).toMatchObject({ status: 'pass', evidence: { missing_days: [], missing_sundays: [], not_counted_future: ['20260415T060000Z'] } });
    const yearAhead = copyOfBase('future-year');
    cpSync(snapshotDir(yearAhead), snapshotDir(yearAhead, '20270415T060000Z'), { recursive: true });
    const far = await validate(['--dir', yearAhead]);
    const retention = far.report!.checks.find((c) => c.id === 'retention.policy')!;
    expect(retention, retention.message).toMatchObject({ status: 'pass', evidence: { missing_sundays: [], missing_firsts_of_month: [], not_counted_future: ['20270415T060000Z'] } });
    expect(far.report!.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['snapshots.future']);

    // within the allowed clock skew (5 minutes) a stamp is "now", not the future
    const skew = await validate(['--dir', base, '--now', '2026-04-08T05:57:00Z']);
    expect(skew.report!.checks.find((c) => c.id === 'snapshots.future')!.status).toBe('pass');
    expect(skew.report!.checks.find((c) => c.id === 'rpo.fresh')!.status).toBe('pass');
    expect(skew.report!.metrics.rpo_s).toBe(0);
  });

  it('a registry whose projects are not objects with a string id fails snapshot.registry, the bad entries in the evidence (bounded)', async () => {
    const root = copyOfBase('bad-projects');
    const registry = (stamp: string): string => join(snapshotDir(root, stamp), 'config/project-registry.json');
    writeFileSync(registry(NEWEST), JSON.stringify({ projects: [[['p04-gigabit']]] }));
    const many = [{ id: 'p01' }, ...Array.from({ length: 5_000 }, (_, i) => (i % 2 ? { id: i } : `p${i}-${'z'.repeat(1_000)}`))];
    writeFileSync(registry('20260407T060000Z'), JSON.stringify({ projects: many }));
    const run = await validate(['--dir', root, '--timeout', '20s']);
    expect(run.code, run.output).toBe(1);
    const nested = checkOf(run.report!, NEWEST, 'snapshot.registry');
    expect(nested).toMatchObject({ status: 'fail', evidence: { projects: 1, bad_entries: 1, first_bad: [{ index: 0, entry: [['p04-gigabit']] }] } });
    expect(nested.message).toBe('config/project-registry.json: 1 of 1 project(s) are not objects with a string "id" (first at index 0: a list of 1)');
    const mixed = checkOf(run.report!, '20260407T060000Z', 'snapshot.registry');
    expect(mixed).toMatchObject({ status: 'fail', evidence: { projects: 5_001, bad_entries: 5_000 } });
    expect((mixed.evidence.first_bad as unknown[]).length).toBe(10);
    expect(JSON.stringify(mixed).length).toBeLessThan(5_000);
    expect(checkOf(run.report!, '20260406T060000Z', 'snapshot.registry').status).toBe('pass');
  });

  it('names that are not UTF-8, deeply nested JSON, NUL bytes and huge values: no crash, messages cut, the report stays small', async () => {
    const root = copyOfBase('hostile-content');
    // a name that is not UTF-8
    writeFileSync(Buffer.concat([Buffer.from(`${snapshotDir(root)}/db/`), Buffer.from([0xff, 0xfe, 0x41])]), 'x');
    // metadata: a 400 000-deep list as created_at, a NUL byte and half a megabyte in backup_root
    const metadataFile = join(snapshotDir(root, '20260407T060000Z'), 'backup-metadata.json');
    const metadata = JSON.parse(readFileSync(metadataFile, 'utf8')) as Record<string, unknown>;
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    writeFileSync(metadataFile, JSON.stringify({ ...metadata, backup_root: `/x\u0000${'y'.repeat(500_000)}` }).replace(/"created_at":"[^"]*"/, `"created_at":${deep}`));
    // a registry of 20 000 projects with 300-character ids and a deep tail
    const registryFile = join(snapshotDir(root, '20260406T060000Z'), 'config/project-registry.json');
    const projects = Array.from({ length: 20_000 }, (_, i) => ({ id: `p${i}-${'z'.repeat(300)}\u0000`, junk: null }));
    writeFileSync(registryFile, JSON.stringify({ projects }).replace('"junk":null', `"junk":${deep}`));
    const run = await validate(['--dir', root, '--timeout', '20s']);
    expect(run.code, run.output).toBe(1);
    expect(run.report!.steps.every((s) => s.status === 'pass')).toBe(true);
    expect(run.reportText.length).toBeLessThan(200_000);
    for (const c of allChecks(run.report!)) expect(c.message.length, c.id).toBeLessThan(2_000);
    expect(checkOf(run.report!, NEWEST, 'snapshot.paths')).toMatchObject({ status: 'warn' });
    expect(checkOf(run.report!, NEWEST, 'snapshot.paths').message).toContain('db/\\\\xff\\\\xfeA');
    // nesting deeper than 64 is refused before JSON.parse builds it (a finding about the file, like malformed JSON)
    const metadataCheck = checkOf(run.report!, '20260407T060000Z', 'snapshot.metadata');
    expect(metadataCheck.status).toBe('fail');
    expect(metadataCheck.message).toMatch(/^backup-metadata\.json is nested more than 64 levels deep \(at character \d+\); not parsed$/);
    const registryCheck = checkOf(run.report!, '20260406T060000Z', 'snapshot.registry');
    expect(registryCheck.status).toBe('fail');
    expect(registryCheck.message).toMatch(/^config\/project-registry\.json is nested more than 64 levels deep/);
    expect(checkOf(run.report!, '20260405T060000Z', 'snapshot.registry')).toMatchObject({ status: 'pass' });
  });

  it('an 8 MiB registry nested 4 million deep in every snapshot: refused by its nesting, in bounded memory', async () => {
    const root = copyOfBase('deep-registries');
    // the largest registry that is read (8 MiB), as deep as it can be; inside a string, brackets do not count
    const deep = `{"note":"[[[\\\"[[","projects":${'['.repeat(4_190_000)}${']'.repeat(4_190_000)}}`;
    for (const day of ['20260405', '20260406', '20260407', '20260408']) writeFileSync(join(snapshotDir(root, `${day}T060000Z`), 'config/project-registry.json'), deep);
    // 64 levels (a string holding brackets and escaped quotes among them) is still read
    const atBound = `{"projects":[{"id":"p\\\"[{","x":${'['.repeat(61)}${']'.repeat(61)}}]}`;
    expect(atBound.length).toBeLessThan(200);
    const shallow = copyOfBase('registry-at-bound');
    writeFileSync(join(snapshotDir(shallow), 'config/project-registry.json'), atBound);
    // a heap the parsed tree (~0.5 GB per registry) would not fit in: an out-of-memory abort, no report, without the scan
    const [run, ok] = await Promise.all([validate(['--dir', root, '--timeout', '20s'], { NODE_OPTIONS: '--max-old-space-size=160' }), validate(['--dir', shallow, '--timeout', '20s'])]);
    const past = deep.indexOf('[', deep.indexOf('"projects"')) + 63;
    expect(run.code, run.output).toBe(1);
    expect(run.report!.steps.every((s) => s.status === 'pass')).toBe(true);
    for (const day of ['20260405', '20260406', '20260407', '20260408']) {
      expect(checkOf(run.report!, `${day}T060000Z`, 'snapshot.registry').message).toBe(`config/project-registry.json is nested more than 64 levels deep (at character ${past}); not parsed`);
    }
    expect(ok.code, ok.output).toBe(0);
    expect(checkOf(ok.report!, NEWEST, 'snapshot.registry')).toMatchObject({ status: 'pass', message: '1 project(s)' });
  });
});

describe.runIf(asRoot)('the harness\'s own scratch space full (a 256 KiB tmpfs) is an error, never "the database is damaged"', () => {
  let big: string;
  let scratch: string;
  beforeAll(() => {
    big = join(work, 'big');
    buildSnapshotTree(big, { snapshots: [{ stamp: '20260407T060000Z' as never, kind: 'good' }, { stamp: NEWEST as never, kind: 'good' }], rowsPerDay: 300, payloadBytes: 1500 });
    scratch = tmpfs('full-tmp', '256k');
  });

  it('validate: exit 3, the step inspect_databases is error, integrity and completeness are skip with ENOSPC and the scratch path, nothing fails', async () => {
    expect(statSync(join(snapshotDir(big), 'db/atocore.db')).size).toBeGreaterThan(256 * 1024);
    const run = await validate(['--dir', big, '--timeout', '20s'], { TMPDIR: scratch });
    expect(run.code, run.output).toBe(3);
    expect(run.report!.verdict).toBe('error');
    const step = run.report!.steps.find((s) => s.id === 'inspect_databases')!;
    expect(step.status).toBe('error');
    expect(step.detail).toMatch(new RegExp(`scratch space failed writing ${scratch}/atocore-drill-validate-[^/]+/atocore-drill-deep-${NEWEST}-[^/]+/atocore\\.db \\(ENOSPC\\)`));
    for (const stamp of ['20260407T060000Z', NEWEST]) {
      expect(checkOf(run.report!, stamp, 'snapshot.integrity')).toMatchObject({ status: 'skip' });
      expect(checkOf(run.report!, stamp, 'snapshot.integrity').message).toMatch(/not judged: the harness could not inspect the database.*ENOSPC/);
      expect(checkOf(run.report!, stamp, 'snapshot.complete')).toMatchObject({ status: 'skip' });
    }
    expect(allChecks(run.report!).filter((c) => c.status === 'fail')).toEqual([]);
    expect(run.report!.checks.find((c) => c.id === 'rpo.fresh')).toMatchObject({ status: 'skip' });
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('the drill\'s inspectDatabaseFile throws ScratchSpaceError naming the copy and ENOSPC, never returns "damaged"', async () => {
    const attempt = inspectDatabaseFile(join(snapshotDir(big), 'db/atocore.db'), undefined, scratch);
    await expect(attempt).rejects.toBeInstanceOf(ScratchSpaceError);
    await expect(attempt).rejects.toThrow(new RegExp(`${scratch}/atocore-drill-sqlite-[^/]+/inspected\\.db \\(ENOSPC\\)`));
    // a scratch space that cannot be written at all (root passes EACCES checks, so a read-only mount stands in)
    const readOnly = tmpfs('read-only-tmp', '1m');
    execFileSync('mount', ['-o', 'remount,ro', readOnly]);
    await expect(inspectDatabaseFile(join(snapshotDir(big), 'db/atocore.db'), undefined, readOnly)).rejects.toThrow(/scratch space failed creating .*read-only-tmp\/atocore-drill-sqlite-\* \(EROFS\)/);
    // the same file with room to copy: a sound database
    const roomy = await inspectDatabaseFile(join(snapshotDir(big), 'db/atocore.db'), undefined, work);
    expect(roomy.ok).toBe(true);
    expect(readdirSync(scratch)).toEqual([]);
  });
});

describe('AtoCore\'s validator cut off: never a verdict about the snapshot', () => {
  let slow: string;
  let mark: string;
  beforeAll(() => {
    slow = join(work, 'slow-validator.sh');
    mark = join(work, 'validator-started');
    writeFileSync(slow, `#!/bin/sh\ntouch '${mark}'\nexec sleep 60\n`);
    chmodSync(slow, 0o755);
  });

  it('timed out by the run\'s --timeout: exit 3, snapshot.atocore_validate skip, within the budget', async () => {
    const run = await validate(['--dir', base, '--stamp', NEWEST, '--timeout', '6s', '--atocore-validator', `${slow} {stamp}`]);
    expect(run.code, run.output).toBe(3);
    expect(run.elapsedMs).toBeLessThan(15_000);
    expect(checkOf(run.report!, NEWEST, 'snapshot.atocore_validate')).toMatchObject({ status: 'skip' });
    expect(checkOf(run.report!, NEWEST, 'snapshot.atocore_validate').message).toMatch(/could not run.*timed out/);
    expect(run.report!.steps.find((s) => s.id === 'atocore_validate')).toMatchObject({ status: 'error' });
  });

  it('one that ignores TERM and leaves a setsid child: KILLed by the budget, not 2 s after it; the child it left is killed too', async () => {
    const stubborn = join(work, 'stubborn-validator.sh');
    const leftPid = join(work, 'stubborn-left.pid');
    // as a validator that daemonizes a helper might: the helper leaves the process group and ignores TERM and HUP
    writeFileSync(stubborn, `#!/bin/sh\ntrap '' TERM INT HUP\nsetsid sh -c 'echo $$ > "${leftPid}"; trap "" TERM HUP; exec sleep 300' &\nsleep 300\n`);
    chmodSync(stubborn, 0o755);
    const run = await validate(['--dir', base, '--stamp', NEWEST, '--timeout', '6s', '--atocore-validator', `${stubborn} {stamp}`]);
    expect(run.code, run.output).toBe(3);
    expect(run.elapsedMs).toBeLessThan(15_000);
    const message = checkOf(run.report!, NEWEST, 'snapshot.atocore_validate').message;
    // TERM came 2 s before the end of the budget, KILL at its end (then 50 ms for what is left in the pipes the
    // setsid child holds): the call lasted the budget, not the budget and 2 s more
    const lasted = Number(/timed out after (\d+)ms/.exec(message)?.[1]);
    expect(lasted, message).toBeLessThan(6_500);
    expect(lasted, message).toBeGreaterThan(3_000);
    const pid = Number(readFileSync(leftPid, 'utf8'));
    expect(pid).toBeGreaterThan(1);
    expect(await hasExited(pid), `pid ${pid} outlived the run`).toBe(true);
  });

  it('one that answers and leaves something running: what carries its mark is killed when the call ends', async () => {
    const answering = join(work, 'answering-validator.sh');
    const leftPids = join(work, 'answering-left.pid');
    rmSync(leftPids, { force: true });
    // one helper in its group without the pipes, one in a session of its own holding them
    writeFileSync(answering, `#!/bin/sh\nsh -c 'echo $$ >> "${leftPids}"; exec sleep 300' </dev/null >/dev/null 2>&1 &\nsetsid sh -c 'echo $$ >> "${leftPids}"; trap "" TERM HUP; exec sleep 300' &\nsleep 0.3\necho '{"valid": true, "stamp": "'"$1"'"}'\n`);
    chmodSync(answering, 0o755);
    const run = await validate(['--dir', base, '--stamp', NEWEST, '--timeout', '20s', '--atocore-validator', `${answering} {stamp}`]);
    expect(run.code, run.output).toBe(0);
    expect(checkOf(run.report!, NEWEST, 'snapshot.atocore_validate')).toMatchObject({ status: 'pass' });
    const pids = readFileSync(leftPids, 'utf8').trim().split('\n').map(Number);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(await hasExited(pid), `pid ${pid} outlived the run`).toBe(true);
  });

  it('killedWithin: TERM early enough that KILL comes by the bound', () => {
    expect(killedWithin(300_000)).toEqual({ timeoutMs: 298_000, killGraceMs: 2_000 });
    expect(killedWithin(4_000)).toEqual({ timeoutMs: 2_000, killGraceMs: 2_000 });
    expect(killedWithin(3_000)).toEqual({ timeoutMs: 2_250, killGraceMs: 750 });
    for (const total of [1, 2, 3, 10, 999, 3_999, 4_001, 60_000]) {
      const { timeoutMs, killGraceMs } = killedWithin(total);
      expect(timeoutMs, String(total)).toBeGreaterThan(0);
      expect(killGraceMs, String(total)).toBeGreaterThan(0);
      expect(timeoutMs + killGraceMs, String(total)).toBeLessThanOrEqual(Math.max(2, total));
    }
  });

  it('interrupted by SIGINT while it runs: exit 3 at once, the check is never fail or pass', async () => {
    rmSync(mark, { force: true });
    const reportFile = join(work, 'validator-sigint.json');
    const child = spawn(process.execPath, [CLI, 'validate', '--dir', base, '--now', NOW, '--stamp', NEWEST, '--atocore-validator', `${slow} {stamp}`, '--report-json', reportFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!existsSync(mark)) {
      if (Date.now() > deadline) throw new Error(`the validator never started:\n${out}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const interrupted = Date.now();
    child.kill('SIGINT');
    expect(await closed, out).toBe(3);
    expect(Date.now() - interrupted).toBeLessThan(5_000);
    const report = readReport(reportFile);
    expect(report.verdict).toBe('error');
    expect(report.error).toMatch(/interrupted by SIGINT/);
    const validator = allChecks(report).filter((c) => c.id === 'snapshot.atocore_validate');
    expect(validator.every((c) => c.status === 'skip')).toBe(true);
  });
});

describe('opening and copying untrusted files (src/sqlite/scratch-copy.ts)', () => {
  it('refuses FIFOs, links, directories and missing files before any open, without blocking', async () => {
    const dir = mkdtempSync(join(work, 'open-'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    symlinkSync('/etc/passwd', join(dir, 'link'));
    writeFileSync(join(dir, 'file'), 'hello');
    await expect(openRegularFile(join(dir, 'fifo'))).rejects.toThrow(/is a FIFO; refused, not opened/);
    await expect(openRegularFile(join(dir, 'link'))).rejects.toThrow(/is a symlink; refused/);
    await expect(openRegularFile(dir)).rejects.toThrow(/is a directory/);
    await expect(openRegularFile(join(dir, 'nothing'))).rejects.toBeInstanceOf(NotRegularFileError);
    const { handle, stats } = await openRegularFile(join(dir, 'file'));
    expect(stats.size).toBe(5);
    await handle.close();
  });

  it('a copy stops at the run\'s budget, on an interrupt, and when the file is larger than it was listed', async () => {
    const dir = mkdtempSync(join(work, 'copy-'));
    const source = join(dir, 'source');
    writeFileSync(source, Buffer.alloc(3 * 1024 * 1024, 1));
    await expect(copyRegularFile(source, join(dir, 'a'), { deadline: new Deadline(0, '--timeout') })).rejects.toThrow(/the run's --timeout 0ms ran out/);
    const interrupted = new AbortController();
    interrupted.abort(new InterruptedError('SIGINT'));
    await expect(copyRegularFile(source, join(dir, 'b'), { signal: interrupted.signal })).rejects.toBeInstanceOf(InterruptedError);
    await expect(copyRegularFile(source, join(dir, 'c'), { maxBytes: 1024 * 1024 })).rejects.toThrow(/changed during the run/);
    const copied = await copyRegularFile(source, join(dir, 'd'), { maxBytes: 3 * 1024 * 1024 });
    expect(copied.bytes).toBe(3 * 1024 * 1024);
    // never over an existing file
    await expect(copyRegularFile(source, join(dir, 'd'))).rejects.toBeInstanceOf(ScratchSpaceError);
  });

  it('the harness\'s copy of a WAL-mode snapshot is opened as the file alone: no -wal or -shm made beside it; no budget left is an error before any open', async () => {
    const dir = mkdtempSync(join(work, 'alone-'));
    const copy = join(dir, 'atocore.db');
    await copyRegularFile(join(snapshotDir(base), 'db/atocore.db'), copy);
    expect([...readFileSync(copy).subarray(18, 20)]).toEqual([2, 2]);
    const inspection = await inspectSnapshotDatabase(copy, statSync(copy).size, 60_000);
    expect(inspection.integrity).toEqual({ ok: true, messages: ['ok'] });
    // a WAL-mode open would have made both: nothing that needs room beyond the copy itself
    expect(readdirSync(dir)).toEqual(['atocore.db']);
    await expect(inspectSnapshotDatabase(join(dir, 'never-opened.db'), 512 * 1024 * 1024, 5_000)).rejects.toThrow(/not enough of the run's time budget left for integrity_check on 512\.0 MiB/);
  });
});
