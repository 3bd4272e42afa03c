/**
 * The first 100 bytes of an SQLite database file (https://www.sqlite.org/fileformat.html#the_database_header):
 * read for every snapshot, deep-checked or not. They are cheap, and they are what tells a
 * database from a file of the right size holding something else (zeros, a hole, a text file).
 */

export const SQLITE_HEADER_BYTES = 100;
/** The 16 bytes every SQLite database file starts with. */
export const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** Whether `head` (a file's first bytes) starts as an SQLite database does. */
export function hasSqliteMagic(head: Buffer): boolean {
  return head.length >= SQLITE_MAGIC.length && head.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC);
}

export interface SqliteHeaderFacts {
  /** bytes per page (512 to 65536, a power of two) */
  readonly pageSize: number;
  /** the header's own page count; null when SQLite itself would not trust it (written by a version before 3.7.0) */
  readonly pageCount: number | null;
}

export type SqliteHeaderVerdict = { readonly ok: true; readonly header: SqliteHeaderFacts } | { readonly ok: false; readonly problem: string };

function firstBytes(head: Buffer): string {
  return head.subarray(0, 16).toString('hex').replace(/(..)/g, '$1 ').trim();
}

/**
 * Whether `head` (a file's first bytes) starts an SQLite database of `fileBytes` bytes:
 * the magic string, a valid page size, a whole number of pages, and no fewer pages than
 * the header counts (when the header's count is valid: the change counter at 24 equals the
 * version-valid-for number at 92). A file longer than its counted pages is not judged here:
 * SQLite reads only the pages the header counts.
 */
export function judgeSqliteHeader(head: Buffer, fileBytes: number): SqliteHeaderVerdict {
  if (head.length < SQLITE_HEADER_BYTES) {
    return { ok: false, problem: fileBytes === 0 ? 'it is empty: not an SQLite database' : `it is ${fileBytes} bytes, too short for an SQLite header (${SQLITE_HEADER_BYTES} bytes)` };
  }
  if (!hasSqliteMagic(head)) {
    const zeros = head.subarray(0, SQLITE_HEADER_BYTES).every((byte) => byte === 0);
    return { ok: false, problem: zeros ? `its first ${SQLITE_HEADER_BYTES} bytes are all zeros: not an SQLite database (a hole, or never written)` : `it does not start with "SQLite format 3\\0" (first bytes: ${firstBytes(head)}): not an SQLite database` };
  }
  const raw = head.readUInt16BE(16);
  const pageSize = raw === 1 ? 65_536 : raw;
  if (pageSize < 512 || pageSize > 65_536 || (pageSize & (pageSize - 1)) !== 0) return { ok: false, problem: `its header gives a page size of ${raw}, which SQLite never writes: a damaged header` };
  if (fileBytes % pageSize !== 0) return { ok: false, problem: `${fileBytes} bytes is not a whole number of ${pageSize}-byte pages: cut short or padded` };
  const counted = head.readUInt32BE(28);
  const countValid = counted !== 0 && head.readUInt32BE(24) === head.readUInt32BE(92);
  const pageCount = countValid ? counted : null;
  if (pageCount !== null && pageCount * pageSize > fileBytes) {
    return { ok: false, problem: `its header counts ${pageCount} pages of ${pageSize} bytes (${pageCount * pageSize} bytes) but the file has ${fileBytes}: truncated` };
  }
  return { ok: true, header: { pageSize, pageCount } };
}
