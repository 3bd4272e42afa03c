import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DrillReport } from '../report/model.js';
import { VALIDATE_DEFAULTS, validationProgress } from '../cli/validate.js';
import { parseDuration } from '../common/duration.js';
import { describeValidation as describeJob, runValidateJob, type ValidateInputs } from '../jobs/validate-job.js';
import { SecretText } from '../remote/identity.js';
import { Input } from './constants.js';
import type { ValidateActionInputs } from './inputs.js';

/** The validate job's inputs from the action's (the CLI's defaults for what the action does not expose). */
function jobInputs(inputs: ValidateActionInputs, knownHostsFile: string): ValidateInputs {
  return {
    source: { kind: 'ssh', address: inputs.address, root: inputs.root },
    knownHostsFile,
    identity: { kind: 'text', key: new SecretText(inputs.privateKey), what: `input ${Input.SshKey}` },
    acceptNewHostKey: false,
    stamps: [],
    deep: inputs.deep,
    maxDeep: null,
    ledger: null,
    validator: inputs.validator,
    rpoMs: inputs.rpoMs,
    chromaRpoMs: parseDuration(VALIDATE_DEFAULTS.chromaRpo, 'chroma RPO'),
    sizeDropPercent: Number(VALIDATE_DEFAULTS.sizeDrop),
    offhost: inputs.offhost,
    nowMs: null,
    timeoutMs: inputs.timeoutMs,
    connectTimeoutMs: parseDuration(VALIDATE_DEFAULTS.connectTimeout, 'connect timeout'),
    concurrency: Number(VALIDATE_DEFAULTS.concurrency),
    // the action writes its own report files
    reportJson: null,
    junit: null,
    summary: null,
    failOn: 'fail',
  };
}

/** One line saying what will be validated, for logs. */
export function describeValidation(inputs: ValidateActionInputs): string {
  return describeJob(jobInputs(inputs, '(known-hosts)'));
}

/**
 * Mode validate: the validate job, as the CLI's `validate --ssh` runs it. The key stays in
 * memory; known_hosts given as text is written into the work directory (post removes it).
 */
export async function runValidation(inputs: ValidateActionInputs, context: { signal: AbortSignal; workDir: string }): Promise<DrillReport> {
  let knownHostsFile: string;
  if ('path' in inputs.knownHosts) knownHostsFile = inputs.knownHosts.path;
  else {
    knownHostsFile = join(context.workDir, 'known_hosts');
    await writeFile(knownHostsFile, inputs.knownHosts.text, { mode: 0o600 });
  }
  return runValidateJob(jobInputs(inputs, knownHostsFile), { signal: context.signal, observer: validationProgress(process.stdout), tmpDir: context.workDir });
}
