import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseSnapshotStamp } from '../atocore/stamp.js';
import { splitCommandLine } from '../common/child-process.js';
import { formatDuration, parseDuration } from '../common/duration.js';
import { UsageError } from '../common/errors.js';
import type { SnapshotReport, StepRecord } from '../report/model.js';
import { describeValidation, runValidateJob, type ValidateInputs, type ValidateSource } from '../jobs/validate-job.js';
import { checkRemotePath, parseOffhostTarget, parseSshAddress, type OffhostTarget } from '../remote/address.js';
import { DEFAULT_VALIDATOR_COMMAND } from '../remote/commands.js';
import { SSH_KEY_ENV, SSH_KEY_PASSPHRASE_ENV, type SshIdentity } from '../remote/identity.js';
import { checkLedgerPath } from '../validation/ledger.js';
import { DEFAULT_REMOTE_ROOT } from '../validation/ssh-store.js';
import type { ValidationObserver } from '../validation/validate.js';
import { consoleStream, finishRun } from './finish.js';
import { parseFailOn, reportPaths } from './options.js';

/** `validate` flags as commander hands them over (strings), before validation. */
export interface RawValidateFlags {
  dir?: string;
  ssh?: string;
  knownHosts?: string;
  identity?: string;
  root?: string;
  acceptNewHostKey?: boolean;
  stamp?: string[];
  deep?: boolean;
  maxDeep?: string;
  ledger?: string;
  atocoreValidator?: string;
  rpo?: string;
  chromaRpo?: string;
  sizeDrop?: string;
  offhost?: string;
  now?: string;
  timeout?: string;
  connectTimeout?: string;
  concurrency?: string;
  failOn?: string;
  reportJson?: string;
  junit?: string;
  summary?: string;
}

export const VALIDATE_DEFAULTS = {
  rpo: '24h',
  chromaRpo: '8d',
  sizeDrop: '50',
  timeout: '30m',
  connectTimeout: '20s',
  concurrency: '4',
} as const;

function integerFlag(value: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) throw new UsageError(`${flag}: "${value}" is not a whole number from ${min} to ${max}`);
  return Number(value);
}

function existingFile(value: string, flag: string): string {
  const path = resolve(value);
  if (!existsSync(path)) throw new UsageError(`${flag}: ${path} does not exist`);
  if (!statSync(path).isFile()) throw new UsageError(`${flag}: ${path} is not a file`);
  return path;
}

function existingDirectory(value: string, flag: string): string {
  const path = resolve(value);
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new UsageError(`${flag}: ${path} is not a directory`);
  return path;
}

function parseNow(value: string | undefined): number | null {
  if (value === undefined) return null;
  const ms = /(Z|[+-]\d{2}:?\d{2})$/.test(value.trim()) ? Date.parse(value.trim()) : Number.NaN;
  if (Number.isNaN(ms)) throw new UsageError(`--now: "${value}" is not an ISO-8601 time with a zone, e.g. 2026-04-08T07:00:00Z`);
  return ms;
}

