import type { Command } from 'commander';
import type { DrillInputs } from '../jobs/drill-job.js';
import { drillInputs } from '../inputs/drill.js';
import { kebab, type FieldId, type FieldNames } from '../inputs/fields.js';
import { STDOUT_PATH, type ReportPaths } from '../output/report-files.js';

/** Fields whose flag is not the field's name in kebab case. */
const FLAG_OF: Partial<Record<FieldId, string>> = { faults: '--fault', profileVars: '--profile-var', reports: 'merge-reports FILE' };

/** How the CLI's user names a field: by its flag. */
export const CLI_NAMES: FieldNames = {
  one: (field) => FLAG_OF[field] ?? `--${kebab(field)}`,
  both: (a, b) => `${CLI_NAMES.one(a)} and ${CLI_NAMES.one(b)}`,
};

/** `drill` flags as commander hands them over (strings), before validation. */
export interface RawDrillFlags {
  runtime?: string;
  image?: string;
  fromImage?: string;
  command?: string;
  backupCli?: string;
  includeChroma?: boolean;
  seed?: string;
  seedSize?: string;
  fault?: string[];
  keep?: boolean;
  timeout?: string;
  workDir?: string;
  reportJson?: string;
  junit?: string;
  summary?: string;
  failOn?: string;
  history?: string;
  chart?: string;
  rtoBudget?: string;
  rpo?: string;
  drills?: string;
  profile?: string;
  profileVar?: string[];
}

export const DEFAULT_DRILL_TIMEOUT = '10m';

/** Whether a report goes to standard output (then progress goes to stderr). */
export function reportsToStdout(paths: ReportPaths): boolean {
  return [paths.reportJson, paths.junit, paths.summary].includes(STDOUT_PATH);
}

/** `drill`'s flags through the drill rules (src/inputs/drill.ts), named as flags. */
export function parseDrillFlags(flags: RawDrillFlags): DrillInputs {
  return drillInputs({ ...flags, faults: flags.fault, profileVars: flags.profileVar, timeout: flags.timeout ?? DEFAULT_DRILL_TIMEOUT }, CLI_NAMES);
}

/**
 * The options every run's command has for its verdict: the exit code's rule, the report files
 * (what each holds: `kind`, `junit`), and, unless `history` is false, the run history.
 */
export function addRunOutputOptions(command: Command, texts: { readonly kind?: string; readonly junit: string; readonly summary?: string; readonly history?: string | false }): Command {
  command
    .option('--fail-on <level>', 'verdict that makes the exit code 1: fail (default) or warn')
    .option('--report-json <file>', `write the JSON report (schema atocore-drill/report@1${texts.kind ? `, kind ${texts.kind}` : ''}); - for standard output`)
    .option('--junit <file>', `write JUnit XML (${texts.junit}); - for standard output`)
    .option('--summary <file>', `${texts.summary ?? 'write a Markdown summary (the job summary)'}; - for standard output`);
  if (texts.history === false) return command;
  return command
    .option('--history <file>', `append this run to a run history (SQLite, created if missing; docs/history.md)${texts.history ?? ''}`)
    .option('--chart <file>', 'with --history: write the history chart (SVG) here (default: beside --report-json, as NAME.history.svg)');
}
