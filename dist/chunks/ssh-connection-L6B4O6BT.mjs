import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);
import {
  MIN_REMOTE_WAIT_MS,
  REMOTE_KILL_GRACE_S,
  SshConnection,
  remoteBound
} from "./chunk-D73WGUU7.mjs";
import "./chunk-CYWEGZLK.mjs";
import "./chunk-5U54YLIR.mjs";
import "./chunk-WXOIO7VX.mjs";
import "./chunk-6O2J3H5G.mjs";
import "./chunk-KVSBDLHU.mjs";
import "./chunk-GIZ3PXLO.mjs";
import "./chunk-NLENNPWZ.mjs";
import "./chunk-WTQTT4EL.mjs";
import "./chunk-DSYZ63NL.mjs";
export {
  MIN_REMOTE_WAIT_MS,
  REMOTE_KILL_GRACE_S,
  SshConnection,
  remoteBound
};
