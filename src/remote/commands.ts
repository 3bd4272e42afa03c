import { isSnapshotStamp } from '../atocore/stamp.js';
import { UsageError } from '../common/errors.js';
import { isSafeRemotePath } from './address.js';

/**
 * The fixed list of commands the harness ever runs on a remote host. All of them only read;
 * every argument is validated (paths from the safe set, stamps strictly `^\d{8}T\d{6}Z$`)
 * and single-quoted. Nothing else can be sent: there is no "run this string" entry.
 *
 * They need a POSIX shell as the SSH user's login shell and GNU findutils/coreutils (any
 * mainstream Linux).
 */
export type RemoteCommand =
  /** which of these paths exist, and their type: `find -H P… -maxdepth 0` (the operator's root may be a link) */
  | { readonly op: 'probe'; readonly paths: readonly string[] }
  /** a directory's entries (or its whole tree); links below DIR are never followed: `find -H DIR -mindepth 1 …` */
  | { readonly op: 'list'; readonly path: string; readonly recursive: boolean }
  /** at most maxBytes of a file: `head -c` */
  | { readonly op: 'read'; readonly path: string; readonly maxBytes: number }
  /** SHA-256 of files: `sha256sum -b` */
  | { readonly op: 'sha256'; readonly paths: readonly string[] }
  /** a whole file, streamed: `cat` */
  | { readonly op: 'stream'; readonly path: string }
  /** free space of the filesystem holding a path: `df -Pk` */
  | { readonly op: 'disk-free'; readonly path: string }
  /** AtoCore's own validator for one stamp: the operator's configured command with `{stamp}` filled in */
  | { readonly op: 'validator'; readonly argv: readonly string[]; readonly stamp: string };

/** The placeholder in a validator command line; without it the stamp is appended. */
export const STAMP_PLACEHOLDER = '{stamp}';

/** AtoCore's validator as it runs on Dalidou, inside the running container. */
export const DEFAULT_VALIDATOR_COMMAND = 'docker exec atocore python -m atocore.ops.backup validate {stamp}';

/** One field per NUL: type, size, mtime, link target, 512-byte blocks allocated, path relative to the listed directory. */
export const LIST_FORMAT = '%y\\0%s\\0%T@\\0%l\\0%b\\0%P\\0';

