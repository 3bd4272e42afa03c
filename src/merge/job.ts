import type { MergeInputs } from '../inputs/merge.js';
import type { DrillReport } from '../report/model.js';
import { REPORT_FILE_LIMITS } from './limits.js';
import { mergeReports, type ReportSource } from './merge.js';
import { readReportFile } from './report-file.js';
import { UsageError } from '../common/errors.js';

/** A merge's whole run: every report read (one bad file ends it, named), then one report of them all. */
export async function runMergeJob(inputs: Pick<MergeInputs, 'reports'>): Promise<DrillReport> {
  const sources: ReportSource[] = [];
  let budget: number = REPORT_FILE_LIMITS.totalBytes;
  for (const input of inputs.reports) {
    if (budget <= 0) throw new UsageError(`${input.path}: the reports before it already hold ${REPORT_FILE_LIMITS.totalBytes} bytes, all a merge reads`);
    const { report, bytes } = await readReportFile(input.path, Math.min(REPORT_FILE_LIMITS.fileBytes, budget));
    budget -= bytes;
    sources.push({ file: input.shown, report });
  }
  return mergeReports(sources);
}

/** One line for the log: what is merged. */
export function describeMerge(inputs: Pick<MergeInputs, 'reports'>): string {
  const shown = inputs.reports.slice(0, 5).map((r) => r.shown);
  return `merge ${inputs.reports.length} report${inputs.reports.length === 1 ? '' : 's'} (${shown.join(', ')}${inputs.reports.length > shown.length ? ', …' : ''})`;
}
