/**
 * The backup's own verification, judged: a service's verifier (AtoCore's `validate`,
 * JellyCore's verify script) is shown a good backup and copies of it with one corruption
 * each; it must accept the first and reject every other. Pure: the drill makes the copies and
 * asks the verifier; this decides. A verifier call the harness interrupted, cut or killed is
 * no answer at all: its check is skipped and the step is an error.
 */
import type { ProcessResult } from '../common/child-process.js';
import { check, type CheckResult } from '../report/model.js';
import { whyNotEvidence } from './classification.js';

/** The corruptions a drill makes, one per copy of the good backup. */
export const CORRUPTION_KINDS = ['corrupt_database', 'truncated_archive', 'emptied_directory', 'missing_file', 'corrupt_json'] as const;
export type CorruptionKind = (typeof CORRUPTION_KINDS)[number];

const DESCRIBED: Record<CorruptionKind, string> = {
  corrupt_database: 'a database with pages overwritten mid-file',
  truncated_archive: 'an archive cut in half',
  emptied_directory: 'an emptied directory',
  missing_file: 'a missing file',
  corrupt_json: 'a JSON file that does not parse',
};

/** What a verifier said about one backup. */
export type VerifierAnswer =
  | { readonly said: 'accepted' | 'rejected'; readonly detail: string }
  /** it answered, but neither yes nor no (no readable verdict) */
  | { readonly said: 'could_not_tell'; readonly detail: string }
  /** the call is not evidence (interrupted, cut at the bound, killed from outside, not started) */
  | { readonly said: 'not_evidence'; readonly detail: string }
  /** the copy was never made or shown: the backup lacks what this corruption changes (no error, nothing judged) */
  | { readonly said: 'not_asked'; readonly detail: string };

/**
 * A verifier's answer from its process: not evidence when the harness or the machine ended it,
 * otherwise what `read` makes of it (the service's own convention: an exit code, a JSON field).
 */
export function verifierAnswer(result: ProcessResult, doing: string, read: (result: ProcessResult) => VerifierAnswer, boundName?: string): VerifierAnswer {
  const why = whyNotEvidence(result, doing, boundName);
  return why ? { said: 'not_evidence', detail: why } : read(result);
}

/** One corrupted copy and what the verifier said about it. */
export interface CorruptedCopyAnswer {
  readonly kind: CorruptionKind;
  /** what was corrupted, relative to the backup (`db/atocore.db`) */
  readonly target: string;
  readonly answer: VerifierAnswer;
}

export interface VerificationObservation {
  readonly good: VerifierAnswer;
  readonly corrupted: readonly CorruptedCopyAnswer[];
}

/** The check id for a corruption kind. */
export function catchesCheckId(kind: CorruptionKind): string {
  return `verification.catches_${kind}`;
}

/** `verification.accepts_good`, then one `verification.catches_<kind>` per copy, in the order given. */
export function judgeVerification(observation: VerificationObservation): CheckResult[] {
  return [acceptsGood(observation.good), ...observation.corrupted.map(catches)];
}

/** Why the verification step could not run to the end (the first answer that is not evidence), or null. */
export function verificationNotEvidence(observation: VerificationObservation): string | null {
  const answers = [observation.good, ...observation.corrupted.map((copy) => copy.answer)];
  return answers.find((answer) => answer.said === 'not_evidence')?.detail ?? null;
}

function acceptsGood(answer: VerifierAnswer): CheckResult {
  const id = 'verification.accepts_good';
  const evidence = { said: answer.said, detail: answer.detail };
  switch (answer.said) {
    case 'accepted':
      return check(id, 'pass', 'the verifier accepts the good backup', evidence);
    case 'rejected':
      return check(id, 'fail', `the verifier rejects a good backup (one a restore brings back): ${answer.detail}`, evidence);
    case 'could_not_tell':
      return check(id, 'fail', `the verifier gives no verdict on a good backup: ${answer.detail}`, evidence);
    case 'not_evidence':
    case 'not_asked':
      return check(id, 'skip', `not judged: ${answer.detail}`, evidence);
  }
}

function catches(copy: CorruptedCopyAnswer): CheckResult {
  const id = catchesCheckId(copy.kind);
  const what = `${DESCRIBED[copy.kind]} (${copy.target})`;
  const evidence = { kind: copy.kind, target: copy.target, said: copy.answer.said, detail: copy.answer.detail };
  switch (copy.answer.said) {
    case 'rejected':
      return check(id, 'pass', `the verifier rejects a copy with ${what}: ${copy.answer.detail}`, evidence);
    case 'accepted':
      return check(id, 'fail', `the verifier accepts a copy with ${what}: a backup that cannot be restored passes its own verification`, evidence);
    case 'could_not_tell':
      return check(id, 'warn', `the verifier neither accepts nor rejects a copy with ${what}: ${copy.answer.detail}`, evidence);
    case 'not_evidence':
    case 'not_asked':
      return check(id, 'skip', `not judged: ${copy.answer.detail}`, evidence);
  }
}
