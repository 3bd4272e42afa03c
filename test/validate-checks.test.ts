import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { stampOf, type SnapshotStamp } from '../src/atocore/stamp.js';
import { UsageError } from '../src/common/errors.js';
import { checkRemotePath, parseOffhostTarget, parseSshAddress } from '../src/remote/address.js';
import { parseDiskFree, parseListing, parseSha256sum, renderRemoteCommand, validatorArgv } from '../src/remote/commands.js';
import { fingerprint, hostKeyAlgorithmsFor, parseKnownHosts, verifyHostKey } from '../src/remote/known-hosts.js';
import { SecretText } from '../src/remote/identity.js';
import { checkComplete, missingCommittedRows, type RowIndex } from '../src/validation/database.js';
import { checkImmutable, emptyLedger, selectForDeepCheck } from '../src/validation/ledger.js';
import { checkDiskHeadroom, checkFutureStamps, checkListing, checkOffhost, checkRpo, checkSizeAnomaly, type SnapshotSummary } from '../src/validation/overall-checks.js';
import { checkRetention, planRetention, retentionGaps } from '../src/validation/retention.js';
import { checkSidecars, SIDECAR_PATHS, summariseWal } from '../src/validation/sidecars.js';
import { boundedValue, checkFileTypes, checkMetadata, checkPaths, clip, databaseCopyRefusal, isSparse, linkDestinationInside, showValue, validatorRefusal } from '../src/validation/snapshot-checks.js';
import { DB_FILE, displayName, type StoreEntry } from '../src/validation/store.js';
import { remoteBound } from '../src/remote/ssh-connection.js';

const s = (text: string): SnapshotStamp => text as SnapshotStamp;
const key = (type: string, body: string): Buffer => {
  const name = Buffer.from(type);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  return Buffer.concat([length, name, Buffer.from(body)]);
};
const ED = key('ssh-ed25519', 'the-real-host-key-0123456789abcdef');
const OTHER = key('ssh-ed25519', 'somebody-elses-key-0123456789abcd');
const RSA = key('ssh-rsa', 'an-rsa-key-of-the-same-host-012345');
const hashed = (name: string): string => {
  const salt = Buffer.from('0123456789abcdefghij');
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
};

