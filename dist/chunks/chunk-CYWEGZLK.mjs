import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);
import {
  UsageError,
  errorMessage
} from "./chunk-NLENNPWZ.mjs";

// src/remote/known-hosts.ts
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { appendFile, readFile } from "node:fs/promises";
function parseKnownHosts(text, file) {
  const lines = [];
  const skipped = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const fields = line.split(/\s+/);
    let marker = null;
    if (fields[0]?.startsWith("@")) {
      const name = fields.shift();
      if (name === "@cert-authority") marker = "cert-authority";
      else if (name === "@revoked") marker = "revoked";
      else {
        skipped.push(index + 1);
        return;
      }
    }
    const [patterns, keyType, base64] = fields;
    if (!patterns || !keyType || !base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
      skipped.push(index + 1);
      return;
    }
    const key = Buffer.from(base64, "base64");
    if (blobType(key) !== keyType) {
      skipped.push(index + 1);
      return;
    }
    lines.push({ lineNumber: index + 1, marker, patterns: patterns.split(","), keyType, key });
  });
  return { file, lines, skipped };
}
async function loadKnownHosts(file, flag = "--known-hosts") {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${file}: ${errorMessage(error)}`);
  }
  return parseKnownHosts(text, file);
}
function blobType(blob) {
  if (blob.length < 4) return null;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return null;
  return blob.subarray(4, 4 + length).toString("latin1");
}
function knownHostsName(host, port) {
  const lower = host.toLowerCase();
  return port === 22 ? lower : `[${lower}]:${port}`;
}
function wildcardMatch(pattern, name) {
  let regex = "^";
  for (const ch of pattern) {
    if (ch === "*") regex += ".*";
    else if (ch === "?") regex += ".";
    else regex += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`${regex}$`, "i").test(name);
}
function hashedMatch(pattern, name) {
  const parts = pattern.split("|");
  if (parts.length !== 4 || parts[1] !== "1") return false;
  const salt = Buffer.from(parts[2] ?? "", "base64");
  const expected = Buffer.from(parts[3] ?? "", "base64");
  const actual = createHmac("sha1", salt).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
function patternsMatch(patterns, name) {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith("|")) {
      if (hashedMatch(pattern, name)) matched = true;
      continue;
    }
    const negated = pattern.startsWith("!");
    const body = negated ? pattern.slice(1) : pattern;
    if (wildcardMatch(body, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}
function linesForHost(knownHosts, host, port) {
  const name = knownHostsName(host, port);
  return knownHosts.lines.filter((line) => line.marker !== "cert-authority" && patternsMatch(line.patterns, name));
}
function verifyHostKey(knownHosts, host, port, offered) {
  const lines = linesForHost(knownHosts, host, port);
  const revoked = knownHosts.lines.find((line) => line.marker === "revoked" && line.key.equals(offered) && patternsMatch(line.patterns, knownHostsName(host, port)));
  if (revoked) return { outcome: "revoked", lineNumber: revoked.lineNumber };
  const plain = lines.filter((line) => line.marker === null);
  const match = plain.find((line) => line.key.equals(offered));
  if (match) return { outcome: "match", lineNumber: match.lineNumber };
  if (plain.length === 0) return { outcome: "unknown" };
  return { outcome: "changed", knownTypes: [...new Set(plain.map((l) => l.keyType))], lineNumbers: plain.map((l) => l.lineNumber) };
}
function fingerprint(blob) {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}
function hostKeyAlgorithmsFor(knownHosts, host, port) {
  const types = new Set(linesForHost(knownHosts, host, port).filter((l) => l.marker === null).map((l) => l.keyType));
  const algorithms = [];
  for (const type of types) {
    if (type === "ssh-rsa") algorithms.push("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa");
    else if (["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-dss"].includes(type)) algorithms.push(type);
  }
  return algorithms.length > 0 ? algorithms : null;
}
async function appendKnownHost(file, host, port, blob) {
  const type = blobType(blob);
  if (!type) throw new Error("the offered host key is not an SSH public key blob");
  const salt = randomBytes(20);
  const hash = createHmac("sha1", salt).update(knownHostsName(host, port)).digest();
  await appendFile(file, `|1|${salt.toString("base64")}|${hash.toString("base64")} ${type} ${blob.toString("base64")}
`, { mode: 384 });
}

export {
  parseKnownHosts,
  loadKnownHosts,
  verifyHostKey,
  fingerprint,
  hostKeyAlgorithmsFor,
  appendKnownHost
};
