/**
 * Whether an SQLite error says the database itself is broken or not what a query needs
 * (corrupt, not a database, cannot be opened, no such table, moved away): what a restore
 * left, not the harness's trouble. One rule for both kinds of error the harness sees:
 * better-sqlite3 names the code (SQLITE_CORRUPT, SQLITE_CORRUPT_INDEX…), node:sqlite numbers
 * it (11, 779…; its primary code is the low byte). A syntax error, or SQLite's generic "SQL
 * logic error", says nothing about the data.
 */
const BROKEN_PRIMARY: ReadonlyMap<number, string> = new Map([
  [1, 'SQLITE_ERROR'],
  [11, 'SQLITE_CORRUPT'],
  [14, 'SQLITE_CANTOPEN'],
  [26, 'SQLITE_NOTADB'],
]);
/** SQLITE_READONLY_DBMOVED: the file was replaced under an open connection. */
const DB_MOVED = { code: 1032, name: 'SQLITE_READONLY_DBMOVED' } as const;

export function saysDatabaseBroken(code: unknown, message: string): boolean {
  if (/SQL logic error|syntax error/i.test(message)) return false;
  if (typeof code === 'number') return code === DB_MOVED.code || BROKEN_PRIMARY.has(code & 0xff);
  if (typeof code !== 'string') return false;
  return code === DB_MOVED.name || [...BROKEN_PRIMARY.values()].some((name) => code === name || code.startsWith(`${name}_`));
}
