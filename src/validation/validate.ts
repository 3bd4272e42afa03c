import { stampTime, type SnapshotStamp } from '../atocore/stamp.js';
import { Deadline } from '../common/deadline.js';
import { formatDuration } from '../common/duration.js';
import { errorMessage, InfrastructureError, UsageError } from '../common/errors.js';
import { FieldError } from '../inputs/fields.js';
import { check, type CheckResult, type DrillReport, type SnapshotReport, type StepRecord } from '../report/model.js';
import { decideVerdict } from '../report/verdict.js';
import { validatorArgv } from '../remote/commands.js';
import { checkComplete, inspectSnapshotDatabase, type SnapshotDatabaseInspection } from './database.js';
import { checkImmutable, loadLedger, saveLedger, selectForDeepCheck, type Ledger, type LedgerFileRecord } from './ledger.js';
import { ScratchSpaceError } from '../sqlite/scratch-copy.js';
import {
  checkDiskHeadroom,
  checkFutureStamps,
  checkListing,
  checkOffhost,
  checkRpo,
  checkSizeAnomaly,
  classifySnapshotEntries,
  isFutureStamp,
  type SnapshotFileSet,
  type SnapshotSummary,
} from './overall-checks.js';
import { checkSidecars, SIDECAR_HEAD_BYTES, SIDECAR_PATHS } from './sidecars.js';
import { checkRetention } from './retention.js';
import {
  checkAtoCoreValidate,
  checkChroma,
  checkFileTypes,
  checkIntegrity,
  clip,
  databaseCopyRefusal,
  checkMetadata,
  checkPaths,
  checkRegistry,
  entryAt,
  isSafeSnapshotPath,
  snapshotStatus,
  validatorRefusal,
  type SnapshotMetadata,
} from './snapshot-checks.js';
import {
  CHROMA_DIR,
  DB_FILE,
  MAX_METADATA_BYTES,
  MAX_REGISTRY_BYTES,
  METADATA_FILE,
  REGISTRY_FILE,
  type FetchedDatabase,
  type ReadOutcome,
  type SnapshotStore,
  type StoreContext,
  type StoreEntry,
  type ValidatorRun,
} from './store.js';

/** How the harness's own integrity_check is spread: every snapshot, none, or at most N per run (rotating, with the ledger). */
export type DeepMode = { readonly mode: 'all' } | { readonly mode: 'none' } | { readonly mode: 'rotate'; readonly max: number };

export interface ValidationObserver {
  stepStarted?(id: string, title: string): void;
  stepFinished?(record: StepRecord): void;
  snapshotFinished?(snapshot: SnapshotReport): void;
}

export interface ValidationOptions {
  /** opens where the snapshots are (connects over SSH, or checks a directory) */
  readonly openStore: (context: StoreContext) => Promise<SnapshotStore>;
  /** the off-host copy, when there is one to check */
  readonly openOffhost: ((context: StoreContext) => Promise<SnapshotStore>) | null;
  /** only these snapshots get per-snapshot checks (empty: all); the overall checks see every one */
  readonly stamps: readonly SnapshotStamp[];
  readonly deep: DeepMode;
  readonly ledgerPath: string | null;
  /** AtoCore's validator command line as argv, `{stamp}` to be filled in; null: not run */
  readonly validator: readonly string[] | null;
  readonly rpoMs: number;
  readonly chromaRpoMs: number | null;
  readonly sizeDropPercent: number;
  /** "now" for freshness and retention (injectable so fixed fixture trees give stable verdicts) */
  readonly nowMs: number;
  readonly timeoutMs: number;
  /** snapshots worked on at once (each holds at most one streamed database) */
  readonly concurrency: number;
  readonly signal: AbortSignal;
  readonly scratchDir: string;
  readonly target: Record<string, unknown>;
  readonly observer?: ValidationObserver;
}

