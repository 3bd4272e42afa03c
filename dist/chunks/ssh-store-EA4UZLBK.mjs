import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);
import {
  DEFAULT_REMOTE_ROOT,
  SshSnapshotStore
} from "./chunk-OZCMDO6K.mjs";
import "./chunk-5U54YLIR.mjs";
import "./chunk-WXOIO7VX.mjs";
import "./chunk-NLENNPWZ.mjs";
import "./chunk-DSYZ63NL.mjs";
export {
  DEFAULT_REMOTE_ROOT,
  SshSnapshotStore
};
