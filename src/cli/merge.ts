import type { Command } from 'commander';
import { namedFor } from '../inputs/fields.js';
import { mergeInputs, reportFileArguments } from '../inputs/merge.js';
import { describeMerge, runMergeJob } from '../merge/job.js';
import { consoleStream, finishRun } from './finish.js';
import { CLI_NAMES, addRunOutputOptions } from './options.js';

/** `merge-reports` flags as commander hands them over. */
export interface RawMergeFlags {
  reportJson?: string;
  junit?: string;
  summary?: string;
  failOn?: string;
}

const MERGE_HELP = `
One report of several (a fleet: one per host or image), for one summary, one check run and
one exit code. The worst verdict wins, a fail over an error: a target that failed settles
that the fleet is not sound; an error (that target could not be told) still wins over warn
and pass. Every check, step and snapshot is kept, named by its target; the summary lists
each target with its verdict. Each FILE must be an atocore-drill/report@1 JSON report
(checked against schema/report.schema.json); anything else is exit 2, naming the file.`;

/** Registers `merge-reports`; main.ts hands over its exit holder. */
export function registerMergeCommand(program: Command, io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }, exit: { code: number }, exitCodesHelp: string): void {
  const merge = program
    .command('merge-reports')
    .description('Merge several JSON reports (--report-json of drill, validate, rehearse) into one: the worst verdict wins.')
    .argument('<file...>', 'JSON reports to merge');
  addRunOutputOptions(merge, { junit: 'of the merged report', summary: 'write a Markdown summary listing every target with its verdict', history: false })
    .addHelpText('after', `${MERGE_HELP}\n${exitCodesHelp}`)
    .action(async (files: string[], flags: RawMergeFlags) => {
      exit.code = await namedFor(CLI_NAMES, async () => {
        const inputs = mergeInputs({ ...flags, reports: reportFileArguments(files) }, CLI_NAMES);
        consoleStream(inputs, io).write(`atocore-drill: ${describeMerge(inputs)}\n`);
        return finishRun(await runMergeJob(inputs), inputs, io);
      });
    });
}
