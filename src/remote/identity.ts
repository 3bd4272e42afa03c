import { readFile } from 'node:fs/promises';
import { FieldError } from '../inputs/fields.js';
import { errorMessage, UsageError } from '../common/errors.js';

/** The environment variable that may hold the private key itself (e.g. a CI secret). */
export const SSH_KEY_ENV = 'ATOCORE_DRILL_SSH_KEY';
/** The environment variable with the passphrase of an encrypted key. */
export const SSH_KEY_PASSPHRASE_ENV = 'ATOCORE_DRILL_SSH_KEY_PASSPHRASE';

/**
 * A secret that cannot leak by accident: it prints, stringifies and inspects as
 * `[redacted]`; only `reveal()` gives the value, and only the SSH transport calls it.
 */
export class SecretText {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[redacted]';
  }
}

/** Where the private key comes from; the inputs object holds no key material for files and variables. */
export type SshIdentity =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'env'; readonly variable: string }
  | { readonly kind: 'text'; readonly key: SecretText; readonly what: string };

export interface LoadedIdentity {
  readonly privateKey: SecretText;
  readonly passphrase: SecretText | undefined;
  /** where it came from, for messages: a file name or a variable name, never the key */
  readonly description: string;
}

export function describeIdentity(identity: SshIdentity): string {
  if (identity.kind === 'file') return `--identity ${identity.path}`;
  if (identity.kind === 'env') return `the key in $${identity.variable}`;
  return identity.what;
}

/**
 * Reads the key and checks that it parses (and decrypts, with the passphrase variable), so
 * that a bad key is a usage error naming where it came from, before any connection.
 */
export async function loadIdentity(identity: SshIdentity, env: NodeJS.ProcessEnv = process.env): Promise<LoadedIdentity> {
  const description = describeIdentity(identity);
  let text: string;
  if (identity.kind === 'file') {
    try {
      text = await readFile(identity.path, 'utf8');
    } catch (error) {
      throw new FieldError('identity', `cannot read ${identity.path}: ${errorMessage(error)}`);
    }
  } else if (identity.kind === 'env') {
    const value = env[identity.variable];
    if (value === undefined || value.trim() === '') throw new UsageError(`$${identity.variable} is empty: it should hold the SSH private key`);
    text = value.includes('\\n') && !value.includes('\n') ? value.replace(/\\n/g, '\n') : value;
  } else {
    text = identity.key.reveal();
  }
  const passphraseText = env[SSH_KEY_PASSPHRASE_ENV];
  const passphrase = passphraseText ? new SecretText(passphraseText) : undefined;
  // ssh2 is loaded only by runs that use a key
  const { default: ssh2 } = await import('ssh2');
  const parsed = ssh2.utils.parseKey(text, passphraseText);
  if (parsed instanceof Error) {
    // ssh2's messages name the problem ("Encrypted private OpenSSH key detected, but no passphrase given"), never the key
    const hint = /passphrase|encrypted/i.test(parsed.message) ? ` (set $${SSH_KEY_PASSPHRASE_ENV})` : '';
    throw new UsageError(`${description}: not a usable SSH private key: ${parsed.message}${hint}`);
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key.getPrivatePEM() === null) throw new UsageError(`${description}: holds no private key (a public key?)`);
  return { privateKey: new SecretText(text), passphrase, description };
}
