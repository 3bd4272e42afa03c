import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);
import {
  SshConnection
} from "./chunk-D73WGUU7.mjs";
import {
  loadKnownHosts,
  parseKnownHosts
} from "./chunk-CYWEGZLK.mjs";
import {
  loadIdentity
} from "./chunk-5DDXJCNI.mjs";
import {
  SshSnapshotStore
} from "./chunk-OZCMDO6K.mjs";
import {
  FieldError,
  forFieldAsync
} from "./chunk-5U54YLIR.mjs";
import "./chunk-WXOIO7VX.mjs";
import "./chunk-6O2J3H5G.mjs";
import "./chunk-KVSBDLHU.mjs";
import "./chunk-GIZ3PXLO.mjs";
import "./chunk-NLENNPWZ.mjs";
import "./chunk-WTQTT4EL.mjs";
import "./chunk-DSYZ63NL.mjs";

// src/jobs/ssh-access.ts
var SshAccess = class _SshAccess {
  identity;
  #knownHosts;
  #inputs;
  #connections = /* @__PURE__ */ new Map();
  constructor(inputs, knownHosts, identity) {
    this.#inputs = inputs;
    this.#knownHosts = knownHosts;
    this.identity = identity;
  }
  static async load(inputs, env) {
    if (!inputs.knownHosts) throw new FieldError("knownHosts", (n) => `${n.one("knownHosts")} is required with SSH: the host key must be checked`);
    if (!inputs.identity) throw new FieldError("identity", "no SSH key was given");
    const source = inputs.knownHosts;
    const knownHosts = source.kind === "file" ? await forFieldAsync("knownHosts", (name) => loadKnownHosts(source.path, name)) : parseKnownHosts(source.text, "the known_hosts lines given");
    return new _SshAccess(inputs, knownHosts, await loadIdentity(inputs.identity, env));
  }
  /** The snapshots under `root` on a host, read through the host's one connection. */
  async store(address, root, field, context) {
    return SshSnapshotStore.open(await this.#connect(address, context), root, field, context, false);
  }
  /** The snapshots directly in `dir` on a host (JellyCore's backup root), through the host's one connection. */
  async directoryStore(address, dir, field, context) {
    return SshSnapshotStore.openDirectory(await this.#connect(address, context), dir, field, context, false);
  }
  close() {
    for (const connection of this.#connections.values()) connection.close();
  }
  async #connect(address, context) {
    const key = `${address.user}@${address.host}:${address.port}`;
    const existing = this.#connections.get(key);
    if (existing) return existing;
    const connection = await SshConnection.open({
      address,
      knownHosts: this.#knownHosts,
      acceptNewHostKey: this.#inputs.acceptNewHostKey,
      identity: this.identity,
      connectTimeoutMs: context.deadline.bound(this.#inputs.connectTimeoutMs),
      maxChannels: this.#inputs.concurrency,
      signal: context.signal
    });
    this.#connections.set(key, connection);
    return connection;
  }
};
export {
  SshAccess
};
