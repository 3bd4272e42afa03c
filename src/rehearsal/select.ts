/**
 * Choosing the snapshot to rehearse, newest first, by the validation's own judge: first on
 * what the source shows without copying anything (metadata, paths, file types, sizes, the
 * database header, registry, Chroma), then, once copied here, with the harness's own
 * integrity_check and foreign_key_check on the copy. A snapshot the judge fails is passed
 * over (its copy removed) and the next older one is tried.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnapshotStamp } from '../atocore/stamp.js';
import { InfrastructureError } from '../common/errors.js';
import { FieldError } from '../inputs/fields.js';
import { SnapshotGatherer } from '../validation/gather.js';
import { judgeSnapshot, type JudgedSnapshot } from '../validation/judge.js';
import { LocalSnapshotStore } from '../validation/local-store.js';
import { classifySnapshotEntries, isFutureStamp } from '../validation/overall-checks.js';
import { checkMetadata, isSafeSnapshotPath } from '../validation/snapshot-checks.js';
import type { ReadOutcome, StoreContext, StoreEntry } from '../validation/store.js';
import type { PassedOver } from './checks.js';
import type { RehearsalSource } from './source.js';

export interface SelectedSnapshot {
  readonly stamp: SnapshotStamp;
  /** the copy, in the throwaway root's snapshots folder */
  readonly dir: string;
  /** what was copied: directories and regular files, relative paths */
  readonly copied: readonly StoreEntry[];
  readonly files: number;
  readonly bytes: number;
  /** the snapshot's registry as read from the copy (null: the snapshot has none) */
  readonly registry: ReadOutcome | null;
  /** when the snapshot was taken (its metadata's created_at), ms */
  readonly createdAtMs: number | null;
  /** ids of the validation checks that warned on it */
  readonly warnings: readonly string[];
  readonly copyMs: number;
}

export interface Selection {
  readonly chosen: SelectedSnapshot | null;
  readonly passedOver: PassedOver[];
  /** stamp-named directories in the source */
  readonly snapshots: number;
}

export interface SelectorOptions {
  readonly source: RehearsalSource;
  readonly context: StoreContext;
  /** the throwaway root's snapshots folder: copies go in here */
  readonly copyInto: string;
  /** the harness's own scratch space for the integrity_check's private copy */
  readonly scratchDir: string;
  readonly nowMs: number;
  readonly progress?: (line: string) => void;
}

const PROGRESS_EVERY_MS = 1_000;

export class SnapshotSelector {
  readonly #options: SelectorOptions;
  constructor(options: SelectorOptions) {
    this.#options = options;
  }

