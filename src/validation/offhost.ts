import type { SnapshotStamp } from '../atocore/stamp.js';
import { classifySnapshotEntries, type SnapshotFileSet } from './overall-checks.js';
import { regularSafeFiles } from './snapshot-checks.js';
import type { SnapshotStore, StoreEntry } from './store.js';

/** What an off-host copy holds: its newest stamp, and one snapshot's files with their hashes (null: not there as a directory). */
export interface OffhostFacts {
  readonly newestThere: string | null;
  readonly copy: { readonly files: readonly StoreEntry[]; readonly hashes: ReadonlyMap<string, string> } | null;
}

/**
 * The off-host copy of snapshot `stamp`, compared by listing first: only a regular file that
 * the snapshot `here` also has, hashed, with the same size is read there. A file missing,
 * extra or of another size is offhost.copy's finding by the listing alone (an 8 GiB file
 * nobody asked for is never read: it would turn a finding into the run's --timeout).
 */
export async function gatherOffhostCopy(store: SnapshotStore, stamp: SnapshotStamp, here: SnapshotFileSet): Promise<OffhostFacts> {
  const stamps = classifySnapshotEntries(await store.listSnapshots()).stamps;
  const newestThere = stamps.map((e) => e.path).sort().pop() ?? null;
  if (!stamps.some((e) => e.path === stamp && e.type === 'dir')) return { newestThere, copy: null };
  const files = await store.listSnapshotTree(stamp);
  return { newestThere, copy: { files, hashes: await store.hashSnapshotFiles(stamp, worthHashing(files, here)) } };
}

/** The paths of the copy whose hash can still tell something: listed as regular files on both sides, of equal size, hashed here. */
export function worthHashing(there: readonly StoreEntry[], here: SnapshotFileSet): string[] {
  return regularSafeFiles(there)
    .filter((file) => {
      const mine = here.files.get(file.path);
      return mine !== undefined && mine.sha256 !== null && mine.size === file.size;
    })
    .map((file) => file.path);
}
