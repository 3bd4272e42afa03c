import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);
import {
  UsageError
} from "./chunk-NLENNPWZ.mjs";

// src/inputs/fields.ts
import { randomBytes } from "node:crypto";
function kebab(field) {
  return field.replace(/[A-Z]/g, (upper) => `-${upper.toLowerCase()}`);
}
var FIELD_IDS = {
  one: (field) => field,
  both: (a, b) => `${a} and ${b}`
};
var FieldError = class _FieldError extends UsageError {
  field;
  wording;
  constructor(field, wording, names = FIELD_IDS, options) {
    const words = typeof wording === "string" ? (n) => `${n.one(field)}: ${wording}` : wording;
    super(words(names), options);
    this.field = field;
    this.wording = words;
  }
  /** The same violation, worded for another user. */
  namedBy(names) {
    return new _FieldError(this.field, this.wording, names, { cause: this.cause });
  }
};
var NONCE = randomBytes(6).toString("hex");
var TOKEN = new RegExp(`\0${NONCE}:([A-Za-z]+)\0`, "g");
function token(field) {
  return `\0${NONCE}:${field}\0`;
}
function forField(field, check) {
  try {
    return check(token(field));
  } catch (error) {
    throw reworded(field, error);
  }
}
function reworded(field, error) {
  if (error instanceof FieldError) return error;
  if (!(error instanceof UsageError)) {
    if (error instanceof Error) error.message = error.message.replace(TOKEN, (_, id) => FIELD_IDS.one(id));
    return error;
  }
  const message = error.message;
  const named = [...message.matchAll(TOKEN)].map((match) => match[1]);
  const wording = (names) => message.replace(TOKEN, (_, id) => names.one(id));
  return new FieldError(named.at(-1) ?? field, wording);
}
async function namedFor(names, work) {
  try {
    return await work();
  } catch (error) {
    throw error instanceof FieldError ? error.namedBy(names) : error;
  }
}
function namedForSync(names, work) {
  try {
    return work();
  } catch (error) {
    throw error instanceof FieldError ? error.namedBy(names) : error;
  }
}
async function forFieldAsync(field, check) {
  try {
    return await check(token(field));
  } catch (error) {
    throw reworded(field, error);
  }
}

