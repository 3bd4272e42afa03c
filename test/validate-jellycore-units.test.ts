/**
 * The JellyCore validation's pure parts: backup names read as times in a zone (summer time
 * included), the tar.gz reader on archives real tar writes and on damaged ones, and the
 * overall checks' edges (each seen to fail).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readActionInputs } from '../src/action/inputs.js';
import { parseValidateFlags } from '../src/cli/validate.js';
import { FieldError } from '../src/inputs/fields.js';
import { backupTime, parseStampZone, UTC_ZONE } from '../src/validation/jellycore/layout.js';
import { checkFreshness, checkHeadroom, checkRetention, checkRootListing, countedTime, FILE_TIME_TOLERANCE_MS, filesWrittenMs, sortRoot, type BackupSummary } from '../src/validation/jellycore/overall.js';
import { TarGzReader, type TarReadOptions, type TarVerdict } from '../src/validation/jellycore/tar-reader.js';
import { IN_PROGRESS_WINDOW_MS, recentBackups, unwrittenParts } from '../src/validation/jellycore/in-progress.js';
import type { StoreEntry } from '../src/validation/store.js';

async function readTarGz(data: Buffer, chunk = 7_919, options: TarReadOptions = {}): Promise<TarVerdict> {
  const reader = new TarGzReader(options);
  for (let at = 0; at < data.length; at += chunk) if (!(await reader.write(data.subarray(at, at + chunk)))) break;
  return reader.end();
}

describe('backup names as times', () => {
  it('UTC, offsets and IANA zones, with summer time', () => {
    expect(backupTime('20261129_060000', UTC_ZONE)).toEqual({ ok: true, ms: Date.parse('2026-11-29T06:00:00Z'), ambiguous: false });
    expect(backupTime('20261129_130000', parseStampZone('+07:00', 'z'))).toMatchObject({ ok: true, ms: Date.parse('2026-11-29T06:00:00Z') });
    expect(backupTime('20261129_130000', parseStampZone('Asia/Bangkok', 'z'))).toMatchObject({ ok: true, ms: Date.parse('2026-11-29T06:00:00Z') });
    // Berlin: UTC+2 in summer, UTC+1 in winter
    expect(backupTime('20260715_080000', parseStampZone('Europe/Berlin', 'z'))).toMatchObject({ ok: true, ms: Date.parse('2026-07-15T06:00:00Z') });
    expect(backupTime('20261129_070000', parseStampZone('Europe/Berlin', 'z'))).toMatchObject({ ok: true, ms: Date.parse('2026-11-29T06:00:00Z') });
    // 02:30 happened twice on 25 October 2026 in Berlin: the earlier is taken, and said so
    expect(backupTime('20261025_023000', parseStampZone('Europe/Berlin', 'z'))).toEqual({ ok: true, ms: Date.parse('2026-10-25T00:30:00Z'), ambiguous: true });
    // 02:30 never happened on 29 March 2026 in Berlin
    expect(backupTime('20260329_023000', parseStampZone('Europe/Berlin', 'z'))).toMatchObject({ ok: false });
    expect(backupTime('20261399_000000', UTC_ZONE)).toMatchObject({ ok: false, problem: 'not a date and time' });
    expect(backupTime('20261129T060000Z', UTC_ZONE)).toBeNull();
    expect(backupTime('20261129_060000\n', UTC_ZONE)).toBeNull();
  });

  it('zones that are not zones are refused', () => {
    for (const bad of ['Mars/Olympus', '+15:00', '7', '', '../etc/localtime', 'UTC+7']) expect(() => parseStampZone(bad, '--stamp-timezone'), bad).toThrow(/not a (time zone|UTC offset)/);
    expect(parseStampZone('utc', 'z')).toEqual(UTC_ZONE);
    expect(parseStampZone('-0500', 'z')).toEqual({ kind: 'offset', minutes: -300, text: '-05:00' });
  });
});

describe('the tar.gz reader', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'atocore-drill-tar-'));
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'a'.repeat(120), 'b'.repeat(120)), { recursive: true });
    writeFileSync(join(tree, 'a'.repeat(120), 'b'.repeat(120), `${'c'.repeat(150)}.md`), 'a name longer than ustar holds\n');
    writeFileSync(join(tree, 'plain.txt'), 'x'.repeat(10_000));
    execFileSync('ln', ['-s', 'plain.txt', join(tree, 'link')]);
    execFileSync('tar', ['czf', join(dir, 'gnu.tar.gz'), '-C', tree, '.']);
    execFileSync('tar', ['czf', join(dir, 'pax.tar.gz'), '--format=pax', '-C', tree, '.']);
    execFileSync('tar', ['czf', join(dir, 'empty.tar.gz'), '-C', join(tree, 'a'.repeat(120)), '--exclude=*', '.']);
    execFileSync('tar', ['czf', join(dir, 'escaping.tar.gz'), '-P', join(tree, 'plain.txt')]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads what GNU tar writes, long names and pax headers included, in any chunking', async () => {
    for (const name of ['gnu.tar.gz', 'pax.tar.gz']) {
      const data = readFileSync(join(dir, name));
      for (const chunk of [1, 511, 512, 7_919, 1 << 20]) {
        const verdict = await readTarGz(data, chunk);
        expect(verdict, `${name} in chunks of ${chunk}`).toMatchObject({ ok: true, problem: null, files: 2, fileBytes: 10_031, escapingNames: [] });
        expect(verdict.firstNames.some((n) => n.endsWith(`${'c'.repeat(150)}.md`)), name).toBe(true);
      }
    }
  });

  it('an archive with no file warns-worthy facts; absolute names are named', async () => {
    expect(await readTarGz(readFileSync(join(dir, 'empty.tar.gz')))).toMatchObject({ ok: true, files: 0 });
    const escaping = await readTarGz(readFileSync(join(dir, 'escaping.tar.gz')));
    expect(escaping.ok).toBe(true);
    expect(escaping.escapingNames[0]).toMatch(/^\/.*plain\.txt$/);
  });

  it("counts the regular files in the directory it is asked about, however tar names it (auth/, ./auth/), and nothing else", async () => {
    const tree = join(dir, 'nanoclaw');
    mkdirSync(join(tree, 'auth', 'keys'), { recursive: true });
    writeFileSync(join(tree, 'auth', 'creds.json'), '{}');
    writeFileSync(join(tree, 'auth', 'keys', 'k1'), 'key');
    mkdirSync(join(tree, 'empty', 'auth'), { recursive: true });
    writeFileSync(join(tree, 'authority.txt'), 'not in auth/');
    const archive = (name: string, ...args: string[]): Buffer => {
      execFileSync('tar', ['czf', join(dir, name), ...args]);
      return readFileSync(join(dir, name));
    };
    const asked = { filesUnder: 'auth' };
    expect(await readTarGz(archive('auth.tar.gz', '-C', tree, 'auth'), 7_919, asked)).toMatchObject({ ok: true, files: 2, filesUnder: 2 });
    expect(await readTarGz(archive('dot-auth.tar.gz', '-C', tree, './auth'), 7_919, asked)).toMatchObject({ ok: true, filesUnder: 2 });
    // the knowledge tree's archive, an auth/ with no file in it, a name that only starts like it
    expect(await readTarGz(archive('knowledge.tar.gz', '-C', join(tree, 'auth', 'keys'), '.'), 7_919, asked)).toMatchObject({ ok: true, files: 1, filesUnder: 0 });
    expect(await readTarGz(archive('dot.tar.gz', '-C', tree, '.'), 7_919, asked)).toMatchObject({ ok: true, filesUnder: 2 });
    expect(await readTarGz(archive('empty-auth.tar.gz', '-C', join(tree, 'empty'), 'auth'), 7_919, asked)).toMatchObject({ ok: true, files: 0, directories: 1, filesUnder: 0 });
    expect(await readTarGz(archive('authority.tar.gz', '-C', tree, 'authority.txt'), 7_919, asked)).toMatchObject({ ok: true, files: 1, filesUnder: 0 });
    // not asked: not counted
    expect((await readTarGz(readFileSync(join(dir, 'auth.tar.gz')))).filesUnder).toBeNull();
  });

  it('damage is a problem in words, never a throw', async () => {
    const good = readFileSync(join(dir, 'gnu.tar.gz'));
    const tar = execFileSync('gunzip', ['-c', join(dir, 'gnu.tar.gz')]);
    expect((await readTarGz(good.subarray(0, good.length - 20))).problem).toMatch(/gzip stream ends early.*truncated/);
    expect((await readTarGz(Buffer.from('plain text, not gzip'))).problem).toMatch(/not gzip/);
    expect((await readTarGz(Buffer.alloc(0))).problem).toMatch(/ends early|no tar data/);
    // a tar cut short inside an entry, compressed whole: gzip is fine, tar is not
    expect((await readTarGz(gzipSync(tar.subarray(0, 512 + 100)))).problem).toMatch(/cut short inside/);
    // cut exactly between entries: no end-of-archive marker
    const firstEntryEnd = 512 * 2;
    expect((await readTarGz(gzipSync(tar.subarray(0, firstEntryEnd)))).problem).toMatch(/no end-of-archive marker|cut short/);
    // a header's bytes changed: its checksum no longer matches
    const damaged = Buffer.from(tar);
    damaged[10] = damaged[10]! ^ 0xff;
    expect((await readTarGz(gzipSync(damaged))).problem).toMatch(/damaged tar header/);
    // gzip of something that is not tar at all
    expect((await readTarGz(gzipSync(Buffer.from('hello world '.repeat(100))))).problem).toMatch(/damaged tar header|cut short/);
  });

  it('a gzip bomb is read with constant memory and counted, never held', async () => {
    const bomb = gzipSync(Buffer.concat([tar512('big.bin', 200 * 1024 * 1024), Buffer.alloc(200 * 1024 * 1024), Buffer.alloc(1024)]));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const before = process.memoryUsage().rss;
    const verdict = await readTarGz(bomb, 64 * 1024);
    expect(verdict).toMatchObject({ ok: true, files: 1, fileBytes: 200 * 1024 * 1024 });
    expect(process.memoryUsage().rss - before).toBeLessThan(150 * 1024 * 1024);
  });
});

/** A ustar header for one regular file of `size` bytes. */
function tar512(name: string, size: number): Buffer {
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

const entry = (path: string, type: StoreEntry['type'] = 'dir', linkTarget: string | null = null): StoreEntry => ({ path, type, size: 0, linkTarget });
const NOW = Date.parse('2026-11-29T07:00:00Z');
const summary = (hoursAgo: number, unusable: string | null = null, filesHoursAgo: number | null = null): BackupSummary => {
  const ms = NOW - hoursAgo * 3_600_000;
  return { name: new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '_'), timeMs: ms, unusable, totalBytes: 1024 * 1024, filesWrittenMs: filesHoursAgo === null ? null : NOW - filesHoursAgo * 3_600_000 };
};

