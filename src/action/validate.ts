import { InfrastructureError } from '../common/errors.js';
import type { DrillReport } from '../engine/types.js';
import type { ValidateActionInputs } from './inputs.js';

/** One line saying what will be validated, for logs. */
export function describeValidation(inputs: ValidateActionInputs): string {
  return `snapshot validation of ${inputs.user}@${inputs.host}:${inputs.port}${inputs.root} over SSH, read-only`;
}

/** Mode validate: waits for the validate job (src/jobs/validate-job.ts). */
export async function runValidation(_inputs: ValidateActionInputs, _context: { signal: AbortSignal; workDir: string }): Promise<DrillReport> {
  throw new InfrastructureError('mode validate is not available in this version of the action yet');
}
