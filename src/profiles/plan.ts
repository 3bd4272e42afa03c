/**
 * A profile drill as a plan: the steps and the checks each decides, from the profile alone.
 * Pure, so the order and the check list are tested without running anything.
 */
import { DRILL_NAMES } from '../engine/drill-names.js';
import { ROTATION_CHECK_IDS } from '../engine/rotation.js';
import { catchesCheckId } from '../engine/verification.js';
import type { PlannedStep } from '../engine/step-loop.js';
import type { ExtraDrill, ServiceProfile } from './profile.js';

export type ProfileStepId =
  | 'start'
  | 'marker_a'
  | 'backup'
  | 'marker_b'
  | 'stop'
  | 'restore_unconfirmed'
  | 'restore'
  | 'restart'
  | 'verify_stores'
  | 'verification'
  | 'offsite'
  | 'rotation'
  | 'teardown';

export type ProfileStep = PlannedStep<ProfileStepId>;

/** The drills beyond restore a profile declares, in the order they run. */
export function declaredDrills(profile: ServiceProfile): ExtraDrill[] {
  return DRILL_NAMES.filter((drill): drill is ExtraDrill => drill !== 'restore' && profile[drill] !== undefined);
}

export function storeCheckId(storeId: string): string {
  return `store.${storeId}.restored`;
}

export function probeCheckId(probeId: string): string {
  return `probe.${probeId}`;
}

/**
 * The stores judged as the restore left them, before the service starts again: with the
 * service stopped through the restore, a store on disk shows exactly what the restore wrote
 * (a service that tidies its files at start would otherwise blame the restore for what it
 * removed). Stores reached through the service, and every store of a service the restore
 * itself starts or keeps running, are judged once it answers again.
 */
export function storesJudgedAtRestore(profile: ServiceProfile): ServiceProfile['stores'] {
  const stoppedThrough = profile.restore.service === 'stopped' && profile.restore.starts_service !== true;
  return stoppedThrough ? profile.stores.filter((store) => store.kind === 'sqlite' || store.kind === 'directory' || store.kind === 'file') : [];
}

export function planProfileDrill(profile: ServiceProfile, drills: readonly ExtraDrill[]): ProfileStep[] {
  const step = (id: ProfileStepId, title: string, checks: string[] = [], always = false): ProfileStep => ({ id, title, checks, always });
  const name = profile.name;
  const stopsFirst = profile.restore.service === 'stopped';
  const verification = profile.verification;
  const atRestore = storesJudgedAtRestore(profile);
  const afterRestart = profile.stores.filter((store) => !atRestore.includes(store));
  return [
    step('start', `Start ${name} on a fresh drill root and wait for its health`),
    step('marker_a', `Write marker A in every store (${profile.stores.map((s) => s.id).join(', ')}): must come back`),
    step('backup', `Back up with ${name}'s own backup command`, ['backup.created']),
    step('marker_b', 'Write marker B in every store: must disappear'),
    ...(stopsFirst ? [step('stop', `Stop ${name}`)] : []),
    step('restore_unconfirmed', 'Restore without confirming: must refuse and change nothing', ['restore.refuses_without_confirm']),
    step('restore', `Restore the backup, confirmed${stopsFirst ? '' : ` (${name} running: the restore does what it needs)`}${atRestore.length ? ', and check the stores on disk' : ''}`, [
      'restore.backup_kept',
      ...atRestore.map((s) => storeCheckId(s.id)),
    ]),
    step('restart', `${profile.restore.starts_service ? `Wait for ${name}, started by the restore,` : `Start ${name}`} to be healthy (RTO)`, ['service.health']),
    step('verify_stores', atRestore.length ? 'Check the stores reached through the service, and every probe' : 'Check every store and probe', [
      ...afterRestart.map((s) => storeCheckId(s.id)),
      ...(profile.probes ?? []).map((p) => probeCheckId(p.id)),
    ]),
    ...(drills.includes('verification') && verification
      ? [step('verification', "Show the backup's own verification a good backup and corrupted copies", ['verification.accepts_good', ...verification.corruptions.map((c) => catchesCheckId(c.kind))])]
      : []),
    ...(drills.includes('offsite') ? [step('offsite', 'Run the off-site sync: the newest backup must arrive, file by file', ['offsite.arrived'])] : []),
    ...(drills.includes('rotation') ? [step('rotation', 'Run the rotation over aged backups: it must keep what it promises', [...ROTATION_CHECK_IDS])] : []),
    step('teardown', 'Tear down', [], true),
  ];
}
