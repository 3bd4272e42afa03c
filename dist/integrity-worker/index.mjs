import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);
import {
  inspectPrepared
} from "../chunks/chunk-ZBASS4ZW.mjs";
import {
  setSqliteNativeBinding
} from "../chunks/chunk-I7NQJPZR.mjs";
import "../chunks/chunk-ELUW7WRM.mjs";
import {
  ScratchSpaceError
} from "../chunks/chunk-WXOIO7VX.mjs";
import "../chunks/chunk-GIZ3PXLO.mjs";
import {
  errorMessage
} from "../chunks/chunk-NLENNPWZ.mjs";
import "../chunks/chunk-DSYZ63NL.mjs";

// src/sqlite/integrity-worker.ts
import { parentPort, workerData } from "node:worker_threads";
setSqliteNativeBinding(workerData?.nativeBinding);
parentPort?.on("message", (job) => {
  let reply;
  try {
    reply = { id: job.id, ok: true, value: inspectPrepared(job.path, job.rows) };
  } catch (error) {
    reply = { id: job.id, ok: false, scratch: error instanceof ScratchSpaceError, message: errorMessage(error) };
  }
  parentPort?.postMessage(reply);
});
