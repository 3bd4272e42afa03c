import { userInfo } from 'node:os';
import { posix } from 'node:path';
import { UsageError } from '../common/errors.js';

/** Where to reach a host over SSH: `[USER@]HOST[:PORT]`, validated. */
export interface SshAddress {
  readonly user: string;
  readonly host: string;
  readonly port: number;
}

/** An off-host copy: a path on another host over SSH, or a directory on this machine (a mounted NAS). */
export type OffhostTarget =
  | { readonly kind: 'ssh'; readonly address: SshAddress; readonly path: string }
  | { readonly kind: 'dir'; readonly path: string };

// POSIX portable user names; a leading '-' would read as an option to anything downstream.
const USER_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
// DNS names and IPv4 addresses; IPv6 comes in brackets.
const HOST_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$/;
const IPV6_PATTERN = /^[0-9A-Fa-f:.]{2,45}(%[A-Za-z0-9_.-]{1,16})?$/;

/**
 * The characters a remote path may hold. Every path the harness hands to the remote shell is
 * made of these and single-quoted on top: a name outside this set is never used in a command
 * (a snapshot file with such a name is reported, not read).
 */
const SAFE_PATH_PATTERN = /^\/[A-Za-z0-9._+@%=,:/ -]*$/;

export function defaultSshUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

function parsePort(text: string, flag: string, whole: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new UsageError(`${flag}: "${whole}" has an invalid port "${text}" (1-65535)`);
  }
  return Number(text);
}

function parseUserAndHost(text: string, flag: string, whole: string): { user: string; rest: string } {
  const at = text.lastIndexOf('@');
  if (at === -1) return { user: defaultSshUser(), rest: text };
  const user = text.slice(0, at);
  if (!USER_PATTERN.test(user)) throw new UsageError(`${flag}: "${whole}" has an invalid user name "${user}"`);
  return { user, rest: text.slice(at + 1) };
}

function checkHost(host: string, flag: string, whole: string, bracketed: boolean): string {
  if (bracketed ? !IPV6_PATTERN.test(host) || !host.includes(':') : !HOST_PATTERN.test(host)) {
    throw new UsageError(`${flag}: "${whole}" has an invalid host "${host}" (a DNS name, an IPv4 address or [an IPv6 address])`);
  }
  return host.toLowerCase();
}

/**
 * Splits `[USER@]HOST[:PORT]` or `[USER@][IPV6][:PORT]` and returns what follows the address
 * (for `--offhost`, `:PATH`). The user defaults to the local user, as ssh does.
 */
function parseAddressPrefix(text: string, flag: string): { address: SshAddress; tail: string } {
  const { user, rest } = parseUserAndHost(text, flag, text);
  let host: string;
  let after: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close === -1) throw new UsageError(`${flag}: "${text}" opens "[" without closing it`);
    host = checkHost(rest.slice(1, close), flag, text, true);
    after = rest.slice(close + 1);
  } else {
    const colon = rest.indexOf(':');
    host = checkHost(colon === -1 ? rest : rest.slice(0, colon), flag, text, false);
    after = colon === -1 ? '' : rest.slice(colon);
  }
  let port = 22;
  // a port is digits after the host; a path (for --offhost) starts with '/'
  const portMatch = /^:(\d+)(?=$|:)/.exec(after);
  if (portMatch) {
    port = parsePort(portMatch[1]!, flag, text);
    after = after.slice(portMatch[0].length);
  }
  return { address: { user, host, port }, tail: after };
}

/** `--ssh [USER@]HOST[:PORT]` */
export function parseSshAddress(text: string, flag = '--ssh'): SshAddress {
  const trimmed = text.trim();
  if (trimmed === '') throw new UsageError(`${flag}: the address is empty; give [USER@]HOST[:PORT]`);
  const { address, tail } = parseAddressPrefix(trimmed, flag);
  if (tail !== '') throw new UsageError(`${flag}: "${text}" is not [USER@]HOST[:PORT] (unexpected "${tail}")`);
  return address;
}

/** Validates a remote absolute path: normalized, no `..`, only characters from the safe set. */
export function checkRemotePath(path: string, what: string): string {
  if (!SAFE_PATH_PATTERN.test(path)) {
    throw new UsageError(
      `${what}: "${path}" must be an absolute path made of letters, digits, space and . _ + @ % = , : / - (it is passed to the remote shell)`,
    );
  }
  const normalized = posix.normalize(path);
  if (path.split('/').includes('..')) throw new UsageError(`${what}: "${path}" must not contain ".."`);
  return normalized.length > 1 ? normalized.replace(/\/+$/, '') : normalized;
}

/** Whether a remote path may be used in a command at all (see SAFE_PATH_PATTERN). */
export function isSafeRemotePath(path: string): boolean {
  return SAFE_PATH_PATTERN.test(path) && !path.split('/').includes('..');
}

/** `--offhost [USER@]HOST[:PORT]:PATH` (over SSH) or `--offhost DIR` (a path on this machine). */
export function parseOffhostTarget(text: string, flag = '--offhost'): OffhostTarget {
  const trimmed = text.trim();
  if (trimmed === '') throw new UsageError(`${flag}: empty; give [USER@]HOST[:PORT]:PATH or a local directory`);
  if (trimmed.startsWith('/') || trimmed.startsWith('./') || trimmed.startsWith('../')) return { kind: 'dir', path: trimmed };
  const { address, tail } = parseAddressPrefix(trimmed, flag);
  if (!tail.startsWith(':/')) {
    throw new UsageError(`${flag}: "${text}" is not [USER@]HOST[:PORT]:PATH with an absolute PATH (or a local directory starting with /)`);
  }
  return { kind: 'ssh', address, path: checkRemotePath(tail.slice(1), flag) };
}

export function formatSshAddress(address: SshAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${address.user}@${host}${address.port === 22 ? '' : `:${address.port}`}`;
}
