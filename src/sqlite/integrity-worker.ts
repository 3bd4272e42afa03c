import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../common/errors.js';
import { inspectPrepared } from '../validation/database.js';
import { setSqliteNativeBinding } from './open.js';
import { ScratchSpaceError } from './scratch-copy.js';
import type { IntegrityJob, IntegrityReply, IntegrityWorkerData } from './integrity-workers.js';

/**
 * An integrity worker (a thread of its own, started by integrity-workers.ts): runs the
 * harness's integrity_check, foreign_key_check and row index on one prepared private copy at
 * a time, and answers with the inspection or with why it could not run. A separate entry
 * point of the action's bundle (scripts/package.mjs): it loads better-sqlite3 on its own.
 */
setSqliteNativeBinding((workerData as IntegrityWorkerData | undefined)?.nativeBinding);

parentPort?.on('message', (job: IntegrityJob) => {
  let reply: IntegrityReply;
  try {
    reply = { id: job.id, ok: true, value: inspectPrepared(job.path, job.rows) };
  } catch (error) {
    reply = { id: job.id, ok: false, scratch: error instanceof ScratchSpaceError, message: errorMessage(error) };
  }
  parentPort?.postMessage(reply);
});
