import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);
import {
  require_undici
} from "./chunk-2ZH3F3DC.mjs";
import {
  formatDuration,
  timerMs
} from "./chunk-GIZ3PXLO.mjs";
import {
  InfrastructureError,
  InterruptedError,
  ServiceNotHealthyError,
  errorMessage
} from "./chunk-NLENNPWZ.mjs";
import {
  __toESM
} from "./chunk-DSYZ63NL.mjs";

// src/runtimes/types.ts
import { join } from "node:path";
function layoutUnder(root) {
  const dataDir = join(root, "data");
  const configDir = join(root, "config");
  const backupDir = join(root, "backups");
  return {
    root,
    dataDir,
    dbPath: join(dataDir, "db", "atocore.db"),
    chromaDir: join(dataDir, "chroma"),
    configDir,
    registryPath: join(configDir, "project-registry.json"),
    backupDir,
    snapshotsDir: join(backupDir, "snapshots")
  };
}
var CONTAINER_RUN_LABEL = "io.atocore-drill.run";
var CONTAINER_ROLE_LABEL = "io.atocore-drill.role";
function preparedRoot(runtime) {
  try {
    return runtime.layout.root;
  } catch {
    return null;
  }
}

// src/common/sleep.ts
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
async function pollUntil(timeoutMs, ask, options = {}) {
  const until = Date.now() + timeoutMs;
  for (; ; ) {
    const left = until - Date.now();
    if (left < Math.max(1, options.minAttemptMs ?? 1)) break;
    const value = await ask(Math.min(options.attemptMs ?? 2e3, left));
    if (value !== void 0) return value;
    await sleep(Math.max(1, Math.min(options.intervalMs ?? 200, until - Date.now())), options.signal);
  }
  if (options.signal?.aborted) throw options.signal.reason;
  return void 0;
}

// src/common/http.ts
var import_undici = __toESM(require_undici(), 1);
async function httpCall(call, options) {
  const { method, url } = call;
  const budget = options.budget;
  const timeoutMs = budget ? budget.bound(options.ownTimeoutMs) : options.ownTimeoutMs;
  const boundName = budget?.limitedBy(options.ownTimeoutMs) ? ` (what was left of ${budget.describe()})` : "";
  const timeout = AbortSignal.timeout(timerMs(timeoutMs));
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    const response = await (0, import_undici.request)(url, {
      method,
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      headers: { ...call.headers },
      ...call.body === void 0 ? {} : { body: call.body }
    });
    const { bytes, truncated } = await readBounded(response.body, options.maxBodyBytes);
    const text = bytes.toString("utf8");
    return { status: response.statusCode, body: truncated ? void 0 : parseJson(text), text, truncated };
  } catch (error) {
    if (options.signal?.aborted && options.signal.reason instanceof InterruptedError) throw options.signal.reason;
    const code = error?.code;
    if (timeout.aborted || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
      throw new InfrastructureError(`${method} ${url} did not answer within ${formatDuration(timeoutMs)}${boundName}`, { cause: error });
    }
    throw new InfrastructureError(`${method} ${url} failed: ${errorMessage(error)}`, { cause: error });
  }
}
async function readBounded(body, limit) {
  const chunks = [];
  let size = 0;
  for await (const chunk of body) {
    const room = limit - size;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      body.destroy();
      return { bytes: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { bytes: Buffer.concat(chunks), truncated: false };
}
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return void 0;
  }
}

