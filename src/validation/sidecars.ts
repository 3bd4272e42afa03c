import { check, type CheckResult } from '../report/model.js';
import { DB_FILE, type ReadOutcome, type StoreEntry } from './store.js';

/**
 * SQLite's files beside a database (`-wal`, `-shm`, `-journal`) found inside a snapshot.
 * AtoCore's backup writes one file with SQLite's online backup, so none belongs there. A
 * restore copies `db/atocore.db` alone: what a `-wal` still holds is not in that file.
 */
export const SIDECAR_SUFFIXES = ['-wal', '-shm', '-journal'] as const;

export const SIDECAR_PATHS: readonly string[] = sidecarPathsOf(DB_FILE);

/** The sidecars SQLite may leave beside a database file. */
export function sidecarPathsOf(database: string): string[] {
  return SIDECAR_SUFFIXES.map((suffix) => `${database}${suffix}`);
}

/** Enough of a sidecar to judge it: a WAL header, the first frame header and the largest page. */
export const SIDECAR_HEAD_BYTES = 32 + 24 + 65_536;

const WAL_MAGIC_LE = 0x377f0682;
const WAL_MAGIC_BE = 0x377f0683;
const WAL_HEADER_BYTES = 32;
const WAL_FRAME_HEADER_BYTES = 24;
const JOURNAL_MAGIC = Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);

export interface WalSummary {
  /** the header is one SQLite writes (magic, version, page size, header checksum) */
  readonly headerValid: boolean;
  readonly pageSize: number | null;
  /** whole frames the size has room for */
  readonly frames: number;
  /** the first frame carries the header's salts and a correct checksum: SQLite would read it */
  readonly firstFrameValid: boolean;
  readonly salts: readonly [number, number] | null;
}

/** SQLite's WAL checksum (walChecksumBytes): pairs of 32-bit words in the byte order the magic names. */
function walChecksum(data: Buffer, bigEndian: boolean, seed: readonly [number, number]): [number, number] {
  let [s1, s2] = seed;
  for (let i = 0; i + 8 <= data.length; i += 8) {
    const x1 = bigEndian ? data.readUInt32BE(i) : data.readUInt32LE(i);
    const x2 = bigEndian ? data.readUInt32BE(i + 4) : data.readUInt32LE(i + 4);
    s1 = (s1 + x1 + s2) >>> 0;
    s2 = (s2 + x2 + s1) >>> 0;
  }
  return [s1, s2];
}

/** Reads a WAL's header and first frame; `size` is the file's whole size (frames are counted from it). */
export function summariseWal(head: Buffer, size: number): WalSummary {
  const invalid: WalSummary = { headerValid: false, pageSize: null, frames: 0, firstFrameValid: false, salts: null };
  if (head.length < WAL_HEADER_BYTES) return invalid;
  const magic = head.readUInt32BE(0);
  if (magic !== WAL_MAGIC_LE && magic !== WAL_MAGIC_BE) return invalid;
  const bigEndian = magic === WAL_MAGIC_BE;
  const pageSize = head.readUInt32BE(8);
  const version = head.readUInt32BE(4);
  if (version !== 3007000 || pageSize < 512 || pageSize > 65_536 || (pageSize & (pageSize - 1)) !== 0) return invalid;
  const [c1, c2] = walChecksum(head.subarray(0, 24), bigEndian, [0, 0]);
  if (c1 !== head.readUInt32BE(24) || c2 !== head.readUInt32BE(28)) return invalid;
  const salts: [number, number] = [head.readUInt32BE(16), head.readUInt32BE(20)];
  const frameBytes = WAL_FRAME_HEADER_BYTES + pageSize;
  const frames = Math.max(0, Math.floor((size - WAL_HEADER_BYTES) / frameBytes));
  let firstFrameValid = false;
  if (frames > 0 && head.length >= WAL_HEADER_BYTES + frameBytes) {
    const frame = head.subarray(WAL_HEADER_BYTES, WAL_HEADER_BYTES + frameBytes);
    if (frame.readUInt32BE(8) === salts[0] && frame.readUInt32BE(12) === salts[1] && frame.readUInt32BE(0) !== 0) {
      // the checksum runs on from the header's: the frame header's first 8 bytes, then the page
      const partial = walChecksum(frame.subarray(0, 8), bigEndian, [c1, c2]);
      const [f1, f2] = walChecksum(frame.subarray(WAL_FRAME_HEADER_BYTES), bigEndian, partial);
      firstFrameValid = f1 === frame.readUInt32BE(16) && f2 === frame.readUInt32BE(20);
    }
  }
  return { headerValid: true, pageSize, frames, firstFrameValid, salts };
}

