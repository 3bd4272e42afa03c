import { isStandinFault, STANDIN_FAULTS } from '../atocore/standin.js';
import type { DrillInputs } from '../jobs/drill-job.js';
import { resolveProfileSpec, parseProfileVars, type ProfileSpec } from '../profiles/load.js';
import { FieldError, namedForSync, type FieldId, type FieldNames } from './fields.js';
import { commandLine, drillNames, duration, existingDirectory, failOn, reportPaths, workDirectory } from './rules.js';
import { ATOCORE_DRILLS, ATOCORE_NO_OFFSITE } from '../atocore/drill/plan.js';
import { MAX_SEED_BYTES, parseSeedSize } from '../atocore/drill/seed-generator.js';
import type { DrillName } from '../engine/drill-names.js';
import { budgetInputs, historyInputs, historyOutputs, type RawBudgets, type RawRunOutputs } from './history.js';

/** A drill's fields as an entry collected them (strings, lists, switches), before any rule. */
export interface RawDrillInputs extends RawRunOutputs, RawBudgets {
  /** absent: container when an image is given, else process */
  readonly runtime?: string | undefined;
  readonly image?: string | undefined;
  readonly fromImage?: string | undefined;
  readonly command?: string | undefined;
  readonly backupCli?: string | undefined;
  readonly includeChroma?: boolean | undefined;
  readonly seed?: string | undefined;
  /** generated rows on top of the seed until the database holds about this much: `10MB`, `1GB` */
  readonly seedSize?: string | undefined;
  readonly faults?: readonly string[] | undefined;
  readonly keep?: boolean | undefined;
  /** the entry's default applied */
  readonly timeout: string;
  /** where the drill's scratch root goes; absent: the system's temporary directory (the action: RUNNER_TEMP) */
  readonly workDir?: string | undefined;
  /** which drills, comma-separated; absent: restore (AtoCore), every drill the profile declares (a profile file) */
  readonly drills?: string | undefined;
  /** `atocore` (absent), another built-in profile's name, or a profile file */
  readonly profile?: string | undefined;
  /** NAME=VALUE overrides of the profile's variables */
  readonly profileVars?: readonly string[] | undefined;
}

/** The fields only the built-in AtoCore drill has: a profile file's service says for itself how it runs. */
const ATOCORE_ONLY: readonly (keyof RawDrillInputs & FieldId)[] = ['runtime', 'image', 'fromImage', 'command', 'backupCli', 'includeChroma', 'seed', 'seedSize', 'faults'];

/** Which profile, and that the fields given go with it. */
function profileOf(raw: RawDrillInputs, base: string): ProfileSpec {
  const spec = resolveProfileSpec(raw.profile?.trim() || 'atocore', base);
  if (spec.kind === 'atocore') {
    if ((raw.profileVars ?? []).length > 0) throw new FieldError('profileVars', (n) => `${n.one('profileVars')} sets variables of a profile file; the AtoCore profile has none`);
    return spec;
  }
  for (const field of ATOCORE_ONLY) {
    const value = raw[field];
    if (value !== undefined && value !== false && !(Array.isArray(value) && value.length === 0)) {
      throw new FieldError(field, (n) => `${n.one(field)} is for the AtoCore drill; ${n.one('profile')} ${raw.profile} runs the profile's own commands on this machine`);
    }
  }
  return spec;
}

/** Which runtime, and which fields go with it. */
function runtimeOf(raw: RawDrillInputs): DrillInputs['runtime'] {
  const runtime = raw.runtime ?? (raw.image ? 'container' : 'process');
  if (runtime !== 'process' && runtime !== 'container') throw new FieldError('runtime', `"${runtime}" is not one of process, container`);
  if (runtime === 'process' && raw.image) throw new FieldError('image', (n) => `${n.one('image')} needs ${n.one('runtime')} container (the process runtime runs no image)`);
  if (raw.fromImage && !raw.image) throw new FieldError('fromImage', (n) => `${n.one('fromImage')} needs ${n.one('image')} (the rollback drill goes from one image to the other and back)`);
  if (runtime === 'container' && !raw.image) throw new FieldError('runtime', (n) => `${n.one('runtime')} container needs ${n.one('image')} IMG`);
  if ((raw.command === undefined) !== (raw.backupCli === undefined)) {
    // the field that is missing is the one to fix
    throw new FieldError(raw.command === undefined ? 'command' : 'backupCli', (n) => `${n.both('command', 'backupCli')} go together: how to start your AtoCore and how to invoke its backup module`);
  }
  if (runtime === 'container' && raw.command !== undefined) {
    throw new FieldError('command', (n) => `${n.one('command')} runs AtoCore as a local process; it cannot go with ${n.one('image')}, which runs the image in a container`);
  }
  return runtime;
}

