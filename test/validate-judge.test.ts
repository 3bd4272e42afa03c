import { describe, expect, it } from 'vitest';
import type { SnapshotStamp } from '../src/atocore/stamp.js';
import type { CheckResult } from '../src/report/model.js';
import type { RowIndex, SnapshotDatabaseInspection } from '../src/validation/database.js';
import type { SnapshotFacts } from '../src/validation/gather.js';
import { judgeDisk, judgeListing, judgeNotADirectory, judgeOverall, judgeSnapshot, SnapshotJudge, unfinishedRunSkips, type SnapshotJudgePlan } from '../src/validation/judge.js';
import type { LedgerSnapshot } from '../src/validation/ledger.js';
import { summaryOf, type SnapshotStanding } from '../src/validation/overall-checks.js';
import type { StoreEntry, ValidatorRun } from '../src/validation/store.js';

/**
 * The judging step on facts built here: no store, no files, no processes. What the gathering
 * step would have read is written down, and the verdicts are read off.
 */

const s = (text: string): SnapshotStamp => text as SnapshotStamp;
const SNAPSHOTS = '/srv/storage/atocore/backups/snapshots';
const NOW_ISO = '2026-04-08T07:00:00.000Z';
const DB_BYTES = 4096;

const file = (path: string, size = 10, extra: Partial<StoreEntry> = {}): StoreEntry => ({ path, type: 'file', size, linkTarget: null, ...extra });
const dir = (path: string): StoreEntry => ({ path, type: 'dir', size: 0, linkTarget: null });
const text = (value: unknown): { ok: true; data: Buffer } => ({ ok: true, data: Buffer.from(JSON.stringify(value)) });

