/**
 * The rehearsal as a plan: ordered steps, each with the checks it decides. Pure, so the order
 * and the check list are tested without running anything.
 */
import { plannedCheckIds, type PlannedStep as Step } from '../engine/step-loop.js';

export type RehearsalStepId = 'select' | 'inspect' | 'restore' | 'start' | 'verify' | 'teardown';

export type RehearsalStep = Step<RehearsalStepId>;

export function planRehearsal(): RehearsalStep[] {
  const step = (id: RehearsalStepId, title: string, checks: string[] = [], always = false): RehearsalStep => ({ id, title, checks, always });
  return [
    step('select', 'Find the newest snapshot that validates and copy it into a throwaway root', ['rehearsal.snapshot']),
    step('inspect', "Read the snapshot's own database, registry and source paths", ['rehearsal.deployment']),
    step('restore', "Restore it with AtoCore's own backup CLI and check the restored database", ['rehearsal.integrity']),
    step('start', 'Start the throwaway AtoCore on the restored data', ['rehearsal.health']),
    step('verify', 'Check that it serves what the snapshot holds', ['rehearsal.stats', 'rehearsal.projects', 'rehearsal.context']),
    step('teardown', 'Tear down (the copy and the throwaway root)', [], true),
  ];
}

export { plannedCheckIds };
