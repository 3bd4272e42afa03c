/** Exit codes of the CLI and the action, as documented in DESIGN.md. */
export const ExitCode = {
  /** verdict pass (or warn without --fail-on warn) */
  ok: 0,
  /** the drill found a problem */
  verdictFail: 1,
  /** usage or configuration error */
  usage: 2,
  /** could not run: infrastructure, unreachable host, timeout */
  infrastructure: 3,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that knows which exit code it maps to. The CLI has one catch that maps it. */
export class DrillError extends Error {
  readonly exitCode: ExitCodeValue;
  constructor(message: string, exitCode: ExitCodeValue, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad input: a flag, a file, a stamp, a host. Always names the thing. */
export class UsageError extends DrillError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.usage, options);
  }
}

/** Something the drill depends on did not work: a process, a port, Docker, a host, a timeout. */
export class InfrastructureError extends DrillError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.infrastructure, options);
  }
}

/**
 * The service did not become healthy: it exited (`exited`), or /health gave no 200 within the
 * bound (`unhealthy`). Whether that is a finding about the service or the harness's own doing
 * (a bound cut by the run's --timeout, an interrupt) is decided in src/engine/classification.ts.
 */
export class ServiceNotHealthyError extends InfrastructureError {
  readonly reason: 'exited' | 'unhealthy';
  constructor(reason: 'exited' | 'unhealthy', message: string) {
    super(message);
    this.reason = reason;
  }
}

/** The run was interrupted by a signal; teardown still runs. */
export class InterruptedError extends DrillError {
  readonly signal: NodeJS.Signals;
  constructor(signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`, ExitCode.infrastructure);
    this.signal = signal;
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
