import { describe, expect, it } from 'vitest';
import type { SnapshotStamp } from '../src/atocore/stamp.js';
import type { CheckResult } from '../src/report/model.js';
import type { RowIndex, SnapshotDatabaseInspection } from '../src/validation/database.js';
import type { SnapshotFacts } from '../src/validation/gather.js';
import { judgeDisk, judgeListing, judgeNotADirectory, judgeOverall, judgeSnapshot, SnapshotJudge, unfinishedRunSkips, type SnapshotJudgePlan } from '../src/validation/judge.js';
import type { LedgerSnapshot } from '../src/validation/ledger.js';
import { summaryOf } from '../src/validation/overall-checks.js';
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

describe('judging one snapshot from its facts', () => {
  const stamp = s('20260407T060000Z');
  const next = { stamp: s('20260408T060000Z'), inspection: clean(new Map([['memories', new Map([['m1', Date.parse('2026-04-01T00:00:00Z')]])]])) };

  it('a whole snapshot with a clean database, a valid answer from AtoCore and a successor holding nothing more passes every check', () => {
    const judged = judgeSnapshot(factsOf(stamp), next, plan());
    expect(statuses(judged.report.checks)).toEqual(ALL_PASS);
    expect(judged.report.status).toBe('pass');
    expect(judged.summary).toEqual({ stamp, dbBytes: DB_BYTES, totalBytes: DB_BYTES + 20, hasChroma: false, unusable: null });
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
    const older = summaryOf(s('20260407T060000Z'), [file('db/atocore.db', DB_BYTES)], null);
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
    expect(summary).toEqual({ stamp: '20260408T060000Z', dbBytes: null, totalBytes: 0, hasChroma: false, unusable: 'snapshot.paths failed' });
  });

  it('the listing: a foreign entry warns, a stamp in the future fails', () => {
    const entries = [dir('20260408T060000Z'), dir('20990101T000000Z'), file('notes.txt')];
    expect(statuses(judgeListing('dir /x', entries, Date.parse(NOW_ISO)))).toEqual({ 'snapshots.listing': 'warn', 'snapshots.future': 'fail' });
  });

  it('the overall checks count from the summaries; disk headroom is sized by the newest snapshot', () => {
    const now = Date.parse(NOW_ISO);
    const older = summaryOf(s('20260407T060000Z'), [file('db/atocore.db', 1000)], null);
    const newest = summaryOf(s('20260408T060000Z'), [file('db/atocore.db', 100)], 'snapshot.integrity failed');
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
