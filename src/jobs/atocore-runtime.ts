import { ProcessRuntime } from '../runtimes/process.js';
import type { AtoCoreRuntime } from '../runtimes/types.js';

/** How the inputs say AtoCore runs: the same fields for a drill and a rehearsal. */
export interface AtoCoreRuntimeInputs {
  readonly runtime: 'process' | 'container';
  /** the image it starts with (the migration drill: the old one) */
  readonly image: string | null;
  /** images it switches to later (the migration drill: the new one) */
  readonly otherImages?: readonly string[];
  readonly command: readonly string[] | null;
  readonly backupCli: readonly string[] | null;
  readonly faults: readonly string[];
}

/**
 * The throwaway AtoCore the inputs ask for, its scratch root under `scratchBase` (the entry's
 * own work directory, itself under work-dir when given). The container runtime is loaded only
 * here: testcontainers is most of the bundle's start-up time.
 */
export async function atocoreRuntimeFor(inputs: AtoCoreRuntimeInputs, context: { readonly signal: AbortSignal; readonly runId: string; readonly scratchBase: string | undefined }): Promise<AtoCoreRuntime> {
  const { signal, runId, scratchBase } = context;
  if (inputs.runtime === 'container') {
    const { ContainerRuntime } = await import('../runtimes/container.js');
    return new ContainerRuntime({
      image: inputs.image!,
      otherImages: [...(inputs.otherImages ?? [])],
      faults: [...inputs.faults],
      signal,
      runId,
      ...(scratchBase ? { tmpDir: scratchBase } : {}),
    });
  }
  return new ProcessRuntime({
    ...(inputs.command ? { command: [...inputs.command] } : {}),
    ...(inputs.backupCli ? { backupCli: [...inputs.backupCli] } : {}),
    faults: [...inputs.faults],
    signal,
    ...(scratchBase ? { tmpDir: scratchBase } : {}),
  });
}
