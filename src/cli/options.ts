import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { splitCommandLine } from '../common/child-process.js';
import { parseDuration } from '../common/duration.js';
import { UsageError } from '../common/errors.js';
import type { FailOn } from '../report/verdict.js';
import type { DrillInputs } from '../jobs/drill-job.js';
import { checkDistinctOutputs, checkReportPath, STDOUT_PATH } from '../output/report-files.js';
import { isStandinFault, STANDIN_FAULTS } from '../atocore/standin.js';

/** `drill` flags as commander hands them over (strings), before validation. */
export interface RawDrillFlags {
  runtime?: string;
  image?: string;
  fromImage?: string;
  command?: string;
  backupCli?: string;
  includeChroma?: boolean;
  seed?: string;
  fault?: string[];
  keep?: boolean;
  timeout?: string;
  reportJson?: string;
  junit?: string;
  summary?: string;
  failOn?: string;
}

export const DEFAULT_DRILL_TIMEOUT = '10m';

/** A report file's place, checked before the run (output/report-files.ts: `-` is standard output). */
export function outputPath(value: string | undefined, flag: string): string | null {
  return checkReportPath(value, flag);
}

/** The three report flags, each checked, at most one of them `-`, none the same file as another or as `others` (the ledger). */
export function reportPaths(
  flags: { reportJson?: string; junit?: string; summary?: string },
  others: ReadonlyArray<readonly [flag: string, path: string | null]> = [],
): { reportJson: string | null; junit: string | null; summary: string | null } {
  const paths = { reportJson: outputPath(flags.reportJson, '--report-json'), junit: outputPath(flags.junit, '--junit'), summary: outputPath(flags.summary, '--summary') };
  checkDistinctOutputs([...others, ['--report-json', paths.reportJson], ['--junit', paths.junit], ['--summary', paths.summary]]);
  return paths;
}

/** Whether a report goes to standard output (then progress goes to stderr). */
export function reportsToStdout(paths: { reportJson: string | null; junit: string | null; summary: string | null }): boolean {
  return [paths.reportJson, paths.junit, paths.summary].includes(STDOUT_PATH);
}

export function parseFailOn(value: string | undefined, flag = '--fail-on'): FailOn {
  if (value === undefined || value === 'fail') return 'fail';
  if (value === 'warn') return 'warn';
  throw new UsageError(`${flag}: "${value}" is not one of fail, warn`);
}

export function parseDrillFlags(flags: RawDrillFlags): DrillInputs {
  const runtime = flags.runtime ?? (flags.image ? 'container' : 'process');
  if (runtime !== 'process' && runtime !== 'container') throw new UsageError(`--runtime: "${runtime}" is not one of process, container`);
  if (runtime === 'process' && flags.image) throw new UsageError('--image needs --runtime container (the process runtime runs no image)');
  if (flags.fromImage && !flags.image) throw new UsageError('--from-image needs --image (the rollback drill goes from --from-image to --image and back)');
  if (runtime === 'container' && !flags.image) throw new UsageError('--runtime container needs --image IMG');
  if ((flags.command === undefined) !== (flags.backupCli === undefined)) {
    throw new UsageError('--command and --backup-cli go together: how to start your AtoCore and how to invoke its backup module');
  }
  if (runtime === 'container' && flags.command !== undefined) throw new UsageError('--command/--backup-cli are for the process runtime; a container runs its image');
  const faults = flags.fault ?? [];
  for (const fault of faults) {
    if (!isStandinFault(fault)) throw new UsageError(`--fault: "${fault}" is not a stand-in fault (known: ${STANDIN_FAULTS.join(', ')})`);
  }
  let seedDir: string | null = null;
  if (flags.seed !== undefined) {
    seedDir = resolve(flags.seed);
    if (!existsSync(seedDir) || !statSync(seedDir).isDirectory()) throw new UsageError(`--seed: ${seedDir} is not a directory`);
  }
  return {
    runtime,
    image: flags.image ?? null,
    fromImage: flags.fromImage ?? null,
    command: flags.command === undefined ? null : splitCommandLine(flags.command, '--command'),
    backupCli: flags.backupCli === undefined ? null : splitCommandLine(flags.backupCli, '--backup-cli'),
    includeChroma: flags.includeChroma === true,
    seedDir,
    faults,
    keep: flags.keep === true,
    timeoutMs: parseDuration(flags.timeout ?? DEFAULT_DRILL_TIMEOUT, '--timeout'),
    ...reportPaths(flags),
    failOn: parseFailOn(flags.failOn),
  };
}
