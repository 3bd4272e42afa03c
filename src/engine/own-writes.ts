import { errorMessage, InfrastructureError } from '../common/errors.js';

/**
 * Writes of the drill's own (the seed, the markers) into the drill root. When they fail
 * because the machine's disk is full (or its filesystem fails under them), that is the
 * machine's doing, not AtoCore's: an error naming the file and the cause, never a stack.
 */
const DISK_ERRNOS = new Set(['ENOSPC', 'EDQUOT']);

/** Whether an error is the filesystem refusing a write: out of space or quota (errno), or SQLite's full disk or I/O error. */
export function isDiskError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return DISK_ERRNOS.has(code) || code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR');
}

function diskError(path: string, doing: string, error: unknown): InfrastructureError {
  const code = (error as { code?: unknown }).code;
  return new InfrastructureError(`${doing} ${path} failed: the disk under the drill root refused the write (${String(code)}: ${errorMessage(error)}); this says nothing about AtoCore`);
}

/** Runs a synchronous write of the drill's own into `path`; a full or failing disk becomes an InfrastructureError. */
export function ownWrite<T>(path: string, doing: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    if (isDiskError(error)) throw diskError(path, doing, error);
    throw error;
  }
}

/** The same, for a write that is a promise. */
export async function ownWriteAsync<T>(path: string, doing: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isDiskError(error)) throw diskError(path, doing, error);
    throw error;
  }
}
