import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stampOf, type SnapshotStamp } from '../src/atocore/stamp.js';
import { Deadline } from '../src/common/deadline.js';
import { cloneRegularFile, NotRegularFileError, readOpenFile, ScratchSpaceError } from '../src/sqlite/scratch-copy.js';
import { LocalSnapshotStore } from '../src/validation/local-store.js';
import { MAX_REGISTRY_BYTES, type ReadOutcome, type StoreEntry } from '../src/validation/store.js';
import { runValidation } from '../src/validation/validate.js';
import { buildSnapshotTree, FIXTURE_NOW } from './support/snapshot-tree.js';

/**
 * What keeps `validate --ledger` flat in the number of snapshots: the bytes read for a
 * snapshot are sized by the file, not by the read's limit, and are let go once the snapshot
 * is judged. Peak RSS itself is measured by bench/validate-ledger.bench.mjs, never here.
 */

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-scale-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SNAPSHOTS = 24;
const stamps: SnapshotStamp[] = [];
for (let i = SNAPSHOTS - 1; i >= 0; i--) stamps.push(stampOf(new Date(Date.parse('2026-04-08T06:00:00Z') - i * 86_400_000)));
const root = join(work, 'tree');
beforeAll(() => buildSnapshotTree(root, { snapshots: stamps.map((stamp) => ({ stamp, kind: 'good' as const, rows: 1 })) }));

/** A full garbage collection, from inside the test (the flag is set before the first call). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('reads sized by the file', () => {
  it('a registry of a few hundred bytes, read under the 8 MiB limit, owns a buffer of its size', async () => {
    const store = await LocalSnapshotStore.open(root, 'dir', { deadline: new Deadline(60_000), signal: new AbortController().signal });
    const read = await store.readSnapshotFile(stamps[0]!, 'config/project-registry.json', MAX_REGISTRY_BYTES);
    expect(read.ok).toBe(true);
    const data = (read as { data: Buffer }).data;
    expect(data.length).toBeGreaterThan(10);
    expect(data.buffer.byteLength).toBeLessThanOrEqual(data.length + 1);
  });

  it('a file that grows after its size was taken is read on, up to the limit and no further', async () => {
    const file = join(work, 'growing');
    writeFileSync(file, 'x'.repeat(10_000));
    const handle = await open(file, 'r');
    try {
      // the size given is what an earlier fstat said: 100 bytes
      expect((await readOpenFile(handle, file, 1_000_000, 100)).length).toBe(10_000);
      expect((await readOpenFile(handle, file, 5_001, 100)).length).toBe(5_001);
      expect((await readOpenFile(handle, file, 1_000_000, 10_000)).buffer.byteLength).toBeLessThanOrEqual(10_001);
    } finally {
      await handle.close();
    }
  });
});

/** The real store, with a record of what it handed out (the bytes, weakly) and when the last snapshot is listed. */
class WatchedStore extends LocalSnapshotStore {
  readonly handedOut: Array<WeakRef<Buffer>> = [];
  liveWhenLastListed: number | null = null;
  override async readSnapshotFile(stamp: string, path: string, maxBytes: number): Promise<ReadOutcome> {
    const read = await super.readSnapshotFile(stamp, path, maxBytes);
    if (read.ok) this.handedOut.push(new WeakRef(read.data));
    return read;
  }
  override async listSnapshotTree(stamp: string): Promise<StoreEntry[]> {
    if (stamp === stamps.at(-1)) {
      collectGarbage();
      this.liveWhenLastListed = this.handedOut.filter((ref) => ref.deref() !== undefined).length;
    }
    return super.listSnapshotTree(stamp);
  }
}

describe('validate --ledger over many snapshots', () => {
  it('holds the bytes read for at most the snapshots in flight, not for every snapshot seen', async () => {
    let store: WatchedStore | undefined;
    const report = await runValidation({
      openStore: async (context) => {
        store = new WatchedStore(join(root, 'backups', 'snapshots'), context);
        return store;
      },
      openOffhost: null,
      stamps: [],
      deep: { mode: 'all' },
      ledgerPath: join(work, 'ledger.json'),
      validator: null,
      rpoMs: 86_400_000,
      chromaRpoMs: null,
      sizeDropPercent: 50,
      nowMs: Date.parse(FIXTURE_NOW),
      timeoutMs: 600_000,
      concurrency: 2,
      signal: new AbortController().signal,
      scratchDir: work,
      target: {},
    });
    expect(report.steps.map((s) => [s.id, s.status])).toEqual([['open', 'pass'], ['list', 'pass'], ['snapshots', 'pass'], ['disk', 'pass'], ['ledger', 'pass']]);
    expect(report.snapshots).toHaveLength(SNAPSHOTS);
    // two files (metadata, registry) per snapshot read before the last one is listed
    expect(store!.handedOut.length).toBeGreaterThanOrEqual(2 * (SNAPSHOTS - 4));
    // in flight: the two gathered at once, the one being judged and the one kept for snapshot.complete
    expect(store!.liveWhenLastListed).not.toBeNull();
    expect(store!.liveWhenLastListed!).toBeLessThanOrEqual(2 * 5);
  });
});

describe('private copies by the kernel', () => {
  it('copies the bytes (hashing them when asked), writes nothing beside the source, refuses links, growth and an existing copy', async () => {
    const dir = join(work, 'clone');
    const { mkdirSync, readFileSync, readdirSync, symlinkSync } = await import('node:fs');
    const { createHash } = await import('node:crypto');
    mkdirSync(dir);
    const source = join(dir, 'source.db');
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    writeFileSync(source, bytes);
    const before = readdirSync(dir).sort();
    const scratch = mkdtempSync(join(work, 'clone-scratch-'));
    const copied = await cloneRegularFile(source, join(scratch, 'a.db'), {}, { hash: true });
    expect(copied).toEqual({ bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    expect(readFileSync(join(scratch, 'a.db')).equals(bytes)).toBe(true);
    expect((await cloneRegularFile(source, join(scratch, 'b.db'))).sha256).toBeNull();
    expect(readdirSync(dir).sort()).toEqual(before);
    symlinkSync(source, join(dir, 'link.db'));
    await expect(cloneRegularFile(join(dir, 'link.db'), join(scratch, 'c.db'))).rejects.toBeInstanceOf(NotRegularFileError);
    await expect(cloneRegularFile(source, join(scratch, 'd.db'), { maxBytes: 1000 })).rejects.toThrow(/more than the 1000 bytes/);
    await expect(cloneRegularFile(source, join(scratch, 'a.db'))).rejects.toBeInstanceOf(ScratchSpaceError);
  });
});
