import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import { errorMessage, UsageError } from '../common/errors.js';

/**
 * OpenSSH's known_hosts format (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"): one key per line,
 * `[@marker] patterns keytype base64 [comment]`. Patterns are comma-separated, with `*`/`?`
 * wildcards and `!` negation; a non-standard port is written `[host]:port`; hashed entries
 * are `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
 *
 * Hand-written: npm has no maintained parser that handles hashed entries, `[host]:port`,
 * negation and the @revoked marker together; the format is small and fully specified.
 */
export interface KnownHostLine {
  readonly lineNumber: number;
  readonly marker: 'cert-authority' | 'revoked' | null;
  readonly patterns: readonly string[];
  readonly keyType: string;
  readonly key: Buffer;
}

export interface KnownHosts {
  readonly file: string;
  readonly lines: readonly KnownHostLine[];
  /** lines that could not be parsed, by number (reported, never fatal: ssh itself skips them) */
  readonly skipped: readonly number[];
}

export type HostKeyVerdict =
  | { readonly outcome: 'match'; readonly lineNumber: number }
  | { readonly outcome: 'revoked'; readonly lineNumber: number }
  | { readonly outcome: 'changed'; readonly knownTypes: readonly string[]; readonly lineNumbers: readonly number[] }
  | { readonly outcome: 'unknown' };

export function parseKnownHosts(text: string, file: string): KnownHosts {
  const lines: KnownHostLine[] = [];
  const skipped: number[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostLine['marker'] = null;
    if (fields[0]?.startsWith('@')) {
      const name = fields.shift()!;
      if (name === '@cert-authority') marker = 'cert-authority';
      else if (name === '@revoked') marker = 'revoked';
      else {
        skipped.push(index + 1);
        return;
      }
    }
    const [patterns, keyType, base64] = fields;
    if (!patterns || !keyType || !base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
      skipped.push(index + 1);
      return;
    }
    const key = Buffer.from(base64, 'base64');
    // the blob starts with its own type name: a line whose blob disagrees is corrupt
    if (blobType(key) !== keyType) {
      skipped.push(index + 1);
      return;
    }
    lines.push({ lineNumber: index + 1, marker, patterns: patterns.split(','), keyType, key });
  });
  return { file, lines, skipped };
}

export async function loadKnownHosts(file: string, flag = '--known-hosts'): Promise<KnownHosts> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${file}: ${errorMessage(error)}`);
  }
  return parseKnownHosts(text, file);
}

/** The key type written at the start of an SSH public key blob (string length + name). */
export function blobType(blob: Buffer): string | null {
  if (blob.length < 4) return null;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return null;
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** What known_hosts calls the host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  const lower = host.toLowerCase();
  return port === 22 ? lower : `[${lower}]:${port}`;
}

function wildcardMatch(pattern: string, name: string): boolean {
  // ssh's match_pattern: '*' any run, '?' one character, nothing else special
  let regex = '^';
  for (const ch of pattern) {
    if (ch === '*') regex += '.*';
    else if (ch === '?') regex += '.';
    else regex += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${regex}$`, 'i').test(name);
}

function hashedMatch(pattern: string, name: string): boolean {
  const parts = pattern.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const expected = Buffer.from(parts[3] ?? '', 'base64');
  const actual = createHmac('sha1', salt).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * Whether a line's patterns name the host: a negated pattern that matches rules the line out,
 * whatever else matches (ssh's match_hostname).
 */
export function patternsMatch(patterns: readonly string[], name: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('|')) {
      if (hashedMatch(pattern, name)) matched = true;
      continue;
    }
    const negated = pattern.startsWith('!');
    const body = negated ? pattern.slice(1) : pattern;
    if (wildcardMatch(body, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** The lines that apply to a host (certificate authorities are not supported and left out). */
export function linesForHost(knownHosts: KnownHosts, host: string, port: number): KnownHostLine[] {
  const name = knownHostsName(host, port);
  return knownHosts.lines.filter((line) => line.marker !== 'cert-authority' && patternsMatch(line.patterns, name));
}

export function verifyHostKey(knownHosts: KnownHosts, host: string, port: number, offered: Buffer): HostKeyVerdict {
  const lines = linesForHost(knownHosts, host, port);
  const revoked = knownHosts.lines.find((line) => line.marker === 'revoked' && line.key.equals(offered) && patternsMatch(line.patterns, knownHostsName(host, port)));
  if (revoked) return { outcome: 'revoked', lineNumber: revoked.lineNumber };
  const plain = lines.filter((line) => line.marker === null);
  const match = plain.find((line) => line.key.equals(offered));
  if (match) return { outcome: 'match', lineNumber: match.lineNumber };
  if (plain.length === 0) return { outcome: 'unknown' };
  return { outcome: 'changed', knownTypes: [...new Set(plain.map((l) => l.keyType))], lineNumbers: plain.map((l) => l.lineNumber) };
}

/** OpenSSH's fingerprint notation: `SHA256:` + unpadded base64 of the blob's SHA-256. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The host key algorithms to offer, so that the server presents a key type known_hosts has
 * for it (otherwise a host with an ed25519 entry could present its RSA key and look changed).
 * Null: nothing known, offer ssh2's defaults.
 */
export function hostKeyAlgorithmsFor(knownHosts: KnownHosts, host: string, port: number): string[] | null {
  const types = new Set(linesForHost(knownHosts, host, port).filter((l) => l.marker === null).map((l) => l.keyType));
  const algorithms: string[] = [];
  for (const type of types) {
    if (type === 'ssh-rsa') algorithms.push('rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa');
    else if (['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-dss'].includes(type)) algorithms.push(type);
  }
  return algorithms.length > 0 ? algorithms : null;
}

/** Trust on first use (only with its explicit flag): appends the host's key, hashed like HashKnownHosts. */
export async function appendKnownHost(file: string, host: string, port: number, blob: Buffer): Promise<void> {
  const type = blobType(blob);
  if (!type) throw new Error('the offered host key is not an SSH public key blob');
  const salt = randomBytes(20);
  const hash = createHmac('sha1', salt).update(knownHostsName(host, port)).digest();
  await appendFile(file, `|1|${salt.toString('base64')}|${hash.toString('base64')} ${type} ${blob.toString('base64')}\n`, { mode: 0o600 });
}
