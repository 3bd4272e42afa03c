import { interruption, RunSteps, validationReport, type ValidationRunOptions } from './run-steps.js';
import { setFlagsFromString } from 'node:v8';
import type { SnapshotStamp } from '../atocore/stamp.js';
import { Deadline } from '../common/deadline.js';
import { formatDuration } from '../common/duration.js';
import { FieldError } from '../inputs/fields.js';
import type { CheckResult, DrillReport, SnapshotReport, StepRecord } from '../report/model.js';
import { IntegrityWorkers } from '../sqlite/integrity-workers.js';
import { Slots, SnapshotGatherer, type GatheredSnapshot } from './gather.js';
import { gatherOffhostCopy } from './offhost.js';
import { judgeDisk, judgeListing, judgeNotADirectory, judgeOverall, SnapshotJudge, unfinishedRunSkips, type JudgedSnapshot } from './judge.js';
import { loadLedger, saveLedger, selectForDeepCheck, type Ledger } from './ledger.js';
import { checkOffhost, classifySnapshotEntries, fileSetOf, isFutureStamp, summaryOf, type SnapshotFileSet, type SnapshotSummary } from './overall-checks.js';
import { clip } from './snapshot-checks.js';
import type { SnapshotStore, StoreContext, StoreEntry } from './store.js';

/** How the harness's own integrity_check is spread: every snapshot, none, or at most N per run (rotating, with the ledger). */
export type DeepMode = { readonly mode: 'all' } | { readonly mode: 'none' } | { readonly mode: 'rotate'; readonly max: number };

export interface ValidationObserver {
  stepStarted?(id: string, title: string): void;
  stepFinished?(record: StepRecord): void;
  snapshotFinished?(snapshot: SnapshotReport): void;
}

export interface ValidationOptions extends ValidationRunOptions {
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
  readonly observer?: ValidationObserver;
}

/** Which snapshots this run reads, and which of them get the harness's own integrity_check. */
interface SnapshotPlan {
  /** the stamp directories, oldest first */
  readonly directories: readonly SnapshotStamp[];
  readonly selected: ReadonlySet<SnapshotStamp>;
  readonly deepShare: ReadonlySet<SnapshotStamp>;
  /** why a selected snapshot outside the deep share was not inspected */
  readonly notInShareReason: string;
}


/**
 * Validates the snapshots of a backup root: per snapshot (metadata, paths, integrity,
 * completeness, AtoCore's validator, registry, Chroma, immutability) and overall (listing,
 * freshness, retention, size, disk, off-host copy). Reading only. A problem reaching the
 * data makes its step `error` (verdict error, exit 3), never a pass.
 */
export async function runValidation(options: ValidationOptions): Promise<DrillReport> {
  keepYoungGenerationSmall();
  return new ValidationRun(options).run();
}

/**
 * A validation allocates a steady stream of short-lived objects per snapshot (listings,
 * hashes, reads, row indexes on their way to snapshot.complete), and V8 answers a long
 * stream by growing its young generation up to 128 MB, which then stays resident: most of
 * the peak RSS of a run over 2,000 snapshots (bench/validate-ledger.bench.mjs). Without
 * growth the young generation stays at its first few megabytes at the same speed (measured:
 * 19.6 s vs 20.5 s, 159 MB vs 275 MB). A V8 flag read whenever the young generation would
 * grow, so it can be set at run time; it applies to the whole process.
 */
function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * One validation run. Its steps are the methods below, in the order `run()` calls them; each
 * step gathers facts from the store (gather.ts) and has them judged without I/O (judge.ts).
 */
class ValidationRun {
  readonly #options: ValidationOptions;
  readonly #startedAt = new Date();
  readonly #deadline: Deadline;
  /** aborted by the caller's signal, or by the first step in error: whatever is in flight stops */
  readonly #run: RunSteps;
  readonly #context: StoreContext;
  readonly #nowIso: string;
  readonly #overall: CheckResult[] = [];
  readonly #snapshotReports: SnapshotReport[] = [];
  readonly #summaries: SnapshotSummary[] = [];
  readonly #metrics: DrillReport['metrics'] = { rto_ms: null, restore_ms: null, rpo_s: null, chroma_rpo_s: null, snapshots: null, inspected: null, deep_checked: null };
  /** the harness's own trouble inspecting a database, per snapshot: the run's error, never the snapshot's */
  readonly #harnessErrors: string[] = [];
  /** AtoCore's validator could not run, per snapshot */
  readonly #validatorFailures: string[] = [];
  #store: SnapshotStore | undefined;
  #offhost: SnapshotStore | undefined;
  /** the threads the harness's own integrity_check runs on (none when no database is inspected) */
  #workers: IntegrityWorkers | null = null;
  #ledger: Ledger | null = null;
  /** the stamp-named entries of `snapshots/` */
  #stampEntries: StoreEntry[] = [];
  /** the newest real snapshot directory (not stamped in the future) */
  #newest: SnapshotStamp | null = null;
  /** its files and hashes, when they were taken (for the off-host comparison) */
  #newestFileSet: SnapshotFileSet | null = null;

