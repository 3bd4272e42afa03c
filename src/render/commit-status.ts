import type { DrillReport, Verdict } from '../report/model.js';
import { reportHeadline, truncateText, type PublishTarget } from './check-run.js';
import { runOutcome, type FailOn } from '../report/outcome.js';

/** GitHub keeps 140 characters of a commit status's description. */
export const STATUS_DESCRIPTION_CHARS = 140;

export type CommitStatusState = 'pending' | 'success' | 'failure' | 'error';

/** Verdict → commit status (for Gitea, and tokens without `checks: write`): the one table's (outcome.ts). */
export function commitStatusState(verdict: Verdict, failOn: FailOn): Exclude<CommitStatusState, 'pending'> {
  return runOutcome(verdict, failOn).commitStatusState;
}

function payload(state: CommitStatusState, description: string, target: Pick<PublishTarget, 'checkName' | 'detailsUrl'>): Record<string, unknown> {
  return {
    state,
    context: target.checkName,
    description: truncateText(description, STATUS_DESCRIPTION_CHARS, '…'),
    ...(target.detailsUrl ? { target_url: target.detailsUrl } : {}),
  };
}

/** POST /repos/{owner}/{repo}/statuses/{sha} when the drill starts. */
export function commitStatusStartPayload(target: PublishTarget, what: string): Record<string, unknown> {
  return payload('pending', `Running: ${what}`, target);
}

/** POST /repos/{owner}/{repo}/statuses/{sha} with the verdict. */
export function commitStatusFinishPayload(report: DrillReport, target: PublishTarget): Record<string, unknown> {
  return payload(commitStatusState(report.verdict, target.failOn), reportHeadline(report), target);
}

/** A run that never finished: post replaces the pending status. */
export function commitStatusCancelPayload(target: Pick<PublishTarget, 'checkName' | 'detailsUrl'>, reason: string): Record<string, unknown> {
  return payload('error', `Did not finish: ${reason}`, target);
}
