import { Command, CommanderError, Option } from 'commander';
import { terminalText } from '../output/console.js';
import { DrillError, ExitCode, errorMessage } from '../common/errors.js';
import { interruptOnSignals } from '../common/interrupt.js';
import { describeDrill, runDrillJob } from '../jobs/drill-job.js';
import { consoleProgress } from '../output/console.js';
import { STANDIN_FAULTS } from '../atocore/standin.js';
import { runCommand } from './finish.js';
import { DEFAULT_DRILL_TIMEOUT, parseDrillFlags, type RawDrillFlags, addRunOutputOptions } from './options.js';
import { registerValidateCommand } from './validate.js';
import { registerCleanupCommand } from './cleanup.js';
import { registerMergeCommand } from './merge.js';
import { registerRehearseCommand } from './rehearse.js';
import { finishWithHistory, registerHistoryCommand } from './history.js';

export interface CliIo {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

const EXIT_CODES_HELP = `
Exit codes:
  0  verdict pass (or warn)
  1  verdict fail: a problem was found (--fail-on warn: also on warn)
  2  usage or configuration error
  3  could not run: infrastructure, a timeout, an interruption`;

/** Signals for a CLI run (common/interrupt.ts); a second one is said, since the run then ends at once. */
function cliInterrupt(io: CliIo): ReturnType<typeof interruptOnSignals> {
  return interruptOnSignals({
    exitCode: ExitCode.infrastructure,
    onSecond: (signal) => io.stderr.write(`atocore-drill: ${signal} again: killing everything the run started, then exiting\n`),
  });
}

function drillCommand(flags: RawDrillFlags, io: CliIo): Promise<number> {
  return runCommand(io, cliInterrupt(io), {
    parse: () => parseDrillFlags(flags),
    describe: describeDrill,
    run: async (inputs, out, signal) => finishWithHistory(await runDrillJob(inputs, { signal, observer: consoleProgress(out) }), inputs, io),
  });
}

export function buildProgram(io: CliIo, exit: { code: number }): Command {
  const program = new Command('atocore-drill')
    .description('Proves that AtoCore backups really restore: a restore drill with its own, independent verdict.')
    .version(process.env.npm_package_version ?? '0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run atocore-drill --help for usage)')
    .addHelpText('after', `${EXIT_CODES_HELP}\n\nReference: docs/cli.md (flags), docs/checks.md (every check id and what to do when it fails), docs/validate.md.`);

  const drill = program
    .command('drill')
    .description(
      'Start a throwaway AtoCore, seed it, back up, mutate, stop, restore, start, verify. With no options: the embedded ' +
        'AtoCore stand-in as a local process (needs python3, no Docker).',
    )
    .addOption(new Option('--runtime <runtime>', 'where AtoCore runs').choices(['process', 'container']))
    .option('--image <img>', 'AtoCore image to drill (container runtime)')
    .option('--from-image <img>', 'migration rollback drill: seed and back up under this image, then migrate to --image and roll back')
    .option('--command <cmd>', 'your AtoCore: how to start the service (split without a shell; ATOCORE_* are set for the drill root)')
    .option('--backup-cli <cmd>', 'your AtoCore: how to invoke its backup module, e.g. "python -m atocore.ops.backup"')
    .option('--include-chroma', 'back up and restore the Chroma directory too, and check it')
    .option('--seed <dir>', 'seed dataset directory (default: the bundled fixtures/seed)')
    .option('--seed-size <size>', 'generated documents, chunks and interactions on top of the seed until the database holds about this much, e.g. 100MB, 1GB (deterministic)')
    .option('--drills <names>', 'which drills, comma-separated: restore, verification, offsite, rotation (default: restore for AtoCore, which has no offsite; all a profile file declares); docs/checks.md')
    .option('--fault <name>', `switch on a stand-in fault (repeatable; tests only): ${STANDIN_FAULTS.join(', ')}`, (value: string, previous: string[] = []) => [...previous, value])
    .option('--profile <name|file>', 'the service to drill: atocore (default), jellycore, or a profile file (JSON/YAML, docs/profiles.md)')
    .option('--profile-var <name=value>', "set one of the profile's variables (repeatable)", (value: string, previous: string[] = []) => [...previous, value])
    .option('--keep', 'keep the drill root (data, snapshots) for inspection; its path is printed and in the report')
    .option('--timeout <duration>', `budget for the whole drill, e.g. 90s, 15m (default ${DEFAULT_DRILL_TIMEOUT})`)
    .option('--work-dir <dir>', 'where the drill root goes (default: the system temporary directory); in a job that runs in a container, a directory the Docker host sees at the same path');
  addRunOutputOptions(drill, { junit: 'one test case per check', history: ' and judge rto.regression against it' });
  drill
    .option('--rto-budget <duration>', 'check rto.budget: the measured RTO must not exceed this, e.g. 15m')
    .option('--rpo <duration>', "check rpo.budget: the restored backup's age when the service stopped must not exceed this, e.g. 24h")
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (flags: RawDrillFlags) => {
      exit.code = await drillCommand(flags, io);
    });
  registerValidateCommand(program, io, exit, () => cliInterrupt(io), EXIT_CODES_HELP);
  registerRehearseCommand(program, io, exit, () => cliInterrupt(io), EXIT_CODES_HELP);
  registerCleanupCommand(program, io, exit);
  registerMergeCommand(program, io, exit, EXIT_CODES_HELP);
  registerHistoryCommand(program, io, exit);
  return program;
}

/** The whole CLI: one top-level catch maps typed errors to exit codes. */
export async function main(argv: readonly string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const exit = { code: 0 };
  const program = buildProgram(io, exit);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return ExitCode.usage;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return exit.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.ok;
      return ExitCode.usage;
    }
    if (error instanceof DrillError) {
      // messages quote what the user gave (file names, hosts): shown, never interpreted by the terminal
      io.stderr.write(`atocore-drill: ${terminalText(error.message)}\n`);
      return error.exitCode;
    }
    io.stderr.write(`atocore-drill: unexpected error: ${terminalText(errorMessage(error))}\n${error instanceof Error && error.stack ? `${error.stack.split('\n').slice(1).join('\n')}\n` : ''}`);
    return ExitCode.infrastructure;
  }
}
