import { killEverythingNow, runEmergencyCleanup } from './emergency-cleanup.js';
import { InterruptedError } from './errors.js';

/**
 * A closed terminal (SIGHUP) and Ctrl-\ (SIGQUIT, whose default would leave the service
 * running) stop a run the way Ctrl-C and `kill` do. SIGUSR1 stays Node's (the inspector).
 */
export const INTERRUPT_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/**
 * After a second signal everything the run started is already dead; the orderly path only
 * has to notice and write its report. This long, then the process exits regardless (short
 * enough for the Actions runner, which follows its second signal with SIGKILL 2.5 s later).
 */
export const SECOND_SIGNAL_GRACE_MS = 1_500;

export interface InterruptOptions {
  readonly exitCode: number;
  readonly onFirst?: (signal: NodeJS.Signals) => void;
  readonly onSecond?: (signal: NodeJS.Signals) => void;
  readonly graceMs?: number;
}

/**
 * Turns SIGINT/SIGTERM/SIGHUP/SIGQUIT into an abort of the run (which tears down and reports). A
 * second signal kills every process group and container the run started at once, gives the
 * run a moment to write its report, then cleans up and exits with `exitCode`; a third exits
 * at once. One place for the CLI and the action.
 */
export function interruptOnSignals(options: InterruptOptions): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let forced = false;
  const exitNow = (): never => {
    runEmergencyCleanup();
    process.exit(options.exitCode);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signal === 'SIGHUP') ignoreClosedTerminal();
    if (!controller.signal.aborted) {
      options.onFirst?.(signal);
      controller.abort(new InterruptedError(signal));
      return;
    }
    if (forced) exitNow();
    forced = true;
    killEverythingNow();
    options.onSecond?.(signal);
    setTimeout(exitNow, options.graceMs ?? SECOND_SIGNAL_GRACE_MS);
  };
  for (const name of INTERRUPT_SIGNALS) process.on(name, onSignal);
  return {
    signal: controller.signal,
    dispose() {
      for (const name of INTERRUPT_SIGNALS) process.off(name, onSignal);
    },
  };
}

/** Output to a terminal that hung up fails (EIO); the run must still tear down and report. */
function ignoreClosedTerminal(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.isTTY && stream.listenerCount('error') === 0) stream.on('error', () => {});
  }
}