/** All of `validate`'s flags, checked once, into the one typed object the job takes. */
export function parseValidateFlags(flags: RawValidateFlags, env: NodeJS.ProcessEnv = process.env): ValidateInputs {
  if ((flags.dir === undefined) === (flags.ssh === undefined)) throw new UsageError('give exactly one of --dir BACKUP_ROOT (this machine) and --ssh [USER@]HOST[:PORT] (a remote host)');
  let source: ValidateSource;
  if (flags.dir !== undefined) {
    if (flags.root !== undefined) throw new UsageError('--root goes with --ssh; with --dir the directory itself is the root');
    source = { kind: 'dir', path: existingDirectory(flags.dir, '--dir') };
  } else {
    source = { kind: 'ssh', address: parseSshAddress(flags.ssh!, '--ssh'), root: checkRemotePath(flags.root ?? DEFAULT_REMOTE_ROOT, '--root') };
  }
  let offhost: OffhostTarget | null = null;
  if (flags.offhost !== undefined) {
    const parsed = parseOffhostTarget(flags.offhost, '--offhost');
    offhost = parsed.kind === 'dir' ? { kind: 'dir', path: existingDirectory(parsed.path, '--offhost') } : parsed;
  }
  const usesSsh = source.kind === 'ssh' || offhost?.kind === 'ssh';
  let knownHostsFile: string | null = null;
  let identity: SshIdentity | null = null;
  if (usesSsh) {
    if (flags.knownHosts === undefined) throw new UsageError('--known-hosts FILE is required with SSH: the host key is checked against it (OpenSSH format)');
    knownHostsFile = existingFile(flags.knownHosts, '--known-hosts');
    const fromEnv = env[SSH_KEY_ENV] !== undefined && env[SSH_KEY_ENV] !== '';
    if (flags.identity !== undefined && fromEnv) throw new UsageError(`give the SSH key one way: --identity FILE or $${SSH_KEY_ENV}, not both`);
    if (flags.identity !== undefined) identity = { kind: 'file', path: existingFile(flags.identity, '--identity') };
    else if (fromEnv) identity = { kind: 'env', variable: SSH_KEY_ENV };
    else throw new UsageError(`no SSH key: give --identity FILE or put the key in $${SSH_KEY_ENV}`);
  } else {
    for (const [flag, given] of [['--known-hosts', flags.knownHosts], ['--identity', flags.identity], ['--accept-new-host-key', flags.acceptNewHostKey]] as const) {
      if (given !== undefined) throw new UsageError(`${flag} is for SSH: it goes with --ssh or an --offhost HOST:PATH`);
    }
  }
  const stamps = (flags.stamp ?? []).map((stamp) => parseSnapshotStamp(stamp, '--stamp'));
  const maxDeep = flags.maxDeep === undefined ? null : integerFlag(flags.maxDeep, '--max-deep', 1, 100_000);
  const ledger = flags.ledger === undefined ? null : resolve(flags.ledger);
  if (ledger) checkLedgerPath(ledger);
  if (maxDeep !== null && !ledger) throw new UsageError('--max-deep needs --ledger FILE: the ledger remembers which snapshots were checked last');
  let validator: string[] | null;
  const validatorText = flags.atocoreValidator ?? (source.kind === 'ssh' ? DEFAULT_VALIDATOR_COMMAND : 'none');
  if (validatorText.trim() === 'none') validator = null;
  else validator = splitCommandLine(validatorText, '--atocore-validator');
  const chromaRpoText = flags.chromaRpo ?? VALIDATE_DEFAULTS.chromaRpo;
  const chromaRpoMs = chromaRpoText === 'off' ? null : parseDuration(chromaRpoText, '--chroma-rpo');
  return {
    source,
    knownHostsFile,
    identity,
    acceptNewHostKey: flags.acceptNewHostKey === true,
    stamps,
    deep: flags.deep === true,
    maxDeep,
    ledger,
    validator,
    rpoMs: parseDuration(flags.rpo ?? VALIDATE_DEFAULTS.rpo, '--rpo'),
    chromaRpoMs,
    sizeDropPercent: integerFlag(flags.sizeDrop ?? VALIDATE_DEFAULTS.sizeDrop, '--size-drop', 1, 100),
    offhost,
    nowMs: parseNow(flags.now),
    timeoutMs: parseDuration(flags.timeout ?? VALIDATE_DEFAULTS.timeout, '--timeout'),
    connectTimeoutMs: parseDuration(flags.connectTimeout ?? VALIDATE_DEFAULTS.connectTimeout, '--connect-timeout'),
    concurrency: integerFlag(flags.concurrency ?? VALIDATE_DEFAULTS.concurrency, '--concurrency', 1, 8),
    ...reportPaths(flags, [['--ledger', ledger]]),
    failOn: parseFailOn(flags.failOn),
  };
}

const MARK: Record<string, string> = { pass: '✓', fail: '✗', error: '!', skip: '-', warn: '~' };

/** One plain line per step and per snapshot (the failing and warning checks under it): fit for a terminal and CI logs. */
export function validationProgress(stream: NodeJS.WritableStream): ValidationObserver {
  return {
    stepStarted(_id: string, title: string) {
      stream.write(`… ${title}\n`);
    },
    stepFinished(record: StepRecord) {
      const detail = record.detail.split('\n')[0] ?? '';
      stream.write(`${MARK[record.status] ?? '?'} ${record.title} (${formatDuration(record.duration_ms)})${detail ? `: ${detail}` : ''}\n`);
    },
    snapshotFinished(snapshot: SnapshotReport) {
      stream.write(`    ${MARK[snapshot.status] ?? '?'} ${snapshot.stamp}\n`);
      for (const c of snapshot.checks) if (c.status === 'fail' || c.status === 'warn') stream.write(`        ${MARK[c.status]} ${c.id}: ${c.message}\n`);
    },
  };
}

const VALIDATE_HELP = `
AtoCore's validator over SSH, by default (--atocore-validator to change, "none" to skip):
  ${DEFAULT_VALIDATOR_COMMAND}

The SSH key:
  --identity FILE, or the key itself in $${SSH_KEY_ENV} (e.g. a CI secret); an encrypted
  key's passphrase in $${SSH_KEY_PASSPHRASE_ENV}. The key never appears in logs or reports.
  No agent, no password: the key given, or nothing.

Read-only: over SSH the harness runs only fixed commands (find, head, sha256sum, cat, df)
with validated, quoted arguments, plus AtoCore's validator (--atocore-validator none to
switch it off; AtoCore's validator itself opens the snapshot read-write, see docs/validate.md).

Check ids and what to do when one fails: docs/checks.md. The whole command: docs/validate.md.`;

