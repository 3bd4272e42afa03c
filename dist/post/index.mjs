import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);
import {
  GitHubApi,
  State,
  closeAbandoned,
  readPostInputs,
  readRunContext
} from "../chunks/chunk-2DRVC5AM.mjs";
import "../chunks/chunk-MDZGJSWW.mjs";
import "../chunks/chunk-5DDXJCNI.mjs";
import "../chunks/chunk-OZCMDO6K.mjs";
import "../chunks/chunk-5U54YLIR.mjs";
import {
  getState,
  info,
  warning
} from "../chunks/chunk-K4ZNBP2G.mjs";
import "../chunks/chunk-I7NQJPZR.mjs";
import "../chunks/chunk-ELUW7WRM.mjs";
import "../chunks/chunk-WXOIO7VX.mjs";
import "../chunks/chunk-2ZH3F3DC.mjs";
import "../chunks/chunk-KVSBDLHU.mjs";
import "../chunks/chunk-GIZ3PXLO.mjs";
import {
  errorMessage
} from "../chunks/chunk-NLENNPWZ.mjs";
import "../chunks/chunk-DSYZ63NL.mjs";

// src/action/leftovers.ts
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
function processesUnder(dir) {
  const needle = `ATOCORE_DATA_DIR=${dir.replace(/\/+$/, "")}/`;
  const found = [];
  let entries;
  try {
    entries = readdirSync("/proc");
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, "latin1").split("\0").some((item) => item.startsWith(needle))) found.push(Number(entry));
    } catch {
    }
  }
  return found;
}
function docker(args, timeoutMs) {
  return new Promise((resolve) => {
    execFile("docker", args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ ok: error === null, stdout: String(stdout), error: error ? String(stderr).trim() || errorMessage(error) : "" });
    });
  });
}
async function containersUnder(dir, timeoutMs = 2e4) {
  const listed = await docker(["ps", "-aq", "--no-trunc"], timeoutMs);
  if (!listed.ok) return { ids: [], problem: `listing containers: ${listed.error}` };
  const all = listed.stdout.split("\n").map((id) => id.trim()).filter(Boolean);
  if (all.length === 0) return { ids: [], problem: null };
  const inspected = await docker(["inspect", "--format", "{{.Id}}{{range .Mounts}} {{.Source}}{{end}}", ...all], timeoutMs);
  const prefix = `${dir.replace(/\/+$/, "")}/`;
  const ids = inspected.stdout.split("\n").map((line) => line.trim().split(" ")).filter(([id, ...sources]) => id && sources.some((source) => source.startsWith(prefix))).map(([id]) => id);
  return { ids, problem: null };
}
async function removeLeftovers(dir, options) {
  const removed = [];
  const problems = [];
  for (const pid of processesUnder(dir)) {
    try {
      process.kill(pid, "SIGKILL");
      removed.push(`process ${pid}`);
    } catch (error) {
      if (error.code !== "ESRCH") problems.push(`killing process ${pid}: ${errorMessage(error)}`);
    }
  }
  if (options.containers) {
    const { ids, problem } = await containersUnder(dir);
    if (problem) problems.push(problem);
    for (const id of ids) {
      const result = await docker(["rm", "-f", "-v", id], 3e4);
      if (result.ok) removed.push(`container ${id.slice(0, 12)}`);
      else problems.push(`removing container ${id.slice(0, 12)}: ${result.error}`);
    }
  }
  if (existsSync(dir)) {
    for (let attempt = 1; ; attempt++) {
      try {
        await rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 200 });
        removed.push(dir);
        break;
      } catch (error) {
        if (attempt >= 3) {
          problems.push(`removing ${dir}: ${errorMessage(error)}`);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
  return { removed, problems };
}

// src/action/run-post.ts
function publishedResource(text) {
  if (!text) return null;
  try {
    const value = JSON.parse(text);
    if (value.kind === "check-run" && typeof value.id === "number") return value;
    if (value.kind === "commit-status" && typeof value.sha === "string" && typeof value.context === "string") return value;
  } catch {
  }
  return null;
}
async function post() {
  const workDir = getState(State.WorkDir);
  if (!workDir) {
    info("nothing to clean up: main created nothing");
    return;
  }
  const finished = getState(State.Finished) === "true";
  const runtime = getState(State.Runtime);
  const { removed, problems } = await removeLeftovers(workDir, { containers: runtime === "container" });
  for (const problem of problems) warning(`post: ${problem}`);
  if (removed.length > 0) info(`post: removed what the run left behind: ${removed.join(", ")}`);
  else info("post: nothing left behind");
  if (finished) return;
  const resource = publishedResource(getState(State.Published));
  if (!resource) return;
  const repository = getState(State.Repository);
  const { githubToken } = readPostInputs();
  const apiUrl = readRunContext().apiUrl;
  if (!githubToken || !apiUrl || !repository) {
    warning(`post: the ${resource.kind} main opened stays open: no token or API URL to finish it with`);
    return;
  }
  const api = new GitHubApi({ baseUrl: apiUrl, token: githubToken, userAgent: "atocore-drill-action" });
  try {
    await closeAbandoned(api, repository, resource, "the main step was stopped before it reported (cancelled, timed out or killed)", {
      detailsUrl: getState(State.DetailsUrl) || null
    });
    info(`post: main did not finish; marked the ${resource.kind === "check-run" ? `check run ${resource.id} cancelled` : `commit status "${resource.context}" as an error`}`);
  } catch (error) {
    warning(`post: could not finish the ${resource.kind} main opened: ${errorMessage(error)}`);
  } finally {
    await api.close();
  }
}
async function runPost() {
  try {
    await post();
  } catch (error) {
    warning(`post: ${errorMessage(error)}`);
  }
}

// src/action/post.ts
await runPost();
process.exit();
