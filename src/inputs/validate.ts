import { zonedTimeMs } from '../common/zoned-time.js';
import { resolve } from 'node:path';
import { parseSnapshotStamp } from '../atocore/stamp.js';
import type { KnownHostsSource, ValidateInputs, ValidateSource } from '../jobs/validate-job.js';
import { checkRemotePath, parseOffhostTarget, parseSshAddress, type OffhostTarget } from '../remote/address.js';
import { DEFAULT_VALIDATOR_COMMAND } from '../remote/commands.js';
import { SecretText, SSH_KEY_ENV, type SshIdentity } from '../remote/identity.js';
import { checkLedgerPath } from '../validation/ledger.js';
import { DEFAULT_REMOTE_ROOT } from '../validation/ssh-store.js';
import { JELLYCORE_DEFAULT_ROOT, JELLYCORE_RPO, parseStampZone, UTC_ZONE, type StampZone } from '../validation/jellycore/layout.js';
import { FieldError, forField, namedForSync, type FieldNames } from './fields.js';
import { commandLine, duration, existingDirectory, existingFile, failOn, profileName, reportPaths, wholeNumber } from './rules.js';
import { historyInputs, historyOutputs, type RawRunOutputs } from './history.js';

/** The defaults of a validation, the same whichever entry starts it. */
export const VALIDATE_DEFAULTS = {
  root: DEFAULT_REMOTE_ROOT,
  rpo: '24h',
  chromaRpo: '8d',
  sizeDrop: '50',
  timeout: '30m',
  connectTimeout: '20s',
  concurrency: '4',
} as const;

/** A validation's fields as an entry collected them, before any rule; absent: the default. */
export interface RawValidateInputs extends RawRunOutputs {
  readonly dir?: string | undefined;
  /** [USER@]HOST[:PORT] */
  readonly ssh?: string | undefined;
  /** the path of a known_hosts file, or its lines themselves (a secret's or variable's text) */
  readonly knownHosts?: { readonly path: string } | { readonly text: string } | undefined;
  /** the private key's file, or its text (a secret's) */
  readonly identity?: { readonly file: string } | { readonly text: string } | undefined;
  readonly root?: string | undefined;
  readonly acceptNewHostKey?: boolean | undefined;
  readonly stamps?: readonly string[] | undefined;
  readonly deep?: boolean | undefined;
  readonly maxDeep?: string | undefined;
  readonly ledger?: string | undefined;
  readonly atocoreValidator?: string | undefined;
  readonly rpo?: string | undefined;
  readonly chromaRpo?: string | undefined;
  readonly sizeDrop?: string | undefined;
  readonly offhost?: string | undefined;
  readonly now?: string | undefined;
  readonly timeout?: string | undefined;
  readonly connectTimeout?: string | undefined;
  readonly concurrency?: string | undefined;
  /** whose backups: atocore (absent) or jellycore */
  readonly profile?: string | undefined;
  /** jellycore: the zone backup names are read in (UTC absent) */
  readonly stampTimezone?: string | undefined;
}

/** Where the rules look beyond the raw values: relative paths' base, the key variable. */
export interface ValidateRuleContext {
  readonly base: string;
  /** `$ATOCORE_DRILL_SSH_KEY` is read from here; an entry that takes the key otherwise passes `{}` */
  readonly env: NodeJS.ProcessEnv;
}

/** The remote AtoCore root: absolute, and safe to hand to the remote shell. */
function remoteRoot(value: string): string {
  if (!value.startsWith('/')) throw new FieldError('root', `"${value}" is not an absolute path on the host`);
  return forField('root', (name) => checkRemotePath(value, name));
}

function sourceOf(raw: RawValidateInputs, base: string, defaultRoot: string): ValidateSource {
  if ((raw.dir === undefined) === (raw.ssh === undefined)) {
    throw new FieldError(raw.dir === undefined ? 'dir' : 'ssh', (n) => `give exactly one of ${n.one('dir')} BACKUP_ROOT (this machine) and ${n.one('ssh')} [USER@]HOST[:PORT] (a remote host)`);
  }
  if (raw.dir !== undefined) {
    if (raw.root !== undefined) throw new FieldError('root', (n) => `${n.one('root')} goes with ${n.one('ssh')}; with ${n.one('dir')} the directory itself is the root`);
    return { kind: 'dir', path: existingDirectory('dir', raw.dir, base) };
  }
  const ssh = raw.ssh!;
  // `[USER@]HOST[:PORT]:/ROOT` names the root too
  if (/:\//.test(ssh)) {
    const target = forField('ssh', (name) => parseOffhostTarget(ssh, name));
    if (target.kind === 'ssh') {
      if (raw.root !== undefined) throw new FieldError('root', (n) => `the root is given twice: in ${n.one('ssh')} (HOST:/PATH) and in ${n.one('root')}`);
      return { kind: 'ssh', address: target.address, root: remoteRoot(target.path) };
    }
  }
  return { kind: 'ssh', address: forField('ssh', (name) => parseSshAddress(ssh, name)), root: remoteRoot(raw.root ?? defaultRoot) };
}

