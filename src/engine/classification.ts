/**
 * The one place that decides whether something the drill saw is evidence about the service
 * (a check may pass or fail on it) or was caused by the harness, the machine or the operator
 * (the step is an error and the checks it prevented are skipped). Pure: no I/O.
 *
 * The rule: a check fails only on evidence about the target's behaviour, and passes only on
 * positive evidence. An interrupted, timed-out or externally killed call is neither: it says
 * nothing about what the service would have done.
 */
import { constants as osConstants } from 'node:os';
import type { ProcessResult } from '../common/child-process.js';
import { formatDuration } from '../common/duration.js';
import { DrillError, InfrastructureError, InterruptedError, ServiceNotHealthyError } from '../common/errors.js';

export { ServiceNotHealthyError };

/** A step found a problem with the service (verdict fail), as opposed to not being able to run (error). */
export class StepFinding extends Error {}

/**
 * Signals a process receives from outside (the harness, an operator, the OOM killer, `docker
 * stop`): death by one of these says nothing about the service. Crashes (SIGSEGV, SIGABRT, …)
 * are the process's own doing and stay evidence.
 */
const OUTSIDE_SIGNALS: ReadonlySet<string> = new Set(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGPIPE', 'SIGALRM', 'SIGUSR1', 'SIGUSR2', 'SIGXCPU', 'SIGXFSZ']);

/**
 * Why a finished call of the service's own tools is not evidence, or null when it is.
 * `doing` names the call for the message ("restore 20260101T000000Z").
 */
export function whyNotEvidence(result: ProcessResult, doing: string, boundName = 'its time bound'): string | null {
  if (result.spawnError) return `${doing}: could not start ${result.argv[0] ?? 'the command'}: ${result.spawnError}`;
  if (result.aborted) return `${doing} was interrupted after ${formatDuration(result.durationMs)}`;
  if (result.timedOut) return `${doing} was cut at ${boundName} after ${formatDuration(result.durationMs)}`;
  if (result.signal && OUTSIDE_SIGNALS.has(result.signal)) return `${doing} was killed by ${result.signal}, not by anything it did`;
  // a wrapper (a shell script, `docker compose run`) reports its killed child as 128+N
  const relayed = typeof result.exitCode === 'number' && result.exitCode > 128 ? signalNamed(result.exitCode - 128) : null;
  if (relayed && OUTSIDE_SIGNALS.has(relayed)) return `${doing} ended with exit ${result.exitCode}, as a wrapper reports a command killed by ${relayed}: not an answer`;
  if (result.exitCode === null && result.signal === null) return `${doing} ended without an exit status`;
  return null;
}

/** Throws an InfrastructureError when a call is not evidence; returns the result when it is. */
export function requireEvidence<T extends { readonly result: ProcessResult }>(call: T, doing: string, boundName?: string): T {
  const why = whyNotEvidence(call.result, doing, boundName);
  if (why) throw new InfrastructureError(why);
  return call;
}

/**
 * A start that did not end healthy: is it a finding about the service? Only when the service
 * itself exited, or stayed unhealthy for the harness's whole own bound, and nobody interrupted.
 */
export function isServiceStartFinding(error: unknown, context: { readonly budgetLimited: boolean; readonly interrupted: boolean }): boolean {
  if (context.interrupted || !(error instanceof ServiceNotHealthyError)) return false;
  return error.reason === 'exited' || !context.budgetLimited;
}

export type FailedStepStatus = 'fail' | 'error';

/** How a step that threw ends: `fail` only for a finding, and never once the run was interrupted. */
export function stepStatusFor(error: unknown, interrupted: boolean): FailedStepStatus {
  return error instanceof StepFinding && !interrupted ? 'fail' : 'error';
}

/** True for errors whose message is the whole story (no stack trace in the report). */
export function isExpectedError(error: unknown): boolean {
  return error instanceof DrillError || error instanceof StepFinding || error instanceof InterruptedError;
}

function signalNamed(number: number): string | null {
  return Object.entries(osConstants.signals).find(([, value]) => value === number)?.[0] ?? null;
}
