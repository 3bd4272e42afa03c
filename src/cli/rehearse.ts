import { Option, type Command } from 'commander';
import { STANDIN_FAULTS } from '../atocore/standin.js';
import { FieldError } from '../inputs/fields.js';
import { REHEARSE_DEFAULTS, rehearseInputs } from '../inputs/rehearse.js';
import { describeRehearsal, runRehearseJob, type RehearseInputs } from '../jobs/rehearse-job.js';
import { consoleProgress, terminalText } from '../output/console.js';
import { SSH_KEY_ENV, SSH_KEY_PASSPHRASE_ENV } from '../remote/identity.js';
import { runCommand } from './finish.js';
import { finishWithHistory } from './history.js';
import { CLI_NAMES, addRunOutputOptions } from './options.js';

/** `rehearse` flags as commander hands them over (strings), before validation. */
export interface RawRehearseFlags {
  dir?: string;
  ssh?: string;
  knownHosts?: string;
  /** the same as --known-hosts, under the name the SSH options share */
  sshKnownHosts?: string;
  identity?: string;
  root?: string;
  acceptNewHostKey?: boolean;
  stamp?: string;
  runtime?: string;
  image?: string;
  command?: string;
  backupCli?: string;
  fault?: string[];
  sourcesRoot?: string;
  timeout?: string;
  connectTimeout?: string;
  workDir?: string;
  failOn?: string;
  reportJson?: string;
  junit?: string;
  summary?: string;
  history?: string;
  chart?: string;
  rtoBudget?: string;
  rpo?: string;
}

/** `rehearse`'s flags through the rehearsal rules (src/inputs/rehearse.ts), named as flags. */
export function parseRehearseFlags(flags: RawRehearseFlags, env: NodeJS.ProcessEnv = process.env): RehearseInputs {
  const { knownHosts, sshKnownHosts, identity, fault, ...rest } = flags;
  if (knownHosts !== undefined && sshKnownHosts !== undefined) throw new FieldError('knownHosts', '--known-hosts and --ssh-known-hosts are the same flag: give one');
  const hosts = knownHosts ?? sshKnownHosts;
  return rehearseInputs(
    { ...rest, faults: fault, knownHosts: hosts === undefined ? undefined : { path: hosts }, identity: identity === undefined ? undefined : { file: identity } },
    CLI_NAMES,
    { base: process.cwd(), env },
  );
}

const REHEARSE_HELP = `
What it does: picks the newest snapshot that validates (the validation's own judge, then the
harness's integrity_check on the copy), copies it read-only into a private temp root (over SSH:
one connection, one cat per file; a file cut mid-transfer is restarted, not the snapshot),
restores it with AtoCore's own backup CLI (restore STAMP --confirm-service-stopped) into a
throwaway AtoCore, starts it and checks /health, /stats, /projects and /context/build against
what the snapshot holds. The copy never leaves the temp root; it is removed at the end, on
failure and on signals.

The SSH key: --identity FILE, or the key in $${SSH_KEY_ENV}; a passphrase in $${SSH_KEY_PASSPHRASE_ENV}.

Check ids: docs/checks.md (rehearsal.*). The whole command: docs/rehearse.md.`;

/** Registers `rehearse`; main.ts hands over its exit holder and its signal handling. */
export function registerRehearseCommand(
  program: Command,
  io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream },
  exit: { code: number },
  interruptOnSignals: () => { signal: AbortSignal; dispose(): void },
  exitCodesHelp: string,
): void {
  const rehearse = program
    .command('rehearse')
    .description('Restore the newest real snapshot (or --stamp) into a throwaway AtoCore and check that it serves what the snapshot holds.')
    .option('--dir <dir>', 'snapshots on this machine: an AtoCore root (holding backups/snapshots) or a backups folder (holding snapshots)')
    .option('--ssh <target>', 'snapshots on a remote host over SSH, read-only: [user@]host[:port], or [user@]host[:port]:/atocore-root')
    .option('--known-hosts <file>', 'OpenSSH known_hosts file the host key must match; required with SSH')
    .addOption(new Option('--ssh-known-hosts <file>', 'the same as --known-hosts').hideHelp())
    .option('--identity <file>', `SSH private key file (or the key in $${SSH_KEY_ENV})`)
    .option('--root <dir>', 'AtoCore root on the remote host (default /srv/storage/atocore)')
    .option('--accept-new-host-key', 'trust on first use: accept a host known_hosts does not list yet and append its key')
    .option('--stamp <stamp>', 'rehearse this snapshot (it must validate) instead of the newest that validates')
    .addOption(new Option('--runtime <runtime>', 'where the throwaway AtoCore runs').choices(['process', 'container']))
    .option('--image <img>', 'AtoCore image (container runtime)')
    .option('--command <cmd>', 'your AtoCore: how to start the service (split without a shell; ATOCORE_* are set for the throwaway root)')
    .option('--backup-cli <cmd>', 'your AtoCore: how to invoke its backup module, e.g. "python -m atocore.ops.backup"')
    .option('--fault <name>', `switch on a stand-in fault (repeatable; tests only): ${STANDIN_FAULTS.join(', ')}`, (value: string, previous: string[] = []) => [...previous, value])
    .option('--sources-root <path>', `the deployment's sources root as its AtoCore sees it; documents recorded elsewhere came from another deployment (default ${REHEARSE_DEFAULTS.sourcesRoot})`)
    .option('--timeout <duration>', `budget for the whole rehearsal (default ${REHEARSE_DEFAULTS.timeout})`)
    .option('--connect-timeout <duration>', `SSH connection and handshake (default ${REHEARSE_DEFAULTS.connectTimeout})`)
    .option('--work-dir <dir>', 'where the throwaway root goes (default: the system temporary directory); it must hold a copy of the snapshot')
    .option('--rto-budget <duration>', 'rto.budget fails when the rehearsal\'s RTO (restore to healthy) exceeds this')
    .option('--rpo <duration>', 'rpo.budget fails when the rehearsed snapshot is older than this');
  addRunOutputOptions(rehearse, { kind: 'rehearse', junit: 'one test case per check', history: ' and judge rto.regression against it' })
    .addHelpText('after', `${REHEARSE_HELP}\n${exitCodesHelp}`)
    .action(async (flags: RawRehearseFlags) => {
      exit.code = await runCommand(io, interruptOnSignals(), {
        parse: () => parseRehearseFlags(flags),
        describe: describeRehearsal,
        run: async (inputs, out, signal) => {
          const observer = { ...consoleProgress(out), progress: (line: string) => io.stderr.write(`  ${terminalText(line)}\n`) };
          return finishWithHistory(await runRehearseJob(inputs, { signal, observer }), inputs, io);
        },
      });
    });
}
