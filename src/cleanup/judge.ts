import { formatDuration } from '../common/duration.js';
import type { OwnerState } from './owner.js';

/**
 * Where a leftover's drill root stands: marked with its owner's state, there without a mark
 * (kept with --keep, or not the harness's), gone, or nothing points at a root at all.
 */
export type RootStanding = { readonly kind: 'marked'; readonly owner: OwnerState; readonly ownerPid: number } | { readonly kind: 'unmarked' } | { readonly kind: 'missing' };

export type Decision = { readonly remove: true } | { readonly remove: false; readonly why: string };

/**
 * The one rule of `cleanup`: what belongs to a run that still goes is never touched, nor a
 * root that carries no mark; the rest goes once it is older than `--older-than`. The age is
 * the drill root's when it is marked, else the thing's own (a process's start, a container's
 * creation).
 */
export function judgeLeftover(standing: RootStanding, createdAtMs: number | null, nowMs: number, olderThanMs: number): Decision {
  if (standing.kind === 'marked' && standing.owner === 'alive') return { remove: false, why: `its drill is still running (pid ${standing.ownerPid})` };
  if (standing.kind === 'unmarked') return { remove: false, why: 'its drill root carries no mark (kept with --keep, or not the harness\'s)' };
  if (createdAtMs === null) return { remove: false, why: 'its age cannot be told' };
  const age = nowMs - createdAtMs;
  if (age < olderThanMs) return { remove: false, why: `younger than ${formatDuration(olderThanMs)} (${formatDuration(Math.max(0, age))} old)` };
  return { remove: true };
}
