import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);
import {
  FieldError,
  checkRemotePath,
  forField,
  isSafeRemotePath,
  parseDiskFree,
  parseListing,
  parseProbe,
  parseSha256sum
} from "./chunk-5U54YLIR.mjs";
import {
  scratchDirectory
} from "./chunk-WXOIO7VX.mjs";
import {
  InfrastructureError,
  UsageError,
  errorMessage
} from "./chunk-NLENNPWZ.mjs";

// src/validation/ssh-store.ts
import { join, posix } from "node:path";

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
var TreeTooLargeError = class extends InfrastructureError {
  /** the bound it passed, in words (`200000 entries`) */
  bound;
  constructor(message, bound) {
    super(message);
    this.bound = bound;
  }
};
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
    ...Number.isFinite(listed.allocatedBytes) ? { allocatedBytes: listed.allocatedBytes } : {},
    ...Number.isFinite(listed.mtimeMs) ? { mtimeMs: listed.mtimeMs } : {}
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
  /** The snapshots directly in `dir` on the host (a layout without AtoCore's `backups/snapshots/`, e.g. JellyCore's backup root). */
  static async openDirectory(connection, dir, field, context, ownsConnection = true) {
    const base = forField(field, (name) => checkRemotePath(dir, name));
    const result = await connection.exec(
      { op: "probe", paths: [base] },
      { what: `looking for ${base}`, timeoutMs: context.deadline.bound(LIST_TIMEOUT_MS), deadline: context.deadline, signal: context.signal, maxStdoutBytes: 64 * 1024 }
    );
    if (parseProbe(result.stdout).get(base) !== "d") throw new FieldError(field, `${base} is not a directory on ${connection.where}${result.stderr ? ` (${firstLine(result.stderr)})` : ""}`);
    return new _SshSnapshotStore(connection, base, context, ownsConnection);
  }
  #full(stamp, path) {
    return path === void 0 ? `${this.snapshotsDir}/${stamp}` : `${this.snapshotsDir}/${stamp}/${path}`;
  }
  async #list(path, recursive, what) {
    const result = await this.#connection.exec(
      { op: "list", path, recursive },
      { what, timeoutMs: this.#context.deadline.bound(LIST_TIMEOUT_MS), deadline: this.#context.deadline, signal: this.#context.signal, maxStdoutBytes: MAX_LISTING_BYTES }
    );
    if (result.overflowed) {
      const message = `${what} on ${this.#connection.where}: more than ${MAX_TREE_ENTRIES} entries (the bound on one listing)`;
      throw recursive ? new TreeTooLargeError(message, `${MAX_LISTING_BYTES} bytes of listing (${MAX_TREE_ENTRIES} entries of 256 bytes)`) : new InfrastructureError(message);
    }
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
    return this.fetchSnapshotFile(stamp, DB_FILE, files, scratchDir);
  }
  async fetchSnapshotFile(stamp, path, files, scratchDir) {
    const entry = files.find((f) => f.path === path && f.type === "file");
    const full = this.#full(stamp, path);
    if (!entry || !isSafeRemotePath(full)) throw new InfrastructureError(`streaming ${full}: not a regular file in the listing`);
    const { dir, dispose } = await scratchDirectory(scratchDir, `atocore-drill-deep-${stamp}-`);
    const copy = join(dir, posix.basename(path));
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
      return { path: copy, sha256: { [path]: streamed.sha256 }, bytes: streamed.bytes, dispose };
    } catch (error) {
      await dispose();
      throw error;
    }
  }
  async streamSnapshotFile(stamp, path, listedBytes, sink) {
    const full = this.#full(stamp, path);
    if (!isSafeRemotePath(full)) return { ok: false, reason: "its name has characters outside the safe set; not read" };
    const streamed = await this.#connection.streamTo({ op: "stream", path: full }, { write: sink, end: async () => {
    }, abort: () => {
    } }, {
      what: `streaming ${full}`,
      timeoutMs: this.#context.deadline.bound(transferBudgetMs(listedBytes)),
      idleTimeoutMs: this.#context.deadline.bound(STREAM_IDLE_TIMEOUT_MS),
      maxBytes: listedBytes,
      deadline: this.#context.deadline,
      signal: this.#context.signal
    });
    if (streamed.stopped) return { ok: true, bytes: streamed.bytes, complete: false };
    if (streamed.exitCode !== 0) throw new InfrastructureError(`streaming ${full} from ${this.#connection.where}: cat exited ${streamed.exitCode}: ${firstLine(streamed.stderr)}`);
    if (streamed.bytes !== listedBytes) throw new InfrastructureError(`streaming ${full} from ${this.#connection.where}: got ${streamed.bytes} bytes, the listing said ${listedBytes}; the file changed during the run`);
    return { ok: true, bytes: streamed.bytes, complete: true };
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
  displayName,
  METADATA_FILE,
  DB_FILE,
  REGISTRY_FILE,
  CHROMA_DIR,
  MAX_METADATA_BYTES,
  MAX_REGISTRY_BYTES,
  MAX_VALIDATOR_OUTPUT_BYTES,
  MAX_TREE_ENTRIES,
  TreeTooLargeError,
  VALIDATOR_TIMEOUT_MS,
  STREAM_IDLE_TIMEOUT_MS,
  transferBudgetMs,
  DEFAULT_REMOTE_ROOT,
  SshSnapshotStore
};
