/**
 * One rule says when SQLite's answer is about the database itself (a finding about what a
 * restore left) and when it is not: the same for better-sqlite3's named codes and for
 * node:sqlite's numbered ones, seen on real files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saysDatabaseBroken } from '../src/sqlite/broken.js';
import { openDatabase } from '../src/sqlite/open.js';
import { queryInChildProcess } from '../src/sqlite/query-process.js';

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-broken-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function betterSqliteError(path: string, sql: string): { code: unknown; message: string } {
  try {
    const db = openDatabase(path, { readonly: true, timeoutMs: 1_000 });
    try {
      db.prepare(sql).all();
    } finally {
      db.close();
    }
  } catch (error) {
    return { code: (error as { code?: unknown }).code, message: (error as Error).message };
  }
  throw new Error('no error');
}

async function childError(path: string, sql: string): Promise<{ code: unknown; message: string }> {
  const answer = await queryInChildProcess(path, sql, {}, { write: false, timeoutMs: 10_000, boundName: 'the test', what: 'the test' });
  if (answer.ok) throw new Error('no error');
  return { code: answer.errcode, message: answer.message };
}

describe('saysDatabaseBroken', () => {
  const notADatabase = join(work, 'not-a-db.sqlite');
  writeFileSync(notADatabase, Buffer.alloc(8192, 0x41));
  const good = join(work, 'good.sqlite');
  // an empty file is an empty database
  writeFileSync(good, '');
  const db = openDatabase(good, { readonly: false, timeoutMs: 1_000 });
  db.exec('CREATE TABLE t (x)');
  db.close();

  it.each([
    ['not a database', notADatabase, 'SELECT 1 FROM sqlite_master', true],
    ['no such table', good, 'SELECT 1 FROM missing', true],
    ['a syntax error (the profile\'s SQL, not the data)', good, 'SELEC 1', false],
  ] as const)('%s: the same answer from better-sqlite3 and node:sqlite', async (_what, path, sql, broken) => {
    const named = betterSqliteError(path, sql);
    const numbered = await childError(path, sql);
    expect(typeof named.code).toBe('string');
    expect(typeof numbered.code).toBe('number');
    expect(saysDatabaseBroken(named.code, named.message), JSON.stringify(named)).toBe(broken);
    expect(saysDatabaseBroken(numbered.code, numbered.message), JSON.stringify(numbered)).toBe(broken);
  });

  it('extended codes count by their primary code; the file moved away counts; anything else does not', () => {
    expect(saysDatabaseBroken('SQLITE_CORRUPT_INDEX', 'database disk image is malformed')).toBe(true);
    expect(saysDatabaseBroken(779, 'database disk image is malformed')).toBe(true);
    expect(saysDatabaseBroken('SQLITE_READONLY_DBMOVED', 'attempt to write a readonly database')).toBe(true);
    expect(saysDatabaseBroken(1032, 'attempt to write a readonly database')).toBe(true);
    expect(saysDatabaseBroken('SQLITE_BUSY', 'database is locked')).toBe(false);
    expect(saysDatabaseBroken(5, 'database is locked')).toBe(false);
    expect(saysDatabaseBroken('SQLITE_IOERR_SHORT_READ', 'disk I/O error')).toBe(false);
    expect(saysDatabaseBroken(undefined, 'whatever')).toBe(false);
  });
});
