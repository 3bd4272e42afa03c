/**
 * Markers in a profile's stores: written the way the profile says, and found again. Finding is
 * judged: a store the restore broke (a database that no longer opens, a table gone, an answer
 * that is an error) is a StoreFinding about the service; a store the harness could not read
 * (a busy lock, its own permissions, a call cut by the budget) is an InfrastructureError.
 */
import { constants } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { describeProcessResult } from '../common/child-process.js';
import { errorMessage, InfrastructureError } from '../common/errors.js';
import { whyNotEvidence } from '../engine/classification.js';
import { hashTree, isHarnessReadError, type ReadBounds } from '../engine/files.js';
import { fingerprintOf } from '../sqlite/inspect.js';
import { ownWriteAsync } from '../engine/own-writes.js';
import { openDatabase } from '../sqlite/open.js';
import { saysDatabaseBroken } from '../sqlite/broken.js';
import { queryInChildProcess } from '../sqlite/query-process.js';
import type { ProfileContext } from './context.js';
import type { ProfileStore } from './profile.js';

/** What a store says about the service: it cannot even be asked whether a marker is there. */
export class StoreFinding extends Error {}

const STORE_CALL_MS = 30_000;
const FILE_MARKER_MAX_BYTES = 64 * 1024;

export class StoreMarkers {
  private readonly context: ProfileContext;

  constructor(context: ProfileContext) {
    this.context = context;
  }

  private async outsideTheRoot(store: ProfileStore): Promise<string | null> {
    const path = this.pathOf(store);
    return path === null ? null : outsideOf(this.context.values.drill_root!, path);
  }

  /** Where a file-based store lies (null for stores reached through the service). */
  pathOf(store: ProfileStore): string | null {
    return 'path' in store ? this.context.text(store.path) : null;
  }

  async write(store: ProfileStore, marker: string): Promise<void> {
    const ctx = this.context;
    const values = { marker };
    const outside = await this.outsideTheRoot(store);
    if (outside) throw new InfrastructureError(`store ${store.id}: ${outside}: the drill writes markers only into its own files`);
    switch (store.kind) {
      case 'sqlite': {
        const path = ctx.text(store.path);
        await requireKind(path, 'file', store.id);
        const answer = await queryInChildProcess(path, store.marker.write, { marker }, { write: true, what: `store ${store.id}: writing the marker`, ...ctx.bounded(STORE_CALL_MS) });
        if (!answer.ok) throw new InfrastructureError(`store ${store.id}: writing the marker into ${path}: ${answer.message}`);
        return;
      }
      case 'directory': {
        const dir = ctx.text(store.path);
        await requireKind(dir, 'directory', store.id);
        await writeMarkerFile(join(dir, markerFileName(store.id, ctx.text(store.marker.file, values))), marker);
        return;
      }
      case 'file': {
        const path = ctx.text(store.path);
        await requireKind(dirname(path), 'directory', store.id);
        await writeMarkerFile(path, marker);
        return;
      }
      case 'http': {
        const answer = await ctx.http(store.marker.write, values);
        if (answer.status < 200 || answer.status >= 300) throw new InfrastructureError(`store ${store.id}: writing the marker answered HTTP ${answer.status}: ${answer.text.slice(0, 200)}`);
        return;
      }
      case 'command': {
        const result = await ctx.run(store.marker.write, { ownLimitMs: STORE_CALL_MS, extra: values });
        const why = whyNotEvidence(result, `store ${store.id}: writing the marker`);
        if (why || result.exitCode !== 0) throw new InfrastructureError(why ?? `store ${store.id}: writing the marker failed (${describeProcessResult(result)}): ${result.stderr.slice(-300)}`);
        return;
      }
    }
  }

  /** Whether the marker is in the store. */
  async has(store: ProfileStore, marker: string): Promise<boolean> {
    const ctx = this.context;
    const values = { marker };
    const outside = await this.outsideTheRoot(store);
    if (outside) throw new StoreFinding(outside);
    switch (store.kind) {
      case 'sqlite': {
        const path = ctx.text(store.path);
        if (!(await existsAs(path, 'file', store.id))) throw new StoreFinding(`${path} is not there (or not a regular file)`);
        // in a child process: the query runs over whatever the restore left (a view that never ends included)
        const answer = await queryInChildProcess(path, store.marker.find, { marker }, { write: false, what: `store ${store.id}: looking for the marker`, ...ctx.bounded(STORE_CALL_MS) });
        if (answer.ok) return answer.row;
        if (saysDatabaseBroken(answer.errcode, answer.message)) {
          throw new StoreFinding(`the database ${path} cannot be read: ${answer.message}`);
        }
        throw new InfrastructureError(`store ${store.id}: ${path}: ${answer.message}`);
      }
      case 'directory': {
        const dir = ctx.text(store.path);
        if (!(await existsAs(dir, 'directory', store.id))) return false;
        return existsAs(join(dir, markerFileName(store.id, ctx.text(store.marker.file, values))), 'file', store.id);
      }
      case 'file': {
        const text = await readSmallFile(ctx.text(store.path), store.id);
        return text !== null && text.trim() === marker;
      }
      case 'http': {
        const answer = await ctx.http(store.marker.find, values);
        if (answer.status < 200 || answer.status >= 300) throw new StoreFinding(`asking for the marker answered HTTP ${answer.status}: ${answer.text.slice(0, 200)}`);
        // what lies past the part read cannot be told: the harness's limit, not the service
        if (answer.truncated && !answer.text.includes(ctx.text(store.marker.find.contains, values))) {
          throw new InfrastructureError(`store ${store.id}: the answer is larger than the drill reads (1 MiB) and the part read does not hold the marker: cannot tell`);
        }
        return answer.text.includes(ctx.text(store.marker.find.contains, values));
      }
      case 'command': {
        const result = await ctx.run(store.marker.find, { ownLimitMs: STORE_CALL_MS, extra: values });
        const why = whyNotEvidence(result, `store ${store.id}: looking for the marker`);
        if (why) throw new InfrastructureError(why);
        if (result.exitCode === 0) return true;
        if (result.exitCode === 1) return false;
        throw new InfrastructureError(`store ${store.id}: the find command could not tell (${describeProcessResult(result)}): ${result.stderr.slice(-300)}`);
      }
    }
  }
}

