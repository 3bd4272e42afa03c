import { newRunId } from '../atocore/drill/markers.js';
import { runDrill, type DrillObserver } from '../atocore/drill/drill.js';
import { loadSeed } from '../atocore/drill/seed.js';
import { judgeRun } from '../history/keep.js';
import type { DrillReport } from '../report/model.js';
import type { FailOn } from '../report/verdict.js';
import { ProcessRuntime } from '../runtimes/process.js';
import type { AtoCoreRuntime } from '../runtimes/types.js';

/** Every input of a drill, validated once (src/inputs/drill.ts, for the CLI and the action) into one typed object. */
export interface DrillInputs {
  readonly runtime: 'process' | 'container';
  readonly image: string | null;
  readonly fromImage: string | null;
  readonly command: string[] | null;
  readonly backupCli: string[] | null;
  readonly includeChroma: boolean;
  readonly seedDir: string | null;
  readonly faults: string[];
  readonly keep: boolean;
  readonly timeoutMs: number;
  /** absolute: the directory the drill's scratch root goes under (shared with the Docker host in a containerized job) */
  readonly workDir: string | null;
  readonly reportJson: string | null;
  readonly junit: string | null;
  readonly summary: string | null;
  readonly failOn: FailOn;
  /** absolute; the run history appended to after the run (src/history/); null: none */
  readonly history: string | null;
  /** absolute; the history's chart; null: none */
  readonly chart: string | null;
  /** rto.budget and rpo.budget, judged after the steps; null: not stated */
  readonly rtoBudgetMs: number | null;
  readonly rpoBudgetMs: number | null;
}

/** One line saying what will be drilled, for logs. */
export function describeDrill(inputs: DrillInputs): string {
  const what =
    inputs.runtime === 'container'
      ? inputs.fromImage
        ? `migration rollback drill, ${inputs.fromImage} → ${inputs.image} → ${inputs.fromImage}, in containers`
        : `restore drill, ${inputs.image} in containers`
      : `restore drill, ${inputs.command ? `your AtoCore (${inputs.command.join(' ')})` : 'the embedded AtoCore stand-in'} as a local process`;
  return `${what}${inputs.faults.length ? `, faults: ${inputs.faults.join(', ')}` : ''}`;
}

/** Builds the runtime the inputs ask for and runs the drill on it; the one path for the CLI and the action. */
export async function runDrillJob(inputs: DrillInputs, context: { signal: AbortSignal; observer?: DrillObserver; tmpDir?: string }): Promise<DrillReport> {
  const seed = await loadSeed(inputs.seedDir ?? undefined);
  const runId = newRunId();
  // the entry's own work directory (the action's, itself under work-dir when given) before work-dir
  const scratchBase = context.tmpDir ?? inputs.workDir ?? undefined;
  const runtime: AtoCoreRuntime =
    inputs.runtime === 'container'
      ? // loaded only here: testcontainers is most of the bundle's start-up time
        new (await import('../runtimes/container.js')).ContainerRuntime({
          image: inputs.fromImage ?? inputs.image!,
          otherImages: inputs.fromImage ? [inputs.image!] : [],
          faults: inputs.faults,
          signal: context.signal,
          runId,
          ...(scratchBase ? { tmpDir: scratchBase } : {}),
        })
      : new ProcessRuntime({
          ...(inputs.command ? { command: inputs.command } : {}),
          ...(inputs.backupCli ? { backupCli: inputs.backupCli } : {}),
          faults: inputs.faults,
          signal: context.signal,
          ...(scratchBase ? { tmpDir: scratchBase } : {}),
        });
  const report = await runDrill({
    runtime,
    runId,
    ...(inputs.fromImage ? { migration: { fromImage: inputs.fromImage, toImage: inputs.image! } } : {}),
    seed,
    includeChroma: inputs.includeChroma,
    keep: inputs.keep,
    timeoutMs: inputs.timeoutMs,
    signal: context.signal,
    faults: inputs.faults,
    ...(context.observer ? { observer: context.observer } : {}),
  });
  // the budgets and the history's trend judge the figures the steps measured
  return judgeRun(report, inputs);
}
