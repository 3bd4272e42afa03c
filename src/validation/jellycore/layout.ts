import { UsageError } from '../../common/errors.js';

/**
 * JellyCore's backup layout (its plan, and the corrected scripts, which keep it): one
 * directory per run named `YYYYMMDD_HHMMSS` directly under the backup root, holding these.
 */
export const BACKUP_NAME = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})$/;

export const NANOCLAW_DB = 'nanoclaw.db';
export const ORACLE_DB = 'oracle.db';
export const KNOWLEDGE_TAR = 'knowledge.tar.gz';
export const AUTH_TAR = 'auth.tar.gz';
export const CHROMA_DIR = 'chromadb';
export const COLLECTIONS_FILE = 'chromadb-collections.json';
export const IPC_SECRET = '.ipc-secret';
/** Chroma's own catalogue in its persistent directory (every Chroma since 0.4 writes it) */
export const CHROMA_CATALOGUE = `${CHROMA_DIR}/chroma.sqlite3`;

/**
 * The files every backup run writes anew (`sqlite3 .backup`, `tar czf`, curl's output into a
 * new file), in the plan's scripts and the corrected ones: their modification times say when
 * the run was. Not `chromadb/` (the corrected script copies it with `cp -a`, keeping Chroma's
 * own times) nor `.ipc-secret` (`cp -p`).
 */
export const WRITTEN_BY_EACH_RUN: readonly string[] = [NANOCLAW_DB, ORACLE_DB, KNOWLEDGE_TAR, AUTH_TAR, COLLECTIONS_FILE];

/** What may sit beside the backups without being one: the corrected scripts' pointer, a filesystem's own directory. */
export const LATEST_LINK = 'latest';
export const EXPECTED_NON_BACKUPS: ReadonlySet<string> = new Set([LATEST_LINK, 'lost+found']);

/** The JellyCore plan's promises: a backup every 6 hours, 7 days of them kept. */
export const JELLYCORE_RPO = '6h';
export const JELLYCORE_RETENTION_MS = 7 * 86_400_000;
/** The plan's backup root (inside its backup container); over SSH the default root. */
export const JELLYCORE_DEFAULT_ROOT = '/backups';

/** Bounds on what is read into memory or walked. */
export const MAX_COLLECTIONS_BYTES = 8 * 1024 * 1024;

/**
 * How a backup's name is read as a time. The plan names its directories by the backup host's
 * local time (`date +%Y%m%d_%H%M%S`), the corrected scripts by UTC: the name alone cannot say
 * which, so the operator does (`stampTimezone`), UTC by default.
 */
export type StampZone = { readonly kind: 'utc' } | { readonly kind: 'offset'; readonly minutes: number; readonly text: string } | { readonly kind: 'iana'; readonly name: string };

export const UTC_ZONE: StampZone = { kind: 'utc' };

export function describeZone(zone: StampZone): string {
  return zone.kind === 'utc' ? 'UTC' : zone.kind === 'offset' ? `UTC${zone.text}` : zone.name;
}

/** `UTC`, `Z`, an offset (`+07:00`, `-0500`) or an IANA zone name (`Asia/Bangkok`). */
export function parseStampZone(text: string, what: string): StampZone {
  const value = text.trim();
  if (/^(utc|z|gmt)$/i.test(value)) return UTC_ZONE;
  const offset = /^([+-])(\d{2}):?(\d{2})$/.exec(value);
  if (offset) {
    const minutes = Number(offset[2]) * 60 + Number(offset[3]);
    if (Number(offset[2]) > 14 || Number(offset[3]) > 59) throw new UsageError(`${what}: "${text}" is not a UTC offset (from -14:00 to +14:00)`);
    return { kind: 'offset', minutes: offset[1] === '-' ? -minutes : minutes, text: `${offset[1]}${offset[2]}:${offset[3]}` };
  }
  if (/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(value)) {
    try {
      const name = new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
      return { kind: 'iana', name };
    } catch {
      // not a zone this runtime knows: the message below
    }
  }
  throw new UsageError(`${what}: "${text}" is not a time zone (UTC, an offset such as +07:00, or an IANA name such as Asia/Bangkok)`);
}

interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

function wallClockAsUtc(clock: WallClock): number {
  return Date.UTC(clock.year, clock.month - 1, clock.day, clock.hour, clock.minute, clock.second);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** What a clock in `zone` showed at `ms`, as if it were UTC (so the difference is the zone's offset then). */
function zoneClockAsUtc(ms: number, zone: string): number {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(ms)).filter((p) => p.type !== 'literal').map((p) => [p.type, Number(p.value)]));
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
}

/** When a backup was made, as its name says it, read in `zone`. */
export type BackupTime =
  | { readonly ok: true; readonly ms: number; /** the wall-clock time happened twice (the end of summer time): the earlier is taken */ readonly ambiguous: boolean }
  | { readonly ok: false; readonly problem: string };

/**
 * The time a backup name stands for: null when the name is not `YYYYMMDD_HHMMSS`; a problem
 * when it is, but no clock in `zone` ever showed it (month 13, or an hour skipped when summer
 * time began).
 */
export function backupTime(name: string, zone: StampZone): BackupTime | null {
  const m = BACKUP_NAME.exec(name);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const clock: WallClock = { year, month, day, hour, minute, second };
  const asUtc = wallClockAsUtc(clock);
  const back = new Date(asUtc);
  if (back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return { ok: false, problem: 'not a date and time' };
  if (zone.kind === 'utc') return { ok: true, ms: asUtc, ambiguous: false };
  if (zone.kind === 'offset') return { ok: true, ms: asUtc - zone.minutes * 60_000, ambiguous: false };
  // the offsets in force half a day either side cover any change of offset near this time
  const candidates = [...new Set([12, -12].map((hours) => asUtc - (zoneClockAsUtc(asUtc + hours * 3_600_000, zone.name) - (asUtc + hours * 3_600_000))))]
    .filter((ms) => zoneClockAsUtc(ms, zone.name) === asUtc)
    .sort((a, b) => a - b);
  if (candidates.length === 0) return { ok: false, problem: `a time ${zone.name} skipped (its clocks were put forward)` };
  return { ok: true, ms: candidates[0]!, ambiguous: candidates.length > 1 };
}
