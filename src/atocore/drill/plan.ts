/**
 * The drill as a plan: inputs → ordered steps, each with the checks it decides.
 * Pure (no I/O), so the order and the check list are tested without running anything.
 */
import { plannedCheckIds, type PlannedStep as Step } from '../../engine/step-loop.js';

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
  | 'teardown';

/** A step of the AtoCore drill. */
export type PlannedStep = Step<DrillStepId>;

export interface DrillPlanInput {
  readonly includeChroma: boolean;
  /** the migration rollback drill: back up under the old image, migrate to the new one, roll back */
  readonly migration?: boolean;
}

export function planDrill(input: DrillPlanInput): PlannedStep[] {
  const step = (id: DrillStepId, title: string, checks: string[] = [], always = false): PlannedStep => ({ id, title, checks, always });
  const migration = input.migration === true;
  return [
    step('start', `Start AtoCore${migration ? ' (the old image, A)' : ''} on a fresh data root and wait for /health`),
    step('seed', 'Seed the registry, Chroma, documents, chunks and memories'),
    step('marker_a', `Write marker A (memory, registry entry${input.includeChroma ? ', Chroma file' : ''}): must come back`),
    step('backup', `Back up${input.includeChroma ? ' with Chroma' : ''} and check the snapshot`, [
      'backup.created',
      'backup.valid',
      'backup.independent_integrity',
    ]),
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