/**
 * A store's content as a tree of digests, for `compare: content`: a database's tables (rows and
 * content hash) and schema, a directory's files; what `ignore` names and the markers left out.
 */
export async function storeContent(store: ProfileStore, context: ProfileContext, markers: readonly string[], bounds: ReadBounds): Promise<Record<string, string>> {
  const ignored = new Set('ignore' in store ? (store.ignore ?? []) : []);
  const path = 'path' in store ? context.text(store.path) : null;
  const outside = path === null ? null : await outsideOf(context.values.drill_root!, path);
  if (outside) throw new StoreFinding(outside);
  if (store.kind === 'sqlite') {
    const path = context.text(store.path);
    if (!(await existsAs(path, 'file', store.id))) throw new StoreFinding(`${path} is not there (or not a regular file)`);
    return withDatabase(path, true, store.id, (db) => {
      const print = fingerprintOf(db);
      const tree: Record<string, string> = {};
      for (const [table, value] of Object.entries(print.tables)) if (!ignored.has(table)) tree[`table ${table}`] = `${value.rows} rows, ${value.sha256}`;
      for (const object of print.schema) if (!ignored.has(object.table)) tree[`schema ${object.type} ${object.name}`] = object.sql ?? '';
      return tree;
    });
  }
  if (store.kind === 'directory') {
    const dir = context.text(store.path);
    const markerFiles = new Set(markers.map((marker) => context.text(store.marker.file, { marker })));
    const tree = await hashTree(dir, bounds);
    return Object.fromEntries(Object.entries(tree).filter(([path]) => !markerFiles.has(path) && ![...ignored].some((prefix) => path === prefix || path.startsWith(`${prefix}/`))));
  }
  throw new Error(`internal: store ${store.id} (${store.kind}) has no content to compare`);
}

/**
 * Why a file-based store's path leads out of the drill root (a link the service's commands put
 * in its way), or null when it stays inside: its directory resolved, the store itself never a link.
 */
async function outsideOf(root: string, path: string): Promise<string | null> {
  const realRoot = await realpath(root).catch(() => root);
  const parent = await realpath(dirname(path)).catch(() => null);
  if (parent === null) return null;
  if (parent !== realRoot && !parent.startsWith(realRoot + sep)) return `${path} leads out of the drill root (its directory is ${parent})`;
  const info = await lstat(path).catch(() => null);
  if (info?.isSymbolicLink()) return `${path} is a link (to ${await realpath(path).catch(() => 'nowhere')}), not the store itself`;
  return null;
}

function withDatabase<T>(path: string, readonly: boolean, storeId: string, work: (db: ReturnType<typeof openDatabase>) => T): T {
  let db;
  try {
    db = openDatabase(path, { readonly, timeoutMs: 10_000 });
    return work(db);
  } catch (error) {
    if (saysDatabaseBroken((error as { code?: unknown }).code, errorMessage(error))) {
      throw new StoreFinding(`the database ${path} ${readonly ? 'cannot be read' : 'cannot be written'}: ${errorMessage(error)}`);
    }
    throw new InfrastructureError(`store ${storeId}: ${path}: ${errorMessage(error)}`, { cause: error });
  } finally {
    db?.close();
  }
}

async function existsAs(path: string, kind: 'file' | 'directory', storeId: string): Promise<boolean> {
  try {
    const info = await lstat(path);
    return kind === 'file' ? info.isFile() : info.isDirectory();
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT' || (error as { code?: unknown }).code === 'ENOTDIR') return false;
    if (isHarnessReadError(error)) throw new InfrastructureError(`store ${storeId}: ${path}: ${errorMessage(error)}`);
    return false;
  }
}

async function requireKind(path: string, kind: 'file' | 'directory', storeId: string): Promise<void> {
  if (!(await existsAs(path, kind, storeId))) throw new InfrastructureError(`store ${storeId}: ${path} is not a ${kind === 'file' ? 'regular file' : 'directory'} (has the service created it?)`);
}

/** A marker file: created or replaced, never through a link. */
async function writeMarkerFile(path: string, marker: string): Promise<void> {
  await ownWriteAsync(path, 'writing a marker', async () => {
    const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
    try {
      await handle.writeFile(`${marker}\n`);
    } finally {
      await handle.close();
    }
  });
}

/** A small regular file's text; null when it is not there. Never blocks on a FIFO, never follows a link. */
async function readSmallFile(path: string, storeId: string): Promise<string | null> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') return null;
    throw new InfrastructureError(`store ${storeId}: ${path}: ${errorMessage(error)}`);
  }
  try {
    if (!(await handle.stat()).isFile()) return null;
    const buffer = Buffer.alloc(FILE_MARKER_MAX_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** A marker file's name: one name in the store's directory, never a path out of it. */
function markerFileName(storeId: string, name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new InfrastructureError(`store ${storeId}: the marker file's name "${name}" is not one name inside the store's directory`);
  }
  return name;
}
