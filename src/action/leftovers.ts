import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { errorMessage } from '../common/errors.js';

/**
 * What a run may leave behind when its main step is killed before its own teardown:
 * AtoCore processes running on a data root under the work directory, containers with
 * bind mounts from it, and the directory itself (drill roots, SSH key files). Found by
 * where they point, not by a list main kept: a killed main keeps no list.
 */
export interface LeftoverReport {
  readonly removed: string[];
  readonly problems: string[];
}

/** Processes whose environment names a data root under `dir` (the service and whatever it started). */
export function processesUnder(dir: string): number[] {
  const needle = `ATOCORE_DATA_DIR=${dir.replace(/\/+$/, '')}/`;
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').some((item) => item.startsWith(needle))) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

function docker(args: string[], timeoutMs: number): Promise<{ ok: boolean; stdout: string; error: string }> {
  return new Promise((resolve) => {
    execFile('docker', args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ ok: error === null, stdout: String(stdout), error: error ? (String(stderr).trim() || errorMessage(error)) : '' });
    });
  });
}

/** Containers (running or not) with a bind mount whose source is under `dir`. */
export async function containersUnder(dir: string, timeoutMs = 20_000): Promise<{ ids: string[]; problem: string | null }> {
  const listed = await docker(['ps', '-aq', '--no-trunc'], timeoutMs);
  if (!listed.ok) return { ids: [], problem: `listing containers: ${listed.error}` };
  const all = listed.stdout.split('\n').map((id) => id.trim()).filter(Boolean);
  if (all.length === 0) return { ids: [], problem: null };
  const inspected = await docker(['inspect', '--format', '{{.Id}}{{range .Mounts}} {{.Source}}{{end}}', ...all], timeoutMs);
  // a container that went away between the two calls makes inspect fail for it only; its lines are still printed
  const prefix = `${dir.replace(/\/+$/, '')}/`;
  const ids = inspected.stdout
    .split('\n')
    .map((line) => line.trim().split(' '))
    .filter(([id, ...sources]) => id && sources.some((source) => source.startsWith(prefix)))
    .map(([id]) => id!);
  return { ids, problem: null };
}

/** Removes everything a run left under `dir`. Never throws: problems are returned, for warnings. */
export async function removeLeftovers(dir: string, options: { containers: boolean }): Promise<LeftoverReport> {
  const removed: string[] = [];
  const problems: string[] = [];
  for (const pid of processesUnder(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
      removed.push(`process ${pid}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') problems.push(`killing process ${pid}: ${errorMessage(error)}`);
    }
  }
  if (options.containers) {
    const { ids, problem } = await containersUnder(dir);
    if (problem) problems.push(problem);
    for (const id of ids) {
      const result = await docker(['rm', '-f', '-v', id], 30_000);
      if (result.ok) removed.push(`container ${id.slice(0, 12)}`);
      else problems.push(`removing container ${id.slice(0, 12)}: ${result.error}`);
    }
  }
  if (existsSync(dir)) {
    // killed processes let go of their files within a moment
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