describe('the overall checks', () => {
  it('listing: no backup fails; latest and lost+found are expected; strays and a stale latest warn', () => {
    const none = sortRoot([entry('lost+found'), entry('latest', 'symlink', '20261129_060000')], UTC_ZONE);
    expect(checkRootListing('dir /b', '/b', none, NOW).status).toBe('fail');
    const fine = sortRoot([entry('20261129_000000'), entry('20261129_060000'), entry('lost+found'), entry('latest', 'symlink', '20261129_060000')], UTC_ZONE);
    expect(checkRootListing('dir /b', '/b', fine, NOW)).toMatchObject({ status: 'pass' });
    const absolute = sortRoot([entry('20261129_060000'), entry('latest', 'symlink', '/b/20261129_060000/')], UTC_ZONE);
    expect(checkRootListing('dir /b', '/b', absolute, NOW).status).toBe('pass');
    const stale = sortRoot([entry('20261129_000000'), entry('20261129_060000'), entry('latest', 'symlink', '20261129_000000')], UTC_ZONE);
    expect(checkRootListing('dir /b', '/b', stale, NOW)).toMatchObject({ status: 'warn', message: expect.stringMatching(/not the newest/) });
    const elsewhere = sortRoot([entry('20261129_060000'), entry('latest', 'symlink', '/srv/other/20261129_060000')], UTC_ZONE);
    expect(checkRootListing('dir /b', '/b', elsewhere, NOW).message).toMatch(/not a backup of this root/);
    const strays = sortRoot([entry('20261129_060000'), entry('20261399_000000'), entry('copy-of-backup'), entry('latest')], UTC_ZONE);
    const result = checkRootListing('dir /b', '/b', strays, NOW);
    expect(result.status).toBe('warn');
    expect(result.message).toMatch(/2 entries are not backups.*latest is a directory/);
    // read in Berlin, 02:30 on 25 October 2026 happened twice: taken as the earlier, and said so
    const berlin = parseStampZone('Europe/Berlin', 'z');
    expect(checkRootListing('dir /b', '/b', sortRoot([entry('20261025_023000'), entry('20261025_060000')], berlin), NOW).evidence.ambiguous_times_read_as_earlier).toEqual(['20261025_023000']);
    // a backup-named link or file is refused, not listed as a backup
    expect(sortRoot([entry('20261129_060000', 'symlink', '/etc'), entry('20261128_060000', 'file')], UTC_ZONE).refused).toHaveLength(2);
  });

  it('freshness counts from the newest usable backup, and says when it passed one over', () => {
    expect(checkFreshness([summary(1), summary(7)], NOW, 6 * 3_600_000, UTC_ZONE).result.status).toBe('pass');
    const passedOver = checkFreshness([summary(1, 'jellycore.backup.oracle_db failed'), summary(5)], NOW, 6 * 3_600_000, UTC_ZONE).result;
    expect(passedOver).toMatchObject({ status: 'warn' });
    expect(checkFreshness([summary(1, 'x failed'), summary(7)], NOW, 6 * 3_600_000, UTC_ZONE)).toMatchObject({ result: { status: 'fail' }, rpoSeconds: 7 * 3600 });
    expect(checkFreshness([summary(1, 'x failed')], NOW, 6 * 3_600_000, UTC_ZONE).result.message).toMatch(/no usable backup/);
    // named in the future: never counts
    expect(checkFreshness([summary(-3), summary(8)], NOW, 6 * 3_600_000, UTC_ZONE).result.status).toBe('fail');
  });

  it("freshness counts a backup whose files were all written well before its name from its files' times: a renamed old backup is not fresh", () => {
    const RPO = 6 * 3_600_000;
    // named an hour ago, its files three days old: `mv` of an old backup
    const renamed = summary(1, null, 72);
    const fresh = checkFreshness([renamed], NOW, RPO, UTC_ZONE);
    expect(fresh).toMatchObject({ result: { status: 'fail', evidence: { newest_usable: renamed.name, newest_usable_counted_from: 'files', newest_usable_age_s: 72 * 3600 } }, rpoSeconds: 72 * 3600 });
    expect(fresh.result.message).toBe(`the newest usable backup, ${renamed.name} (counted from its files' times, newest 2026-11-26T07:00:00.000Z, 71h00m before its name: a renamed directory?), is 72h00m old (RPO 6h00m)`);
    expect(fresh.result.evidence.counted_from_files).toEqual([{ backup: renamed.name, named_at: new Date(renamed.timeMs).toISOString(), files_written_at: '2026-11-26T07:00:00.000Z' }]);
    // files written after the name (a run takes minutes), within the tolerance before it, in the future, or not known: the name counts
    for (const files of [0.5, 1 + (FILE_TIME_TOLERANCE_MS - 60_000) / 3_600_000, -1, null]) {
      expect(checkFreshness([summary(1, null, files)], NOW, RPO, UTC_ZONE)).toMatchObject({ result: { status: 'pass', evidence: { newest_usable_counted_from: 'name' } }, rpoSeconds: 3600 });
    }
    // just past the tolerance, still within the RPO: counts from the files, and passes saying so
    const shifted = checkFreshness([summary(1, null, 3)], NOW, RPO, UTC_ZONE);
    expect(shifted).toMatchObject({ result: { status: 'pass', message: expect.stringMatching(/counted from its files' times.*a renamed directory\?/) }, rpoSeconds: 3 * 3600 });
    // a real backup before the renamed one counts, and the renamed one is named
    const both = checkFreshness([renamed, summary(2)], NOW, RPO, UTC_ZONE);
    expect(both).toMatchObject({ result: { status: 'warn', evidence: { newest: renamed.name, newest_usable: summary(2).name } }, rpoSeconds: 2 * 3600 });
    expect(both.result.message).toMatch(/counts as older than .*; counting from/);
  });

  it("a backup's files' time is the newest of those every run writes anew, regular files with a time only", () => {
    const file = (path: string, mtimeMs?: number, type: StoreEntry['type'] = 'file'): StoreEntry => ({ path, type, size: 1, linkTarget: null, ...(mtimeMs === undefined ? {} : { mtimeMs }) });
    expect(filesWrittenMs([file('nanoclaw.db', 1000), file('oracle.db', 3000), file('knowledge.tar.gz', 2000), file('auth.tar.gz', 1500), file('chromadb-collections.json', 2500)])).toBe(3000);
    // Chroma's files and the secret are copied with their own times kept: never counted
    expect(filesWrittenMs([file('nanoclaw.db', 1000), file('chromadb/chroma.sqlite3', 9000), file('.ipc-secret', 9000)])).toBe(1000);
    expect(filesWrittenMs([file('nanoclaw.db'), file('oracle.db', 0), file('auth.tar.gz', 5000, 'symlink'), file('knowledge.tar.gz', Number.NaN)])).toBeNull();
    expect(filesWrittenMs([])).toBeNull();
    expect(countedTime({ timeMs: NOW, filesWrittenMs: NOW - FILE_TIME_TOLERANCE_MS }, NOW)).toEqual({ ms: NOW, from: 'name' });
    expect(countedTime({ timeMs: NOW, filesWrittenMs: NOW - FILE_TIME_TOLERANCE_MS - 1 }, NOW)).toEqual({ ms: NOW - FILE_TIME_TOLERANCE_MS - 1, from: 'files' });
  });

  it('retention places a renamed backup where its files say: it does not fill a gap; overdue goes by names', () => {
    const week = Array.from({ length: 29 }, (_, i) => summary(1 + 6 * i));
    // three backups missing in the middle; an old one renamed into the hole does not close it
    const holed = week.filter((_, i) => i < 10 || i > 12);
    expect(checkRetention(holed, NOW, 7 * 86_400_000, 6 * 3_600_000)).toMatchObject({ status: 'warn', message: expect.stringMatching(/gap/) });
    const filled = [...holed, summary(1 + 6 * 11, null, 1 + 6 * 27)];
    expect(checkRetention(filled, NOW, 7 * 86_400_000, 6 * 3_600_000)).toMatchObject({ status: 'warn', message: expect.stringMatching(/gap/) });
    expect(checkRetention([...holed, summary(1 + 6 * 11)], NOW, 7 * 86_400_000, 6 * 3_600_000).status).toBe('pass');
  });

  it('retention: a short reach fails, backups past the promise and gaps warn', () => {
    const week = Array.from({ length: 29 }, (_, i) => summary(1 + 6 * i));
    expect(checkRetention(week, NOW, 7 * 86_400_000, 6 * 3_600_000).status).toBe('pass');
    expect(checkRetention(week.slice(0, 20), NOW, 7 * 86_400_000, 6 * 3_600_000).status).toBe('fail');
    const overdue = [...week, summary(1 + 6 * 29), summary(1 + 6 * 40)];
    expect(checkRetention(overdue, NOW, 7 * 86_400_000, 6 * 3_600_000)).toMatchObject({ status: 'warn', evidence: { overdue: [overdue[30]!.name, overdue[29]!.name] } });
    const gap = week.map((s, i) => (i >= 10 && i <= 12 ? { ...s, unusable: 'x failed' } : s));
    expect(checkRetention(gap, NOW, 7 * 86_400_000, 6 * 3_600_000)).toMatchObject({ status: 'warn', message: expect.stringMatching(/gap/) });
    // the oldest broken: the reach is the oldest usable one's
    const brokenOldest = week.map((s, i) => (i >= 26 ? { ...s, unusable: 'x failed' } : s));
    expect(checkRetention(brokenOldest, NOW, 7 * 86_400_000, 6 * 3_600_000).status).toBe('fail');
    expect(checkRetention([], NOW, 7 * 86_400_000, 6 * 3_600_000).status).toBe('skip');
  });

  it('a backup is in progress only when named within the window, newer than what latest names, and missing a part', () => {
    const at = (msAgo: number): string => new Date(NOW - msAgo).toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '_');
    const fresh = at(60_000);
    const old = at(IN_PROGRESS_WINDOW_MS + 60_000);
    const finished = at(6 * 3_600_000);
    const root = (...names: Array<string | [string, string]>): ReturnType<typeof sortRoot> =>
      sortRoot(names.map((n) => (Array.isArray(n) ? entry(n[0], 'symlink', n[1]) : entry(n))), UTC_ZONE);
    expect([...recentBackups(root(finished, fresh, ['latest', finished]), '/b', NOW).keys()]).toEqual([fresh]);
    // latest names it already (the corrected script moves latest at the end): finished
    expect([...recentBackups(root(finished, fresh, ['latest', fresh]), '/b', NOW).keys()]).toEqual([]);
    // older than the window: judged as any backup
    expect([...recentBackups(root(finished, old, ['latest', finished]), '/b', NOW).keys()]).toEqual([]);
    // no latest (the plan's scripts): recency alone; latest pointing elsewhere counts as none
    expect([...recentBackups(root(finished, fresh), '/b', NOW).keys()]).toEqual([fresh]);
    expect([...recentBackups(root(finished, fresh, ['latest', '/etc']), '/b', NOW).keys()]).toEqual([fresh]);
    // named in the future beyond the clock skew: not in progress (jellycore.backups.future fails it)
    expect([...recentBackups(root(finished, at(-10 * 60_000), ['latest', finished]), '/b', NOW).keys()]).toEqual([]);
    const file = (path: string): StoreEntry => ({ path, type: 'file', size: 1, linkTarget: null });
    const complete = ['nanoclaw.db', 'oracle.db', 'chromadb-collections.json', 'knowledge.tar.gz', 'auth.tar.gz', '.ipc-secret'].map(file);
    expect(unwrittenParts([...complete, entry('chromadb')])).toEqual([]);
    expect(unwrittenParts([file('nanoclaw.db')])).toEqual(['oracle.db', 'chromadb-collections.json', 'chromadb', 'knowledge.tar.gz', 'auth.tar.gz', '.ipc-secret']);
    expect(unwrittenParts([])).toEqual(['nanoclaw.db', 'oracle.db', 'chromadb-collections.json', 'chromadb', 'knowledge.tar.gz', 'auth.tar.gz', '.ipc-secret']);
    // a part missing before one the scripts write later: the run has ended, the backup is judged
    expect(unwrittenParts(complete.filter((f) => f.path !== 'knowledge.tar.gz'))).toEqual([]);
    expect(unwrittenParts([file('nanoclaw.db'), file('chromadb-collections.json')])).toEqual([]);
    // the listing check does not call latest stale for a backup being written
    const writing = root(finished, fresh, ['latest', finished]);
    expect(checkRootListing('dir /b', '/b', writing, NOW, recentBackups(writing, '/b', NOW))).toMatchObject({ status: 'pass', message: `2 backup(s), latest → ${finished} (1 newer, named in the last minutes: being written?)`, evidence: { newer_than_latest_recent: [fresh] } });
    const stale = root(finished, old, ['latest', finished]);
    expect(checkRootListing('dir /b', '/b', stale, NOW, recentBackups(stale, '/b', NOW))).toMatchObject({ status: 'warn', message: expect.stringMatching(/never finished/) });
  });

  it('freshness: a backup being written that started on time turns a just-late RPO into a warning, never a pass; one that started late does not', () => {
    const previous = summary(6 + 2 / 60);
    const onTime = { name: 'next', timeMs: previous.timeMs + 6 * 3_600_000 };
    expect(checkFreshness([previous], NOW, 6 * 3_600_000, UTC_ZONE, [onTime]).result).toMatchObject({ status: 'warn', message: expect.stringMatching(/started on time and is being written/) });
    expect(checkFreshness([previous], NOW, 6 * 3_600_000, UTC_ZONE).result.status).toBe('fail');
    const late = { name: 'next', timeMs: previous.timeMs + 6 * 3_600_000 + 60_000 };
    expect(checkFreshness([previous], NOW, 6 * 3_600_000, UTC_ZONE, [late]).result.status).toBe('fail');
    expect(checkFreshness([], NOW, 6 * 3_600_000, UTC_ZONE, [onTime]).result).toMatchObject({ status: 'fail', message: expect.stringMatching(/no backup made before now; next being written/) });
  });

  it('disk headroom fails below room for two backups, warns below ten', () => {
    const newest = [summary(1)];
    expect(checkHeadroom({ totalBytes: 1e12, availableBytes: 1.5 * 1024 * 1024 }, newest).status).toBe('fail');
    expect(checkHeadroom({ totalBytes: 1e12, availableBytes: 5 * 1024 * 1024 }, newest).status).toBe('warn');
    expect(checkHeadroom({ totalBytes: 1e12, availableBytes: 50 * 1024 * 1024 }, newest).status).toBe('pass');
    // sized by the newest backup whose size is known (a refused listing has none)
    expect(checkHeadroom({ totalBytes: 1e12, availableBytes: 5 * 1024 * 1024 }, [summary(7), { ...summary(1), totalBytes: null }])).toMatchObject({ status: 'warn', evidence: { newest_backup: summary(7).name } });
  });
});

describe('--profile jellycore from the CLI and the action: one set of rules', () => {
  const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
  let work: string;
  const saved = { ...process.env };
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'atocore-drill-jellycore-entries-'));
    writeFileSync(join(work, 'known_hosts'), '');
    for (const name of Object.keys(process.env)) if (name.startsWith('INPUT_')) delete process.env[name];
    process.env.GITHUB_WORKSPACE = work;
  });
  afterEach(() => {
    process.env = { ...saved };
    rmSync(work, { recursive: true, force: true });
  });
  const inputs = (values: Record<string, string>): void => {
    for (const [name, value] of Object.entries(values)) process.env[`INPUT_${name.toUpperCase()}`] = value;
  };
  const refusal = (read: () => unknown): FieldError => {
    try {
      read();
    } catch (error) {
      expect(error).toBeInstanceOf(FieldError);
      return error as FieldError;
    }
    throw new Error('accepted');
  };
  const ssh = { 'ssh-host': 'jelly', 'ssh-user': 'reader', 'ssh-key': KEY, 'ssh-known-hosts': 'known_hosts' };

  it('the same typed inputs; the root and the RPO default to the plan\'s', () => {
    inputs({ mode: 'validate', profile: 'jellycore', 'stamp-timezone': 'Asia/Bangkok', ...ssh });
    const action = readActionInputs().validate!;
    const cli = parseValidateFlags({ profile: 'jellycore', stampTimezone: 'Asia/Bangkok', ssh: 'reader@jelly', knownHosts: join(work, 'known_hosts'), identity: join(work, 'known_hosts') }, {});
    expect(action).toMatchObject({ profile: 'jellycore', stampZone: { kind: 'iana', name: 'Asia/Bangkok' }, rpoMs: 6 * 3_600_000, validator: null, source: { kind: 'ssh', root: '/backups' } });
    expect({ ...action, reportJson: null, junit: null, summary: null, identity: cli.identity, timeoutName: cli.timeoutName }).toEqual(cli);
    // the root after the address, as --ssh HOST:/PATH
    expect(parseValidateFlags({ profile: 'jellycore', ssh: 'reader@jelly:2222:/srv/jelly/backups', knownHosts: join(work, 'known_hosts'), identity: join(work, 'known_hosts') }, {}).source).toEqual({ kind: 'ssh', address: { user: 'reader', host: 'jelly', port: 2222 }, root: '/srv/jelly/backups' });
  });

  it.each<[string, Record<string, string>, Parameters<typeof parseValidateFlags>[0], string, string]>([
    ['an unknown profile', { profile: 'nextcloud' }, { profile: 'nextcloud' }, 'input profile: "nextcloud" is not a known profile (known: atocore, jellycore)', '--profile: "nextcloud" is not a known profile (known: atocore, jellycore)'],
    ['a profile file', { profile: 'profiles/jellycore.yaml' }, { profile: 'profiles/jellycore.yaml' }, 'input profile: "profiles/jellycore.yaml" is not a known profile', '--profile: "profiles/jellycore.yaml" is not a known profile'],
    ['AtoCore\'s deep check', { profile: 'jellycore', deep: 'true' }, { profile: 'jellycore', deep: true }, 'input deep is for AtoCore\'s snapshots; with input profile jellycore it does not apply', '--deep is for AtoCore\'s snapshots; with --profile jellycore it does not apply'],
    ['AtoCore\'s validator', { profile: 'jellycore', 'atocore-validator': 'none' }, { profile: 'jellycore', atocoreValidator: 'none' }, 'input atocore-validator is for AtoCore\'s snapshots', '--atocore-validator is for AtoCore\'s snapshots'],
    ['a zone that is none', { profile: 'jellycore', 'stamp-timezone': 'Mars/Olympus' }, { profile: 'jellycore', stampTimezone: 'Mars/Olympus' }, 'input stamp-timezone: "Mars/Olympus" is not a time zone', '--stamp-timezone: "Mars/Olympus" is not a time zone'],
    ['a zone for AtoCore', { 'stamp-timezone': 'UTC' }, { stampTimezone: 'UTC' }, 'input stamp-timezone goes with input profile jellycore', '--stamp-timezone goes with --profile jellycore'],
    ['the root twice', { profile: 'jellycore' }, { profile: 'jellycore', root: '/backups', ssh: 'reader@jelly:/backups' }, '', 'the root is given twice: in --ssh (HOST:/PATH) and in --root'],
  ])('%s: refused by both, named by each', (_what, values, flags, actionSays, cliSays) => {
    const fromCli = refusal(() => parseValidateFlags({ ssh: 'reader@jelly', knownHosts: join(work, 'known_hosts'), identity: join(work, 'known_hosts'), ...flags }, {}));
    expect(fromCli.message).toContain(cliSays);
    if (actionSays === '') return;
    inputs({ mode: 'validate', ...ssh, ...values });
    const fromAction = refusal(() => readActionInputs());
    expect(fromAction.message).toContain(actionSays);
    expect(fromAction.field).toBe(fromCli.field);
  });

  it('stamp-timezone is for mode validate', () => {
    inputs({ 'stamp-timezone': 'UTC' });
    expect(() => readActionInputs()).toThrow(/input stamp-timezone is for mode validate; this run is mode drill/);
  });
});