/** A rollback journal SQLite would replay: its header starts with the journal magic. */
export function isHotJournal(head: Buffer): boolean {
  return head.length >= JOURNAL_MAGIC.length && head.subarray(0, JOURNAL_MAGIC.length).equals(JOURNAL_MAGIC);
}

interface SidecarFinding {
  readonly path: string;
  readonly status: 'fail' | 'warn';
  readonly why: string;
  readonly evidence: Record<string, unknown>;
}

function judgeSidecar(entry: StoreEntry, head: ReadOutcome | undefined, database: string): SidecarFinding {
  const base = { path: entry.path, type: entry.type, size_bytes: entry.size };
  if (entry.type !== 'file') {
    return { path: entry.path, status: 'fail', why: `${entry.path} is not a regular file (${entry.type}); refused, not opened`, evidence: base };
  }
  if (entry.path.endsWith('-shm')) return { path: entry.path, status: 'warn', why: `${entry.path}: a shared-memory index left beside the database (derived data, but a sign the file was copied while open)`, evidence: base };
  if (entry.size === 0) return { path: entry.path, status: 'warn', why: `${entry.path} is empty (left over; holds nothing)`, evidence: base };
  if (!head) return { path: entry.path, status: 'warn', why: `${entry.path} (${entry.size} bytes) was not read`, evidence: base };
  if (!head.ok) return { path: entry.path, status: 'warn', why: `${entry.path}: ${head.reason}`, evidence: base };
  if (entry.path.endsWith('-journal')) {
    if (isHotJournal(head.data)) {
      return { path: entry.path, status: 'fail', why: `${entry.path} is a live rollback journal: the database file may hold half a transaction that only the journal can undo`, evidence: base };
    }
    return { path: entry.path, status: 'warn', why: `${entry.path} (${entry.size} bytes) has no journal header SQLite would replay (left over)`, evidence: base };
  }
  const wal = summariseWal(head.data, entry.size);
  const evidence = { ...base, wal_header_valid: wal.headerValid, page_size: wal.pageSize, frames: wal.frames, first_frame_valid: wal.firstFrameValid };
  if (wal.headerValid && wal.firstFrameValid) {
    return {
      path: entry.path,
      status: 'fail',
      why: `${entry.path} holds ${wal.frames} frame(s) of ${wal.pageSize}-byte pages not yet in ${database}: the database file alone (what a restore copies) is incomplete`,
      evidence,
    };
  }
  const why = wal.headerValid ? `${entry.path} has a valid header but no frame SQLite would read (${wal.frames} by its size)` : `${entry.path} (${entry.size} bytes) is not a WAL SQLite would read`;
  return { path: entry.path, status: 'warn', why: `${why}; left over`, evidence };
}

/**
 * snapshot.sidecars: no `-wal`, `-shm` or `-journal` beside the snapshot's database. A WAL
 * with frames SQLite would read (header and first frame checksums valid), or a live rollback
 * journal, fails: the database file alone is not the database. An empty or frameless `-wal`,
 * a `-shm` or a dead journal warns. One that is not a regular file fails and is never opened.
 */
export function checkSidecars(files: readonly StoreEntry[], heads: ReadonlyMap<string, ReadOutcome>): CheckResult {
  return checkSidecarsBeside('snapshot.sidecars', DB_FILE, files, heads);
}

/** The same judgement for any database file of a snapshot, as check `id`. */
export function checkSidecarsBeside(id: string, database: string, files: readonly StoreEntry[], heads: ReadonlyMap<string, ReadOutcome>): CheckResult {
  const paths = sidecarPathsOf(database);
  const found = paths.map((path) => files.find((f) => f.path === path)).filter((f): f is StoreEntry => f !== undefined);
  if (found.length === 0) return check(id, 'pass', `no -wal, -shm or -journal beside ${database}`, {});
  const findings = found.map((entry) => judgeSidecar(entry, heads.get(entry.path), database));
  const status = findings.some((f) => f.status === 'fail') ? 'fail' : 'warn';
  const shown = findings.filter((f) => f.status === status).map((f) => f.why);
  return check(id, status, shown.join('; '), { sidecars: findings.map((f) => ({ status: f.status, ...f.evidence })) });
}
