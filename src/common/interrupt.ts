import { runEmergencyCleanup } from './emergency-cleanup.js';
import { InterruptedError } from './errors.js';

/**
 * Turns SIGINT/SIGTERM into an abort of the run (which tears down and reports); a second
 * signal cleans up at once and exits with `exitCode`. One place for the CLI and the action.
 */
export function interruptOnSignals(options: { exitCode: number; onFirst?: (signal: NodeJS.Signals) => void }): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      runEmergencyCleanup();
      process.exit(options.exitCode);
    }
    options.onFirst?.(signal);
    controller.abort(new InterruptedError(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
