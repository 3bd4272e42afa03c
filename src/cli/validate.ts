import type { Command } from 'commander';
import { VALIDATE_DEFAULTS, validateInputs } from '../inputs/validate.js';
import { describeValidation, runValidateJob, type ValidateInputs } from '../jobs/validate-job.js';
import { DEFAULT_VALIDATOR_COMMAND } from '../remote/commands.js';
import { JELLYCORE_DEFAULT_ROOT, JELLYCORE_RPO } from '../validation/jellycore/layout.js';
import { SSH_KEY_ENV, SSH_KEY_PASSPHRASE_ENV } from '../remote/identity.js';
import { validationProgress } from '../jobs/validation-progress.js';
import { runCommand } from './finish.js';
import { finishWithHistory } from './history.js';
import { CLI_NAMES, addRunOutputOptions } from './options.js';

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
  history?: string;
  chart?: string;
  profile?: string;
  stampTimezone?: string;
}

/** `validate`'s flags through the validation rules (src/inputs/validate.ts), named as flags. */
export function parseValidateFlags(flags: RawValidateFlags, env: NodeJS.ProcessEnv = process.env): ValidateInputs {
  const { knownHosts, identity, stamp, ...rest } = flags;
  return validateInputs(
    {
      ...rest,
      knownHosts: knownHosts === undefined ? undefined : { path: knownHosts },
      identity: identity === undefined ? undefined : { file: identity },
      stamps: stamp,
    },
    CLI_NAMES,
    { base: process.cwd(), env },
  );
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
  const validate = program
    .command('validate')
    .description('Validate the real snapshots of a backup root, read-only: on this machine (--dir) or over SSH (--ssh). Per snapshot and overall (freshness, retention, size, disk, off-host copy).')
    .option('--profile <name>', 'whose backups: atocore (its snapshots; the default) or jellycore (its YYYYMMDD_HHMMSS backup directories; docs/validate.md, "JellyCore backups")')
    .option('--stamp-timezone <zone>', 'profile jellycore: the zone backup names are read in, UTC (the default, the corrected scripts), an offset such as +07:00 or an IANA name (the plan names them by the backup host\'s local time)')
    .option('--dir <dir>', 'validate snapshots on this machine: an AtoCore root (holding backups/snapshots) or a backups folder (holding snapshots); with --profile jellycore, the backup root holding its backup directories')
    .option('--ssh <[user@]host[:port]>', 'validate snapshots on a remote host over SSH, read-only (user: the local user; port: 22); [user@]host[:port]:/root names the root too')
    .option('--known-hosts <file>', 'OpenSSH known_hosts file the host key must match ([host]:port and hashed entries understood); required with SSH')
    .option('--identity <file>', `SSH private key file (or the key in $${SSH_KEY_ENV})`)
    .option('--root <dir>', `AtoCore root on the remote host (default ${VALIDATE_DEFAULTS.root}); with --profile jellycore its backup root (default ${JELLYCORE_DEFAULT_ROOT})`)
    .option('--accept-new-host-key', 'trust on first use: accept a host known_hosts does not list yet and append its key (off by default; a changed key is always refused)')
    .option('--stamp <stamp>', 'only this snapshot gets per-snapshot checks (repeatable); the overall checks still see all, but only these count for rpo.fresh', collect)
    .option('--deep', 'over SSH: stream every snapshot database here and run the harness\'s own integrity_check + foreign_key_check (locally always done)')
    .option('--max-deep <n>', 'at most N deep checks per run, the least recently verified first, so successive runs cover every snapshot (implies --deep; needs --ledger)')
    .option('--ledger <file>', 'JSON ledger kept across runs: SHA-256 of every snapshot file when first seen (a change later is bit rot), last deep check')
    .option('--atocore-validator <cmd>', `AtoCore's own validator, run where the snapshots are, {stamp} replaced (default over SSH: "${DEFAULT_VALIDATOR_COMMAND}"; with --dir: none); "none" switches it off`)
    .option('--rpo <duration>', `the newest usable snapshot must be younger than this (default ${VALIDATE_DEFAULTS.rpo}; ${JELLYCORE_RPO} with --profile jellycore)`)
    .option('--chroma-rpo <duration>', `the newest snapshot with Chroma must be younger than this; "off" to not check (default ${VALIDATE_DEFAULTS.chromaRpo})`)
    .option('--size-drop <percent>', `a database this much smaller than the median of the 5 before it is an anomaly (default ${VALIDATE_DEFAULTS.sizeDrop})`)
    .option('--offhost <target>', 'the off-host copy: [user@]host[:port]:/path over SSH, or a local directory; the newest snapshot must be there with the same SHA-256 for every file')
    .option('--now <time>', 'the time to judge freshness and retention against, ISO-8601 with a zone (for tests and for replaying a past day; default: the clock)')
    .option('--timeout <duration>', `budget for the whole run (default ${VALIDATE_DEFAULTS.timeout}); every remote command is also bounded on its own`)
    .option('--connect-timeout <duration>', `SSH connection and handshake (default ${VALIDATE_DEFAULTS.connectTimeout})`)
    .option('--concurrency <n>', `snapshots worked on at once, i.e. SSH channels on the one connection (1-8, default ${VALIDATE_DEFAULTS.concurrency})`);
  addRunOutputOptions(validate, { kind: 'validate', junit: 'one test suite per snapshot' })
    .addHelpText('after', `${VALIDATE_HELP}\n${exitCodesHelp}`)
    .action(async (flags: RawValidateFlags) => {
      exit.code = await runCommand(io, interruptOnSignals(), {
        parse: () => parseValidateFlags(flags),
        describe: (inputs) => describeValidation(inputs, CLI_NAMES),
        run: async (inputs, out, signal) =>
          // the validation's RPO is drawn as the history's budget line
          finishWithHistory(await runValidateJob(inputs, { signal, observer: validationProgress(out) }), { ...inputs, rpoBudgetMs: inputs.rpoMs }, io),
      });
    });
}