// src/atocore/client.ts
var DEFAULT_REQUEST_TIMEOUT_MS = 15e3;
var AtoCoreClient = class {
  baseUrl;
  #timeoutMs;
  #signal;
  #maxBodyBytes;
  #budget;
  constructor(baseUrl, options = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#signal = options.signal;
    this.#maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
    this.#budget = options.budget;
  }
  /** One call. Network failures and timeouts are InfrastructureErrors; any HTTP status is an answer. */
  async call(method, path, body, ownTimeoutMs = this.#timeoutMs) {
    return httpCall(
      { method, url: `${this.baseUrl}${path}`, ...body === void 0 ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) } },
      { ownTimeoutMs, maxBodyBytes: this.#maxBodyBytes, ...this.#signal ? { signal: this.#signal } : {}, ...this.#budget ? { budget: this.#budget } : {} }
    );
  }
  /** Like call(), but a non-2xx status or a non-JSON answer is an error naming the URL. */
  async json(method, path, body, timeoutMs) {
    const answer = await this.call(method, path, body, timeoutMs);
    if (answer.status < 200 || answer.status >= 300) {
      throw new AtoCoreHttpError(method, `${this.baseUrl}${path}`, answer);
    }
    if (answer.body === void 0) {
      throw new AtoCoreHttpError(method, `${this.baseUrl}${path}`, answer, "the answer is not JSON");
    }
    return answer.body;
  }
  /**
   * Polls GET /health until it answers 200. Gives up after `timeoutMs`, naming the URL
   * and the bound; `isAlive` lets the caller stop early when the process died.
   */
  async waitHealthy(timeoutMs, isAlive, boundName) {
    const exited = () => {
      const died = isAlive();
      if (died) throw new ServiceNotHealthyError("exited", `AtoCore exited before it became healthy at ${this.baseUrl}/health: ${died}`);
    };
    let last = "no answer yet";
    const healthy = await pollUntil(
      timeoutMs,
      async (attemptMs) => {
        exited();
        try {
          const answer = await this.call("GET", "/health", void 0, attemptMs);
          if (answer.status === 200) return answer;
          last = `HTTP ${answer.status}`;
        } catch (error) {
          if (error instanceof InterruptedError) throw error;
          if (attemptMs >= 500) last = errorMessage(error);
        }
        return void 0;
      },
      { signal: this.#signal }
    );
    if (healthy) return healthy;
    exited();
    throw new ServiceNotHealthyError("unhealthy", `AtoCore did not become healthy: GET ${this.baseUrl}/health gave no 200 within ${formatDuration(timeoutMs)} (${boundName}); last: ${last}`);
  }
};
var AtoCoreHttpError = class extends InfrastructureError {
  status;
  constructor(method, url, answer, why) {
    super(`${method} ${url} answered HTTP ${answer.status}${why ? ` (${why})` : ""}: ${answer.text.slice(0, 300)}`);
    this.status = answer.status;
  }
};

// src/cleanup/marks.ts
import { rm, writeFile } from "node:fs/promises";
import { basename, dirname, join as join2 } from "node:path";

// src/cleanup/owner.ts
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
function statFields(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "latin1");
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}
var STAT = { state: 0, pgrp: 2, starttime: 19 };
function bootId() {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
  } catch {
    return null;
  }
}
function identityOf(pid) {
  return { pid, start: statFields(pid)?.[STAT.starttime] ?? null, boot: bootId(), host: hostname() };
}
function currentProcessIdentity() {
  return identityOf(process.pid);
}

// src/cleanup/marks.ts
var ROOT_MARK_FILE = ".atocore-drill-root.json";
var PROFILE_RUN_VARIABLE = "ATOCORE_DRILL_RUN";
var PROFILE_ROOT_VARIABLE = "ATOCORE_DRILL_ROOT";
var ROOT_MARK_SCHEMA = "atocore-drill/root@1";
async function markDrillRoot(root) {
  const mark = { schema: ROOT_MARK_SCHEMA, owner: currentProcessIdentity(), created_at: (/* @__PURE__ */ new Date()).toISOString() };
  await writeFile(join2(root, ROOT_MARK_FILE), `${JSON.stringify(mark)}
`, { flag: "wx", mode: 420 });
}
async function releaseDrillRoot(root) {
  await rm(join2(root, ROOT_MARK_FILE), { force: true });
}

export {
  layoutUnder,
  CONTAINER_RUN_LABEL,
  CONTAINER_ROLE_LABEL,
  preparedRoot,
  sleep,
  pollUntil,
  httpCall,
  AtoCoreClient,
  PROFILE_RUN_VARIABLE,
  PROFILE_ROOT_VARIABLE,
  markDrillRoot,
  releaseDrillRoot
};
