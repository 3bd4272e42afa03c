import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);
import {
  FieldError
} from "./chunk-5U54YLIR.mjs";
import {
  UsageError,
  errorMessage
} from "./chunk-NLENNPWZ.mjs";

// src/remote/identity.ts
import { readFile } from "node:fs/promises";
var SSH_KEY_ENV = "ATOCORE_DRILL_SSH_KEY";
var SSH_KEY_PASSPHRASE_ENV = "ATOCORE_DRILL_SSH_KEY_PASSPHRASE";
var SecretText = class {
  #value;
  constructor(value) {
    this.#value = value;
  }
  reveal() {
    return this.#value;
  }
  toString() {
    return "[redacted]";
  }
  toJSON() {
    return "[redacted]";
  }
  [/* @__PURE__ */ Symbol.for("nodejs.util.inspect.custom")]() {
    return "[redacted]";
  }
};
function describeIdentity(identity) {
  if (identity.kind === "file") return `--identity ${identity.path}`;
  if (identity.kind === "env") return `the key in $${identity.variable}`;
  return identity.what;
}
async function loadIdentity(identity, env = process.env) {
  const description = describeIdentity(identity);
  let text;
  if (identity.kind === "file") {
    try {
      text = await readFile(identity.path, "utf8");
    } catch (error) {
      throw new FieldError("identity", `cannot read ${identity.path}: ${errorMessage(error)}`);
    }
  } else if (identity.kind === "env") {
    const value = env[identity.variable];
    if (value === void 0 || value.trim() === "") throw new UsageError(`$${identity.variable} is empty: it should hold the SSH private key`);
    text = value.includes("\\n") && !value.includes("\n") ? value.replace(/\\n/g, "\n") : value;
  } else {
    text = identity.key.reveal();
  }
  const passphraseText = env[SSH_KEY_PASSPHRASE_ENV];
  const passphrase = passphraseText ? new SecretText(passphraseText) : void 0;
  const { default: ssh2 } = await import("./lib-QOMPCI5J.mjs");
  const parsed = ssh2.utils.parseKey(text, passphraseText);
  if (parsed instanceof Error) {
    const hint = /passphrase|encrypted/i.test(parsed.message) ? ` (set $${SSH_KEY_PASSPHRASE_ENV})` : "";
    throw new UsageError(`${description}: not a usable SSH private key: ${parsed.message}${hint}`);
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key.getPrivatePEM() === null) throw new UsageError(`${description}: holds no private key (a public key?)`);
  return { privateKey: new SecretText(text), passphrase, description };
}

export {
  SSH_KEY_ENV,
  SecretText,
  describeIdentity,
  loadIdentity
};