  constructor(options: ValidationOptions) {
    this.#options = options;
    this.#run = new RunSteps(options.observer);
    this.#deadline = new Deadline(options.timeoutMs, options.timeoutName);
    this.#context = { deadline: this.#deadline, signal: this.#run.internal.signal };
    this.#nowIso = new Date(options.nowMs).toISOString();
  }

  async run(): Promise<DrillReport> {
    const { signal, ledgerPath, openOffhost } = this.#options;
    await this.#run.following(signal, async () => {
      try {
        await this.#steps(ledgerPath, openOffhost);
      } finally {
        await Promise.allSettled([this.#store?.close(), this.#offhost?.close(), this.#workers?.close()]);
      }
    });
    return this.#report();
  }

  async #steps(ledgerPath: ValidationOptions['ledgerPath'], openOffhost: ValidationOptions['openOffhost']): Promise<void> {
    if (ledgerPath) this.#ledger = await loadLedger(ledgerPath);
    const listed = (await this.#run.step('open', 'open the backup root', () => this.#open())) && (await this.#run.step('list', 'list the snapshots', () => this.#list()));
    if (listed) {
      this.#refuseNonDirectories();
      const plan = this.#planSnapshots();
      await this.#run.step('snapshots', 'check each snapshot', () => this.#checkSnapshots(plan));
      this.#recordSnapshotTrouble();
      if (this.#run.noError()) {
        this.#judgeOverall();
        await this.#run.step('disk', 'measure free space', () => this.#measureDisk());
      }
      const newest = this.#newest;
      if (openOffhost && this.#run.noError() && newest) await this.#run.step('offhost', 'compare the off-host copy', () => this.#compareOffhost(openOffhost, newest));
    }
    if (this.#ledger && ledgerPath && this.#run.noError()) await this.#run.step('ledger', 'update the ledger', () => this.#updateLedger(this.#ledger!, ledgerPath));
  }


  async #open(): Promise<string> {
    this.#store = await this.#options.openStore(this.#context);
    return this.#store.where;
  }

  async #list(): Promise<string> {
    const store = this.#store!;
    const entries = await store.listSnapshots();
    this.#overall.push(...judgeListing(store.where, entries, this.#options.nowMs));
    this.#stampEntries = classifySnapshotEntries(entries).stamps;
    this.#metrics.snapshots = this.#stampEntries.length;
    const missing = this.#options.stamps.filter((stamp) => !this.#stampEntries.some((e) => e.path === stamp));
    if (missing.length > 0) throw new FieldError('stamp', `no snapshot ${missing.join(', ')} in ${store.where}`);
    return `${this.#stampEntries.length} snapshot(s) in ${store.where}`;
  }

