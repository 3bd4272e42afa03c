import type { RunBudgets, RunOutputs, RunTimeout } from './run-outputs.js';
import { newRunId } from '../atocore/drill/markers.js';
import { runDrill, type DrillObserver } from '../atocore/drill/drill.js';
import { loadSeed } from '../atocore/drill/seed.js';
import { judgeRun } from '../history/keep.js';
import type { DrillName } from '../engine/drill-names.js';
import type { DrillReport } from '../report/model.js';
import { atocoreRuntimeFor } from './atocore-runtime.js';
import { FieldError } from '../inputs/fields.js';
import { runProfileDrill } from '../profiles/drill.js';
import { loadProfileFile, type ProfileSpec } from '../profiles/load.js';
import { declaredDrills } from '../profiles/plan.js';

/** Every input of a drill, validated once (src/inputs/drill.ts, for the CLI and the action) into one typed object. */
export interface DrillInputs extends RunOutputs, RunBudgets, RunTimeout {
  readonly runtime: 'process' | 'container';
  readonly image: string | null;
  readonly fromImage: string | null;
  readonly command: string[] | null;
  readonly backupCli: string[] | null;
  readonly includeChroma: boolean;
  readonly seedDir: string | null;
  /** generated rows on top of the seed up to about this many bytes of database (--seed-size); null: the seed alone */
  readonly seedSizeBytes: number | null;
  readonly faults: string[];
  readonly keep: boolean;
  /** absolute: the directory the drill's scratch root goes under (shared with the Docker host in a containerized job) */
  readonly workDir: string | null;
  /** which drills (restore, rotation, verification for AtoCore); null: every drill the profile file declares */
  readonly drills: DrillName[] | null;
  /** the built-in AtoCore drill, or a profile file (a built-in one or the user's) */
  readonly profile: ProfileSpec;
  readonly profileVars: Readonly<Record<string, string>>;
}

/** One line saying what will be drilled, for logs. */
export function describeDrill(inputs: DrillInputs): string {
  if (inputs.profile.kind === 'file') return `drill of profile ${inputs.profile.builtin ?? inputs.profile.path}, its commands on this machine${inputs.drills ? drillsNote(inputs.drills) : ''}`;
  const what =
    inputs.runtime === 'container'
      ? inputs.fromImage
        ? `migration rollback drill, ${inputs.fromImage} → ${inputs.image} → ${inputs.fromImage}, in containers`
        : `restore drill, ${inputs.image} in containers`
      : `restore drill, ${inputs.command ? `your AtoCore (${inputs.command.join(' ')})` : 'the embedded AtoCore stand-in'} as a local process`;
  return `${what}${drillsNote(inputs.drills ?? ['restore'])}${inputs.faults.length ? `, faults: ${inputs.faults.join(', ')}` : ''}`;
}

/** ", then verification and rotation"; " (verification only: no restore)" */
function drillsNote(drills: readonly string[]): string {
  const beyond = drills.filter((name) => name !== 'restore');
  if (!drills.includes('restore')) return ` (${beyond.join(' and ')} only: no restore)`;
  return beyond.length > 0 ? `, then ${beyond.join(' and ')}` : '';
}

/** Builds the runtime the inputs ask for and runs the drill on it; the one path for the CLI and the action. */
export async function runDrillJob(inputs: DrillInputs, context: { signal: AbortSignal; observer?: DrillObserver; tmpDir?: string }): Promise<DrillReport> {
  if (inputs.profile.kind === 'file') return judgeRun(await runProfileJob(inputs, inputs.profile, context), inputs);
  const seed = await loadSeed(inputs.seedDir ?? undefined);
  const runId = newRunId();
  // the entry's own work directory (the action's, itself under work-dir when given) before work-dir
  const scratchBase = context.tmpDir ?? inputs.workDir ?? undefined;
  const runtime = await atocoreRuntimeFor(
    { runtime: inputs.runtime, image: inputs.fromImage ?? inputs.image, otherImages: inputs.fromImage ? [inputs.image!] : [], command: inputs.command, backupCli: inputs.backupCli, faults: inputs.faults },
    { signal: context.signal, runId, scratchBase },
  );
  const report = await runDrill({
    runtime,
    runId,
    ...(inputs.fromImage ? { migration: { fromImage: inputs.fromImage, toImage: inputs.image! } } : {}),
    seed,
    ...(inputs.seedSizeBytes !== null ? { seedSizeBytes: inputs.seedSizeBytes } : {}),
    includeChroma: inputs.includeChroma,
    keep: inputs.keep,
    timeoutMs: inputs.timeoutMs,
    timeoutName: inputs.timeoutName,
    signal: context.signal,
    faults: inputs.faults,
    drills: inputs.drills ?? ['restore'],
    ...(context.observer ? { observer: context.observer } : {}),
  });
  // the budgets and the history's trend judge the figures the steps measured
  return judgeRun(report, inputs);
}

/** A profile file's drill: the profile loaded and checked (bad input before anything runs), then its drill. */
async function runProfileJob(
  inputs: DrillInputs,
  spec: Extract<ProfileSpec, { kind: 'file' }>,
  context: { signal: AbortSignal; observer?: DrillObserver; tmpDir?: string },
): Promise<DrillReport> {
  const profile = await loadProfileFile(spec, inputs.profileVars);
  const declared = declaredDrills(profile.profile);
  const asked = inputs.drills ?? ['restore', ...declared];
  const undeclared = asked.filter((name) => name !== 'restore' && !(declared as readonly string[]).includes(name));
  if (undeclared.length > 0) throw new FieldError('drills', `${undeclared.join(', ')}: not declared by ${profile.source} (it declares: restore${declared.map((d) => `, ${d}`).join('')})`);
  if (!asked.includes('restore')) throw new FieldError('drills', `a profile drill always restores first (the other drills use its backup): name restore too`);
  const scratchBase = context.tmpDir ?? inputs.workDir ?? undefined;
  return runProfileDrill({
    profile,
    drills: declared.filter((name) => asked.includes(name)),
    keep: inputs.keep,
    timeoutMs: inputs.timeoutMs,
    timeoutName: inputs.timeoutName,
    runId: newRunId(),
    signal: context.signal,
    ...(scratchBase ? { tmpDir: scratchBase } : {}),
    ...(context.observer ? { observer: context.observer } : {}),
  });
}
