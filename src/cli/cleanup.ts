import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_OLDER_THAN, runCleanup, type CleanupOutcome } from '../cleanup/cleanup.js';
import { ROOT_MARK_FILE } from '../cleanup/marks.js';
import { parseDuration } from '../common/duration.js';
import { ExitCode, UsageError } from '../common/errors.js';

export interface RawCleanupFlags {
  olderThan?: string;
  dryRun?: boolean;
  under?: string;
}

/** `0s` means everything found; parseDuration refuses zero for budgets, so it is read here. */
export function parseOlderThan(value: string | undefined): number {
  const text = value ?? DEFAULT_OLDER_THAN;
  if (/^\s*0+(ms|s|m|h|d)\s*$/.test(text)) return 0;
  return parseDuration(text, '--older-than');
}

export function renderCleanupOutcome(outcome: CleanupOutcome): { stdout: string; stderr: string } {
  const out = [...outcome.removed, ...outcome.left.map((line) => `left ${line}`)];
  if (outcome.removed.length === 0 && outcome.problems.length === 0) out.push('nothing to remove');
  const err = [...outcome.notes.map((n) => `atocore-drill cleanup: ${n}`), ...outcome.problems.map((p) => `atocore-drill cleanup: could not remove ${p}`)];
  return { stdout: out.map((l) => `${l}\n`).join(''), stderr: err.map((l) => `${l}\n`).join('') };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

const CLEANUP_HELP = `
What is the harness's: a directory named atocore-drill-XXXXXX in the temp dir ($TMPDIR)
holding the mark file ${ROOT_MARK_FILE}; processes of this user whose ATOCORE_DATA_DIR,
ATOCORE_BACKUP_DIR and ATOCORE_PROJECT_REGISTRY_PATH point into such a root; containers
labelled io.atocore-drill.run. Never touched: anything of a drill that is still running
(its root's mark names the process), a root without the mark (kept with --keep), anything
younger than --older-than.

Exit codes:
  0  done (also when nothing was found)
  2  usage error
  3  something found could not be removed (it is named)`;

/** Registers `cleanup`; main.ts hands over its exit holder. */
export function registerCleanupCommand(program: Command, io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }, exit: { code: number }): void {
  program
    .command('cleanup')
    .description('Remove what earlier drills left behind when they were killed (SIGKILL, a crash): AtoCore processes, containers, drill roots.')
    .option('--older-than <duration>', `only what is older than this, e.g. 30m, 2h; 0s for everything not in use (default ${DEFAULT_OLDER_THAN})`)
    .option('--under <dir>', 'only what drills left under this directory (their TMPDIR, e.g. a CI job\'s temp dir); default: what any drill of this user left, roots looked for in the temp dir')
    .option('--dry-run', 'say what would be removed, remove nothing')
    .addHelpText('after', CLEANUP_HELP)
    .action(async (flags: RawCleanupFlags) => {
      const olderThanMs = parseOlderThan(flags.olderThan);
      if (!Number.isSafeInteger(olderThanMs)) throw new UsageError(`--older-than: "${flags.olderThan}" is too long`);
      if (flags.under !== undefined && !isDirectory(flags.under)) throw new UsageError(`--under: ${resolve(flags.under)} is not a directory`);
      const outcome = await runCleanup({ olderThanMs, dryRun: flags.dryRun === true, ...(flags.under === undefined ? {} : { under: flags.under }) });
      const text = renderCleanupOutcome(outcome);
      io.stdout.write(text.stdout);
      io.stderr.write(text.stderr);
      exit.code = outcome.problems.length > 0 ? ExitCode.infrastructure : ExitCode.ok;
    });
}