describe('known_hosts (OpenSSH format)', () => {
  const file = parseKnownHosts(
    [
      '# comment',
      `dalidou,10.0.0.5 ssh-ed25519 ${ED.toString('base64')} root@dalidou`,
      `[dalidou]:2222 ssh-ed25519 ${ED.toString('base64')}`,
      `${hashed('[backup.example]:2200')} ssh-ed25519 ${ED.toString('base64')}`,
      `*.lab,!evil.lab ssh-ed25519 ${ED.toString('base64')}`,
      `@revoked * ssh-ed25519 ${OTHER.toString('base64')}`,
      `@cert-authority *.example ssh-ed25519 ${OTHER.toString('base64')}`,
      `rsahost ssh-rsa ${RSA.toString('base64')}`,
      'broken line',
      `mismatch ssh-rsa ${ED.toString('base64')}`,
    ].join('\n'),
    '/k',
  );

  it('matches plain names, the [host]:port form, hashed entries and wildcards; negation rules a line out', () => {
    expect(verifyHostKey(file, 'dalidou', 22, ED).outcome).toBe('match');
    expect(verifyHostKey(file, 'DALIDOU', 22, ED).outcome).toBe('match');
    expect(verifyHostKey(file, '10.0.0.5', 22, ED).outcome).toBe('match');
    expect(verifyHostKey(file, 'dalidou', 2222, ED).outcome).toBe('match');
    expect(verifyHostKey(file, 'backup.example', 2200, ED).outcome).toBe('match');
    expect(verifyHostKey(file, 'backup.example', 22, ED).outcome).toBe('unknown');
    expect(verifyHostKey(file, 'nas.lab', 22, ED).outcome).toBe('match');
    expect(verifyHostKey(file, 'evil.lab', 22, ED).outcome).toBe('unknown');
  });

  it('a different key for a known host is "changed"; a @revoked key is refused; an unknown host is "unknown"', () => {
    expect(verifyHostKey(file, 'dalidou', 22, RSA)).toMatchObject({ outcome: 'changed', knownTypes: ['ssh-ed25519'] });
    expect(verifyHostKey(file, 'nowhere', 22, OTHER).outcome).toBe('revoked');
    expect(verifyHostKey(file, 'nowhere', 22, ED).outcome).toBe('unknown');
    // a certificate authority line is not a host key (certificates are not supported)
    expect(verifyHostKey(file, 'ca.example', 22, OTHER).outcome).toBe('revoked');
  });

  it('skips lines it cannot read (as ssh does) and says which', () => {
    expect(file.skipped).toEqual([9, 10]);
  });

  it('offers only the host key algorithms known_hosts has for the host', () => {
    expect(hostKeyAlgorithmsFor(file, 'dalidou', 22)).toEqual(['ssh-ed25519']);
    expect(hostKeyAlgorithmsFor(file, 'rsahost', 22)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithmsFor(file, 'unknown', 22)).toBeNull();
  });

  it('fingerprints like OpenSSH (SHA256:, unpadded base64)', () => {
    expect(fingerprint(ED)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

describe('addresses and remote arguments', () => {
  it('parses [USER@]HOST[:PORT] and refuses anything else, naming the flag', () => {
    expect(parseSshAddress('backup@dalidou:2222')).toEqual({ user: 'backup', host: 'dalidou', port: 2222 });
    expect(parseSshAddress('drill@[::1]:2200')).toEqual({ user: 'drill', host: '::1', port: 2200 });
    expect(parseSshAddress('dalidou').port).toBe(22);
    for (const bad of ['', 'dalidou:0', 'dalidou:99999', 'dal idou', '-oProxyCommand=x', 'a@b@', 'host:port', 'u$er@host', '[::1']) {
      expect(() => parseSshAddress(bad), bad).toThrow(/--ssh/);
    }
  });

  it('parses --offhost [USER@]HOST[:PORT]:PATH or a local directory', () => {
    expect(parseOffhostTarget('nas:/volume1/atocore')).toMatchObject({ kind: 'ssh', address: { host: 'nas', port: 22 }, path: '/volume1/atocore' });
    expect(parseOffhostTarget('copy@nas:2222:/v/a/')).toMatchObject({ kind: 'ssh', address: { user: 'copy', port: 2222 }, path: '/v/a' });
    expect(parseOffhostTarget('/mnt/nas/atocore')).toEqual({ kind: 'dir', path: '/mnt/nas/atocore' });
    expect(() => parseOffhostTarget('nas:relative/path')).toThrow(/--offhost/);
    expect(() => parseOffhostTarget("nas:/a/'$(reboot)'")).toThrow(/--offhost/);
  });

  it('remote paths must be absolute, without "..", from the safe set', () => {
    expect(checkRemotePath('/srv/storage/atocore/', '--root')).toBe('/srv/storage/atocore');
    for (const bad of ['relative', '/srv/../etc', '/srv/$(id)', "/srv/a'b", '/srv/a\nb', '/srv/`x`']) expect(() => checkRemotePath(bad, '--root')).toThrow(UsageError);
  });

  it('renders only fixed, quoted commands; unsafe paths and non-stamps are refused before anything is sent', () => {
    expect(renderRemoteCommand({ op: 'read', path: '/srv/a b/backup-metadata.json', maxBytes: 10 })).toBe("LC_ALL=C head -c 10 -- '/srv/a b/backup-metadata.json'");
    expect(renderRemoteCommand({ op: 'sha256', paths: ['/a/1', '/a/2'] })).toBe("LC_ALL=C sha256sum -b -- '/a/1' '/a/2'");
    expect(renderRemoteCommand({ op: 'disk-free', path: '/srv' })).toBe("LC_ALL=C df -Pk -- '/srv'");
    expect(() => renderRemoteCommand({ op: 'stream', path: '/srv/x;reboot' })).toThrow(UsageError);
    expect(() => renderRemoteCommand({ op: 'validator', argv: ['true'], stamp: '20260101T060000Z\n' })).toThrow(/not a snapshot stamp/);
    const argv = validatorArgv(['docker', 'exec', 'atocore', 'python', '-m', 'atocore.ops.backup', 'validate', '{stamp}'], '20260407T060000Z');
    expect(argv.at(-1)).toBe('20260407T060000Z');
    expect(renderRemoteCommand({ op: 'validator', argv: ["it's", 'x'], stamp: '20260407T060000Z' })).toBe("'it'\\''s' 'x'");
    expect(validatorArgv(['atocore-validate'], '20260407T060000Z')).toEqual(['atocore-validate', '20260407T060000Z']);
    expect(() => validatorArgv(['v', '{stamp}'], '$(reboot)')).toThrow(UsageError);
  });

  it('parses listings with any name (NUL-separated), sha256sum escapes and df -P', () => {
    const listing = parseListing(Buffer.from('d\x004096\x001712556000.5\x00\x008\x00a\nb\x00l\x0011\x001712556000.0\x00/etc/passwd\x000\x00chroma/x\x00'));
    expect(listing).toEqual([
      { type: 'd', size: 4096, mtimeMs: 1712556000500, linkTarget: null, allocatedBytes: 4096, path: 'a\nb' },
      { type: 'l', size: 11, mtimeMs: 1712556000000, linkTarget: '/etc/passwd', allocatedBytes: 0, path: 'chroma/x' },
    ]);
    const hash = 'a'.repeat(64);
    expect(parseSha256sum(`${hash} */s/db\n\\${hash} */s/back\\\\slash\n`)).toEqual(new Map([['/s/db', hash], ['/s/back\\slash', hash]]));
    expect(parseDiskFree('Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/my disk 1000 400 600 40% /srv/my mount\n')).toEqual({ totalBytes: 1000 * 1024, availableBytes: 600 * 1024 });
    expect(parseDiskFree('garbage')).toBeNull();
  });

  it('a secret never prints', () => {
    const secret = new SecretText('-----BEGIN OPENSSH PRIVATE KEY----- abc');
    expect(`${secret}`).toBe('[redacted]');
    expect(JSON.stringify({ secret })).toBe('{"secret":"[redacted]"}');
    expect(secret.reveal()).toContain('abc');
  });
});

describe('retention (7 daily, 4 weekly, 6 monthly)', () => {
  const daily = (from: string, to: string): SnapshotStamp[] => {
    const out: SnapshotStamp[] = [];
    for (let t = Date.parse(`${from}T06:00:00Z`); t <= Date.parse(`${to}T06:00:00Z`); t += 86_400_000) out.push(stampOf(new Date(t)));
    return out;
  };
  const kept = planRetention(daily('2025-10-01', '2026-04-08')).kept;
  const RETENTION_NOW = Date.parse('2026-04-08T07:00:00Z');

  it('keeps what AtoCore cleanup keeps, and exactly that passes', () => {
    expect(kept).toEqual([
      '20251101T060000Z', '20251201T060000Z', '20260101T060000Z', '20260201T060000Z', '20260301T060000Z', '20260315T060000Z', '20260322T060000Z', '20260329T060000Z',
      '20260401T060000Z', '20260402T060000Z', '20260403T060000Z', '20260404T060000Z', '20260405T060000Z', '20260406T060000Z', '20260407T060000Z', '20260408T060000Z',
    ]);
    expect(checkRetention(kept, null, RETENTION_NOW).status).toBe('pass');
  });

  it('keeps the newest of a day (a pre-restore snapshot the same day is due for pruning)', () => {
    expect(planRetention([s('20260408T060000Z'), s('20260408T101500Z')])).toEqual({ kept: ['20260408T101500Z'], prune: ['20260408T060000Z'] });
  });

  it('a missed day warns, a missing Sunday or 1st fails, a backlog warns and a week of it fails', () => {
    const noThursday = kept.filter((x) => x !== '20260402T060000Z');
    expect(checkRetention(noThursday, null, RETENTION_NOW)).toMatchObject({ status: 'warn', evidence: { missing_days: ['2026-04-02'] } });
    const noSunday = kept.filter((x) => x !== '20260322T060000Z');
    expect(checkRetention(noSunday, null, RETENTION_NOW)).toMatchObject({ status: 'fail', evidence: { missing_sundays: ['2026-03-22'] } });
    const noFirst = kept.filter((x) => x !== '20260101T060000Z');
    expect(checkRetention(noFirst, null, RETENTION_NOW)).toMatchObject({ status: 'fail', evidence: { missing_firsts_of_month: ['2026-01-01'] } });
    expect(checkRetention([...kept, s('20260310T060000Z')], null, RETENTION_NOW)).toMatchObject({ status: 'warn', evidence: { prune_due: ['20260310T060000Z'] } });
    expect(checkRetention(daily('2026-02-02', '2026-04-08'), null, RETENTION_NOW).status).toBe('fail');
  });

  it('is judged up to now: a snapshot stamped days or a year ahead is left out, never demanding days or Sundays not yet come', () => {
    const twoDaysAhead = checkRetention([...kept, s('20260410T060000Z')], null, RETENTION_NOW);
    expect(twoDaysAhead).toMatchObject({ status: 'pass', evidence: { not_counted_future: ['20260410T060000Z'], missing_days: [] } });
    const yearAhead = checkRetention([...kept, s('20270408T060000Z')], null, RETENTION_NOW);
    expect(yearAhead).toMatchObject({ status: 'pass', evidence: { not_counted_future: ['20270408T060000Z'], missing_sundays: [], missing_firsts_of_month: [], prune_due: [] } });
    expect(yearAhead.message).not.toMatch(/2027/);
    // what is wrong up to now is still found
    const noThursday = kept.filter((x) => x !== '20260402T060000Z');
    expect(checkRetention([...noThursday, s('20260410T060000Z')], null, RETENTION_NOW)).toMatchObject({ status: 'warn', evidence: { missing_days: ['2026-04-02'] } });
    expect(checkRetention([s('20270408T060000Z')], null, RETENTION_NOW)).toMatchObject({ status: 'skip', message: 'no snapshot stamped before now' });
  });

  it('the oldest snapshot ever seen (ledger) extends what must still be there', () => {
    const young = kept.filter((x) => x >= '20260301T060000Z');
    expect(retentionGaps(young, null).missingFirsts).toEqual([]);
    expect(retentionGaps(young, s('20251101T060000Z')).missingFirsts).toEqual(['2026-02-01', '2026-01-01', '2025-12-01', '2025-11-01']);
  });
});

describe('overall checks', () => {
  const summary = (stamp: string, dbBytes: number, extra: Partial<SnapshotSummary> = {}): SnapshotSummary => ({ stamp: s(stamp), dbBytes, totalBytes: dbBytes, hasChroma: true, inspected: true, unusable: null, createdAtMs: null, integrityUnchecked: null, ...extra });
  const now = Date.parse('2026-04-08T07:00:00Z');

  it('rpo.fresh counts from the newest usable snapshot, Chroma separately', () => {
    const series = [summary('20260407T060000Z', 100), summary('20260408T060000Z', 100)];
    expect(checkRpo(series, now, 24 * 3_600_000, 8 * 86_400_000)).toMatchObject({ result: { status: 'pass' }, rpoSeconds: 3600 });
    expect(checkRpo(series, now + 2 * 86_400_000, 24 * 3_600_000, null).result.status).toBe('fail');
    const newestBroken = [summary('20260406T060000Z', 100), summary('20260408T060000Z', 100, { unusable: 'snapshot.metadata failed' })];
    expect(checkRpo(newestBroken, now, 24 * 3_600_000, null)).toMatchObject({ result: { status: 'fail', evidence: { newest_usable: '20260406T060000Z' } } });
    const noChroma = series.map((x) => ({ ...x, hasChroma: false }));
    expect(checkRpo(noChroma, now, 24 * 3_600_000, 8 * 86_400_000).result.message).toMatch(/no usable snapshot includes Chroma/);
    expect(checkRpo([], now, 1, null).result.status).toBe('fail');
    // a database that could not be shown usable counts no more than a failed snapshot, and says why
    const newestUnverified = [summary('20260407T060000Z', 100), summary('20260408T060000Z', 100, { unusable: 'its database could not be verified (snapshot.integrity warn)' })];
    const unverified = checkRpo(newestUnverified, now, 48 * 3_600_000, null).result;
    expect(unverified).toMatchObject({ status: 'warn', evidence: { newest_usable: '20260407T060000Z', not_usable: [{ stamp: '20260408T060000Z', why: expect.stringMatching(/could not be verified/) }] } });
    expect(unverified.message).toMatch(/the newest snapshot, 20260408T060000Z, does not count \(its database could not be verified/);
    expect(checkRpo([newestUnverified[1]!], now, 48 * 3_600_000, null).result.message).toMatch(/^no usable snapshot: none counts \(newest 20260408T060000Z: its database could not be verified/);
  });

  it('size.anomaly: the newest dropping fails, an older drop warns', () => {
    const steady = ['20260401', '20260402', '20260403', '20260404'].map((d) => summary(`${d}T060000Z`, 1000));
    expect(checkSizeAnomaly(steady, 50).status).toBe('pass');
    expect(checkSizeAnomaly([...steady, summary('20260405T060000Z', 400)], 50).status).toBe('fail');
    expect(checkSizeAnomaly([...steady.slice(0, 2), summary('20260403T060000Z', 100), ...steady.slice(3)], 50).status).toBe('warn');
  });

  it('disk.headroom: fewer than 2 newest snapshots of room fails, fewer than 10 warns', () => {
    const newest = summary('20260408T060000Z', 1_000);
    expect(checkDiskHeadroom({ totalBytes: 1e9, availableBytes: 1_500 }, newest).status).toBe('fail');
    expect(checkDiskHeadroom({ totalBytes: 1e9, availableBytes: 5_000 }, newest).status).toBe('warn');
    expect(checkDiskHeadroom({ totalBytes: 1e9, availableBytes: 50_000 }, newest).status).toBe('pass');
  });

  it('snapshots.listing names what is not a snapshot, JSON-escaped', () => {
    const result = checkListing('here', [
      { path: '20260408T060000Z', type: 'dir', size: 0, linkTarget: null },
      { path: '20260408T060000Z\n', type: 'dir', size: 0, linkTarget: null },
    ]);
    expect(result.status).toBe('warn');
    expect(result.message).toContain('"20260408T060000Z\\n"');
    expect(checkListing('here', []).status).toBe('fail');
  });

  it('offhost.copy: same files and hashes pass; missing, changed or absent fail', () => {
    const here = { files: new Map([['db/atocore.db', { size: 3, sha256: 'a' }], ['backup-metadata.json', { size: 2, sha256: 'b' }]]) };
    expect(checkOffhost('nas', s('20260408T060000Z'), here, here, '20260408T060000Z').status).toBe('pass');
    const changed = { files: new Map([['db/atocore.db', { size: 3, sha256: 'x' }], ['backup-metadata.json', { size: 2, sha256: 'b' }]]) };
    expect(checkOffhost('nas', s('20260408T060000Z'), here, changed, '20260408T060000Z')).toMatchObject({ status: 'fail', evidence: { differing: [{ path: 'db/atocore.db' }] } });
    expect(checkOffhost('nas', s('20260408T060000Z'), here, null, '20260407T060000Z').message).toMatch(/its newest is 20260407T060000Z/);
  });
});

describe('per-snapshot checks on facts', () => {
  const stamp = s('20260408T060000Z');
  const metadata = (fields: Record<string, unknown>): Buffer =>
    Buffer.from(
      JSON.stringify({
        created_at: '2026-04-08T06:00:00+00:00',
        backup_root: `/srv/storage/atocore/backups/snapshots/${stamp}`,
        db_snapshot_path: `/srv/storage/atocore/backups/snapshots/${stamp}/db/atocore.db`,
        db_size_bytes: 4096,
        registry_snapshot_path: '',
        chroma_snapshot_path: '',
        chroma_snapshot_bytes: 0,
        chroma_snapshot_files: 0,
        chroma_snapshot_included: false,
        vector_store_note: 'x',
        ...fields,
      }),
    );
  const files = [{ path: 'backup-metadata.json', type: 'file' as const, size: 10, linkTarget: null }];

  it('snapshot.metadata: fields, types, created_at against the stamp', () => {
    expect(checkMetadata(stamp, files, { ok: true, data: metadata({}) }).result.status).toBe('pass');
    expect(checkMetadata(stamp, files, { ok: true, data: metadata({ db_size_bytes: '4096' }) }).result.message).toMatch(/db_size_bytes/);
    expect(checkMetadata(stamp, files, { ok: true, data: metadata({ created_at: '2026-04-08T06:00:00' }) }).result.message).toMatch(/with a zone/);
    expect(checkMetadata(stamp, files, { ok: true, data: metadata({ created_at: '2026-04-07T06:00:00Z' }) }).result.status).toBe('warn');
    expect(checkMetadata(stamp, files, { ok: true, data: Buffer.from('[1]') }).result.status).toBe('fail');
    expect(checkMetadata(stamp, [], null).result.message).toMatch(/missing/);
    expect(checkMetadata(stamp, [{ ...files[0]!, type: 'symlink', linkTarget: '/etc/passwd' }], null).result.message).toMatch(/symlink.*not read/);
  });

  it('snapshot.paths: recorded paths of another snapshot or outside are findings; links leaving are refused', () => {
    const { metadata: parsed } = checkMetadata(stamp, files, { ok: true, data: metadata({ db_snapshot_path: '/srv/storage/atocore/data/db/atocore.db' }) });
    expect(checkPaths(stamp, `/srv/storage/atocore/backups/snapshots/${stamp}`, files, parsed)).toMatchObject({ status: 'fail', evidence: { recorded_paths_outside: [{ field: 'db_snapshot_path' }] } });
    expect(linkDestinationInside('chroma/a/link', '../../db/atocore.db')).toBe('db/atocore.db');
    expect(linkDestinationInside('chroma/link', '../../../etc')).toBeNull();
    expect(linkDestinationInside('chroma/link', '/etc')).toBeNull();
  });
});

describe('memory across runs and completeness', () => {
  it('snapshot.immutable: first seen is recorded; a changed, vanished or new file later fails', () => {
    const files = new Map([['db/atocore.db', { sha256: 'a'.repeat(64), size: 3 }]]);
    const first = checkImmutable(s('20260408T060000Z'), undefined, files, '2026-04-08T07:00:00.000Z');
    expect(first.result.status).toBe('pass');
    expect(checkImmutable(s('20260408T060000Z'), first.entry, files, 'later').result.status).toBe('pass');
    const rotten = new Map([['db/atocore.db', { sha256: 'b'.repeat(64), size: 3 }]]);
    expect(checkImmutable(s('20260408T060000Z'), first.entry, rotten, 'later')).toMatchObject({ result: { status: 'fail', evidence: { changed: [{ path: 'db/atocore.db' }] } }, entry: { changed_since: 'later' } });
    expect(checkImmutable(s('20260408T060000Z'), first.entry, new Map([...files, ['db/atocore.db-wal', { sha256: 'c', size: 0 }]]), 'later').result.message).toMatch(/appeared/);
  });

  it('--max-deep picks never-checked snapshots first (newest first), then the longest ago checked', () => {
    const ledger = emptyLedger();
    const entry = (at: string | null) => ({ first_seen: 'x', files: {}, deep_checked_at: at, deep_result: null, changed_since: null });
    ledger.snapshots = { '20260401T060000Z': entry('2026-04-05T00:00:00Z'), '20260402T060000Z': entry('2026-04-03T00:00:00Z'), '20260403T060000Z': entry(null) };
    const stamps = ['20260401T060000Z', '20260402T060000Z', '20260403T060000Z', '20260404T060000Z'].map(s);
    expect([...selectForDeepCheck(stamps, ledger, 3)]).toEqual(['20260404T060000Z', '20260403T060000Z', '20260402T060000Z']);
  });

  it('snapshot.complete: rows older than the snapshot that the next one holds must be in it', () => {
    const older: RowIndex = new Map([['memories', new Map([['m1', Date.parse('2026-04-01T00:00:00Z')]])]]);
    const newer: RowIndex = new Map([
      ['memories', new Map([['m1', Date.parse('2026-04-01T00:00:00Z')], ['m2', Date.parse('2026-04-01T12:00:00Z')], ['m3', Date.parse('2026-04-02T05:55:00Z')], ['m4', Date.parse('2026-04-02T07:00:00Z')]])],
      ['memory_links', new Map([['l1', Date.parse('2026-03-01T00:00:00Z')]])],
    ]);
    const taken = Date.parse('2026-04-02T06:00:00Z');
    // m3 is within the slack, m4 after, memory_links came with a migration
    expect(missingCommittedRows(older, taken, newer, 10 * 60_000).map((m) => m.id)).toEqual(['m2']);
    const inspection = (rows: RowIndex) => ({ integrity: { ok: true, messages: ['ok'] }, foreignKeys: { ok: true, violations: [] }, error: null, rows });
    expect(checkComplete('A', taken, inspection(older), { stamp: 'B', inspection: inspection(newer) }).status).toBe('fail');
    expect(checkComplete('A', taken, inspection(older), null).status).toBe('skip');
  });
});

describe('hostile input: types, sidecars, future stamps, bounded messages', () => {
  const entry = (path: string, type: StoreEntry['type'], size = 10, extra: Partial<StoreEntry> = {}): StoreEntry => ({ path, type, size, linkTarget: null, ...extra });

  /** A real WAL: header and one frame, checksummed the way SQLite does (big-endian words, magic ...83). */
  function walWithOneFrame(pageSize = 512, corrupt = false): Buffer {
    const sum = (data: Buffer, seed: [number, number]): [number, number] => {
      let [a, b] = seed;
      for (let i = 0; i < data.length; i += 8) {
        a = (a + data.readUInt32BE(i) + b) >>> 0;
        b = (b + data.readUInt32BE(i + 4) + a) >>> 0;
      }
      return [a, b];
    };
    const header = Buffer.alloc(32);
    header.writeUInt32BE(0x377f0683, 0);
    header.writeUInt32BE(3007000, 4);
    header.writeUInt32BE(pageSize, 8);
    header.writeUInt32BE(0x11111111, 16);
    header.writeUInt32BE(0x22222222, 20);
    const [h1, h2] = sum(header.subarray(0, 24), [0, 0]);
    header.writeUInt32BE(h1, 24);
    header.writeUInt32BE(h2, 28);
    const frame = Buffer.alloc(24 + pageSize, 7);
    frame.writeUInt32BE(1, 0);
    frame.writeUInt32BE(1, 4);
    frame.writeUInt32BE(0x11111111, 8);
    frame.writeUInt32BE(0x22222222, 12);
    const [f1, f2] = sum(frame.subarray(24), sum(frame.subarray(0, 8), [h1, h2]));
    frame.writeUInt32BE(f1, 16);
    frame.writeUInt32BE(corrupt ? f2 ^ 1 : f2, 20);
    return Buffer.concat([header, frame]);
  }

  it('summariseWal: a valid header and first frame, a bad checksum, not a WAL at all', () => {
    const wal = walWithOneFrame();
    expect(summariseWal(wal, wal.length)).toEqual({ headerValid: true, pageSize: 512, frames: 1, firstFrameValid: true, salts: [0x11111111, 0x22222222] });
    expect(summariseWal(walWithOneFrame(512, true), wal.length)).toMatchObject({ headerValid: true, firstFrameValid: false });
    expect(summariseWal(wal.subarray(0, 32), 32)).toMatchObject({ headerValid: true, frames: 0, firstFrameValid: false });
    expect(summariseWal(Buffer.alloc(600), 600)).toMatchObject({ headerValid: false });
    // frames are counted from the whole size
    expect(summariseWal(wal, 32 + 3 * (24 + 512))).toMatchObject({ frames: 3, firstFrameValid: true });
  });

  it('snapshot.sidecars: a WAL with frames or a live journal fails; empty, frameless, -shm warn; not a regular file fails', () => {
    const db = entry(DB_FILE, 'file', 4096);
    const wal = walWithOneFrame();
    expect(checkSidecars([db], new Map()).status).toBe('pass');
    expect(checkSidecars([db, entry(`${DB_FILE}-wal`, 'file', wal.length)], new Map([[`${DB_FILE}-wal`, { ok: true as const, data: wal }]])).status).toBe('fail');
    expect(checkSidecars([db, entry(`${DB_FILE}-wal`, 'file', wal.length)], new Map([[`${DB_FILE}-wal`, { ok: true as const, data: walWithOneFrame(512, true) }]])).status).toBe('warn');
    expect(checkSidecars([db, entry(`${DB_FILE}-wal`, 'file', 0)], new Map()).status).toBe('warn');
    expect(checkSidecars([db, entry(`${DB_FILE}-shm`, 'file', 32768)], new Map()).status).toBe('warn');
    const journal = Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7, 0, 0, 0, 1]);
    expect(checkSidecars([db, entry(`${DB_FILE}-journal`, 'file', 512)], new Map([[`${DB_FILE}-journal`, { ok: true as const, data: journal }]])).status).toBe('fail');
    expect(checkSidecars([db, entry(`${DB_FILE}-journal`, 'file', 512)], new Map([[`${DB_FILE}-journal`, { ok: true as const, data: Buffer.alloc(12) }]])).status).toBe('warn');
    expect(checkSidecars([db, entry(`${DB_FILE}-wal`, 'fifo', 0)], new Map())).toMatchObject({ status: 'fail', message: expect.stringMatching(/not a regular file \(fifo\); refused, not opened/) });
  });

  it('snapshot.file_types: FIFOs, sockets and devices fail by name; links are left to snapshot.paths', () => {
    expect(checkFileTypes([entry('db', 'dir'), entry(DB_FILE, 'file'), entry('chroma/x', 'symlink')]).status).toBe('pass');
    const failed = checkFileTypes([entry(DB_FILE, 'file'), entry(`${DB_FILE}-wal`, 'fifo'), entry('chroma/s', 'socket'), entry('chroma/tty', 'char-device')]);
    expect(failed.status).toBe('fail');
    expect(failed.message).toMatch(/3 entries .*"db\/atocore\.db-wal" \(a FIFO\), "chroma\/s" \(a socket\), "chroma\/tty" \(a character device\)/);
  });

  it('the database is copied only when the metadata vouches for its size and it is not mostly holes; AtoCore\'s validator never meets a sidecar', () => {
    const files = [entry(DB_FILE, 'file', 8 * 1024 ** 3, { allocatedBytes: 4096 })];
    expect(isSparse(files[0]!)).toBe(true);
    expect(databaseCopyRefusal(files, null)).toMatch(/mostly holes/);
    expect(databaseCopyRefusal([entry(DB_FILE, 'file', 8 * 1024 ** 3, { allocatedBytes: 8 * 1024 ** 3 })], null)).toBeNull();
    expect(databaseCopyRefusal([entry(DB_FILE, 'symlink')], null)).toMatch(/not a regular file/);
    expect(validatorRefusal([entry(DB_FILE, 'file'), entry(`${DB_FILE}-wal`, 'file')], SIDECAR_PATHS)).toMatch(/would merge db\/atocore\.db-wal/);
    expect(validatorRefusal([entry(DB_FILE, 'file'), entry('chroma/p', 'fifo')], SIDECAR_PATHS)).toMatch(/special files/);
    expect(validatorRefusal([entry(DB_FILE, 'file')], SIDECAR_PATHS)).toBeNull();
  });

  it('snapshots.future and rpo.fresh: a stamp ahead by more than 5 minutes is its own finding and never "fresh"', () => {
    const now = Date.parse('2026-04-08T07:00:00Z');
    const summary = (stamp: string): SnapshotSummary => ({ stamp: s(stamp), dbBytes: 1, totalBytes: 1, hasChroma: true, inspected: true, unusable: null, createdAtMs: null, integrityUnchecked: null });
    expect(checkFutureStamps([s('20260408T070400Z')], now).status).toBe('pass');
    expect(checkFutureStamps([s('20260408T070600Z'), s('20260408T060000Z')], now)).toMatchObject({ status: 'fail', evidence: { future: ['20260408T070600Z'] } });
    const rpo = checkRpo([summary('20260401T060000Z'), summary('20260420T060000Z')], now, 86_400_000, null);
    expect(rpo.result.status).toBe('fail');
    expect(rpo.rpoSeconds).toBe(7 * 86_400 + 3600);
    expect(rpo.result.evidence).toMatchObject({ newest_usable: '20260401T060000Z', not_counted_future: ['20260420T060000Z'] });
    expect(checkRpo([summary('20260420T060000Z')], now, 86_400_000, null).result.message).toMatch(/no snapshot stamped before now/);
  });

  it('values from untrusted files are cut, summarised and never crash (deep nesting, huge strings, NUL bytes)', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => JSON.stringify(boundedValue(deep))).not.toThrow();
    expect(JSON.stringify(boundedValue({ errors: Array.from({ length: 1000 }, () => 'e'.repeat(10_000)) })).length).toBeLessThan(6_000);
    expect(showValue(deep)).toBe('a list of 1');
    expect(showValue(`a\u0000${'b'.repeat(1000)}`).length).toBeLessThan(150);
    expect(clip('x'.repeat(300))).toMatch(/^x{200}… \(100 more characters\)$/);
    expect(displayName(Buffer.from([0x61, 0xff, 0xfe]))).toBe('a\\xff\\xfe');
    expect(displayName(Buffer.from('é.db'))).toBe('é.db');
  });

  it('every remote command runs under the host\'s timeout, which ends it (KILL included) before the harness stops waiting', () => {
    expect(renderRemoteCommand({ op: 'stream', path: '/srv/a/db' }, remoteBound(60_000)!)).toBe("LC_ALL=C timeout -k 5 54 cat -- '/srv/a/db'");
    expect(renderRemoteCommand({ op: 'validator', argv: ['docker', 'exec', 'atocore', 'x'], stamp: '20260408T060000Z' }, { seconds: 3, killAfterSeconds: 5 })).toBe("timeout -k 5 3 'docker' 'exec' 'atocore' 'x'");
    // near the end of the budget: tenths of a second, still over before the wait ends
    expect(remoteBound(7_000)).toEqual({ seconds: 4.8, killAfterSeconds: 1.5 });
    expect(renderRemoteCommand({ op: 'disk-free', path: '/srv' }, remoteBound(7_000)!)).toBe("LC_ALL=C timeout -k 1.5 4.8 df -Pk -- '/srv'");
    for (const waitMs of [500, 501, 999, 1_000, 3_333, 7_000, 10_999, 11_112, 12_000, 60_000, 300_000, 4 * 3_600_000]) {
      const bound = remoteBound(waitMs)!;
      expect(bound.seconds, String(waitMs)).toBeGreaterThan(0);
      expect(bound.killAfterSeconds, String(waitMs)).toBeGreaterThan(0);
      expect((bound.seconds + bound.killAfterSeconds) * 1000, String(waitMs)).toBeLessThanOrEqual(waitMs - Math.min(1_000, waitMs / 10) + 1e-6);
      expect(() => renderRemoteCommand({ op: 'disk-free', path: '/srv' }, bound), String(waitMs)).not.toThrow();
    }
    // too little left to bound it on the host: not sent at all
    expect(remoteBound(499)).toBeNull();
    expect(remoteBound(Number.NaN)).toBeNull();
    expect(() => renderRemoteCommand({ op: 'disk-free', path: '/srv' }, { seconds: 0, killAfterSeconds: 5 })).toThrow(/positive/);
  });
});