/** Registers `validate`; main.ts hands over its exit holder and its signal handling. */
export function registerValidateCommand(
  program: Command,
  io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream },
  exit: { code: number },
  interruptOnSignals: () => { signal: AbortSignal; dispose(): void },
  exitCodesHelp: string,
): void {
  const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
  program
    .command('validate')
    .description('Validate the real snapshots of a backup root, read-only: on this machine (--dir) or over SSH (--ssh). Per snapshot and overall (freshness, retention, size, disk, off-host copy).')
    .option('--dir <dir>', 'validate snapshots on this machine: an AtoCore root (holding backups/snapshots) or a backups folder (holding snapshots)')
    .option('--ssh <[user@]host[:port]>', 'validate snapshots on a remote host over SSH, read-only (user: the local user; port: 22)')
    .option('--known-hosts <file>', 'OpenSSH known_hosts file the host key must match ([host]:port and hashed entries understood); required with SSH')
    .option('--identity <file>', `SSH private key file (or the key in $${SSH_KEY_ENV})`)
    .option('--root <dir>', `AtoCore root on the remote host (default ${DEFAULT_REMOTE_ROOT})`)
    .option('--accept-new-host-key', 'trust on first use: accept a host known_hosts does not list yet and append its key (off by default; a changed key is always refused)')
    .option('--stamp <stamp>', 'only this snapshot gets per-snapshot checks (repeatable); the overall checks still see all', collect)
    .option('--deep', 'over SSH: stream every snapshot database here and run the harness\'s own integrity_check + foreign_key_check (locally always done)')
    .option('--max-deep <n>', 'at most N deep checks per run, the least recently verified first, so successive runs cover every snapshot (implies --deep; needs --ledger)')
    .option('--ledger <file>', 'JSON ledger kept across runs: SHA-256 of every snapshot file when first seen (a change later is bit rot), last deep check')
    .option('--atocore-validator <cmd>', `AtoCore's own validator, run where the snapshots are, {stamp} replaced (default over SSH: "${DEFAULT_VALIDATOR_COMMAND}"; with --dir: none); "none" switches it off`)
    .option('--rpo <duration>', `the newest usable snapshot must be younger than this (default ${VALIDATE_DEFAULTS.rpo})`)
    .option('--chroma-rpo <duration>', `the newest snapshot with Chroma must be younger than this; "off" to not check (default ${VALIDATE_DEFAULTS.chromaRpo})`)
    .option('--size-drop <percent>', `a database this much smaller than the median of the 5 before it is an anomaly (default ${VALIDATE_DEFAULTS.sizeDrop})`)
    .option('--offhost <target>', 'the off-host copy: [user@]host[:port]:/path over SSH, or a local directory; the newest snapshot must be there with the same SHA-256 for every file')
    .option('--now <time>', 'the time to judge freshness and retention against, ISO-8601 with a zone (for tests and for replaying a past day; default: the clock)')
    .option('--timeout <duration>', `budget for the whole run (default ${VALIDATE_DEFAULTS.timeout}); every remote command is also bounded on its own`)
    .option('--connect-timeout <duration>', `SSH connection and handshake (default ${VALIDATE_DEFAULTS.connectTimeout})`)
    .option('--concurrency <n>', `snapshots worked on at once, i.e. SSH channels on the one connection (1-8, default ${VALIDATE_DEFAULTS.concurrency})`)
    .option('--fail-on <level>', 'verdict that makes the exit code 1: fail (default) or warn')
    .option('--report-json <file>', 'write the JSON report (schema atocore-drill/report@1, kind validate); - for standard output')
    .option('--junit <file>', 'write JUnit XML (one test suite per snapshot); - for standard output')
    .option('--summary <file>', 'write a Markdown summary (the job summary); - for standard output')
    .addHelpText('after', `${VALIDATE_HELP}\n${exitCodesHelp}`)
    .action(async (flags: RawValidateFlags) => {
      // before anything is created (parsing probes the report folders)
      const interrupt = interruptOnSignals();
      try {
        const inputs = parseValidateFlags(flags);
        const out = consoleStream(inputs, io);
        out.write(`atocore-drill: ${describeValidation(inputs)}\n`);
        const report = await runValidateJob(inputs, { signal: interrupt.signal, observer: validationProgress(out) });
        exit.code = await finishRun(report, inputs, io);
      } finally {
        interrupt.dispose();
      }
    });
}