function offhostOf(value: string | undefined, base: string): OffhostTarget | null {
  if (value === undefined) return null;
  const parsed = forField('offhost', (name) => parseOffhostTarget(value, name));
  return parsed.kind === 'dir' ? { kind: 'dir', path: existingDirectory('offhost', parsed.path, base) } : parsed;
}

/** A private key given as text: it must at least look like one (the full parse comes before any connection). */
function keyText(value: string): SecretText {
  const key = `${value.replace(/\r\n/g, '\n').trim()}\n`;
  if (!/^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(key)) {
    throw new FieldError('identity', 'not a private key (expected a "-----BEGIN … PRIVATE KEY-----" block; pass the secret that holds the key file\'s text)');
  }
  return new SecretText(key);
}

function knownHostsOf(raw: RawValidateInputs, base: string): KnownHostsSource {
  if (raw.knownHosts === undefined) throw new FieldError('knownHosts', (n) => `${n.one('knownHosts')} FILE is required with SSH: the host key is checked against it (OpenSSH format)`);
  if ('path' in raw.knownHosts) return { kind: 'file', path: existingFile('knownHosts', raw.knownHosts.path, base) };
  // trust on first use appends to a file; lines given as text have none
  if (raw.acceptNewHostKey === true) throw new FieldError('acceptNewHostKey', (n) => `${n.one('acceptNewHostKey')} needs ${n.one('knownHosts')} as a file to add the key to`);
  return { kind: 'text', text: `${raw.knownHosts.text.replace(/\r\n/g, '\n').trim()}\n` };
}

function identityOf(raw: RawValidateInputs, context: ValidateRuleContext, names: FieldNames): SshIdentity {
  const fromEnv = context.env[SSH_KEY_ENV] !== undefined && context.env[SSH_KEY_ENV] !== '';
  if (raw.identity !== undefined && fromEnv) throw new FieldError('identity', (n) => `give the SSH key one way: ${n.one('identity')} FILE or $${SSH_KEY_ENV}, not both`);
  if (raw.identity !== undefined && 'file' in raw.identity) return { kind: 'file', path: existingFile('identity', raw.identity.file, context.base) };
  if (raw.identity !== undefined) return { kind: 'text', key: keyText(raw.identity.text), what: names.one('identity') };
  if (fromEnv) return { kind: 'env', variable: SSH_KEY_ENV };
  throw new FieldError('identity', (n) => `no SSH key: give ${n.one('identity')} FILE or put the key in $${SSH_KEY_ENV}`);
}

function parseNow(value: string | undefined): number | null {
  if (value === undefined) return null;
  const ms = zonedTimeMs(value.trim());
  if (Number.isNaN(ms)) throw new FieldError('now', `"${value}" is not an ISO-8601 time with a zone, e.g. 2026-04-08T07:00:00Z`);
  return ms;
}

/**
 * What of AtoCore's validation does not apply to JellyCore's backups, and why: given with
 * profile jellycore, each is bad input naming it (never silently ignored).
 */
type AtoCoreOnly = 'stamps' | 'deep' | 'maxDeep' | 'ledger' | 'atocoreValidator' | 'chromaRpo' | 'sizeDrop' | 'offhost';
const ATOCORE_ONLY: ReadonlyArray<readonly [AtoCoreOnly, string]> = [
  ['stamps', 'every JellyCore backup gets its checks'],
  ['deep', "every JellyCore backup's databases and tarballs are read in full, locally and over SSH"],
  ['maxDeep', "every JellyCore backup's databases and tarballs are read in full, locally and over SSH"],
  ['ledger', 'JellyCore backups are not kept in a ledger'],
  ['atocoreValidator', 'JellyCore has no validator of its own to run'],
  ['chromaRpo', 'every JellyCore backup holds Chroma; the RPO covers it'],
  ['sizeDrop', 'database sizes are not compared for JellyCore'],
  ['offhost', "JellyCore's off-site copy is an rclone remote, not compared here"],
];

/** The services whose backups `validate` knows how to read (profile files have no validation). */
const VALIDATE_PROFILES = ['atocore', 'jellycore'] as const;

