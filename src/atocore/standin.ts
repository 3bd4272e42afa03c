import { fileURLToPath } from 'node:url';

/** The AtoCore stand-in shipped with the harness: the embedded default. */
/** The seed a drill writes (the bundle resolves these URLs from two levels below the root, as here). */
export const DEFAULT_SEED_DIR = fileURLToPath(new URL('../../fixtures/seed/', import.meta.url));
export const STANDIN_DIR = fileURLToPath(new URL('../../fixtures/atocore/', import.meta.url));
export const STANDIN_SERVICE_COMMAND = ['python3', '-m', 'atocore'] as const;
export const STANDIN_BACKUP_CLI = ['python3', '-m', 'atocore.ops.backup'] as const;

/** The stand-in's fault switches (DESIGN.md "Stand-in faults", plus the container ones). */
export const STANDIN_FAULTS = [
  'restore-skips-db',
  'restore-skips-registry',
  'restore-skips-chroma',
  'restore-ignores-confirm',
  'backup-corrupts-db',
  'validate-always-valid',
  'backup-torn-wal',
  'never-healthy',
  'migration-destructive',
  'restore-wrong-owner',
  // the backup's own verification: validate rejects every snapshot, or never runs integrity_check
  'validate-always-invalid',
  'validate-skips-integrity',
  // the project registry is left out of every snapshot (as AtoCore does when the file is missing)
  'backup-skips-registry',
  // rotation: cleanup deletes without --confirm, the newest, the snapshots directory itself,
  // directories not named like a stamp, keeps no Sundays, or deletes nothing
  'cleanup-ignores-dry-run',
  'cleanup-deletes-newest',
  'cleanup-deletes-root',
  'cleanup-deletes-foreign',
  'cleanup-ignores-weekly',
  'cleanup-deletes-nothing',
  // /stats counts one document and one memory more than the database holds (the rehearsal's rehearsal.stats)
  'stats-lie',
  // /context/build ignores the project asked for (the rehearsal's rehearsal.context, the drill's service.context)
  'context-ignores-project',
  // slowness, for tests that interrupt or cut the budget while an operation is in flight
  'slow-start',
  'slow-restart',
  'slow-backup',
  'slow-validate',
  'slow-refuse',
  'slow-restore',
] as const;
export type StandinFault = (typeof STANDIN_FAULTS)[number];

export function isStandinFault(name: string): name is StandinFault {
  return (STANDIN_FAULTS as readonly string[]).includes(name);
}
