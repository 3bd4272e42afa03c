import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);
import {
  DrillError,
  InfrastructureError,
  UsageError,
  errorMessage,
  formatDuration
} from "./chunk-KJERHEHM.mjs";

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

// src/validation/ssh-store.ts
import { join as join2 } from "node:path";

// src/sqlite/scratch-copy.ts
import { createHash } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { lstat, mkdtemp, open, rm } from "node:fs/promises";
import { join } from "node:path";

// src/common/file-kind.ts
function fileKindOf(stats) {
  if (stats.isSymbolicLink()) return "symlink";
  if (stats.isFile()) return "file";
  if (stats.isDirectory()) return "dir";
  if (stats.isFIFO()) return "fifo";
  if (stats.isSocket()) return "socket";
  if (stats.isCharacterDevice()) return "char-device";
  if (stats.isBlockDevice()) return "block-device";
  return "other";
}
var WORDS = {
  file: "a regular file",
  dir: "a directory",
  symlink: "a symlink",
  fifo: "a FIFO",
  socket: "a socket",
  "char-device": "a character device",
  "block-device": "a block device",
  other: "not a regular file"
};
function describeFileKind(stats) {
  return WORDS[fileKindOf(stats)];
}

// src/sqlite/scratch-copy.ts
var ScratchSpaceError = class extends InfrastructureError {
};
var NotRegularFileError = class extends Error {
  kind;
  constructor(path, kind) {
    super(`${path} is ${kind}; refused, not opened`);
    this.name = "NotRegularFileError";
    this.kind = kind;
  }
};
var CHUNK_BYTES = 1024 * 1024;
function abortError(signal, doing) {
  const reason = signal.reason;
  if (reason instanceof DrillError) return reason;
  return new InfrastructureError(`interrupted while ${doing}`);
}
function assertWithinBounds(bounds, doing) {
  if (bounds.signal?.aborted) throw abortError(bounds.signal, doing);
  if (bounds.deadline && bounds.deadline.remainingMs() <= 0) {
    throw new InfrastructureError(`${doing}: the run's --timeout of ${formatDuration(bounds.deadline.totalMs)} ran out`);
  }
}
async function openRegularFile(path) {
  const shown = typeof path === "string" ? path : path.toString("utf8");
  let before;
  try {
    before = await lstat(path);
  } catch (error) {
    if (error.code === "ENOENT") throw new NotRegularFileError(shown, "missing");
    throw new InfrastructureError(`reading ${shown}: ${errorMessage(error)}`);
  }
  if (!before.isFile()) throw new NotRegularFileError(shown, describeFileKind(before));
  let handle;
  try {
    handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (error) {
    const code = error.code;
    if (code === "ELOOP") throw new NotRegularFileError(shown, "a symlink (it became one after it was listed)");
    if (code === "ENOENT") throw new NotRegularFileError(shown, "missing (it went away after it was listed)");
    throw new InfrastructureError(`reading ${shown}: ${errorMessage(error)}`);
  }
  const stats = await handle.stat();
  if (!stats.isFile() || stats.ino !== before.ino || stats.dev !== before.dev) {
    await handle.close();
    throw new NotRegularFileError(shown, stats.isFile() ? "another file than the one listed (swapped while being opened)" : describeFileKind(stats));
  }
  return { handle, stats };
}
async function streamOpenFile(handle, shown, bounds, sink) {
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let position = 0;
  for (; ; ) {
    assertWithinBounds(bounds, `reading ${shown} (${position} bytes so far)`);
    let bytesRead;
    try {
      ({ bytesRead } = await handle.read(buffer, 0, buffer.length, position));
    } catch (error) {
      throw new InfrastructureError(`reading ${shown}: ${errorMessage(error)}`);
    }
    if (bytesRead === 0) break;
    position += bytesRead;
    if (bounds.maxBytes !== void 0 && position > bounds.maxBytes) {
      throw new InfrastructureError(`reading ${shown}: more than the ${bounds.maxBytes} bytes it had when listed; it changed during the run`);
    }
    const chunk = buffer.subarray(0, bytesRead);
    hash.update(chunk);
    if (sink) await sink(chunk);
  }
  return { bytes: position, sha256: hash.digest("hex") };
}
async function copyRegularFile(source, destination, bounds = {}) {
  const { handle } = await openRegularFile(source);
  let out;
  try {
    try {
      out = await open(destination, "wx", 384);
    } catch (error) {
      throw scratchError(destination, "creating", error);
    }
    const target = out;
    return await streamOpenFile(handle, source, bounds, async (chunk) => {
      try {
        let written = 0;
        while (written < chunk.length) written += (await target.write(chunk, written, chunk.length - written)).bytesWritten;
      } catch (error) {
        throw scratchError(destination, "writing", error);
      }
    });
  } finally {
    await handle.close();
    await out?.close().catch(() => {
    });
  }
}
function scratchError(path, doing, error) {
  const code = error.code;
  return new ScratchSpaceError(`the harness's scratch space failed ${doing} ${path}${code ? ` (${code})` : ""}: ${errorMessage(error)}`, { cause: error });
}
var SCRATCH_SQLITE_CODES = /* @__PURE__ */ new Set([
  "SQLITE_FULL",
  "SQLITE_NOMEM",
  "SQLITE_IOERR_NOMEM",
  "SQLITE_CANTOPEN",
  "SQLITE_IOERR_WRITE",
  "SQLITE_IOERR_FSYNC",
  "SQLITE_IOERR_TRUNCATE",
  "SQLITE_IOERR_SHMOPEN",
  "SQLITE_IOERR_SHMSIZE",
  "SQLITE_IOERR_SHMMAP",
  "SQLITE_IOERR_SHMLOCK",
  "SQLITE_READONLY_CANTINIT",
  "SQLITE_READONLY_DIRECTORY",
  "SQLITE_READONLY_CANTLOCK"
]);
function isScratchSqliteError(error) {
  const code = error.code;
  return typeof code === "string" && (SCRATCH_SQLITE_CODES.has(code) || code.startsWith("SQLITE_CANTOPEN"));
}
async function scratchDirectory(scratchDir, prefix) {
  let dir;
  try {
    dir = await mkdtemp(join(scratchDir, prefix));
  } catch (error) {
    throw scratchError(join(scratchDir, `${prefix}*`), "creating", error);
  }
  return { dir, dispose: () => rm(dir, { recursive: true, force: true }) };
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

// src/validation/store.ts
function displayName(raw) {
  const text = raw.toString("utf8");
  if (Buffer.from(text, "utf8").equals(raw)) return text;
  let shown = "";
  for (const byte of raw) shown += byte < 128 ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, "0")}`;
  return shown;
}
var METADATA_FILE = "backup-metadata.json";
var DB_FILE = "db/atocore.db";
var REGISTRY_FILE = "config/project-registry.json";
var CHROMA_DIR = "chroma";
var MAX_METADATA_BYTES = 1024 * 1024;
var MAX_REGISTRY_BYTES = 8 * 1024 * 1024;
var MAX_VALIDATOR_OUTPUT_BYTES = 4 * 1024 * 1024;
var MAX_TREE_ENTRIES = 2e5;
var LIST_TIMEOUT_MS = 6e4;
var READ_TIMEOUT_MS = 6e4;
var VALIDATOR_TIMEOUT_MS = 5 * 6e4;
var STREAM_IDLE_TIMEOUT_MS = 6e4;
var MS_PER_MIB = 2e3;
function transferBudgetMs(bytes) {
  return 6e4 + Math.ceil(bytes / (1024 * 1024)) * MS_PER_MIB;
}

// src/validation/ssh-store.ts
var DEFAULT_REMOTE_ROOT = "/srv/storage/atocore";
var MAX_LISTING_BYTES = MAX_TREE_ENTRIES * 256;
var MAX_HASH_ARGUMENT_BYTES = 32 * 1024;
var FIND_TYPES = { f: "file", d: "dir", l: "symlink", p: "fifo", s: "socket", c: "char-device", b: "block-device" };
function entryType(findType) {
  return FIND_TYPES[findType] ?? "other";
}
function toEntry(listed) {
  return {
    path: listed.path,
    type: entryType(listed.type),
    size: listed.size,
    linkTarget: listed.linkTarget,
    ...Number.isFinite(listed.allocatedBytes) ? { allocatedBytes: listed.allocatedBytes } : {}
  };
}
function firstLine(text) {
  return text.trim().split("\n").slice(-3).join(" ").slice(0, 500);
}
var SshSnapshotStore = class _SshSnapshotStore {
  kind = "ssh";
  snapshotsDir;
  where;
  #connection;
  #context;
  #ownsConnection;
  constructor(connection, snapshotsDir, context, ownsConnection) {
    this.#connection = connection;
    this.snapshotsDir = snapshotsDir;
    this.where = `${connection.where} ${snapshotsDir}`;
    this.#context = context;
    this.#ownsConnection = ownsConnection;
  }
  /** Resolves `<root>/backups/snapshots` or `<root>/snapshots` on the host; neither is a usage error for `field`. */
  static async open(connection, root, field, context, ownsConnection = true) {
    const base = forField(field, (name) => checkRemotePath(root, name));
    const candidates = [`${base === "/" ? "" : base}/backups/snapshots`, `${base === "/" ? "" : base}/snapshots`];
    const result = await connection.exec(
      { op: "probe", paths: [base, ...candidates] },
      { what: `looking for the snapshots under ${base}`, timeoutMs: context.deadline.bound(LIST_TIMEOUT_MS), deadline: context.deadline, signal: context.signal, maxStdoutBytes: 64 * 1024 }
    );
    const found = parseProbe(result.stdout);
    if (found.get(base) !== "d") throw new FieldError(field, `${base} is not a directory on ${connection.where}${result.stderr ? ` (${firstLine(result.stderr)})` : ""}`);
    const snapshotsDir = candidates.find((candidate) => found.get(candidate) === "d");
    if (!snapshotsDir) throw new FieldError(field, `no snapshots directory under ${base} on ${connection.where} (looked for ${candidates.join(" and ")})`);
    return new _SshSnapshotStore(connection, snapshotsDir, context, ownsConnection);
  }
  #full(stamp, path) {
    return path === void 0 ? `${this.snapshotsDir}/${stamp}` : `${this.snapshotsDir}/${stamp}/${path}`;
  }
  async #list(path, recursive, what) {
    const result = await this.#connection.exec(
      { op: "list", path, recursive },
      { what, timeoutMs: this.#context.deadline.bound(LIST_TIMEOUT_MS), deadline: this.#context.deadline, signal: this.#context.signal, maxStdoutBytes: MAX_LISTING_BYTES }
    );
    if (result.overflowed) throw new InfrastructureError(`${what} on ${this.#connection.where}: more than ${MAX_TREE_ENTRIES} entries; not an AtoCore snapshot`);
    if (result.exitCode !== 0) throw new InfrastructureError(`${what} on ${this.#connection.where}: find exited ${result.exitCode}: ${firstLine(result.stderr)}`);
    return parseListing(result.stdout, displayName).map(toEntry);
  }
  async listSnapshots() {
    const entries = await this.#list(this.snapshotsDir, false, `listing ${this.snapshotsDir}`);
    return entries.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  }
  async listSnapshotTree(stamp) {
    const entries = await this.#list(this.#full(stamp), true, `listing snapshot ${stamp}`);
    return entries.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  }
  async readSnapshotFile(stamp, path, maxBytes) {
    const full = this.#full(stamp, path);
    if (!isSafeRemotePath(full)) return { ok: false, reason: "its name has characters outside the safe set; not read" };
    const result = await this.#connection.exec(
      { op: "read", path: full, maxBytes: maxBytes + 1 },
      { what: `reading ${full}`, timeoutMs: this.#context.deadline.bound(READ_TIMEOUT_MS), deadline: this.#context.deadline, signal: this.#context.signal, maxStdoutBytes: maxBytes + 1 }
    );
    if (result.exitCode !== 0 && !result.overflowed) throw new InfrastructureError(`reading ${full} on ${this.#connection.where}: head exited ${result.exitCode}: ${firstLine(result.stderr)}`);
    if (result.stdout.length > maxBytes) return { ok: false, reason: `larger than ${maxBytes} bytes; not read` };
    return { ok: true, data: result.stdout };
  }
  async readSnapshotHead(stamp, path, bytes) {
    const full = this.#full(stamp, path);
    if (!isSafeRemotePath(full)) return { ok: false, reason: "its name has characters outside the safe set; not read" };
    const result = await this.#connection.exec(
      { op: "read", path: full, maxBytes: bytes },
      { what: `reading the head of ${full}`, timeoutMs: this.#context.deadline.bound(READ_TIMEOUT_MS), deadline: this.#context.deadline, signal: this.#context.signal, maxStdoutBytes: bytes }
    );
    if (result.exitCode !== 0 && !result.overflowed) throw new InfrastructureError(`reading ${full} on ${this.#connection.where}: head exited ${result.exitCode}: ${firstLine(result.stderr)}`);
    return { ok: true, data: result.stdout };
  }
  async hashSnapshotFiles(stamp, paths) {
    const hashes = /* @__PURE__ */ new Map();
    const batches = [];
    let batch = [];
    let length = 0;
    for (const path of paths) {
      const full = this.#full(stamp, path);
      if (!isSafeRemotePath(full)) continue;
      if (batch.length > 0 && length + full.length > MAX_HASH_ARGUMENT_BYTES) {
        batches.push(batch);
        batch = [];
        length = 0;
      }
      batch.push(path);
      length += full.length + 3;
    }
    if (batch.length > 0) batches.push(batch);
    for (const group of batches) {
      const fulls = group.map((path) => this.#full(stamp, path));
      const result = await this.#connection.exec(
        { op: "sha256", paths: fulls },
        {
          what: `hashing ${group.length} file(s) of ${stamp}`,
          // no size known here: allow for large files; the run's --timeout still bounds it
          timeoutMs: this.#context.deadline.bound(transferBudgetMs(4 * 1024 * 1024 * 1024)),
          deadline: this.#context.deadline,
          signal: this.#context.signal,
          maxStdoutBytes: 1024 * 1024
        }
      );
      const parsed = parseSha256sum(result.stdout.toString("utf8"));
      if (result.exitCode !== 0) throw new InfrastructureError(`hashing files of ${stamp} on ${this.#connection.where}: sha256sum exited ${result.exitCode}: ${firstLine(result.stderr)}`);
      group.forEach((path, index) => {
        const hash = parsed.get(fulls[index]);
        if (hash) hashes.set(path, hash);
      });
    }
    return hashes;
  }
  async fetchDatabase(stamp, files, scratchDir) {
    const entry = files.find((f) => f.path === DB_FILE && f.type === "file");
    const full = this.#full(stamp, DB_FILE);
    if (!entry || !isSafeRemotePath(full)) throw new InfrastructureError(`streaming ${full}: not a regular file in the listing`);
    const { dir, dispose } = await scratchDirectory(scratchDir, `atocore-drill-deep-${stamp}-`);
    const copy = join2(dir, "atocore.db");
    try {
      const streamed = await this.#connection.streamToFile({ op: "stream", path: full }, copy, {
        what: `streaming ${full}`,
        timeoutMs: this.#context.deadline.bound(transferBudgetMs(entry.size)),
        idleTimeoutMs: this.#context.deadline.bound(STREAM_IDLE_TIMEOUT_MS),
        maxBytes: entry.size,
        deadline: this.#context.deadline,
        signal: this.#context.signal
      });
      if (streamed.exitCode !== 0) throw new InfrastructureError(`streaming ${full} from ${this.#connection.where}: cat exited ${streamed.exitCode}: ${firstLine(streamed.stderr)}`);
      if (streamed.bytes !== entry.size) throw new InfrastructureError(`streaming ${full} from ${this.#connection.where}: got ${streamed.bytes} bytes, the listing said ${entry.size}; the file changed during the run`);
      return { path: copy, sha256: { [DB_FILE]: streamed.sha256 }, bytes: streamed.bytes, dispose };
    } catch (error) {
      await dispose();
      throw error;
    }
  }
  async diskSpace() {
    const result = await this.#connection.exec(
      { op: "disk-free", path: this.snapshotsDir },
      { what: `free space of ${this.snapshotsDir}`, timeoutMs: this.#context.deadline.bound(READ_TIMEOUT_MS), deadline: this.#context.deadline, signal: this.#context.signal, maxStdoutBytes: 64 * 1024 }
    );
    const space = result.exitCode === 0 ? parseDiskFree(result.stdout.toString("utf8")) : null;
    if (!space) throw new InfrastructureError(`free space of ${this.snapshotsDir} on ${this.#connection.where}: df exited ${result.exitCode}: ${firstLine(result.stderr || result.stdout.toString("utf8"))}`);
    return space;
  }
  async runValidator(argv, stamp) {
    const started = Date.now();
    let result;
    try {
      result = await this.#connection.exec(
        { op: "validator", argv, stamp },
        { what: `AtoCore's validator for ${stamp}`, timeoutMs: this.#context.deadline.bound(VALIDATOR_TIMEOUT_MS), deadline: this.#context.deadline, signal: this.#context.signal, maxStdoutBytes: MAX_VALIDATOR_OUTPUT_BYTES }
      );
    } catch (error) {
      if (this.#context.signal.aborted || error instanceof UsageError) throw error;
      return { exitCode: null, stdout: "", stderr: "", durationMs: Date.now() - started, couldNotRun: errorMessage(error) };
    }
    let couldNotRun = null;
    if (result.exitCode === 126 || result.exitCode === 127) couldNotRun = `${argv[0]} could not be run on ${this.#connection.where} (exit ${result.exitCode}): ${firstLine(result.stderr)}`;
    else if (result.signal) couldNotRun = `killed by ${result.signal} on ${this.#connection.where}`;
    else if (result.overflowed) couldNotRun = `printed more than ${MAX_VALIDATOR_OUTPUT_BYTES} bytes`;
    return { exitCode: result.exitCode, stdout: result.stdout.toString("utf8"), stderr: result.stderr, durationMs: result.durationMs, couldNotRun };
  }
  async close() {
    if (this.#ownsConnection) this.#connection.close();
  }
};

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
  fileKindOf,
  describeFileKind,
  ScratchSpaceError,
  NotRegularFileError,
  assertWithinBounds,
  openRegularFile,
  streamOpenFile,
  copyRegularFile,
  scratchError,
  isScratchSqliteError,
  scratchDirectory,
  parseSshAddress,
  checkRemotePath,
  parseOffhostTarget,
  formatSshAddress,
  DEFAULT_VALIDATOR_COMMAND,
  validatorArgv,
  renderRemoteCommand,
  SSH_KEY_ENV,
  SecretText,
  loadIdentity,
  displayName,
  METADATA_FILE,
  DB_FILE,
  REGISTRY_FILE,
  CHROMA_DIR,
  MAX_METADATA_BYTES,
  MAX_REGISTRY_BYTES,
  MAX_VALIDATOR_OUTPUT_BYTES,
  MAX_TREE_ENTRIES,
  VALIDATOR_TIMEOUT_MS,
  DEFAULT_REMOTE_ROOT,
  SshSnapshotStore
};