// src/remote/address.ts
import { userInfo } from "node:os";
import { posix } from "node:path";
var USER_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
var HOST_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$/;
var IPV6_PATTERN = /^[0-9A-Fa-f:.]{2,45}(%[A-Za-z0-9_.-]{1,16})?$/;
var SAFE_PATH_PATTERN = /^\/[A-Za-z0-9._+@%=,:/ -]*$/;
function defaultSshUser() {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "root";
  }
}
function parsePort(text, flag, whole) {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new UsageError(`${flag}: "${whole}" has an invalid port "${text}" (1-65535)`);
  }
  return Number(text);
}
function parseUserAndHost(text, flag, whole) {
  const at = text.lastIndexOf("@");
  if (at === -1) return { user: defaultSshUser(), rest: text };
  const user = text.slice(0, at);
  if (!USER_PATTERN.test(user)) throw new UsageError(`${flag}: "${whole}" has an invalid user name "${user}"`);
  return { user, rest: text.slice(at + 1) };
}
function checkHost(host, flag, whole, bracketed) {
  if (bracketed ? !IPV6_PATTERN.test(host) || !host.includes(":") : !HOST_PATTERN.test(host)) {
    throw new UsageError(`${flag}: "${whole}" has an invalid host "${host}" (a DNS name, an IPv4 address or [an IPv6 address])`);
  }
  return host.toLowerCase();
}
function parseAddressPrefix(text, flag) {
  const { user, rest } = parseUserAndHost(text, flag, text);
  let host;
  let after;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close === -1) throw new UsageError(`${flag}: "${text}" opens "[" without closing it`);
    host = checkHost(rest.slice(1, close), flag, text, true);
    after = rest.slice(close + 1);
  } else {
    const colon = rest.indexOf(":");
    host = checkHost(colon === -1 ? rest : rest.slice(0, colon), flag, text, false);
    after = colon === -1 ? "" : rest.slice(colon);
  }
  let port = 22;
  const portMatch = /^:(\d+)(?=$|:)/.exec(after);
  if (portMatch) {
    port = parsePort(portMatch[1], flag, text);
    after = after.slice(portMatch[0].length);
  }
  return { address: { user, host, port }, tail: after };
}
function parseSshAddress(text, flag = "--ssh") {
  const trimmed = text.trim();
  if (trimmed === "") throw new UsageError(`${flag}: the address is empty; give [USER@]HOST[:PORT]`);
  const { address, tail } = parseAddressPrefix(trimmed, flag);
  if (tail !== "") throw new UsageError(`${flag}: "${text}" is not [USER@]HOST[:PORT] (unexpected "${tail}")`);
  return address;
}
function checkRemotePath(path, what) {
  if (!SAFE_PATH_PATTERN.test(path)) {
    throw new UsageError(
      `${what}: "${path}" must be an absolute path made of letters, digits, space and . _ + @ % = , : / - (it is passed to the remote shell)`
    );
  }
  const normalized = posix.normalize(path);
  if (path.split("/").includes("..")) throw new UsageError(`${what}: "${path}" must not contain ".."`);
  return normalized.length > 1 ? normalized.replace(/\/+$/, "") : normalized;
}
function isSafeRemotePath(path) {
  return SAFE_PATH_PATTERN.test(path) && !path.split("/").includes("..");
}
function parseOffhostTarget(text, flag = "--offhost") {
  const trimmed = text.trim();
  if (trimmed === "") throw new UsageError(`${flag}: empty; give [USER@]HOST[:PORT]:PATH or a local directory`);
  if (trimmed.startsWith("/") || trimmed.startsWith("./") || trimmed.startsWith("../")) return { kind: "dir", path: trimmed };
  const { address, tail } = parseAddressPrefix(trimmed, flag);
  if (!tail.startsWith(":/")) {
    throw new UsageError(`${flag}: "${text}" is not [USER@]HOST[:PORT]:PATH with an absolute PATH (or a local directory starting with /)`);
  }
  return { kind: "ssh", address, path: checkRemotePath(tail.slice(1), flag) };
}
function formatSshAddress(address) {
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  return `${address.user}@${host}${address.port === 22 ? "" : `:${address.port}`}`;
}

// src/atocore/stamp.ts
var STAMP_PATTERN = /^\d{8}T\d{6}Z$/;
function isSnapshotStamp(name) {
  return STAMP_PATTERN.test(name) && !Number.isNaN(stampTime(name));
}
function parseSnapshotStamp(name, what) {
  if (!isSnapshotStamp(name)) {
    throw new UsageError(`${what}: "${name}" is not a snapshot stamp (expected UTC YYYYMMDDTHHMMSSZ, e.g. 20260407T060000Z)`);
  }
  return name;
}
function stampTime(stamp) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  const time = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(time);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return Number.NaN;
  return time;
}
function stampOf(date) {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");
}