/**
 * Faults are the embedded stand-in's (ATOCORE_STANDIN_FAULTS): a service started by `command`
 * would never see them while the report said they were on, so the two are refused together.
 */
function faultsOf(raw: RawDrillInputs): string[] {
  const faults = [...(raw.faults ?? [])];
  for (const fault of faults) {
    if (!isStandinFault(fault)) throw new FieldError('faults', `"${fault}" is not a stand-in fault (known: ${STANDIN_FAULTS.join(', ')})`);
  }
  if (faults.length > 0 && raw.command !== undefined) {
    throw new FieldError('faults', (n) => `${n.one('faults')} switches faults of the AtoCore stand-in; your AtoCore (${n.one('command')}) has none`);
  }
  return faults;
}

/** `--seed-size`: bytes, within what the generator writes (src/atocore/drill/seed-generator.ts). */
function seedSizeOf(value: string | undefined): number | null {
  if (value === undefined) return null;
  const bytes = parseSeedSize(value);
  if (bytes === null) throw new FieldError('seedSize', `"${value}" is not a size (a number and kB, MB, GB, KiB, MiB or GiB, e.g. 100MB, 1GB)`);
  if (bytes > MAX_SEED_BYTES) throw new FieldError('seedSize', `"${value}" is more than the ${MAX_SEED_BYTES / 1024 ** 3} GiB the generator writes`);
  return bytes;
}

/** AtoCore's drills: restore unless others are named; never offsite, which AtoCore's backup has no step for. */
function atocoreDrillsOf(raw: RawDrillInputs): DrillName[] {
  const drills = drillNames('drills', raw.drills, ['restore']);
  if (drills.includes('offsite')) throw new FieldError('drills', `offsite: ${ATOCORE_NO_OFFSITE} (AtoCore's drills: ${ATOCORE_DRILLS.join(', ')})`);
  if (raw.fromImage && !drills.includes('restore')) throw new FieldError('drills', (n) => `${n.one('fromImage')} is a restore drill (back up, migrate, roll back): ${n.one('drills')} must name restore`);
  return drills;
}

/**
 * Every rule of a drill's inputs, in one place for the CLI and the action: the typed inputs
 * the drill job takes, or a FieldError worded by `names`. Relative paths are relative to `base`.
 */
export function drillInputs(raw: RawDrillInputs, names: FieldNames, base: string = process.cwd()): DrillInputs {
  return namedForSync(names, () => {
    const profile = profileOf(raw, base);
    const runtime = runtimeOf(raw);
    const faults = faultsOf(raw);
    // a profile file's drills are checked against what it declares once it is loaded (the drill job)
    const drills = profile.kind === 'atocore' ? atocoreDrillsOf(raw) : raw.drills === undefined ? null : drillNames('drills', raw.drills, []);
    const kept = historyInputs(raw, base);
    return {
      runtime,
      image: raw.image ?? null,
      fromImage: raw.fromImage ?? null,
      command: raw.command === undefined ? null : commandLine('command', raw.command),
      backupCli: raw.backupCli === undefined ? null : commandLine('backupCli', raw.backupCli),
      includeChroma: raw.includeChroma === true,
      seedDir: raw.seed === undefined ? null : existingDirectory('seed', raw.seed, base),
      seedSizeBytes: seedSizeOf(raw.seedSize),
      faults,
      keep: raw.keep === true,
      timeoutMs: duration('timeout', raw.timeout),
      timeoutName: names.one('timeout'),
      workDir: raw.workDir === undefined ? null : workDirectory('workDir', raw.workDir, base),
      ...reportPaths(raw, historyOutputs(kept)),
      failOn: failOn(raw.failOn),
      drills,
      profile,
      profileVars: parseProfileVars(raw.profileVars ?? []),
      ...kept,
      ...budgetInputs(raw),
    };
  });
}
