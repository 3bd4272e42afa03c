import { UsageError } from '../common/errors.js';

/** A snapshot's name: UTC `YYYYMMDDTHHMMSSZ`, exactly. Anything else in snapshots/ is not a snapshot. */
export type SnapshotStamp = string & { readonly __brand: 'SnapshotStamp' };

export const STAMP_PATTERN = /^\d{8}T\d{6}Z$/;

export function isSnapshotStamp(name: string): name is SnapshotStamp {
  return STAMP_PATTERN.test(name) && !Number.isNaN(stampTime(name as SnapshotStamp));
}

export function parseSnapshotStamp(name: string, what: string): SnapshotStamp {
  if (!isSnapshotStamp(name)) {
    throw new UsageError(`${what}: "${name}" is not a snapshot stamp (expected UTC YYYYMMDDTHHMMSSZ, e.g. 20260407T060000Z)`);
  }
  return name;
}

/** Milliseconds since the epoch; NaN for an impossible date such as month 13. */
export function stampTime(stamp: SnapshotStamp): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const time = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(time);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return Number.NaN;
  return time;
}

export function stampOf(date: Date): SnapshotStamp {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z') as SnapshotStamp;
}