// src/remote/commands.ts
var STAMP_PLACEHOLDER = "{stamp}";
var DEFAULT_VALIDATOR_COMMAND = "docker exec atocore python -m atocore.ops.backup validate {stamp}";
var LIST_FORMAT = "%y\\0%s\\0%T@\\0%l\\0%b\\0%P\\0";
function shellQuote(argument) {
  return `'${argument.replace(/'/g, `'\\''`)}'`;
}
function safePath(path, op) {
  if (!isSafeRemotePath(path)) throw new UsageError(`refusing to send ${op} for "${path}": not a path from the safe set`);
  return shellQuote(path);
}
function validatorArgv(template, stamp) {
  if (!isSnapshotStamp(stamp)) throw new UsageError(`refusing to run the validator for "${stamp}": not a snapshot stamp`);
  const argv = template.map((token2) => token2.split(STAMP_PLACEHOLDER).join(stamp));
  return template.some((token2) => token2.includes(STAMP_PLACEHOLDER)) ? argv : [...argv, stamp];
}
function renderRemoteCommand(command, bound) {
  const line = renderBareCommand(command);
  if (bound === void 0) return line;
  const valid = (n) => Number.isFinite(n) && n > 0 && Number.isInteger(Math.round(n * 10)) && Math.abs(n * 10 - Math.round(n * 10)) < 1e-6;
  if (!valid(bound.seconds) || !valid(bound.killAfterSeconds)) throw new Error("a remote time limit is a positive number of seconds, in tenths at most");
  const limit = `timeout -k ${bound.killAfterSeconds} ${bound.seconds} `;
  return line.startsWith("LC_ALL=C ") ? `LC_ALL=C ${limit}${line.slice("LC_ALL=C ".length)}` : `${limit}${line}`;
}
function renderBareCommand(command) {
  switch (command.op) {
    case "probe":
      if (command.paths.length === 0) throw new Error("probe needs paths");
      return `LC_ALL=C find -H ${command.paths.map((p) => safePath(p, "probe")).join(" ")} -maxdepth 0 -printf '%y\\0%p\\0'`;
    case "list":
      return `LC_ALL=C find -H ${safePath(command.path, "list")} -mindepth 1${command.recursive ? "" : " -maxdepth 1"} -printf '${LIST_FORMAT}'`;
    case "read":
      if (!Number.isInteger(command.maxBytes) || command.maxBytes < 1) throw new Error("read needs a positive byte limit");
      return `LC_ALL=C head -c ${command.maxBytes} -- ${safePath(command.path, "read")}`;
    case "sha256":
      if (command.paths.length === 0) throw new Error("sha256 needs paths");
      return `LC_ALL=C sha256sum -b -- ${command.paths.map((p) => safePath(p, "sha256")).join(" ")}`;
    case "stream":
      return `LC_ALL=C cat -- ${safePath(command.path, "stream")}`;
    case "disk-free":
      return `LC_ALL=C df -Pk -- ${safePath(command.path, "disk-free")}`;
    case "validator": {
      if (!isSnapshotStamp(command.stamp)) throw new UsageError(`refusing to run the validator for "${command.stamp}": not a snapshot stamp`);
      return command.argv.map(shellQuote).join(" ");
    }
  }
}
function parseListing(output, decodeName = (raw) => raw.toString("utf8")) {
  const fields = [];
  let start = 0;
  for (let at = output.indexOf(0); at !== -1; at = output.indexOf(0, start)) {
    fields.push(decodeName(output.subarray(start, at)));
    start = at + 1;
  }
  fields.push(decodeName(output.subarray(start)));
  const entries = [];
  for (let i = 0; i + 6 <= fields.length; i += 6) {
    const [type, size, mtime, link, blocks, path] = fields.slice(i, i + 6);
    entries.push({ type, size: Number(size), mtimeMs: Math.round(Number(mtime) * 1e3), linkTarget: type === "l" ? link : null, allocatedBytes: Number(blocks) * 512, path });
  }
  return entries;
}
function parseProbe(output) {
  const fields = output.toString("utf8").split("\0");
  const found = /* @__PURE__ */ new Map();
  for (let i = 0; i + 2 <= fields.length; i += 2) found.set(fields[i + 1], fields[i]);
  return found;
}
function parseSha256sum(output) {
  const hashes = /* @__PURE__ */ new Map();
  for (const line of output.split("\n")) {
    const m = /^(\\?)([0-9a-f]{64}) [ *](.*)$/.exec(line);
    if (!m) continue;
    const name = m[1] ? m[3].replace(/\\(\\|n|r)/g, (_all, c) => c === "n" ? "\n" : c === "r" ? "\r" : "\\") : m[3];
    hashes.set(name, m[2]);
  }
  return hashes;
}
function parseDiskFree(output) {
  const lines = output.trim().split("\n");
  const last = lines[lines.length - 1];
  if (!last || lines.length < 2) return null;
  const m = /\s(\d+)\s+(\d+)\s+(\d+)\s+\d+%\s/.exec(last);
  if (!m) return null;
  return { totalBytes: Number(m[1]) * 1024, availableBytes: Number(m[3]) * 1024 };
}

export {
  kebab,
  FIELD_IDS,
  FieldError,
  token,
  forField,
  namedFor,
  namedForSync,
  forFieldAsync,
  isSnapshotStamp,
  parseSnapshotStamp,
  stampTime,
  stampOf,
  parseSshAddress,
  checkRemotePath,
  isSafeRemotePath,
  parseOffhostTarget,
  formatSshAddress,
  DEFAULT_VALIDATOR_COMMAND,
  validatorArgv,
  renderRemoteCommand,
  parseListing,
  parseProbe,
  parseSha256sum,
  parseDiskFree
};
