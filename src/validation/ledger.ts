import { readFile } from 'node:fs/promises';
import { isSnapshotStamp, type SnapshotStamp } from '../atocore/stamp.js';
import { errorMessage } from '../common/errors.js';
import { FieldError } from '../inputs/fields.js';
import { checkOutputPlace, writeOutputFile } from '../output/output-file.js';
import { check, type CheckResult } from '../report/model.js';

/**
 * Memory across runs (`--ledger FILE`): each snapshot file's SHA-256 as first seen, and when
 * each snapshot was last deep-checked. A snapshot never changes after it is written, so a
 * different hash later is bit rot (or tampering); the first-seen hash is never overwritten.
 */
export interface LedgerFileRecord {
  readonly sha256: string;
  readonly size: number;
}

export interface LedgerSnapshot {
  readonly first_seen: string;
  readonly files: Record<string, LedgerFileRecord>;
  deep_checked_at: string | null;
  deep_result: 'pass' | 'fail' | null;
  /** the first time a change was seen (kept until the snapshot is gone) */
  changed_since: string | null;
}

export interface Ledger {
  readonly schema: 'atocore-drill/ledger@1';
  updated_at: string;
  /** what was validated when it was last written, for the reader */
  source: string;
  /** the oldest stamp any run has seen: where the retention history starts */
  oldest_stamp_seen: string | null;
  snapshots: Record<string, LedgerSnapshot>;
}

export const LEDGER_SCHEMA = 'atocore-drill/ledger@1';

export function emptyLedger(): Ledger {
  return { schema: LEDGER_SCHEMA, updated_at: new Date(0).toISOString(), source: '', oldest_stamp_seen: null, snapshots: {} };
}

/**
 * The ledger is read and then rewritten whole: a regular file (or a symbolic link to one,
 * which stays a link), or nothing yet. Devices and FIFOs are refused (output/output-file.ts).
 */
const LEDGER_RULES = { writeThrough: false } as const;

/** Checks the ledger file's place before the run, by the rules report files follow (a missing file is a first run, not an error). */
export function checkLedgerPath(path: string, flag: string): void {
  checkOutputPlace(path, flag, LEDGER_RULES);
}

export async function loadLedger(path: string): Promise<Ledger> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyLedger();
    throw new FieldError('ledger', `cannot read ${path}: ${errorMessage(error)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FieldError('ledger', `${path} is not JSON (${errorMessage(error)}); move it away to start a new ledger`);
  }
  const ledger = value as Partial<Ledger>;
  if (ledger === null || typeof ledger !== 'object' || ledger.schema !== LEDGER_SCHEMA || typeof ledger.snapshots !== 'object' || ledger.snapshots === null) {
    throw new FieldError('ledger', `${path} is not an atocore-drill ledger (schema ${LEDGER_SCHEMA}); move it away to start a new one`);
  }
  for (const [stamp, entry] of Object.entries(ledger.snapshots)) {
    if (!isSnapshotStamp(stamp) || typeof entry !== 'object' || entry === null || typeof entry.files !== 'object') {
      throw new FieldError('ledger', `${path} has a malformed entry for ${JSON.stringify(stamp)}`);
    }
  }
  return { schema: LEDGER_SCHEMA, updated_at: ledger.updated_at ?? '', source: ledger.source ?? '', oldest_stamp_seen: ledger.oldest_stamp_seen ?? null, snapshots: ledger.snapshots };
}

/** Whole or not at all (temp file, fsync, rename): a crash mid-write must not lose the first-seen hashes. */
export async function saveLedger(path: string, ledger: Ledger): Promise<void> {
  await writeOutputFile(path, `${JSON.stringify(ledger, null, 2)}\n`, LEDGER_RULES);
}

/**
 * The snapshots to deep-check this run when at most `max` may be: never-checked ones first
 * (newest first), then the longest ago checked, so that successive runs cover them all.
 */
export function selectForDeepCheck(stamps: readonly SnapshotStamp[], ledger: Ledger, max: number): Set<SnapshotStamp> {
  const ordered = [...stamps].sort((a, b) => {
    const ca = ledger.snapshots[a]?.deep_checked_at ?? null;
    const cb = ledger.snapshots[b]?.deep_checked_at ?? null;
    if (ca === null && cb === null) return a < b ? 1 : -1;
    if (ca === null) return -1;
    if (cb === null) return 1;
    if (ca !== cb) return ca < cb ? -1 : 1;
    return a < b ? 1 : -1;
  });
  return new Set(ordered.slice(0, max));
}

/**
 * snapshot.immutable: every file hashed now has the hash the ledger recorded when the
 * snapshot was first seen; none vanished, none appeared. First seen: recorded, pass.
 */
export function checkImmutable(stamp: SnapshotStamp, recorded: LedgerSnapshot | undefined, current: ReadonlyMap<string, LedgerFileRecord>, nowIso: string): { result: CheckResult; entry: LedgerSnapshot } {
  const id = 'snapshot.immutable';
  if (!recorded) {
    const files = Object.fromEntries([...current].sort(([a], [b]) => (a < b ? -1 : 1)));
    return {
      result: check(id, 'pass', `first seen: recorded the SHA-256 of ${current.size} file(s)`, { first_seen: nowIso, files: current.size }),
      entry: { first_seen: nowIso, files, deep_checked_at: null, deep_result: null, changed_since: null },
    };
  }
  const changed: Array<{ path: string; recorded: string; now: string; recorded_size: number; size: number }> = [];
  const vanished: string[] = [];
  for (const [path, record] of Object.entries(recorded.files)) {
    const now = current.get(path);
    if (!now) vanished.push(path);
    else if (now.sha256 !== record.sha256) changed.push({ path, recorded: record.sha256, now: now.sha256, recorded_size: record.size, size: now.size });
  }
  const appeared = [...current.keys()].filter((path) => !(path in recorded.files)).sort();
  const evidence = { first_seen: recorded.first_seen, files: current.size, changed, vanished, appeared };
  if (changed.length + vanished.length + appeared.length > 0) {
    const entry = { ...recorded, changed_since: recorded.changed_since ?? nowIso };
    const parts: string[] = [];
    if (changed.length > 0) parts.push(`${changed.length} file(s) changed: ${changed.slice(0, 5).map((c) => c.path).join(', ')}`);
    if (vanished.length > 0) parts.push(`${vanished.length} vanished: ${vanished.slice(0, 5).join(', ')}`);
    if (appeared.length > 0) parts.push(`${appeared.length} appeared: ${appeared.slice(0, 5).join(', ')}`);
    return { result: check(id, 'fail', `changed since first seen at ${recorded.first_seen} (bit rot or a write into a snapshot): ${parts.join('; ')}`, evidence), entry };
  }
  return { result: check(id, 'pass', `all ${current.size} file(s) unchanged since ${recorded.first_seen}`, evidence), entry: { ...recorded } };
}
