import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);
import {
  DrillError,
  InfrastructureError,
  errorMessage
} from "./chunk-NLENNPWZ.mjs";

// src/sqlite/scratch-copy.ts
import { createHash } from "node:crypto";
import { constants as fsConstants, existsSync } from "node:fs";
import { copyFile, lstat, mkdtemp, open, rm } from "node:fs/promises";
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
    throw new InfrastructureError(`${doing}: the run's ${bounds.deadline.describe()} ran out`);
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
async function chunkBytesFor(handle) {
  try {
    const { size } = await handle.stat();
    return Math.max(4096, Math.min(CHUNK_BYTES, size + 1));
  } catch {
    return CHUNK_BYTES;
  }
}
async function streamOpenFile(handle, shown, bounds, sink) {
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(await chunkBytesFor(handle));
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
async function readOpenFile(handle, shown, limit, sizeHint, bounds = {}) {
  let buffer = Buffer.allocUnsafeSlow(Math.max(1, Math.min(limit, sizeHint + 1)));
  let filled = 0;
  for (; ; ) {
    if (filled === buffer.length) {
      if (buffer.length >= limit) break;
      const larger = Buffer.allocUnsafeSlow(Math.min(limit, buffer.length * 2));
      buffer.copy(larger, 0, 0, filled);
      buffer = larger;
    }
    assertWithinBounds(bounds, `reading ${shown}`);
    const { bytesRead } = await handle.read(buffer, filled, Math.min(buffer.length - filled, CHUNK_BYTES), filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  if (filled === buffer.length) return buffer;
  const exact = Buffer.allocUnsafeSlow(filled);
  buffer.copy(exact, 0, 0, filled);
  return exact;
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
async function cloneRegularFile(source, destination, bounds = {}, options = {}) {
  if (!existsSync("/proc/self/fd")) {
    const copied = await copyRegularFile(source, destination, bounds);
    return { bytes: copied.bytes, sha256: options.hash ? copied.sha256 : null };
  }
  const { handle, stats } = await openRegularFile(source);
  try {
    assertWithinBounds(bounds, `copying ${source}`);
    if (bounds.maxBytes !== void 0 && stats.size > bounds.maxBytes) {
      throw new InfrastructureError(`reading ${source}: more than the ${bounds.maxBytes} bytes it had when listed; it changed during the run`);
    }
    try {
      await copyFile(`/proc/self/fd/${handle.fd}`, destination, fsConstants.COPYFILE_EXCL | fsConstants.COPYFILE_FICLONE);
    } catch (error) {
      const code = error.code;
      if (code === "EIO" || code === "ENOENT") throw new InfrastructureError(`copying ${source}: ${errorMessage(error)}`);
      throw scratchError(destination, "writing", error);
    }
    assertWithinBounds(bounds, `copying ${source}`);
    const copy = await open(destination, "r");
    try {
      const hashed = options.hash ? await streamOpenFile(copy, destination, bounds) : { bytes: (await copy.stat()).size, sha256: null };
      if (bounds.maxBytes !== void 0 && hashed.bytes > bounds.maxBytes) {
        throw new InfrastructureError(`reading ${source}: more than the ${bounds.maxBytes} bytes it had when listed; it changed during the run`);
      }
      return { bytes: hashed.bytes, sha256: hashed.sha256 };
    } finally {
      await copy.close();
    }
  } finally {
    await handle.close();
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

export {
  fileKindOf,
  describeFileKind,
  ScratchSpaceError,
  NotRegularFileError,
  abortError,
  assertWithinBounds,
  openRegularFile,
  streamOpenFile,
  readOpenFile,
  copyRegularFile,
  cloneRegularFile,
  scratchError,
  isScratchSqliteError,
  scratchDirectory
};
