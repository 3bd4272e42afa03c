import { closeSync, constants as fsConstants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CONTAINER_ROLE_LABEL, CONTAINER_RUN_LABEL, layoutUnder } from '../runtimes/types.js';
import { currentProcessIdentity, type ProcessIdentity } from './owner.js';

/**
 * The marks by which `atocore-drill cleanup` knows what earlier runs left behind, in one
 * place: the drill root's name and mark file, the ATOCORE_* variables of the processes that
 * run on it, the label of its containers.
 */

/** What mkdtemp makes of the runtimes' `atocore-drill-` prefix: six letters or digits. */
const DRILL_ROOT_NAME = /^atocore-drill-[A-Za-z0-9]{6}$/;
/** The validate job's scratch directory (streamed snapshot databases), by its mkdtemp prefix. */
const VALIDATE_SCRATCH_NAME = /^atocore-drill-validate-[A-Za-z0-9]{6}$/;
/** A file in the drill root (beside data/, config/, backups/) or scratch dir naming the run that owns it. */
export const ROOT_MARK_FILE = '.atocore-drill-root.json';

/** A profile drill's commands carry these: its run id (teardown finds what daemonized) and its drill root (`cleanup` finds what a killed run left). */
export const PROFILE_RUN_VARIABLE = 'ATOCORE_DRILL_RUN';
export const PROFILE_ROOT_VARIABLE = 'ATOCORE_DRILL_ROOT';
const ROOT_MARK_SCHEMA = 'atocore-drill/root@1';
const ROOT_MARK_MAX_BYTES = 4_096;
export { CONTAINER_ROLE_LABEL, CONTAINER_RUN_LABEL };

export interface RootMark {
  readonly owner: ProcessIdentity;
  readonly createdAtMs: number;
}

export function isDrillRootName(path: string): boolean {
  return DRILL_ROOT_NAME.test(basename(path));
}

/** What a temp directory of the harness is, by its name: a drill root, a validate scratch dir, or none of its. */
export function harnessDirKind(path: string): 'drill root' | 'validate scratch dir' | null {
  const name = basename(path);
  if (DRILL_ROOT_NAME.test(name)) return 'drill root';
  if (VALIDATE_SCRATCH_NAME.test(name)) return 'validate scratch dir';
  return null;
}

/** Marks a fresh drill root (or the validate job's scratch dir) as this process's, for as long as the run lasts. */
export async function markDrillRoot(root: string): Promise<void> {
  const mark = { schema: ROOT_MARK_SCHEMA, owner: currentProcessIdentity(), created_at: new Date().toISOString() };
  await writeFile(join(root, ROOT_MARK_FILE), `${JSON.stringify(mark)}\n`, { flag: 'wx', mode: 0o644 });
}

/** A root kept for inspection (--keep) is the user's from now on: without its mark `cleanup` leaves it alone. */
export async function releaseDrillRoot(root: string): Promise<void> {
  await rm(join(root, ROOT_MARK_FILE), { force: true });
}

/**
 * The mark of a drill root, or null when `root` is not clearly one: its name, a real
 * directory of this user (never through a link), a small regular mark file of the right
 * schema. Whatever is in /tmp is untrusted: type, size and content are checked.
 */
export function readRootMark(root: string): RootMark | null {
  if (harnessDirKind(root) === null) return null;
  try {
    const info = lstatSync(root);
    if (!info.isDirectory() || info.uid !== (process.getuid?.() ?? info.uid)) return null;
    const fd = openSync(join(root, ROOT_MARK_FILE), fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
    try {
      const file = fstatSync(fd);
      if (!file.isFile() || file.size > ROOT_MARK_MAX_BYTES || file.uid !== info.uid) return null;
      const buffer = Buffer.alloc(ROOT_MARK_MAX_BYTES);
      const length = readSync(fd, buffer, 0, ROOT_MARK_MAX_BYTES, 0);
      return parseRootMark(buffer.subarray(0, length).toString('utf8'));
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
}

export function parseRootMark(text: string): RootMark | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { schema, owner, created_at: createdAt } = value as Record<string, unknown>;
  if (schema !== ROOT_MARK_SCHEMA || typeof owner !== 'object' || owner === null || typeof createdAt !== 'string') return null;
  const { pid, start, boot, host } = owner as Record<string, unknown>;
  const createdAtMs = Date.parse(createdAt);
  if (!Number.isSafeInteger(pid) || (pid as number) <= 0 || typeof host !== 'string' || Number.isNaN(createdAtMs)) return null;
  const optional = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return { owner: { pid: pid as number, start: optional(start), boot: optional(boot), host }, createdAtMs };
}

/**
 * The drill root a process runs on, from its environment: the ATOCORE_* variables exactly as
 * the process runtime sets them for a root of the drill's name. Anything else (a real
 * AtoCore's /srv/storage/atocore, a root of another name) is not the harness's.
 */
export function drillRootOfEnvironment(env: ReadonlyMap<string, string>): string | null {
  // a profile drill's commands carry their root and run by name
  const declared = env.get(PROFILE_ROOT_VARIABLE);
  if (declared?.startsWith('/') && isDrillRootName(declared) && env.has(PROFILE_RUN_VARIABLE)) return declared;
  const dataDir = env.get('ATOCORE_DATA_DIR');
  if (!dataDir?.startsWith('/')) return null;
  const root = dirname(dataDir);
  const layout = layoutUnder(root);
  if (!isDrillRootName(root) || layout.dataDir !== dataDir) return null;
  if (env.get('ATOCORE_BACKUP_DIR') !== layout.backupDir || env.get('ATOCORE_PROJECT_REGISTRY_PATH') !== layout.registryPath) return null;
  return root;
}

/** The drill root a container's bind mounts come from (`<root>/data`, `<root>/data/chroma`, `<root>/config`, `<root>/backups`), or null. */
export function drillRootOfMounts(sources: readonly string[]): string | null {
  for (const source of sources) {
    for (const root of [dirname(source), dirname(dirname(source))]) {
      const layout = layoutUnder(root);
      if (isDrillRootName(root) && [layout.dataDir, layout.chromaDir, layout.configDir, layout.backupDir].includes(source)) return root;
    }
  }
  return null;
}