  /** The newest snapshot that validates (or `requested`, if it does), copied; and those passed over. */
  async select(requested: SnapshotStamp | null): Promise<Selection> {
    const { source, nowMs } = this.#options;
    const listed = classifySnapshotEntries(await source.store.listSnapshots()).stamps;
    const directories = listed.filter((e) => e.type === 'dir').map((e) => e.path as SnapshotStamp);
    const passedOver: PassedOver[] = [];
    if (requested && !listed.some((e) => e.path === requested)) throw new FieldError('stamp', `no snapshot ${requested} in ${source.store.where}`);
    const candidates = requested ? [requested] : [...listed.map((e) => e.path as SnapshotStamp)].sort().reverse();
    for (const stamp of candidates) {
      const refusal = !directories.includes(stamp) ? 'not a directory (a link or a file named like a snapshot); refused, never followed' : isFutureStamp(stamp, nowMs) ? 'stamped in the future' : null;
      if (refusal) {
        passedOver.push({ stamp, reason: refusal });
        continue;
      }
      const atSource = await this.#judge(source.store, stamp, false);
      const sourceReason = rejection(atSource);
      if (sourceReason) {
        passedOver.push({ stamp, reason: sourceReason });
        continue;
      }
      const copy = await this.#copy(stamp, atSource.files);
      const onCopy = await this.#judge(new LocalSnapshotStore(this.#options.copyInto, this.#options.context), stamp, true);
      const copyReason = rejection(onCopy);
      if (copyReason) {
        await rm(join(this.#options.copyInto, stamp), { recursive: true, force: true });
        passedOver.push({ stamp, reason: copyReason });
        continue;
      }
      const { metadata } = checkMetadata(stamp, onCopy.files, onCopy.metadataRead);
      return {
        chosen: {
          stamp,
          dir: join(this.#options.copyInto, stamp),
          ...copy,
          registry: onCopy.registryRead,
          createdAtMs: metadata && Number.isFinite(metadata.createdAtMs) ? metadata.createdAtMs : null,
          warnings: onCopy.judged.report.checks.filter((c) => c.status === 'warn').map((c) => c.id),
        },
        passedOver,
        snapshots: listed.length,
      };
    }
    return { chosen: null, passedOver, snapshots: listed.length };
  }

  /** The validation's verdict on one snapshot in `store`, with the harness's own integrity_check when `deep`. */
  async #judge(store: LocalSnapshotStore | RehearsalSource['store'], stamp: SnapshotStamp, deep: boolean) {
    const { context, scratchDir, nowMs } = this.#options;
    const share = new Set<SnapshotStamp>(deep ? [stamp] : []);
    const gatherer = new SnapshotGatherer(store, {
      selected: new Set([stamp]),
      deepShare: share,
      hashSelected: false,
      hashAlso: null,
      validator: null,
      scratchDir,
      deadline: context.deadline,
      signal: context.signal,
    });
    const facts = await gatherer.inspect(await gatherer.read(stamp));
    if (!facts.selected) throw new InfrastructureError(`internal: ${stamp} was not gathered as selected`);
    // the harness's own trouble inspecting the copy is the run's, never the snapshot's
    if (facts.harnessError) throw new InfrastructureError(facts.harnessError);
    const judged = judgeSnapshot(facts, null, {
      // the recorded paths are compared with where the snapshot is at the source, not with the copy
      snapshotsDir: this.#options.source.store.snapshotsDir,
      deepShare: share,
      notInShareReason: 'checked once copied',
      ledger: null,
      nowIso: new Date(nowMs).toISOString(),
    });
    return { judged, files: facts.files, metadataRead: facts.metadataRead, registryRead: facts.registryRead };
  }

  /** Copies the snapshot's directories and regular files (safe names only) into the throwaway root. */
  async #copy(stamp: SnapshotStamp, files: readonly StoreEntry[]): Promise<{ copied: StoreEntry[]; files: number; bytes: number; copyMs: number }> {
    const began = Date.now();
    const target = join(this.#options.copyInto, stamp);
    const wanted = files.filter((f) => (f.type === 'dir' || f.type === 'file') && isSafeSnapshotPath(f.path));
    const regular = wanted.filter((f) => f.type === 'file');
    const total = regular.reduce((sum, f) => sum + f.size, 0);
    let done = 0;
    let current: { path: string; destination: string } | null = null;
    const report = async (): Promise<void> => {
      const partial = current ? await stat(current.destination).then((s) => s.size, () => 0) : 0;
      this.#options.progress?.(`copying ${stamp}: ${mib(done + partial)} of ${mib(total)}${current ? ` (${current.path})` : ''}`);
    };
    const ticker = this.#options.progress ? setInterval(() => void report(), PROGRESS_EVERY_MS) : null;
    try {
      await mkdir(target, { mode: 0o700 });
      for (const entry of wanted) {
        const destination = join(target, entry.path);
        if (entry.type === 'dir') {
          await mkdir(destination, { mode: 0o700 });
          continue;
        }
        current = { path: entry.path, destination };
        done += await this.#options.source.copyFile(stamp, entry.path, entry.size, destination);
        current = null;
      }
    } finally {
      if (ticker) clearInterval(ticker);
    }
    if (this.#options.progress) await report();
    return { copied: wanted, files: regular.length, bytes: done, copyMs: Date.now() - began };
  }
}

/** Why the judge does not let a snapshot be rehearsed (null: it may be). */
function rejection(judged: { judged: JudgedSnapshot }): string | null {
  const failing = judged.judged.report.checks.filter((c) => c.status === 'fail');
  if (failing.length > 0) return failing.map((c) => `${c.id}: ${c.message.slice(0, 200)}`).join('; ');
  return judged.judged.summary.unusable;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
