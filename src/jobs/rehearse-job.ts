import type { RunBudgets, RunOutputs, RunTimeout } from './run-outputs.js';
import { judgeRun } from '../history/keep.js';
import { atocoreRuntimeFor } from './atocore-runtime.js';
import { newRunId } from '../atocore/drill/markers.js';
import type { SnapshotStamp } from '../atocore/stamp.js';
import type { DrillReport } from '../report/model.js';
import { describeIdentity, type SshIdentity } from '../remote/identity.js';
import { runRehearsal, type RehearsalObserver } from '../rehearsal/rehearsal.js';
import { describeSshSource, openRehearsalSource } from '../rehearsal/source.js';
import type { KnownHostsSource, ValidateSource } from './validate-job.js';

/** Every input of a rehearsal, validated once (src/inputs/rehearse.ts, for the CLI and the action) into one typed object. */
export interface RehearseInputs extends RunOutputs, RunBudgets, RunTimeout {
  /** where the snapshots are: a directory here, or a host over SSH and the AtoCore root there */
  readonly source: ValidateSource;
  readonly knownHosts: KnownHostsSource | null;
  readonly identity: SshIdentity | null;
  readonly acceptNewHostKey: boolean;
  /** rehearse this snapshot (it must validate); null: the newest that validates */
  readonly stamp: SnapshotStamp | null;
  readonly connectTimeoutMs: number;
  /** the throwaway AtoCore that restores and serves it */
  readonly runtime: 'process' | 'container';
  readonly image: string | null;
  readonly command: string[] | null;
  readonly backupCli: string[] | null;
  readonly faults: string[];
  readonly workDir: string | null;
  /** the deployment's sources root, absolute: documents recorded elsewhere came from another deployment */
  readonly sourcesRoot: string;
}

/** One line saying what will be rehearsed, for logs. */
export function describeRehearsal(inputs: RehearseInputs): string {
  const service =
    inputs.runtime === 'container' ? `${inputs.image} in a container` : inputs.command ? `your AtoCore (${inputs.command.join(' ')}) as a local process` : 'the embedded AtoCore stand-in as a local process';
  const which = inputs.stamp ? `snapshot ${inputs.stamp}` : 'the newest snapshot that validates';
  return `rehearsal of ${which} from ${describeSshSource(inputs)}, restored into ${service}${inputs.faults.length ? `, faults: ${inputs.faults.join(', ')}` : ''}`;
}

/** Builds the throwaway AtoCore the inputs ask for and rehearses on it; the one path for the CLI and the action. */
export async function runRehearseJob(inputs: RehearseInputs, context: { signal: AbortSignal; observer?: RehearsalObserver; tmpDir?: string; env?: NodeJS.ProcessEnv }): Promise<DrillReport> {
  const runId = newRunId();
  const scratchBase = context.tmpDir ?? inputs.workDir ?? undefined;
  const runtime = await atocoreRuntimeFor(inputs, { signal: context.signal, runId, scratchBase });
  const report = await runRehearsal({
    runtime,
    openSource: (storeContext) => openRehearsalSource(inputs, storeContext, context.env ?? process.env),
    stamp: inputs.stamp,
    sourcesRoot: inputs.sourcesRoot,
    timeoutMs: inputs.timeoutMs,
    timeoutName: inputs.timeoutName,
    signal: context.signal,
    ...(context.observer ? { observer: context.observer } : {}),
    target: {
      source: inputs.source.kind,
      location: describeSshSource(inputs),
      faults: inputs.faults,
      run_id: runId,
      ...(inputs.identity ? { identity: describeIdentity(inputs.identity) } : {}),
    },
  });
  // the budgets and the history's trend judge the figures the steps measured
  return judgeRun(report, inputs);
}