/** The profile's own rules: JellyCore refuses AtoCore's fields; AtoCore's stamps are always UTC. */
function profileRules(raw: RawValidateInputs): { profile: 'atocore' | 'jellycore'; stampZone: StampZone } {
  const profile = profileName('profile', raw.profile, VALIDATE_PROFILES);
  if (profile === 'atocore') {
    if (raw.stampTimezone !== undefined) throw new FieldError('stampTimezone', (n) => `${n.one('stampTimezone')} goes with ${n.one('profile')} jellycore: AtoCore's snapshot stamps are UTC by their own form`);
    return { profile, stampZone: UTC_ZONE };
  }
  for (const [key, why] of ATOCORE_ONLY) {
    const value = raw[key];
    const given = Array.isArray(value) ? value.length > 0 : key === 'deep' ? value === true : value !== undefined;
    const field = key === 'stamps' ? 'stamp' : key;
    if (given) throw new FieldError(field, (n) => `${n.one(field)} is for AtoCore's snapshots; with ${n.one('profile')} jellycore it does not apply (${why})`);
  }
  const zone = raw.stampTimezone;
  return { profile, stampZone: zone === undefined ? UTC_ZONE : forField('stampTimezone', (name) => parseStampZone(zone, name)) };
}

function rules(raw: RawValidateInputs, context: ValidateRuleContext, names: FieldNames): ValidateInputs {
  const { profile, stampZone } = profileRules(raw);
  const jellycore = profile === 'jellycore';
  const source = sourceOf(raw, context.base, jellycore ? JELLYCORE_DEFAULT_ROOT : VALIDATE_DEFAULTS.root);
  const offhost = offhostOf(raw.offhost, context.base);
  const usesSsh = source.kind === 'ssh' || offhost?.kind === 'ssh';
  let knownHosts: KnownHostsSource | null = null;
  let identity: SshIdentity | null = null;
  if (usesSsh) {
    knownHosts = knownHostsOf(raw, context.base);
    identity = identityOf(raw, context, names);
  } else {
    for (const [field, given] of [['knownHosts', raw.knownHosts], ['identity', raw.identity], ['acceptNewHostKey', raw.acceptNewHostKey]] as const) {
      if (given !== undefined) throw new FieldError(field, (n) => `${n.one(field)} is for SSH: it goes with ${n.one('ssh')} or an ${n.one('offhost')} HOST:PATH`);
    }
  }
  const stamps = (raw.stamps ?? []).map((stamp) => forField('stamp', (name) => parseSnapshotStamp(stamp, name)));
  const maxDeep = raw.maxDeep === undefined ? null : wholeNumber('maxDeep', raw.maxDeep, 1, 100_000);
  const ledger = raw.ledger === undefined ? null : resolve(context.base, raw.ledger);
  if (ledger) forField('ledger', (name) => checkLedgerPath(ledger, name));
  if (maxDeep !== null && !ledger) throw new FieldError('maxDeep', (n) => `${n.one('maxDeep')} needs ${n.one('ledger')} FILE: the ledger remembers which snapshots were checked last`);
  const validatorText = raw.atocoreValidator ?? (source.kind === 'ssh' && !jellycore ? DEFAULT_VALIDATOR_COMMAND : 'none');
  const chromaRpo = raw.chromaRpo ?? VALIDATE_DEFAULTS.chromaRpo;
  const kept = historyInputs(raw, context.base);
  return {
    profile,
    stampZone,
    source,
    knownHosts,
    identity,
    acceptNewHostKey: raw.acceptNewHostKey === true,
    stamps,
    deep: raw.deep === true,
    maxDeep,
    ledger,
    validator: validatorText.trim() === 'none' ? null : commandLine('atocoreValidator', validatorText),
    rpoMs: duration('rpo', raw.rpo ?? (jellycore ? JELLYCORE_RPO : VALIDATE_DEFAULTS.rpo)),
    chromaRpoMs: chromaRpo === 'off' ? null : duration('chromaRpo', chromaRpo),
    sizeDropPercent: wholeNumber('sizeDrop', raw.sizeDrop ?? VALIDATE_DEFAULTS.sizeDrop, 1, 100),
    offhost,
    nowMs: parseNow(raw.now),
    timeoutMs: duration('timeout', raw.timeout ?? VALIDATE_DEFAULTS.timeout),
    timeoutName: names.one('timeout'),
    connectTimeoutMs: duration('connectTimeout', raw.connectTimeout ?? VALIDATE_DEFAULTS.connectTimeout),
    concurrency: wholeNumber('concurrency', raw.concurrency ?? VALIDATE_DEFAULTS.concurrency, 1, 8),
    ...reportPaths(raw, [['ledger', ledger], ...historyOutputs(kept)]),
    failOn: failOn(raw.failOn),
    ...kept,
  };
}

/**
 * Every rule of a validation's inputs, in one place for the CLI and the action: the typed
 * inputs the validate job takes, or a FieldError worded by `names`.
 */
export function validateInputs(raw: RawValidateInputs, names: FieldNames, context: ValidateRuleContext = { base: process.cwd(), env: process.env }): ValidateInputs {
  return namedForSync(names, () => rules(raw, context, names));
}
