/**
 * The drill as a plan: inputs → ordered steps, each with the checks it decides.
 * Pure (no I/O), so the order and the check list are tested without running anything.
 */
import type { DrillName } from '../../engine/drill-names.js';
import { ROTATION_CHECK_IDS } from '../../engine/rotation.js';
import { plannedCheckIds, type PlannedStep as Step } from '../../engine/step-loop.js';
import { catchesCheckId } from '../../engine/verification.js';
import { ATOCORE_CORRUPTIONS } from './beyond-restore.js';

export type DrillStepId =
  | 'start'
  | 'seed'
  | 'marker_a'
  | 'backup'
  | 'baseline'
  | 'upgrade'
  | 'marker_b'
  | 'stop'
  | 'restore_unconfirmed'
  | 'restore'
  | 'restart'
  | 'verify_service'
  | 'verification'
  | 'rotation'
  | 'teardown';

/** A step of the AtoCore drill. */
export type PlannedStep = Step<DrillStepId>;

export interface DrillPlanInput {
  readonly includeChroma: boolean;
  /** the migration rollback drill: back up under the old image, migrate to the new one, roll back */
  readonly migration?: boolean;
  /** which drills (default: restore); the others' steps come after the restore drill's, or after a backup of their own */
  readonly drills?: readonly DrillName[];
}

/** The drills AtoCore has: its backup module has no off-site step. */
export const ATOCORE_DRILLS: readonly DrillName[] = ['restore', 'verification', 'rotation'];
export const ATOCORE_NO_OFFSITE = "AtoCore's backup module has no off-site step (the off-host copy is an rsync of its own, outside AtoCore)";

export function planDrill(input: DrillPlanInput): PlannedStep[] {
  const drills = new Set(input.drills ?? ['restore']);
  // the inputs refuse it (src/inputs/drill.ts); a plan asked for it anyway is a harness bug
  if (drills.has('offsite')) throw new Error(`planDrill: ${ATOCORE_NO_OFFSITE}`);
  const beyond = [
    // verification first: rotation may delete the snapshot it validates
    ...(drills.has('verification') ? [step('verification', 'Validate the snapshot and copies of it with one corruption each', ['verification.accepts_good', ...ATOCORE_CORRUPTIONS.map((c) => catchesCheckId(c.kind))])] : []),
    ...(drills.has('rotation')
      ? [step('rotation', 'Make snapshots stamped across 220 days and a foreign directory; cleanup as a dry run, then confirmed', ['rotation.dry_run_changes_nothing', ...ROTATION_CHECK_IDS])]
      : []),
  ];
  if (!drills.has('restore')) {
    return [
      step('start', 'Start AtoCore on a fresh data root and wait for /health'),
      step('seed', 'Seed the registry, Chroma, documents, chunks and memories'),
      backupStep(input.includeChroma),
      ...beyond,
      step('teardown', 'Tear down', [], true),
    ];
  }
  const restoreSteps = planRestoreDrill(input);
  return [...restoreSteps.slice(0, -1), ...beyond, restoreSteps.at(-1)!];
}

function step(id: DrillStepId, title: string, checks: string[] = [], always = false): PlannedStep {
  return { id, title, checks, always };
}

function backupStep(includeChroma: boolean): PlannedStep {
  return step('backup', `Back up${includeChroma ? ' with Chroma' : ''} and check the snapshot`, ['backup.created', 'backup.valid', 'backup.independent_integrity']);
}

/** The restore drill: backup → mutate → stop → restore → start → verify → teardown. */
function planRestoreDrill(input: DrillPlanInput): PlannedStep[] {
  const migration = input.migration === true;
  return [
    step('start', `Start AtoCore${migration ? ' (the old image, A)' : ''} on a fresh data root and wait for /health`),
    step('seed', 'Seed the registry, Chroma, documents, chunks and memories'),
    step('marker_a', `Write marker A (memory, registry entry${input.includeChroma ? ', Chroma file' : ''}): must come back`),
    backupStep(input.includeChroma),
    step('baseline', 'Record the baseline fingerprint'),
    ...(migration
      ? [step('upgrade', 'Stop A; start the new image B on the same data (B migrates)', ['migration.upgrade_healthy', 'migration.schema_additive', 'migration.data_preserved'])]
      : []),
    step('marker_b', `Write marker B in every store${migration ? ' under B' : ''}: must disappear`),
    step('stop', `Stop AtoCore${migration ? ' (B); roll back to A' : ''}`),
    step('restore_unconfirmed', 'Restore without --confirm-service-stopped: must refuse', ['restore.refuses_without_confirm']),
    step('restore', `Restore with --confirm-service-stopped${migration ? " (A's backup CLI)" : ''} and check the files`, [
      'restore.integrity',
      'restore.ownership',
      'restore.pre_restore_snapshot',
      'marker.pre_backup_present',
      'marker.post_backup_gone',
      'registry.restored',
      ...(input.includeChroma ? ['chroma.restored'] : []),
      'baseline.intact',
      ...(migration ? ['migration.schema_restored'] : []),
    ]),
    step('restart', `Start AtoCore${migration ? ' (A again)' : ''} on the restored data (RTO)`, ['service.health']),
    step('verify_service', 'Check that the service serves the restored data', ['service.stats', 'service.projects', 'service.context']),
    step('teardown', 'Tear down', [], true),
  ];
}

export { plannedCheckIds };