export function shellQuote(argument: string): string {
  return `'${argument.replace(/'/g, `'\\''`)}'`;
}

function safePath(path: string, op: string): string {
  if (!isSafeRemotePath(path)) throw new UsageError(`refusing to send ${op} for "${path}": not a path from the safe set`);
  return shellQuote(path);
}

/** The validator's argv for one stamp; the stamp is checked again here, right before use. */
export function validatorArgv(template: readonly string[], stamp: string): string[] {
  if (!isSnapshotStamp(stamp)) throw new UsageError(`refusing to run the validator for "${stamp}": not a snapshot stamp`);
  const argv = template.map((token) => token.split(STAMP_PLACEHOLDER).join(stamp));
  return template.some((token) => token.includes(STAMP_PLACEHOLDER)) ? argv : [...argv, stamp];
}

/** The host's own time limit on a command: coreutils' `timeout -k KILL_AFTER SECONDS` (fractions allowed). */
export interface RemoteBound {
  readonly seconds: number;
  readonly killAfterSeconds: number;
}

/**
 * The exact command line sent to the remote shell. With a bound, the command runs under
 * coreutils' `timeout` (SIGTERM to its process group at the limit, SIGKILL later): a
 * command that hangs on the host (a FIFO, a stuck mount, a validator that never answers)
 * ends there too, even when the harness has gone.
 */
export function renderRemoteCommand(command: RemoteCommand, bound?: RemoteBound): string {
  const line = renderBareCommand(command);
  if (bound === undefined) return line;
  const valid = (n: number): boolean => Number.isFinite(n) && n > 0 && Number.isInteger(Math.round(n * 10)) && Math.abs(n * 10 - Math.round(n * 10)) < 1e-6;
  if (!valid(bound.seconds) || !valid(bound.killAfterSeconds)) throw new Error('a remote time limit is a positive number of seconds, in tenths at most');
  const limit = `timeout -k ${bound.killAfterSeconds} ${bound.seconds} `;
  return line.startsWith('LC_ALL=C ') ? `LC_ALL=C ${limit}${line.slice('LC_ALL=C '.length)}` : `${limit}${line}`;
}

function renderBareCommand(command: RemoteCommand): string {
  switch (command.op) {
    case 'probe':
      if (command.paths.length === 0) throw new Error('probe needs paths');
      return `LC_ALL=C find -H ${command.paths.map((p) => safePath(p, 'probe')).join(' ')} -maxdepth 0 -printf '%y\\0%p\\0'`;
    case 'list':
      return `LC_ALL=C find -H ${safePath(command.path, 'list')} -mindepth 1${command.recursive ? '' : ' -maxdepth 1'} -printf '${LIST_FORMAT}'`;
    case 'read':
      if (!Number.isInteger(command.maxBytes) || command.maxBytes < 1) throw new Error('read needs a positive byte limit');
      return `LC_ALL=C head -c ${command.maxBytes} -- ${safePath(command.path, 'read')}`;
    case 'sha256':
      if (command.paths.length === 0) throw new Error('sha256 needs paths');
      return `LC_ALL=C sha256sum -b -- ${command.paths.map((p) => safePath(p, 'sha256')).join(' ')}`;
    case 'stream':
      return `LC_ALL=C cat -- ${safePath(command.path, 'stream')}`;
    case 'disk-free':
      return `LC_ALL=C df -Pk -- ${safePath(command.path, 'disk-free')}`;
    case 'validator': {
      if (!isSnapshotStamp(command.stamp)) throw new UsageError(`refusing to run the validator for "${command.stamp}": not a snapshot stamp`);
      return command.argv.map(shellQuote).join(' ');
    }
  }
}

export interface ListedEntry {
  /** find's %y: f file, d directory, l symlink, and others (p, s, c, b) */
  readonly type: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly linkTarget: string | null;
  /** bytes the filesystem allocated (find's %b, 512-byte blocks): a sparse file shows here */
  readonly allocatedBytes: number;
  /** relative to the listed directory */
  readonly path: string;
}

/** Parses `find -printf LIST_FORMAT` output (NUL-separated, so any name survives). */
export function parseListing(output: Buffer, decodeName: (raw: Buffer) => string = (raw) => raw.toString('utf8')): ListedEntry[] {
  // split on the bytes, then decode: a name that is not UTF-8 is the caller's to show
  const fields: string[] = [];
  let start = 0;
  for (let at = output.indexOf(0); at !== -1; at = output.indexOf(0, start)) {
    fields.push(decodeName(output.subarray(start, at)));
    start = at + 1;
  }
  fields.push(decodeName(output.subarray(start)));
  const entries: ListedEntry[] = [];
  for (let i = 0; i + 6 <= fields.length; i += 6) {
    const [type, size, mtime, link, blocks, path] = fields.slice(i, i + 6) as [string, string, string, string, string, string];
    entries.push({ type, size: Number(size), mtimeMs: Math.round(Number(mtime) * 1000), linkTarget: type === 'l' ? link : null, allocatedBytes: Number(blocks) * 512, path });
  }
  return entries;
}

/** Parses the probe's `%y\0%p\0` pairs into path → type. */
export function parseProbe(output: Buffer): Map<string, string> {
  const fields = output.toString('utf8').split('\0');
  const found = new Map<string, string>();
  for (let i = 0; i + 2 <= fields.length; i += 2) found.set(fields[i + 1]!, fields[i]!);
  return found;
}

/** Parses `sha256sum -b` lines; names with a backslash or newline come escaped, prefixed with `\`. */
export function parseSha256sum(output: string): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const line of output.split('\n')) {
    const m = /^(\\?)([0-9a-f]{64}) [ *](.*)$/.exec(line);
    if (!m) continue;
    const name = m[1] ? m[3]!.replace(/\\(\\|n|r)/g, (_all, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\')) : m[3]!;
    hashes.set(name, m[2]!);
  }
  return hashes;
}

/** Parses `df -Pk` (POSIX format: 1024-byte blocks; names may hold spaces, so anchor on the "N%" column). */
export function parseDiskFree(output: string): { totalBytes: number; availableBytes: number } | null {
  const lines = output.trim().split('\n');
  const last = lines[lines.length - 1];
  if (!last || lines.length < 2) return null;
  const m = /\s(\d+)\s+(\d+)\s+(\d+)\s+\d+%\s/.exec(last);
  if (!m) return null;
  return { totalBytes: Number(m[1]) * 1024, availableBytes: Number(m[3]) * 1024 };
}
