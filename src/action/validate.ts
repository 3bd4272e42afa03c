import type { DrillReport } from '../report/model.js';
import { validationInLogGroups } from '../github/log-groups.js';
import { describeValidation as describeJob, runValidateJob, type ValidateInputs } from '../jobs/validate-job.js';
import { validationProgress } from '../jobs/validation-progress.js';
import { ACTION_NAMES } from './inputs.js';

/** One line saying what will be validated, for logs. */
export function describeValidation(inputs: ValidateInputs): string {
  return describeJob(inputs, ACTION_NAMES);
}

/**
 * Mode validate: the validate job, as the CLI's `validate --ssh` runs it. The key and
 * known_hosts given as text stay in memory, never written to disk.
 */
export async function runValidation(inputs: ValidateInputs, context: { signal: AbortSignal; workDir: string }): Promise<DrillReport> {
  return runValidateJob(inputs, { signal: context.signal, observer: validationInLogGroups(validationProgress(process.stdout)), tmpDir: context.workDir });
}
