import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InfrastructureError } from '../src/common/errors.js';
import { CorruptionScratch } from '../src/engine/corruptions.js';
import { hashTree } from '../src/engine/files.js';
import { restampMetadata } from '../src/atocore/drill/snapshot-copies.js';
import type { SnapshotStamp } from '../src/atocore/stamp.js';

let base: string;
let backup: string;
let scratchRoot: string;

function integrity(path: string): string {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]).map((row) => row.integrity_check).join('; ');
    } finally {
      db.close();
    }
  } catch (error) {
    return (error as Error).message;
  }
}

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'beyond-restore-'));
  backup = join(base, 'backup');
  scratchRoot = join(base, 'scratch');
  mkdirSync(join(backup, 'db'), { recursive: true });
  mkdirSync(join(backup, 'chroma', 'seg'), { recursive: true });
  mkdirSync(scratchRoot);
  writeFileSync(join(backup, 'registry.json'), JSON.stringify({ projects: [{ name: 'p', aliases: ['a', 'b'] }] }));
  writeFileSync(join(backup, 'chroma', 'seg', 'data.bin'), 'vectors');
  writeFileSync(join(backup, 'chroma', '.instance'), 'id');
  symlinkSync('/etc/passwd', join(backup, 'outside-link'));
  // a real database of many pages, as a backup holds
  const db = new Database(join(backup, 'db', 'x.db'));
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT); CREATE INDEX t_body ON t (body)');
  const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < 3000; i++) insert.run(`row ${i} ${'x'.repeat(200)}`);
  })();
  db.close();
  // a real gzip tarball
  execFileSync('tar', ['czf', join(backup, 'knowledge.tar.gz'), '-C', join(backup, 'chroma'), '.']);
});

afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('CorruptionScratch', () => {
  it('copies a backup without following links and leaves the original byte for byte', async () => {
    const before = await hashTree(backup);
    const scratch = await CorruptionScratch.at(scratchRoot);
    const copy = await scratch.copyOf(backup, 'copy');
    expect(await hashTree(copy)).toEqual(before);
    expect(lstatSync(join(copy, 'outside-link')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(copy, 'outside-link'))).toBe('/etc/passwd');
    await scratch.corruptDatabase(join(copy, 'db', 'x.db'));
    await scratch.truncateHalf(join(copy, 'knowledge.tar.gz'));
    await scratch.emptyDirectory(join(copy, 'chroma'));
    await scratch.removeFile(join(copy, 'registry.json'));
    expect(await hashTree(backup)).toEqual(before);
    await expect(scratch.copyOf(backup, 'copy')).rejects.toThrow(/already exists/);
    await expect(scratch.copyOf(scratchRoot, 'itself')).rejects.toThrow(/would lie inside it/);
    expect(existsSync(join(scratchRoot, 'itself'))).toBe(false);
  });

  it('a corrupted database copy fails SQLite integrity_check; the original passes', async () => {
    const scratch = await CorruptionScratch.at(scratchRoot);
    const copy = await scratch.copyOf(backup, 'copy');
    const size = statSync(join(copy, 'db', 'x.db')).size;
    const { offset, bytes } = await scratch.corruptDatabase(join(copy, 'db', 'x.db'));
    expect(offset).toBeGreaterThan(0);
    expect(offset + bytes).toBeLessThan(size);
    expect(statSync(join(copy, 'db', 'x.db')).size).toBe(size);
    expect(integrity(join(backup, 'db', 'x.db'))).toBe('ok');
    expect(integrity(join(copy, 'db', 'x.db'))).not.toBe('ok');
  });

  it('a truncated tarball fails to list to the end; an emptied directory is empty but there; a corrupt JSON does not parse', async () => {
    const scratch = await CorruptionScratch.at(scratchRoot);
    const copy = await scratch.copyOf(backup, 'copy');
    expect(spawnSync('tar', ['tzf', join(copy, 'knowledge.tar.gz')]).status).toBe(0);
    const { from, to } = await scratch.truncateHalf(join(copy, 'knowledge.tar.gz'));
    expect(to).toBe(Math.floor(from / 2));
    expect(spawnSync('tar', ['tzf', join(copy, 'knowledge.tar.gz')]).status).not.toBe(0);
    expect((await scratch.emptyDirectory(join(copy, 'chroma'))).removed).toBe(2);
    expect(readdirSync(join(copy, 'chroma'))).toEqual([]);
    await scratch.corruptJson(join(copy, 'registry.json'));
    expect(() => JSON.parse(readFileSync(join(copy, 'registry.json'), 'utf8'))).toThrow();
    await scratch.removeFile(join(copy, 'db', 'x.db'));
    expect(existsSync(join(copy, 'db', 'x.db'))).toBe(false);
  });

  it('refuses to touch anything outside the scratch directory, or through a link', async () => {
    const scratch = await CorruptionScratch.at(scratchRoot);
    const copy = await scratch.copyOf(backup, 'copy');
    const before = await hashTree(backup);
    await expect(scratch.corruptDatabase(join(backup, 'db', 'x.db'))).rejects.toThrow(InfrastructureError);
    await expect(scratch.truncateHalf(join(scratchRoot, '..', 'backup', 'knowledge.tar.gz'))).rejects.toThrow(/not inside/);
    await expect(scratch.emptyDirectory(scratchRoot)).rejects.toThrow(/not inside/);
    // a link inside the copy that points back at the backup is never followed
    symlinkSync(join(backup, 'db'), join(copy, 'db-link'));
    await expect(scratch.corruptDatabase(join(copy, 'db-link', 'x.db'))).rejects.toThrow(/symlink/);
    await expect(scratch.emptyDirectory(join(copy, 'db-link'))).rejects.toThrow(/symlink/);
    await expect(scratch.corruptJson(join(copy, 'outside-link'))).rejects.toThrow(/symlink/);
    await expect(scratch.truncateHalf(join(copy, 'outside-link'))).rejects.toThrow(/symlink/);
    expect(await hashTree(backup)).toEqual(before);
  });

  it('a copy is bounded: too many entries or bytes is an error, not a full disk', async () => {
    const scratch = await CorruptionScratch.at(scratchRoot);
    await expect(scratch.copyOf(backup, 'few', { maxEntries: 3, maxBytes: 1e9, maxDepth: 10 })).rejects.toThrow(/more than 3 entries/);
    await expect(scratch.copyOf(backup, 'small', { maxEntries: 1000, maxBytes: 10, maxDepth: 10 })).rejects.toThrow(/more than 10 bytes/);
    await expect(scratch.copyOf(backup, 'shallow', { maxEntries: 1000, maxBytes: 1e9, maxDepth: 1 })).rejects.toThrow(/deeper/);
  });
});

describe('restampMetadata (a copy placed under an old stamp)', () => {
  it('rewrites created_at and the paths naming the original stamp', async () => {
    const path = join(base, 'backup-metadata.json');
    writeFileSync(path, JSON.stringify({ created_at: '2026-11-29T11:00:00+00:00', backup_root: '/srv/s/20261129T110000Z', db_size_bytes: 5 }));
    await restampMetadata(path, '20261129T110000Z' as SnapshotStamp, '20260501T060000Z' as SnapshotStamp);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ created_at: '2026-05-01T06:00:00+00:00', backup_root: '/srv/s/20260501T060000Z', db_size_bytes: 5 });
  });

  it('never writes through a link, and leaves what is not a JSON object alone', async () => {
    const outside = join(base, 'outside.json');
    writeFileSync(outside, JSON.stringify({ created_at: 'x', backup_root: '20261129T110000Z' }));
    const link = join(base, 'linked-metadata.json');
    symlinkSync(outside, link);
    await restampMetadata(link, '20261129T110000Z' as SnapshotStamp, '20260501T060000Z' as SnapshotStamp);
    expect(JSON.parse(readFileSync(outside, 'utf8'))).toEqual({ created_at: 'x', backup_root: '20261129T110000Z' });
    const list = join(base, 'list.json');
    writeFileSync(list, '[1, 2]');
    await restampMetadata(list, '20261129T110000Z' as SnapshotStamp, '20260501T060000Z' as SnapshotStamp);
    expect(readFileSync(list, 'utf8')).toBe('[1, 2]');
  });
});