function metadataOf(stamp: SnapshotStamp): { ok: true; data: Buffer } {
  const root = `${SNAPSHOTS}/${stamp}`;
  const at = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}+00:00`;
  return text({
    created_at: at,
    backup_root: root,
    db_snapshot_path: `${root}/db/atocore.db`,
    db_size_bytes: DB_BYTES,
    registry_snapshot_path: `${root}/config/project-registry.json`,
    chroma_snapshot_path: '',
    chroma_snapshot_included: false,
  });
}

function clean(rows: RowIndex | null): SnapshotDatabaseInspection {
  return { integrity: { ok: true, messages: ['ok'] }, foreignKeys: { ok: true, violations: [] }, error: null, rows };
}

/** The first 100 bytes of an SQLite database of `pages` pages of `pageSize` bytes (the header's count valid). */
function sqliteHead(pageSize = 4096, pages = DB_BYTES / 4096): { ok: true; data: Buffer } {
  const head = Buffer.alloc(100);
  head.write('SQLite format 3\0', 0, 'latin1');
  head.writeUInt16BE(pageSize === 65_536 ? 1 : pageSize, 16);
  head.writeUInt32BE(7, 24);
  head.writeUInt32BE(pages, 28);
  head.writeUInt32BE(7, 92);
  return { ok: true, data: head };
}

const validatorSaysValid = (stamp: SnapshotStamp): ValidatorRun => ({ exitCode: 0, stdout: JSON.stringify({ stamp, valid: true, errors: [] }), stderr: '', durationMs: 5, couldNotRun: null });

/** The facts of a whole, healthy snapshot, as gathering would produce them; `change` says what is different. */
function factsOf(stamp: SnapshotStamp, change: Partial<SnapshotFacts> = {}): SnapshotFacts {
  const files = [file('backup-metadata.json'), dir('db'), file('db/atocore.db', DB_BYTES), dir('config'), file('config/project-registry.json')];
  return {
    stamp,
    selected: true,
    files,
    metadataRead: metadataOf(stamp),
    registryRead: text({ projects: [{ id: 'p1' }] }),
    databaseHead: sqliteHead(),
    sidecarHeads: new Map(),
    hashes: new Map(files.filter((f) => f.type === 'file').map((f) => [f.path, 'a'.repeat(64)])),
    inspection: clean(new Map([['memories', new Map([['m1', Date.parse('2026-04-01T00:00:00Z')]])]])),
    validatorRun: validatorSaysValid(stamp),
    validatorRefused: null,
    harnessError: null,
    ...change,
  };
}

const plan = (change: Partial<SnapshotJudgePlan> = {}): SnapshotJudgePlan => ({
  snapshotsDir: SNAPSHOTS,
  deepShare: new Set([s('20260406T060000Z'), s('20260407T060000Z'), s('20260408T060000Z')]),
  notInShareReason: "not in this run's --max-deep share",
  ledger: {},
  nowIso: NOW_ISO,
  ...change,
});

const ALL_PASS: Readonly<Record<string, string>> = Object.fromEntries(
  ['metadata', 'paths', 'file_types', 'integrity', 'sidecars', 'complete', 'atocore_validate', 'registry', 'chroma', 'immutable'].map((name) => [`snapshot.${name}`, 'pass']),
);
const statuses = (checks: readonly CheckResult[]): Record<string, string> => Object.fromEntries(checks.map((c) => [c.id, c.status]));
const byId = (checks: readonly CheckResult[], id: string): CheckResult => checks.find((c) => c.id === id)!;
/** A snapshot inspected this run that counts, its database shown intact, timed by its stamp. */
const USABLE: SnapshotStanding = { unusable: null, createdAtMs: null, integrityUnchecked: null };

describe('judging one snapshot from its facts', () => {
  const stamp = s('20260407T060000Z');
  const next = { stamp: s('20260408T060000Z'), inspection: clean(new Map([['memories', new Map([['m1', Date.parse('2026-04-01T00:00:00Z')]])]])) };

  it('a whole snapshot with a clean database, a valid answer from AtoCore and a successor holding nothing more passes every check', () => {
    const judged = judgeSnapshot(factsOf(stamp), next, plan());
    expect(statuses(judged.report.checks)).toEqual(ALL_PASS);
    expect(judged.report.status).toBe('pass');
    expect(judged.summary).toEqual({ stamp, dbBytes: DB_BYTES, totalBytes: DB_BYTES + 20, hasChroma: false, inspected: true, unusable: null, createdAtMs: Date.parse('2026-04-07T06:00:00Z'), integrityUnchecked: null });
    expect(judged.validatorCouldNotRun).toBeNull();
    // first seen: recorded, with this run's deep check
    expect(judged.ledgerEntry).toMatchObject({ first_seen: NOW_ISO, deep_checked_at: NOW_ISO, deep_result: 'pass', changed_since: null });
    expect(Object.keys(judged.ledgerEntry!.files).sort()).toEqual(['backup-metadata.json', 'config/project-registry.json', 'db/atocore.db']);
  });

  it('the database fetched and clean, the metadata missing: snapshot.metadata fails, what needs no metadata still passes, Chroma cannot be judged', () => {
    const facts = factsOf(stamp, { files: factsOf(stamp).files.filter((f) => f.path !== 'backup-metadata.json'), metadataRead: null });
    const judged = judgeSnapshot(facts, next, plan());
    expect(statuses(judged.report.checks)).toEqual({ ...ALL_PASS, 'snapshot.metadata': 'fail', 'snapshot.chroma': 'skip' });
    expect(byId(judged.report.checks, 'snapshot.metadata').message).toMatch(/backup-metadata\.json is missing/);
    expect(judged.report.status).toBe('fail');
    expect(judged.summary.unusable).toBe('snapshot.metadata failed');
  });

  it('the harness\'s scratch space failed: integrity and completeness are skip with the reason, nothing fails, the ledger records no deep check', () => {
    const harnessError = 'ENOSPC: no space left on device, write /tmp/scratch/20260407T060000Z/atocore.db';
    const judged = judgeSnapshot(factsOf(stamp, { inspection: null, harnessError }), next, plan());
    const checks = judged.report.checks;
    expect(byId(checks, 'snapshot.integrity')).toMatchObject({ status: 'skip', message: expect.stringMatching(/^not judged: the harness could not inspect the database \(ENOSPC.*\/tmp\/scratch\//) });
    expect(byId(checks, 'snapshot.complete')).toMatchObject({ status: 'skip', message: expect.stringMatching(/not judged.*ENOSPC/) });
    expect(checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(judged.summary.unusable).toBeNull();
    expect(judged.ledgerEntry).toMatchObject({ deep_checked_at: null, deep_result: null });
  });

  it('a harness error never hides evidence about the snapshot: a database smaller than its metadata says still fails', () => {
    const files = factsOf(stamp).files.map((f) => (f.path === 'db/atocore.db' ? file(f.path, 1024) : f));
    const judged = judgeSnapshot(factsOf(stamp, { files, inspection: null, harnessError: 'EACCES: scratch' }), null, plan());
    expect(byId(judged.report.checks, 'snapshot.integrity')).toMatchObject({ status: 'fail', message: expect.stringMatching(/truncated/) });
    expect(byId(judged.report.checks, 'snapshot.complete').status).toBe('skip');
  });

  it('a database outside the deep share is skip with why; a damaged one fails; the ledger records the failed deep check', () => {
    const outside = judgeSnapshot(factsOf(stamp, { inspection: null }), null, plan({ deepShare: new Set() }));
    expect(byId(outside.report.checks, 'snapshot.integrity')).toMatchObject({ status: 'skip', message: "not in this run's --max-deep share; the size matches the metadata, the header is SQLite's (1 pages of 4096 bytes)" });
    // not deep-checked this run, its size and header right: it still counts for rpo.fresh (the rotation checks it later)
    expect(outside.summary.unusable).toBeNull();
    expect(byId(outside.report.checks, 'snapshot.complete')).toMatchObject({ status: 'skip', message: 'the database was not inspected this run' });
    const inShare = judgeSnapshot(factsOf(stamp, { inspection: null }), null, plan());
    expect(byId(inShare.report.checks, 'snapshot.integrity').message).toMatch(/^the database was not inspected/);
    const damaged: SnapshotDatabaseInspection = { integrity: { ok: false, messages: ['*** in database main ***', 'Page 3 is never used'] }, foreignKeys: { ok: true, violations: [] }, error: null, rows: null };
    const judged = judgeSnapshot(factsOf(stamp, { inspection: damaged }), null, plan());
    expect(byId(judged.report.checks, 'snapshot.integrity')).toMatchObject({ status: 'fail', message: expect.stringMatching(/^integrity_check: .*Page 3/) });
    expect(judged.ledgerEntry).toMatchObject({ deep_checked_at: NOW_ISO, deep_result: 'fail' });
  });

  it("AtoCore's validator that could not run is skip and handed back as the run's trouble; one refused is skip with why; one that says invalid fails", () => {
    const timedOut: ValidatorRun = { exitCode: null, stdout: '', stderr: '', durationMs: 1000, couldNotRun: 'timed out after 5m' };
    const cut = judgeSnapshot(factsOf(stamp, { validatorRun: timedOut }), next, plan());
    expect(byId(cut.report.checks, 'snapshot.atocore_validate')).toMatchObject({ status: 'skip', message: "AtoCore's validator could not run: timed out after 5m" });
    expect(cut.validatorCouldNotRun).toBe('timed out after 5m');
    expect(cut.report.status).toBe('pass');

    const refused = judgeSnapshot(factsOf(stamp, { validatorRun: null, validatorRefused: 'it would merge db/atocore.db-wal into the snapshot\'s database' }), next, plan());
    expect(byId(refused.report.checks, 'snapshot.atocore_validate')).toMatchObject({ status: 'skip', message: expect.stringMatching(/^AtoCore's validator not run: it would merge/) });
    expect(refused.validatorCouldNotRun).toBeNull();

    const invalid: ValidatorRun = { ...validatorSaysValid(stamp), exitCode: 1, stdout: JSON.stringify({ stamp, valid: false, errors: ['db: integrity failed'] }) };
    const said = judgeSnapshot(factsOf(stamp, { validatorRun: invalid }), next, plan());
    expect(byId(said.report.checks, 'snapshot.atocore_validate')).toMatchObject({ status: 'fail', message: expect.stringMatching(/integrity failed/) });
    expect(said.validatorCouldNotRun).toBeNull();

    const none = judgeSnapshot(factsOf(stamp, { validatorRun: null }), next, plan());
    expect(none.report.checks.map((c) => c.id)).not.toContain('snapshot.atocore_validate');
  });

  it('a file changed since the ledger first saw it fails snapshot.immutable; no ledger, no immutability check and no ledger entry', () => {
    const first = judgeSnapshot(factsOf(stamp), next, plan()).ledgerEntry!;
    const recorded: Record<string, LedgerSnapshot> = Object.freeze({ [stamp]: Object.freeze({ ...first, deep_checked_at: null, deep_result: null }) });
    const rotten = new Map(factsOf(stamp).hashes!);
    rotten.set('db/atocore.db', 'b'.repeat(64));
    const judged = judgeSnapshot(factsOf(stamp, { hashes: rotten }), next, plan({ ledger: recorded }));
    expect(byId(judged.report.checks, 'snapshot.immutable')).toMatchObject({ status: 'fail', evidence: { changed: [{ path: 'db/atocore.db' }] } });
    expect(judged.ledgerEntry).toMatchObject({ first_seen: NOW_ISO, changed_since: NOW_ISO, deep_result: 'pass' });
    // the ledger the run found is read, never written by judging
    expect(recorded[stamp]).toMatchObject({ changed_since: null, deep_result: null });

    const noLedger = judgeSnapshot(factsOf(stamp), next, plan({ ledger: null }));
    expect(noLedger.report.checks.map((c) => c.id)).not.toContain('snapshot.immutable');
    expect(noLedger.ledgerEntry).toBeNull();
  });

  it('the same facts give the same verdicts (judging reads nothing else)', () => {
    const facts = factsOf(stamp, { metadataRead: null });
    expect(judgeSnapshot(facts, next, plan())).toEqual(judgeSnapshot(facts, next, plan()));
  });
});

describe('judging snapshots in order: completeness against the next one read', () => {
  const row = (at: string): number => Date.parse(at);
  it('a row written well before a snapshot, held by the next snapshot read, and missing from it fails; one not read in between is passed over', () => {
    const a = s('20260406T060000Z');
    const b = s('20260407T060000Z');
    const c = s('20260408T060000Z');
    const judge = new SnapshotJudge(plan({ deepShare: new Set([a, c]) }));
    judge.add(factsOf(a, { inspection: clean(new Map([['memories', new Map([['m1', row('2026-04-01T00:00:00Z')]])]])) }));
    judge.add(factsOf(b, { inspection: null }));
    judge.add(factsOf(c, { inspection: clean(new Map([['memories', new Map([['m1', row('2026-04-01T00:00:00Z')], ['m2', row('2026-04-05T00:00:00Z')]])]])) }));
    const judged = judge.finish();
    expect(judged.map((j) => j.report.stamp)).toEqual([a, b, c]);
    expect(byId(judged[0]!.report.checks, 'snapshot.complete')).toMatchObject({ status: 'fail', evidence: { compared_with: c, missing_rows: 1 } });
    expect(byId(judged[1]!.report.checks, 'snapshot.complete')).toMatchObject({ status: 'skip', message: 'the database was not inspected this run' });
    expect(byId(judged[1]!.report.checks, 'snapshot.integrity').message).toMatch(/^not in this run's --max-deep share/);
    expect(byId(judged[2]!.report.checks, 'snapshot.complete')).toMatchObject({ status: 'skip', message: expect.stringMatching(/^no later snapshot/) });
  });

  it('a database whose rows could not be read is no successor: the one before is compared with the next readable one', () => {
    const a = s('20260406T060000Z');
    const b = s('20260407T060000Z');
    const c = s('20260408T060000Z');
    const judge = new SnapshotJudge(plan());
    const rows = new Map([['memories', new Map([['m1', row('2026-04-01T00:00:00Z')]])]]);
    judge.add(factsOf(a, { inspection: clean(rows) }));
    judge.add(factsOf(b, { inspection: { integrity: { ok: false, messages: ['malformed'] }, foreignKeys: { ok: true, violations: [] }, error: null, rows: null } }));
    judge.add(factsOf(c, { inspection: clean(rows) }));
    const [first, second] = judge.finish();
    expect(byId(first!.report.checks, 'snapshot.complete')).toMatchObject({ status: 'pass', evidence: { compared_with: c } });
    expect(byId(second!.report.checks, 'snapshot.complete')).toMatchObject({ status: 'skip', message: 'the database could not be read (see snapshot.integrity)' });
  });
});

describe('the database header, read every run: a file that is not an SQLite database never counts', () => {
  const stamp = s('20260408T060000Z');
  const GIB8 = 8 * 1024 ** 3;
  const holes = (head: { ok: true; data: Buffer }, change: Partial<SnapshotFacts> = {}): SnapshotFacts => {
    const files = factsOf(stamp).files.map((f) => (f.path === 'db/atocore.db' ? file(f.path, GIB8, { allocatedBytes: 0 }) : f));
    const metadata = JSON.parse(metadataOf(stamp).data.toString('utf8')) as Record<string, unknown>;
    return factsOf(stamp, { files, metadataRead: text({ ...metadata, db_size_bytes: GIB8 }), databaseHead: head, inspection: null, ...change });
  };

  it('8 GiB of holes whose metadata agrees: the zeros fail snapshot.integrity, and the snapshot does not count for rpo.fresh', () => {
    const judged = judgeSnapshot(holes({ ok: true, data: Buffer.alloc(100) }), null, plan());
    expect(byId(judged.report.checks, 'snapshot.integrity')).toMatchObject({ status: 'fail', message: 'db/atocore.db: its first 100 bytes are all zeros: not an SQLite database (a hole, or never written)' });
    expect(judged.report.status).toBe('fail');
    expect(judged.summary.unusable).toBe('snapshot.integrity failed');
  });

  it('a real header over 8 GiB of holes: never copied, so never verified: warn, and not counted as usable', () => {
    const judged = judgeSnapshot(holes(sqliteHead(4096, 1)), null, plan());
    expect(byId(judged.report.checks, 'snapshot.integrity')).toMatchObject({ status: 'warn', message: expect.stringMatching(/mostly holes.*never counts as a usable snapshot/) });
    expect(judged.summary.unusable).toBe('its database could not be verified (snapshot.integrity warn)');
    const now = Date.parse(NOW_ISO);
    const older = summaryOf(s('20260407T060000Z'), [file('db/atocore.db', DB_BYTES)], USABLE);
    const rpo = byId(judgeOverall([older, judged.summary], [older.stamp, stamp], null, { nowMs: now, rpoMs: 48 * 3600_000, chromaRpoMs: null, sizeDropPercent: 50 }).checks, 'rpo.fresh');
    expect(rpo).toMatchObject({ status: 'warn', evidence: { newest_usable: older.stamp } });
  });

  it('headers that do not fit the file fail whatever else is known, deep share or not', () => {
    const cases: Array<[Buffer, number, RegExp]> = [
      [Buffer.from('{"not": "sqlite"}'.padEnd(100, ' ')), DB_BYTES, /does not start with "SQLite format 3\\0" \(first bytes: 7b 22 6e/],
      [sqliteHead(4096, 3).data, DB_BYTES, /counts 3 pages of 4096 bytes \(12288 bytes\) but the file has 4096: truncated/],
      [sqliteHead(1000, 1).data, DB_BYTES, /page size of 1000/],
      [sqliteHead(4096, 1).data, DB_BYTES + 10, /not a whole number of 4096-byte pages/],
      [Buffer.alloc(0), 0, /empty: not an SQLite database/],
    ];
    for (const [head, size, message] of cases) {
      const files = factsOf(stamp).files.map((f) => (f.path === 'db/atocore.db' ? file(f.path, size) : f));
      const metadata = JSON.parse(metadataOf(stamp).data.toString('utf8')) as Record<string, unknown>;
      const facts = factsOf(stamp, { files, metadataRead: text({ ...metadata, db_size_bytes: size }), databaseHead: { ok: true, data: head }, inspection: null });
      for (const deepShare of [new Set<SnapshotStamp>(), new Set([stamp])]) {
        const integrity = byId(judgeSnapshot(facts, null, plan({ deepShare })).report.checks, 'snapshot.integrity');
        expect(integrity, String(message)).toMatchObject({ status: 'fail', message: expect.stringMatching(message) });
      }
    }
    // a header read that found the file changed is a finding too
    const changed = judgeSnapshot(factsOf(stamp, { databaseHead: { ok: false, reason: 'it is a FIFO now (it changed since it was listed); not read' }, inspection: null }), null, plan());
    expect(byId(changed.report.checks, 'snapshot.integrity')).toMatchObject({ status: 'fail', message: expect.stringMatching(/FIFO now/) });
    // a file longer than its counted pages is not judged by the header (SQLite reads only those pages)
    const longer = judgeSnapshot(factsOf(stamp, { inspection: null }), null, plan({ deepShare: new Set() }));
    expect(byId(longer.report.checks, 'snapshot.integrity').status).toBe('skip');
  });
});

describe('judging what is not a snapshot and the run as a whole', () => {
  it('a stamp-named symlink is refused as snapshot.paths fail and counts as a failed snapshot', () => {
    const { report, summary } = judgeNotADirectory({ path: '20260408T060000Z', type: 'symlink', size: 0, linkTarget: '/etc' });
    expect(report).toMatchObject({ status: 'fail', checks: [{ id: 'snapshot.paths', status: 'fail', message: 'the snapshot is a symlink to "/etc"; refused, never opened' }] });
    expect(summary).toEqual({ stamp: '20260408T060000Z', dbBytes: null, totalBytes: 0, hasChroma: false, inspected: true, unusable: 'snapshot.paths failed', createdAtMs: null, integrityUnchecked: null });
  });

  it('the listing: a foreign entry warns, a stamp in the future fails', () => {
    const entries = [dir('20260408T060000Z'), dir('20990101T000000Z'), file('notes.txt')];
    expect(statuses(judgeListing('dir /x', entries, Date.parse(NOW_ISO)))).toEqual({ 'snapshots.listing': 'warn', 'snapshots.future': 'fail' });
  });

  it('the overall checks count from the summaries; disk headroom is sized by the newest snapshot', () => {
    const now = Date.parse(NOW_ISO);
    const older = summaryOf(s('20260407T060000Z'), [file('db/atocore.db', 1000)], USABLE);
    const newest = summaryOf(s('20260408T060000Z'), [file('db/atocore.db', 100)], { ...USABLE, unusable: 'snapshot.integrity failed' });
    const { checks, rpoSeconds } = judgeOverall([newest, older], [older.stamp, newest.stamp], null, { nowMs: now, rpoMs: 48 * 3600_000, chromaRpoMs: null, sizeDropPercent: 50 });
    expect(checks.map((c) => c.id)).toEqual(['rpo.fresh', 'retention.policy', 'size.anomaly']);
    // the newest failed a check: freshness counts from the one before it, which is within the 48 h
    expect(byId(checks, 'rpo.fresh')).toMatchObject({ status: 'warn', evidence: { newest_usable: older.stamp } });
    expect(rpoSeconds).toBe(25 * 3600);
    expect(byId(checks, 'size.anomaly').status).toBe('fail');
    expect(judgeDisk({ totalBytes: 10_000, availableBytes: 150 }, [older, newest])).toMatchObject({ status: 'fail', evidence: { newest_snapshot: newest.stamp } });
  });

  it('a run that could not finish: the overall checks it never reached are skip with the error, the ones it reached stay', () => {
    const reached = [{ id: 'rpo.fresh', status: 'pass' as const, message: '', evidence: {} }];
    const skips = unfinishedRunSkips(reached, true, 'check each snapshot: ENOSPC');
    expect(skips.map((c) => c.id)).toEqual(['retention.policy', 'size.anomaly', 'disk.headroom', 'offhost.copy']);
    expect(skips.every((c) => c.status === 'skip' && c.message === 'not evaluated: the run could not finish (check each snapshot: ENOSPC)')).toBe(true);
    expect(unfinishedRunSkips([], false, undefined).map((c) => c.id)).not.toContain('offhost.copy');
  });
});

describe('rpo.fresh counts only what this run has evidence for', () => {
  const now = Date.parse(NOW_ISO);
  const overall = { nowMs: now, rpoMs: 24 * 3600_000, chromaRpoMs: null, sizeDropPercent: 50 };
  const rpoOf = (summaries: ReturnType<typeof summaryOf>[]) => {
    const { checks, rpoSeconds } = judgeOverall(summaries, summaries.map((x) => x.stamp), null, overall);
    return { rpo: byId(checks, 'rpo.fresh'), rpoSeconds };
  };
  /** A healthy snapshot whose metadata says it was created at `createdAt`, whatever its stamp. */
  const createdAt = (stamp: SnapshotStamp, at: string): SnapshotFacts => {
    const metadata = JSON.parse(metadataOf(stamp).data.toString('utf8')) as Record<string, unknown>;
    return factsOf(stamp, { metadataRead: text({ ...metadata, created_at: at }) });
  };

  it('an old snapshot renamed to a fresh stamp counts from its created_at, the older of the two, and says so', () => {
    const renamed = s('20260408T060000Z');
    const judged = judgeSnapshot(createdAt(renamed, '2026-03-30T06:00:00+00:00'), null, plan());
    expect(byId(judged.report.checks, 'snapshot.metadata').status).toBe('warn');
    expect(judged.summary).toMatchObject({ unusable: null, createdAtMs: Date.parse('2026-03-30T06:00:00Z') });
    const { rpo, rpoSeconds } = rpoOf([judged.summary]);
    expect(rpo).toMatchObject({
      status: 'fail',
      message: 'the newest usable snapshot, 20260408T060000Z (counted from its created_at 2026-03-30T06:00:00.000Z, 216h00m before its stamp: a renamed directory?), is 217h00m old (RPO 24h00m)',
      evidence: { newest_usable: renamed, newest_usable_counted_from: 'created_at', counted_from_created_at: [{ stamp: renamed, created_at: '2026-03-30T06:00:00.000Z' }] },
    });
    expect(rpoSeconds).toBe(217 * 3600);
    // a real snapshot taken before it still counts, and the renamed one is named
    const real = judgeSnapshot(factsOf(s('20260407T080000Z')), null, plan()).summary;
    const both = rpoOf([real, judged.summary]);
    expect(both.rpo).toMatchObject({ status: 'warn', evidence: { newest: renamed, newest_usable: real.stamp, newest_usable_counted_from: 'stamp' } });
    expect(both.rpo.message).toBe('20260408T060000Z (counted from its created_at 2026-03-30T06:00:00.000Z, 216h00m before its stamp: a renamed directory?) counts as older than 20260407T080000Z; counting from 20260407T080000Z');
    expect(both.rpoSeconds).toBe(23 * 3600);
  });

  it('a created_at within the tolerance of its stamp, or later than it, leaves the stamp as the time', () => {
    const stamp = s('20260408T060000Z');
    for (const at of ['2026-04-08T05:59:10+00:00', '2026-04-08T09:00:00+00:00']) {
      const { rpo, rpoSeconds } = rpoOf([judgeSnapshot(createdAt(stamp, at), null, plan()).summary]);
      expect(rpo, at).toMatchObject({ status: 'pass', message: 'newest 20260408T060000Z, 1h00m old', evidence: { newest_usable_counted_from: 'stamp' } });
      expect(rpoSeconds).toBe(3600);
    }
  });

  it('a snapshot outside --stamp never counts: a checked one within the RPO passes, only unchecked ones within it is skip, none within it fails', () => {
    const newer = summaryOf(s('20260408T060000Z'), [file('db/atocore.db', DB_BYTES)], null);
    expect(newer).toMatchObject({ inspected: false, unusable: 'not inspected this run (outside --stamp)' });
    const checked = judgeSnapshot(factsOf(s('20260407T080000Z')), null, plan()).summary;
    const fresh = rpoOf([checked, newer]);
    expect(fresh.rpo).toMatchObject({
      status: 'pass',
      message: 'newest inspected 20260407T080000Z, 23h00m old; 1 newer snapshot(s) not inspected this run (outside --stamp), not counted: 20260408T060000Z',
      evidence: { newest: newer.stamp, newest_usable: checked.stamp, not_inspected: [newer.stamp] },
    });
    expect(fresh.rpoSeconds).toBe(23 * 3600);

    const old = judgeSnapshot(factsOf(s('20260405T060000Z')), null, plan()).summary;
    const unknown = rpoOf([old, newer]);
    expect(unknown.rpo).toMatchObject({ status: 'skip', evidence: { newest_usable: old.stamp, not_inspected: [newer.stamp] } });
    expect(unknown.rpo.message).toBe(
      'freshness not judged: only snapshots not inspected this run (outside --stamp) could be within the RPO of 24h00m: 20260408T060000Z; the newest usable snapshot inspected, 20260405T060000Z, is 73h00m old; validate them (without --stamp, or --stamp 20260408T060000Z) to judge it',
    );
    expect(unknown.rpoSeconds).toBeNull();
    // nothing inspected counts at all: the same
    expect(rpoOf([newer]).rpo).toMatchObject({ status: 'skip', message: expect.stringMatching(/; no snapshot inspected counts; validate them/) });

    const stale = summaryOf(s('20260406T060000Z'), [file('db/atocore.db', DB_BYTES)], null);
    expect(rpoOf([old, stale]).rpo).toMatchObject({ status: 'fail', message: 'the newest usable snapshot, 20260405T060000Z, is 73h00m old (RPO 24h00m); 1 newer snapshot(s) not inspected this run (outside --stamp), not counted: 20260406T060000Z' });
    expect(rpoOf([stale]).rpo).toMatchObject({ status: 'fail', message: 'no usable snapshot: none of them was inspected this run (newest 20260406T060000Z, outside --stamp)' });
  });

  it('Chroma freshness alike: only an unchecked snapshot with Chroma files within the Chroma RPO is skip', () => {
    const chromaFiles = [file('db/atocore.db', DB_BYTES), dir('chroma'), file('chroma/chroma.sqlite3')];
    const newer = summaryOf(s('20260408T060000Z'), chromaFiles, null);
    const checked = judgeSnapshot(factsOf(s('20260407T080000Z')), null, plan()).summary;
    const { checks, rpoSeconds, chromaRpoSeconds } = judgeOverall([checked, newer], [checked.stamp, newer.stamp], null, { ...overall, chromaRpoMs: 8 * 86_400_000 });
    expect(byId(checks, 'rpo.fresh')).toMatchObject({ status: 'skip', message: expect.stringMatching(/^Chroma freshness not judged: only snapshots not inspected this run \(outside --stamp\) hold Chroma files within the Chroma RPO of 192h00m: 20260408T060000Z; no snapshot with Chroma inspected counts/) });
    expect([rpoSeconds, chromaRpoSeconds]).toEqual([23 * 3600, null]);
  });

  it('a database nothing checked this run (no deep check, no validator) still counts, and rpo.fresh warns that its integrity was not checked', () => {
    const stamp = s('20260408T060000Z');
    const unchecked = judgeSnapshot(factsOf(stamp, { inspection: null, validatorRun: null }), null, plan({ deepShare: new Set(), notInShareReason: 'integrity_check not run over SSH without --deep' }));
    expect(unchecked.summary).toMatchObject({ unusable: null, integrityUnchecked: "integrity_check not run over SSH without --deep; AtoCore's validator not run (--atocore-validator none)" });
    const { rpo, rpoSeconds } = rpoOf([unchecked.summary]);
    expect(rpo).toMatchObject({
      status: 'warn',
      message: "the integrity of the newest snapshot, 20260408T060000Z, was not checked by anything this run (integrity_check not run over SSH without --deep; AtoCore's validator not run (--atocore-validator none)); only its size and SQLite header are known",
      evidence: { newest_usable: stamp, integrity_unchecked: [{ stamp, why: expect.stringMatching(/without --deep/) }] },
    });
    expect(rpoSeconds).toBe(3600);
    // AtoCore's validator saying valid, or the harness's own check, is evidence: no warning
    for (const facts of [factsOf(stamp, { inspection: null }), factsOf(stamp, { validatorRun: null })]) {
      const judged = judgeSnapshot(facts, null, plan({ deepShare: facts.inspection ? new Set([stamp]) : new Set() }));
      expect(judged.summary.integrityUnchecked).toBeNull();
      expect(rpoOf([judged.summary]).rpo.status).toBe('pass');
    }
  });

  it('with a ledger: an earlier deep check of unchanged files is evidence; an earlier failed one keeps the snapshot from counting', () => {
    const stamp = s('20260408T060000Z');
    const recordedAs = (deep_result: 'pass' | 'fail'): Record<string, LedgerSnapshot> => {
      const first = judgeSnapshot(factsOf(stamp), null, plan()).ledgerEntry!;
      return { [stamp]: { ...first, first_seen: '2026-04-08T06:30:00.000Z', deep_checked_at: '2026-04-08T06:30:00.000Z', deep_result } };
    };
    const notThisRun = (ledger: Record<string, LedgerSnapshot>, change: Partial<SnapshotFacts> = {}) =>
      judgeSnapshot(factsOf(stamp, { inspection: null, validatorRun: null, ...change }), null, plan({ deepShare: new Set(), ledger }));
    const passed = notThisRun(recordedAs('pass'));
    expect(byId(passed.report.checks, 'snapshot.immutable').status).toBe('pass');
    expect(passed.summary).toMatchObject({ unusable: null, integrityUnchecked: null });
    expect(rpoOf([passed.summary]).rpo.status).toBe('pass');

    const failed = notThisRun(recordedAs('fail'));
    expect(failed.summary.unusable).toBe("its database failed the harness's integrity_check at 2026-04-08T06:30:00.000Z (the ledger), and its files are unchanged since");
    expect(rpoOf([failed.summary]).rpo).toMatchObject({ status: 'fail', message: expect.stringMatching(/^no usable snapshot: none counts \(newest 20260408T060000Z: its database failed the harness's integrity_check at/) });

    // files changed since: the earlier check says nothing about them (and snapshot.immutable fails)
    const rotten = new Map(factsOf(stamp).hashes!);
    rotten.set('db/atocore.db', 'b'.repeat(64));
    expect(notThisRun(recordedAs('pass'), { hashes: rotten }).summary.unusable).toBe('snapshot.immutable failed');
  });
});

describe('a ledger record of another shape is no evidence', () => {
  it('a deep result that is neither pass nor fail, or no time, leaves the database unchecked', () => {
    const stamp = s('20260408T060000Z');
    const first = judgeSnapshot(factsOf(stamp), null, plan()).ledgerEntry!;
    const shapes = [
      { deep_checked_at: '2026-04-08T06:30:00.000Z', deep_result: 'ok' },
      { deep_checked_at: 12, deep_result: 'pass' },
      { deep_checked_at: null, deep_result: 'pass' },
    ];
    for (const shape of shapes) {
      const ledger = { [stamp]: { ...first, ...shape } as unknown as LedgerSnapshot };
      const judged = judgeSnapshot(factsOf(stamp, { inspection: null, validatorRun: null }), null, plan({ deepShare: new Set(), ledger }));
      expect(judged.summary, JSON.stringify(shape)).toMatchObject({ unusable: null, integrityUnchecked: expect.stringMatching(/--atocore-validator none/) });
    }
  });
});