  /** A stamp-named link or file is refused: never opened, never followed. */
  #refuseNonDirectories(): void {
    for (const entry of this.#stampEntries.filter((e) => e.type !== 'dir')) {
      const { report, summary } = judgeNotADirectory(entry);
      this.#snapshotReports.push(report);
      this.#summaries.push(summary);
    }
  }

  #planSnapshots(): SnapshotPlan {
    const { deep, nowMs, stamps } = this.#options;
    const directories = this.#stampEntries.filter((e) => e.type === 'dir').map((e) => e.path as SnapshotStamp).sort();
    // a stamp-named link is refused, a future-dated one is not a backup that happened
    this.#newest = directories.filter((stamp) => !isFutureStamp(stamp, nowMs)).at(-1) ?? null;
    const selected = new Set(stamps.length > 0 ? stamps : directories);
    const selectedDirectories = directories.filter((s) => selected.has(s));
    const deepShare: Set<SnapshotStamp> = deep.mode === 'all' ? new Set(selectedDirectories) : deep.mode === 'none' ? new Set() : selectForDeepCheck(selectedDirectories, this.#ledger!, deep.max);
    const deepReason = this.#store!.kind === 'ssh' ? 'integrity_check not run over SSH without --deep' : 'not in this run\'s --max-deep share';
    const notInShareReason = deep.mode === 'rotate' ? `not in this run's --max-deep ${deep.max} share (the ledger rotates them)` : deepReason;
    return { directories, selected, deepShare, notInShareReason };
  }

  async #checkSnapshots(plan: SnapshotPlan): Promise<string> {
    const store = this.#store!;
    const { openOffhost, validator, scratchDir, concurrency } = this.#options;
    if (plan.deepShare.size > 0) this.#workers = IntegrityWorkers.forConcurrency(concurrency);
    const gatherer = new SnapshotGatherer(store, {
      selected: plan.selected,
      deepShare: plan.deepShare,
      hashSelected: this.#ledger !== null,
      hashAlso: openOffhost !== null ? this.#newest : null,
      validator,
      scratchDir,
      deadline: this.#deadline,
      signal: this.#run.internal.signal,
      workers: this.#workers,
    });
    const judge = new SnapshotJudge({ snapshotsDir: store.snapshotsDir, deepShare: plan.deepShare, notInShareReason: plan.notInShareReason, ledger: this.#ledger?.snapshots ?? null, nowIso: this.#nowIso });
    let deepChecked = 0;
    await this.#gatherInOrder(gatherer, plan.directories, (facts) => {
      if (facts.stamp === this.#newest && facts.hashes) this.#newestFileSet = fileSetOf(facts.files, facts.hashes);
      if (!facts.selected) {
        this.#summaries.push(summaryOf(facts.stamp, facts.files, null));
        return;
      }
      if (facts.inspection) deepChecked++;
      if (facts.harnessError) this.#harnessErrors.push(`${facts.stamp}: ${facts.harnessError}`);
      judge.add(facts);
    });
    const judged = judge.finish();
    for (const snapshot of judged) this.#publish(snapshot);
    this.#metrics.inspected = judged.length;
    this.#metrics.deep_checked = deepChecked;
    return `${judged.length} snapshot(s) checked, ${deepChecked} with the harness's own integrity_check`;
  }

  /**
   * Gathers the snapshots' facts, `concurrency` at a time, and hands them to `consume` in
   * stamp order. A snapshot's database is inspected as soon as it is read (on the integrity
   * workers, while the next snapshots are read); its slot is handed back only once it is
   * consumed, so at most `concurrency` streamed databases and row indexes exist at once.
   * A consumed snapshot is let go at once (its promise leaves `pending`): what the run holds
   * per snapshot is its judgement, never the bytes read for it.
   */
  async #gatherInOrder(gatherer: SnapshotGatherer, order: readonly SnapshotStamp[], consume: (facts: GatheredSnapshot) => void): Promise<void> {
    const internal = this.#run.internal;
    const slots = new Slots(Math.max(1, this.#options.concurrency));
    const pending: Array<Promise<GatheredSnapshot> | null> = order.map(async (stamp) => {
      await slots.acquire();
      if (internal.signal.aborted) throw interruption(internal.signal);
      // inspect() disposes the streamed copy, whatever happens to it
      return gatherer.inspect(await gatherer.read(stamp));
    });
    // the first failure is the cause; the others are the abort it triggered
    let firstFailure: unknown;
    for (const work of pending) {
      work!.catch((error: unknown) => {
        firstFailure ??= error;
        internal.abort(error);
      });
    }
    try {
      for (let i = 0; i < pending.length; i++) {
        const work = pending[i]!;
        pending[i] = null;
        let facts: GatheredSnapshot;
        try {
          facts = await work;
        } catch (error) {
          throw firstFailure ?? error;
        } finally {
          slots.release();
        }
        consume(facts);
      }
    } finally {
      slots.close();
      // nothing streamed may stay behind, whatever stopped the loop: each disposes its own copy
      await Promise.allSettled(pending);
    }
  }

  /** A judged snapshot enters the report (and the ledger) once every snapshot has been gathered. */
  #publish(judged: JudgedSnapshot): void {
    const { report } = judged;
    if (judged.validatorCouldNotRun !== null) this.#validatorFailures.push(`${report.stamp}: ${judged.validatorCouldNotRun}`);
    if (judged.ledgerEntry) this.#ledger!.snapshots[report.stamp] = judged.ledgerEntry;
    this.#snapshotReports.push(report);
    this.#options.observer?.snapshotFinished?.(report);
    this.#summaries.push(judged.summary);
  }

  /** Trouble with single snapshots that did not stop the step but makes the run an error: each kind a step of its own. */
  #recordSnapshotTrouble(): void {
    const harness = this.#harnessErrors;
    const validator = this.#validatorFailures;
    this.#recordError('inspect_databases', "the harness's own integrity_check", harness.map((e) => clip(e, 300)), `the harness could not inspect ${harness.length} snapshot database(s); their checks are skipped, not judged`);
    this.#recordError('atocore_validate', "run AtoCore's validator", validator, `AtoCore's validator could not run for ${validator.length} snapshot(s) (check --atocore-validator, or "none" to rely on --deep)`);
  }

  #recordError(id: string, title: string, troubles: readonly string[], summary: string): void {
    if (troubles.length === 0) return;
    const record: StepRecord = { id, title, status: 'error', duration_ms: 0, detail: `${summary}: ${troubles.slice(0, 3).join(' | ')}` };
    this.#run.errorText ??= record.detail;
    this.#run.add(record);
  }

  #judgeOverall(): void {
    const stamps = this.#stampEntries.map((e) => e.path as SnapshotStamp);
    const historyStart = (this.#ledger?.oldest_stamp_seen as SnapshotStamp | null | undefined) ?? null;
    const { checks, rpoSeconds, chromaRpoSeconds } = judgeOverall(this.#summaries, stamps, historyStart, this.#options);
    this.#overall.push(...checks);
    this.#metrics.rpo_s = rpoSeconds;
    this.#metrics.chroma_rpo_s = chromaRpoSeconds;
  }

  async #measureDisk(): Promise<string> {
    const space = await this.#store!.diskSpace();
    this.#overall.push(judgeDisk(space, this.#summaries));
    return `${(space.availableBytes / 1024 ** 3).toFixed(2)} GiB free of ${(space.totalBytes / 1024 ** 3).toFixed(2)} GiB`;
  }

  async #compareOffhost(openOffhost: NonNullable<ValidationOptions['openOffhost']>, stamp: SnapshotStamp): Promise<string> {
    const offhost = await openOffhost(this.#context);
    this.#offhost = offhost;
    const here = this.#newestFileSet;
    if (!here) throw new Error(`the newest snapshot ${stamp} was not hashed`);
    const { newestThere, copy } = await gatherOffhostCopy(offhost, stamp, here);
    this.#overall.push(checkOffhost(offhost.where, stamp, here, copy ? fileSetOf(copy.files, copy.hashes) : null, newestThere));
    return `${offhost.where}: ${copy ? `${stamp} found` : `${stamp} not found`}`;
  }

  async #updateLedger(ledger: Ledger, path: string): Promise<string> {
    const current = new Set(this.#summaries.map((s) => s.stamp));
    // snapshots that are gone (pruned) leave the ledger; retention.policy judges whether they should have
    for (const stamp of Object.keys(ledger.snapshots)) if (!current.has(stamp as SnapshotStamp)) delete ledger.snapshots[stamp];
    const oldest = [...current].sort()[0];
    if (oldest && (!ledger.oldest_stamp_seen || oldest < ledger.oldest_stamp_seen)) ledger.oldest_stamp_seen = oldest;
    ledger.updated_at = new Date().toISOString();
    ledger.source = this.#store!.where;
    await saveLedger(path, ledger);
    return `${Object.keys(ledger.snapshots).length} snapshot(s) recorded in ${path}`;
  }

  #report(): DrillReport {
    const options = this.#options;
    if (!this.#run.noError()) this.#overall.push(...unfinishedRunSkips(this.#overall, options.openOffhost !== null, this.#run.errorText));
    const store = this.#store;
    return validationReport(this.#run, {
      startedAt: this.#startedAt,
      overall: this.#overall,
      snapshots: this.#snapshotReports,
      metrics: this.#metrics,
      target: {
        backup_stamp: this.#newest,
        ...options.target,
        ...(store ? { where: store.where, snapshots_dir: store.snapshotsDir } : {}),
        now: this.#nowIso,
        deep: options.deep.mode === 'rotate' ? `rotate ${options.deep.max}` : options.deep.mode,
        time_budget: formatDuration(options.timeoutMs),
      },
    });
  }
}