/** Everything read about one snapshot, before the database inspection. */
interface Gathered {
  readonly stamp: SnapshotStamp;
  readonly selected: boolean;
  readonly files: StoreEntry[];
  readonly metadataCheck: CheckResult;
  readonly metadata: SnapshotMetadata | null;
  readonly registryRead: ReadOutcome | null;
  /** the first bytes of each regular sidecar beside the database (a WAL's header and first frame) */
  readonly sidecarHeads: Map<string, ReadOutcome>;
  readonly hashes: Map<string, string> | null;
  readonly fetched: FetchedDatabase | null;
  readonly validatorRun: ValidatorRun | null;
  /** why AtoCore's validator was not run on it (null: it ran, or none was asked for) */
  readonly validatorRefused: string | null;
  /** the harness's own trouble copying the database (its scratch space): not a finding */
  readonly harnessError: string | null;
}

interface Inspected {
  readonly stamp: SnapshotStamp;
  readonly checks: CheckResult[];
  readonly summary: SnapshotSummary;
  readonly fileSet: SnapshotFileSet | null;
}

/** A slot pool whose slots are handed back by the consumer, so finished work waiting in line stays bounded. */
class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];
  constructor(size: number) {
    this.#free = size;
  }
  #closed = false;
  async acquire(): Promise<void> {
    if (this.#closed) return;
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
  /** Lets every waiter through (they see the abort and stop): nothing may wait forever. */
  close(): void {
    this.#closed = true;
    for (const next of this.#waiting.splice(0)) next();
  }
}

function regularSafeFiles(files: readonly StoreEntry[]): StoreEntry[] {
  return files.filter((f) => f.type === 'file' && isSafeSnapshotPath(f.path));
}

function summaryOf(stamp: SnapshotStamp, files: readonly StoreEntry[], failed: boolean): SnapshotSummary {
  const db = entryAt(files, DB_FILE);
  const regular = files.filter((f) => f.type === 'file');
  return {
    stamp,
    dbBytes: db && db.type === 'file' ? db.size : null,
    totalBytes: regular.reduce((sum, f) => sum + f.size, 0),
    hasChroma: regular.some((f) => f.path.startsWith(`${CHROMA_DIR}/`)),
    failed,
  };
}

/**
 * Validates the snapshots of a backup root: per snapshot (metadata, paths, integrity,
 * completeness, AtoCore's validator, registry, Chroma, immutability) and overall (listing,
 * freshness, retention, size, disk, off-host copy). Reading only. A problem reaching the
 * data makes its step `error` (verdict error, exit 3), never a pass.
 */
export async function runValidation(options: ValidationOptions): Promise<DrillReport> {
  const startedAt = new Date();
  const deadline = new Deadline(options.timeoutMs);
  const internal = new AbortController();
  const onAbort = (): void => internal.abort(options.signal.reason);
  if (options.signal.aborted) onAbort();
  else options.signal.addEventListener('abort', onAbort, { once: true });
  const context: StoreContext = { deadline, signal: internal.signal };
  const steps: StepRecord[] = [];
  const overall: CheckResult[] = [];
  const snapshotReports: SnapshotReport[] = [];
  const summaries: SnapshotSummary[] = [];
  const metrics: DrillReport['metrics'] = { rto_ms: null, restore_ms: null, rpo_s: null, chroma_rpo_s: null, snapshots: null, inspected: null, deep_checked: null };
  let errorText: string | undefined;
  let store: SnapshotStore | undefined;
  let offhost: SnapshotStore | undefined;
  let newest: SnapshotStamp | null = null;
  let ledger: Ledger | null = null;
  const nowIso = new Date(options.nowMs).toISOString();

  /** Runs a step; a usage error ends the run (exit 2), anything else that stops it is `error`. */
  const step = async (id: string, title: string, work: () => Promise<string>): Promise<boolean> => {
    const began = Date.now();
    options.observer?.stepStarted?.(id, title);
    let record: StepRecord;
    try {
      if (internal.signal.aborted) throw internal.signal.reason instanceof Error ? internal.signal.reason : new Error('interrupted');
      record = { id, title, status: 'pass', duration_ms: 0, detail: await work() };
    } catch (error) {
      if (error instanceof UsageError) {
        // stop whatever else is in flight before the run ends with exit 2
        internal.abort(error);
        throw error;
      }
      record = { id, title, status: 'error', duration_ms: 0, detail: errorMessage(error) };
      errorText ??= `${title}: ${errorMessage(error)}`;
      internal.abort(error);
    }
    record = { ...record, duration_ms: Date.now() - began };
    steps.push(record);
    options.observer?.stepFinished?.(record);
    return record.status === 'pass';
  };

  try {
    if (options.ledgerPath) ledger = await loadLedger(options.ledgerPath);
    const opened = await step('open', 'open the backup root', async () => {
      store = await options.openStore(context);
      return store.where;
    });

    let stampEntries: StoreEntry[] = [];
    const listed =
      opened &&
      (await step('list', 'list the snapshots', async () => {
        const entries = await store!.listSnapshots();
        overall.push(checkListing(store!.where, entries));
        stampEntries = classifySnapshotEntries(entries).stamps;
        overall.push(checkFutureStamps(stampEntries.map((e) => e.path as SnapshotStamp), options.nowMs));
        metrics.snapshots = stampEntries.length;
        const missing = options.stamps.filter((stamp) => !stampEntries.some((e) => e.path === stamp));
        if (missing.length > 0) throw new FieldError('stamp', `no snapshot ${missing.join(', ')} in ${store!.where}`);
        return `${stampEntries.length} snapshot(s) in ${store!.where}`;
      }));

    if (listed) {
      const directories = stampEntries.filter((e) => e.type === 'dir').map((e) => e.path as SnapshotStamp).sort();
      // a stamp-named link or file is refused: never opened, never followed
      for (const entry of stampEntries.filter((e) => e.type !== 'dir')) {
        const stamp = entry.path as SnapshotStamp;
        const refused = check('snapshot.paths', 'fail', `the snapshot is ${entry.type === 'symlink' ? `a symlink to ${JSON.stringify(clip(entry.linkTarget ?? '', 120))}` : 'not a directory'}; refused, never opened`, { type: entry.type, link_target: entry.linkTarget === null ? null : clip(entry.linkTarget) });
        const report: SnapshotReport = { stamp, status: 'fail', checks: [refused] };
        snapshotReports.push(report);
        summaries.push({ stamp, dbBytes: null, totalBytes: 0, hasChroma: false, failed: true });
      }
      // the newest real snapshot directory: a stamp-named link is refused above, a future-dated one is not a backup that happened
      newest = directories.filter((stamp) => !isFutureStamp(stamp, options.nowMs)).at(-1) ?? null;
      const selected = new Set(options.stamps.length > 0 ? options.stamps : directories);
      const deepSet: Set<SnapshotStamp> =
        options.deep.mode === 'all'
          ? new Set(directories.filter((s) => selected.has(s)))
          : options.deep.mode === 'none'
            ? new Set()
            : selectForDeepCheck(directories.filter((s) => selected.has(s)), ledger!, options.deep.max);
      const deepReason = store!.kind === 'ssh' ? 'integrity_check not run over SSH without --deep' : 'not in this run\'s --max-deep share';
      const rotatingReason = options.deep.mode === 'rotate' ? `not in this run's --max-deep ${options.deep.max} share (the ledger rotates them)` : deepReason;
      const validatorFailures: string[] = [];
      const harnessErrors: string[] = [];
      const inspected: Inspected[] = [];
      let deepChecked = 0;

      await step('snapshots', 'check each snapshot', async () => {
        const gather = async (stamp: SnapshotStamp): Promise<Gathered> => {
          const isSelected = selected.has(stamp);
          const files = await store!.listSnapshotTree(stamp);
          const wantHashes = (ledger !== null && isSelected) || (options.openOffhost !== null && stamp === newest);
          if (!isSelected) {
            const hashes = wantHashes ? await store!.hashSnapshotFiles(stamp, regularSafeFiles(files).map((f) => f.path)) : null;
            const notSelected = check('snapshot.metadata', 'skip', 'not selected');
            return { stamp, selected: false, files, metadataCheck: notSelected, metadata: null, registryRead: null, sidecarHeads: new Map(), hashes, fetched: null, validatorRun: null, validatorRefused: null, harnessError: null };
          }
          const readIfFile = async (path: string, max: number, head = false): Promise<ReadOutcome | null> => {
            const entry = entryAt(files, path);
            if (!entry || entry.type !== 'file') return null;
            if (!isSafeSnapshotPath(path)) return { ok: false, reason: 'its name has characters outside the safe set; not read' };
            return head ? store!.readSnapshotHead(stamp, path, max) : store!.readSnapshotFile(stamp, path, max);
          };
          const metadataRead = await readIfFile(METADATA_FILE, MAX_METADATA_BYTES);
          // decided before any database byte is read: a file the metadata does not vouch for is not copied
          const { result: metadataCheck, metadata } = checkMetadata(stamp, files, metadataRead);
          const registryRead = await readIfFile(REGISTRY_FILE, MAX_REGISTRY_BYTES);
          const sidecarHeads = new Map<string, ReadOutcome>();
          for (const path of SIDECAR_PATHS) {
            const head = await readIfFile(path, SIDECAR_HEAD_BYTES, true);
            if (head) sidecarHeads.set(path, head);
          }
          let fetched: FetchedDatabase | null = null;
          let harnessError: string | null = null;
          if (deepSet.has(stamp) && databaseCopyRefusal(files, metadata) === null) {
            try {
              fetched = await store!.fetchDatabase(stamp, files, options.scratchDir);
            } catch (error) {
              // the harness's own disk, not the snapshot: this snapshot's database goes unjudged, the run is an error
              if (!(error instanceof ScratchSpaceError) || internal.signal.aborted) throw error;
              harnessError = error.message;
            }
          }
          try {
            let hashes: Map<string, string> | null = null;
            if (wantHashes) {
              const already = fetched?.sha256 ?? {};
              const paths = regularSafeFiles(files).map((f) => f.path).filter((path) => !(path in already));
              hashes = await store!.hashSnapshotFiles(stamp, paths);
              for (const [path, hash] of Object.entries(already)) hashes.set(path, hash);
            }
            // after the stream: AtoCore's validator opens the snapshot read-write and may create -wal/-shm while it runs
            const validatorRefused = options.validator ? validatorRefusal(files, SIDECAR_PATHS) : null;
            const validatorRun = options.validator && !validatorRefused ? await store!.runValidator(validatorArgv(options.validator, stamp), stamp) : null;
            return { stamp, selected: true, files, metadataCheck, metadata, registryRead, sidecarHeads, hashes, fetched, validatorRun, validatorRefused, harnessError };
          } catch (error) {
            await fetched?.dispose();
            throw error;
          }
        };

        const order = [...directories];
        const slots = new Slots(Math.max(1, options.concurrency));
        // every snapshot waits for a slot in order; the consumer below hands slots back once it
        // has used a snapshot's data, so at most `concurrency` streamed databases exist at once
        const pending = order.map(async (stamp) => {
          await slots.acquire();
          if (internal.signal.aborted) throw internal.signal.reason instanceof Error ? internal.signal.reason : new Error('interrupted');
          return gather(stamp);
        });
        // the first failure is the cause; the others are the abort it triggered
        let firstFailure: unknown;
        for (const work of pending) {
          work.catch((error: unknown) => {
            firstFailure ??= error;
            internal.abort(error);
          });
        }

        let waitingForNext: { stamp: SnapshotStamp; takenAtMs: number; inspection: SnapshotDatabaseInspection; index: number } | null = null;
        const completeness = new Map<number, CheckResult>();
        const perSnapshot: Array<{ gathered: Gathered; metadata: SnapshotMetadata | null; metadataCheck: CheckResult; inspection: SnapshotDatabaseInspection | null; harnessError: string | null }> = [];
        try {
          for (let i = 0; i < order.length; i++) {
            let gathered: Gathered;
            try {
              gathered = await pending[i]!;
            } catch (error) {
              throw firstFailure ?? error;
            } finally {
              slots.release();
            }
            let inspection: SnapshotDatabaseInspection | null = null;
            let harnessError = gathered.harnessError;
            const { metadataCheck, metadata } = gathered;
            if (gathered.fetched) {
              try {
                inspection = await inspectSnapshotDatabase(gathered.fetched.path, gathered.fetched.bytes, deadline.remainingMs());
                deepChecked++;
              } catch (error) {
                if (!(error instanceof InfrastructureError) || internal.signal.aborted) throw error;
                harnessError = error.message;
              } finally {
                await gathered.fetched.dispose();
              }
            }
            if (harnessError) harnessErrors.push(`${gathered.stamp}: ${harnessError}`);
            if (gathered.selected) {
              const takenAtMs = metadata?.createdAtMs ?? stampTime(gathered.stamp);
              if (inspection?.rows) {
                if (waitingForNext) {
                  completeness.set(waitingForNext.index, checkComplete(waitingForNext.stamp, waitingForNext.takenAtMs, waitingForNext.inspection, { stamp: gathered.stamp, inspection }));
                }
                waitingForNext = { stamp: gathered.stamp, takenAtMs, inspection, index: perSnapshot.length };
              }
              // the rows stay only with the snapshot waiting for its successor: memory holds two indexes at most
              perSnapshot.push({ gathered, metadata, metadataCheck, inspection: inspection ? { ...inspection, rows: null } : null, harnessError });
            } else {
              summaries.push(summaryOf(gathered.stamp, gathered.files, false));
              if (gathered.stamp === newest && gathered.hashes) inspected.push({ stamp: gathered.stamp, checks: [], summary: summaryOf(gathered.stamp, gathered.files, false), fileSet: fileSetOf(gathered.files, gathered.hashes) });
            }
          }
        } finally {
          slots.close();
          // nothing streamed may stay behind, whatever stopped the loop
          await Promise.allSettled(pending.map(async (work) => (await work).fetched?.dispose()));
        }
        if (waitingForNext) completeness.set(waitingForNext.index, checkComplete(waitingForNext.stamp, waitingForNext.takenAtMs, waitingForNext.inspection, null));

        perSnapshot.forEach(({ gathered, metadata, metadataCheck, inspection, harnessError }, index) => {
          const { stamp, files } = gathered;
          const checks: CheckResult[] = [metadataCheck, checkPaths(stamp, `${store!.snapshotsDir}/${stamp}`, files, metadata), checkFileTypes(files)];
          const notJudged = harnessError ? `not judged: the harness could not inspect the database (${clip(harnessError, 300)})` : null;
          checks.push(checkIntegrity(files, metadata, inspection, notJudged ?? (deepSet.has(stamp) ? 'the database was not inspected' : rotatingReason)));
          checks.push(checkSidecars(files, gathered.sidecarHeads));
          checks.push(notJudged ? check('snapshot.complete', 'skip', notJudged) : (completeness.get(index) ?? checkComplete(stamp, metadata?.createdAtMs ?? stampTime(stamp), inspection, null)));
          if (gathered.validatorRefused) {
            checks.push(check('snapshot.atocore_validate', 'skip', `AtoCore's validator not run: ${gathered.validatorRefused}`));
          }
          if (gathered.validatorRun) {
            const { result, couldNotRun } = checkAtoCoreValidate(stamp, gathered.validatorRun);
            if (result) checks.push(result);
            else {
              checks.push(check('snapshot.atocore_validate', 'skip', `AtoCore's validator could not run: ${couldNotRun}`));
              validatorFailures.push(`${stamp}: ${couldNotRun}`);
            }
          }
          checks.push(checkRegistry(files, metadata, gathered.registryRead));
          checks.push(checkChroma(files, metadata));
          if (ledger && gathered.hashes) {
            const current = new Map<string, LedgerFileRecord>();
            for (const file of regularSafeFiles(files)) {
              const sha256 = gathered.hashes.get(file.path);
              if (sha256) current.set(file.path, { sha256, size: file.size });
            }
            const { result, entry } = checkImmutable(stamp, ledger.snapshots[stamp], current, nowIso);
            if (inspection) {
              entry.deep_checked_at = nowIso;
              entry.deep_result = checkIntegrity(files, metadata, inspection, '').status === 'pass' ? 'pass' : 'fail';
            }
            ledger.snapshots[stamp] = entry;
            checks.push(result);
          }
          const report: SnapshotReport = { stamp, status: snapshotStatus(checks), checks };
          snapshotReports.push(report);
          options.observer?.snapshotFinished?.(report);
          const summary = summaryOf(stamp, files, report.status === 'fail');
          summaries.push(summary);
          inspected.push({ stamp, checks, summary, fileSet: gathered.hashes ? fileSetOf(files, gathered.hashes) : null });
        });
        metrics.inspected = perSnapshot.length;
        metrics.deep_checked = deepChecked;
        return `${perSnapshot.length} snapshot(s) checked, ${deepChecked} with the harness's own integrity_check`;
      });

      if (harnessErrors.length > 0) {
        const record: StepRecord = {
          id: 'inspect_databases',
          title: "the harness's own integrity_check",
          status: 'error',
          duration_ms: 0,
          detail: `the harness could not inspect ${harnessErrors.length} snapshot database(s); their checks are skipped, not judged: ${harnessErrors.slice(0, 3).map((e) => clip(e, 300)).join(' | ')}`,
        };
        steps.push(record);
        errorText ??= record.detail;
        options.observer?.stepFinished?.(record);
      }

      if (validatorFailures.length > 0) {
        const record: StepRecord = {
          id: 'atocore_validate',
          title: "run AtoCore's validator",
          status: 'error',
          duration_ms: 0,
          detail: `AtoCore's validator could not run for ${validatorFailures.length} snapshot(s) (check --atocore-validator, or "none" to rely on --deep): ${validatorFailures.slice(0, 3).join(' | ')}`,
        };
        steps.push(record);
        errorText ??= record.detail;
        options.observer?.stepFinished?.(record);
      }

      const snapshotsOk = steps.every((s) => s.status !== 'error');
      if (snapshotsOk) {
        const rpo = checkRpo(summaries, options.nowMs, options.rpoMs, options.chromaRpoMs);
        overall.push(rpo.result);
        metrics.rpo_s = rpo.rpoSeconds;
        metrics.chroma_rpo_s = rpo.chromaRpoSeconds;
        overall.push(checkRetention(stampEntries.map((e) => e.path as SnapshotStamp), (ledger?.oldest_stamp_seen as SnapshotStamp | null | undefined) ?? null));
        overall.push(checkSizeAnomaly(summaries, options.sizeDropPercent));
        await step('disk', 'measure free space', async () => {
          const space = await store!.diskSpace();
          const newestSummary = [...summaries].sort((a, b) => (a.stamp < b.stamp ? 1 : -1))[0];
          overall.push(checkDiskHeadroom(space, newestSummary));
          return `${(space.availableBytes / 1024 ** 3).toFixed(2)} GiB free of ${(space.totalBytes / 1024 ** 3).toFixed(2)} GiB`;
        });
      }

      if (options.openOffhost && steps.every((s) => s.status !== 'error') && newest) {
        const stamp = newest;
        await step('offhost', 'compare the off-host copy', async () => {
          offhost = await options.openOffhost!(context);
          const here = inspected.find((s) => s.stamp === stamp)?.fileSet;
          if (!here) throw new Error(`the newest snapshot ${stamp} was not hashed`);
          const entries = await offhost.listSnapshots();
          const thereStamps = classifySnapshotEntries(entries).stamps;
          const newestThere = thereStamps.map((e) => e.path).sort().pop() ?? null;
          const entry = thereStamps.find((e) => e.path === stamp && e.type === 'dir');
          let there: SnapshotFileSet | null = null;
          if (entry) {
            const files = await offhost.listSnapshotTree(stamp);
            const hashes = await offhost.hashSnapshotFiles(stamp, regularSafeFiles(files).map((f) => f.path));
            there = fileSetOf(files, hashes);
          }
          overall.push(checkOffhost(offhost.where, stamp, here, there, newestThere));
          return `${offhost.where}: ${entry ? `${stamp} found` : `${stamp} not found`}`;
        });
      }
    }

    if (ledger && options.ledgerPath && steps.every((s) => s.status !== 'error')) {
      const path = options.ledgerPath;
      const current = new Set(summaries.map((s) => s.stamp));
      await step('ledger', 'update the ledger', async () => {
        // snapshots that are gone (pruned) leave the ledger; retention.policy judges whether they should have
        for (const stamp of Object.keys(ledger!.snapshots)) if (!current.has(stamp as SnapshotStamp)) delete ledger!.snapshots[stamp];
        const oldest = [...current].sort()[0];
        if (oldest && (!ledger!.oldest_stamp_seen || oldest < ledger!.oldest_stamp_seen)) ledger!.oldest_stamp_seen = oldest;
        ledger!.updated_at = new Date().toISOString();
        ledger!.source = store!.where;
        await saveLedger(path, ledger!);
        return `${Object.keys(ledger!.snapshots).length} snapshot(s) recorded in ${path}`;
      });
    }
  } finally {
    options.signal.removeEventListener('abort', onAbort);
    await Promise.allSettled([store?.close(), offhost?.close()]);
  }

  if (steps.some((s) => s.status === 'error')) {
    for (const id of ['rpo.fresh', 'retention.policy', 'size.anomaly', 'disk.headroom', ...(options.openOffhost ? ['offhost.copy'] : [])]) {
      if (!overall.some((c) => c.id === id)) overall.push(check(id, 'skip', `not evaluated: the run could not finish (${errorText ?? 'error'})`));
    }
  }
  snapshotReports.sort((a, b) => (a.stamp < b.stamp ? 1 : -1));
  const finishedAt = new Date();
  const allChecks = [...overall, ...snapshotReports.flatMap((s) => s.checks)];
  return {
    schema: 'atocore-drill/report@1',
    kind: 'validate',
    verdict: decideVerdict(steps, allChecks),
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
    duration_ms: finishedAt.getTime() - startedAt.getTime(),
    target: {
      runtime: null,
      image: null,
      backup_stamp: newest,
      ...options.target,
      ...(store ? { where: store.where, snapshots_dir: store.snapshotsDir } : {}),
      now: nowIso,
      deep: options.deep.mode === 'rotate' ? `rotate ${options.deep.max}` : options.deep.mode,
      time_budget: formatDuration(options.timeoutMs),
    },
    steps,
    checks: overall,
    metrics,
    snapshots: snapshotReports,
    ...(errorText ? { error: errorText } : {}),
  };
}

function fileSetOf(files: readonly StoreEntry[], hashes: ReadonlyMap<string, string>): SnapshotFileSet {
  const set = new Map<string, { size: number; sha256: string | null }>();
  for (const file of regularSafeFiles(files)) set.set(file.path, { size: file.size, sha256: hashes.get(file.path) ?? null });
  return { files: set };
}

