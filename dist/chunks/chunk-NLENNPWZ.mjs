import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);

// src/common/errors.ts
var ExitCode = {
  /** verdict pass (or warn without --fail-on warn) */
  ok: 0,
  /** the drill found a problem */
  verdictFail: 1,
  /** usage or configuration error */
  usage: 2,
  /** could not run: infrastructure, unreachable host, timeout */
  infrastructure: 3
};
var DrillError = class extends Error {
  exitCode;
  constructor(message, exitCode, options) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
};
var UsageError = class extends DrillError {
  constructor(message, options) {
    super(message, ExitCode.usage, options);
  }
};
var InfrastructureError = class extends DrillError {
  constructor(message, options) {
    super(message, ExitCode.infrastructure, options);
  }
};
var ServiceNotHealthyError = class extends InfrastructureError {
  reason;
  constructor(reason, message) {
    super(message);
    this.reason = reason;
  }
};
var InterruptedError = class extends DrillError {
  signal;
  constructor(signal) {
    super(`interrupted by ${signal}`, ExitCode.infrastructure);
    this.signal = signal;
  }
};
function errorMessage(error) {
  if (error instanceof Error) return error.message;
  return String(error);
}

export {
  DrillError,
  UsageError,
  InfrastructureError,
  ServiceNotHealthyError,
  InterruptedError,
  errorMessage
};
