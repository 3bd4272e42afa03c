import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { splitCommandLine } from '../common/child-process.js';
import { parseDuration } from '../common/duration.js';
import { UsageError, errorMessage } from '../common/errors.js';
import type { FailOn } from '../engine/verdict.js';
import type { DrillInputs } from '../jobs/drill-job.js';
import { isStandinFault, STANDIN_FAULTS } from '../runtimes/standin.js';

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

/** A report file's place: not a directory, under an existing directory. */
export function outputPath(value: string | undefined, flag: string): string | null {
  if (value === undefined) return null;
  if (value.trim() === '') throw new UsageError(`${flag}: the file name is empty`);
  const path = resolve(value);
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`${flag}: ${path} is a directory, not a file`);
  let parent = dirname(path);
  while (!existsSync(parent)) parent = dirname(parent);
  if (!statSync(parent).isDirectory()) throw new UsageError(`${flag}: ${parent} is not a directory`);
  // found out now, not after a whole run: can a file be created there? (missing folders below it are created later)
  const probe = join(parent, `.atocore-drill-probe-${process.pid}`);
  try {
    writeFileSync(probe, '', { flag: 'wx' });
    rmSync(probe);
  } catch (error) {
    throw new UsageError(`${flag}: cannot write under ${parent}: ${errorMessage(error)}`);
  }
  return path;
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
    reportJson: outputPath(flags.reportJson, '--report-json'),
    junit: outputPath(flags.junit, '--junit'),
    summary: outputPath(flags.summary, '--summary'),
    failOn: parseFailOn(flags.failOn),
  };
}
