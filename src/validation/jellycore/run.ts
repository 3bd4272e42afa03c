import { interruption, RunSteps, validationReport, type ValidationRunOptions } from '../run-steps.js';
import { Deadline } from '../../common/deadline.js';
import { formatDuration } from '../../common/duration.js';
import type { CheckResult, DrillReport, SnapshotReport, StepRecord } from '../../report/model.js';
import { clip } from '../snapshot-checks.js';
import type { SnapshotStore, StoreContext } from '../store.js';
import type { ValidationObserver } from '../validate.js';
import { judgeBackup, judgeNotADirectory, judgeTooLarge, judgeUnlisted, unusableReason } from './checks.js';
import { BackupGatherer, type BackupListing } from './gather.js';
import { judgeInProgress, recentBackups, unwrittenParts, type RecentBackup } from './in-progress.js';
import { describeZone, type StampZone } from './layout.js';
import { bytesOnDisk, checkFreshness, filesWrittenMs, checkFuture, checkHeadroom, checkRetention, checkRootListing, sortRoot, unfinishedSkips, type BackupDirectory, type BackupSummary } from './overall.js';

export interface JellyCoreValidationOptions extends ValidationRunOptions {
  /** opens the backup root (a directory here, or over SSH) */
  readonly openStore: (context: StoreContext) => Promise<SnapshotStore>;
  /** how backup names are read as times */
  readonly zone: StampZone;
  readonly rpoMs: number;
  /** how far back the backups must reach (the plan: 7 days) */
  readonly retentionMs: number;
  readonly observer?: ValidationObserver;
}

/**
 * Validates a JellyCore backup root, read-only: per backup directory (both databases'
 * integrity, both tarballs read to their end, Chroma's directory and collection list, the
 * IPC secret, paths and file types) and overall (listing, future names, freshness,
 * retention, disk). The report is the AtoCore validation's: kind validate, one entry per
 * backup in snapshots[]. A problem reaching the data makes its step `error`, never a pass.
 */
export async function runJellyCoreValidation(options: JellyCoreValidationOptions): Promise<DrillReport> {
  return new JellyCoreValidationRun(options).run();
}


class JellyCoreValidationRun {
  readonly #options: JellyCoreValidationOptions;
  readonly #startedAt = new Date();
  readonly #deadline: Deadline;
  readonly #run: RunSteps;
  readonly #context: StoreContext;
  readonly #overall: CheckResult[] = [];
  readonly #reports: SnapshotReport[] = [];
  readonly #summaries: BackupSummary[] = [];
  readonly #harnessErrors: string[] = [];
  readonly #metrics: DrillReport['metrics'] = { rto_ms: null, restore_ms: null, rpo_s: null, snapshots: null, inspected: null, deep_checked: null };
  #store: SnapshotStore | undefined;
  #backups: readonly BackupDirectory[] = [];
  /** backups the listing allows to be still being written (in-progress.ts) */
  #recent: ReadonlyMap<string, RecentBackup> = new Map();
  /** those whose directory showed they are: not judged, not restore points */
  readonly #beingWritten: RecentBackup[] = [];

  constructor(options: JellyCoreValidationOptions) {
    this.#options = options;
    this.#run = new RunSteps(options.observer);
    this.#deadline = new Deadline(options.timeoutMs, options.timeoutName);
    this.#context = { deadline: this.#deadline, signal: this.#run.internal.signal };
  }

  async run(): Promise<DrillReport> {
    await this.#run.following(this.#options.signal, async () => {
      try {
        await this.#steps();
      } finally {
        await this.#store?.close().catch(() => {});
      }
    });
    return this.#report();
  }

  async #steps(): Promise<void> {
    const listed = (await this.#run.step('open', 'open the backup root', () => this.#open())) && (await this.#run.step('list', 'list the backups', () => this.#list()));
    if (listed) {
      await this.#run.step('snapshots', 'check each backup', () => this.#checkBackups());
      this.#recordHarnessErrors();
      if (this.#run.noError()) {
        this.#judgeOverall();
        await this.#run.step('disk', 'measure free space', () => this.#measureDisk());
      }
    }
  }


  async #open(): Promise<string> {
    this.#store = await this.#options.openStore(this.#context);
    return this.#store.where;
  }

  async #list(): Promise<string> {
    const store = this.#store!;
    const entries = await store.listSnapshots();
    const listing = sortRoot(entries, this.#options.zone);
    this.#recent = recentBackups(listing, store.snapshotsDir, this.#options.nowMs);
    this.#overall.push(checkRootListing(store.where, store.snapshotsDir, listing, this.#options.nowMs, this.#recent), checkFuture(listing.backups, this.#options.nowMs, this.#options.zone));
    this.#backups = listing.backups;
    for (const entry of listing.refused) this.#publish(judgeNotADirectory(entry), null);
    this.#metrics.snapshots = listing.backups.length + listing.refused.length;
    return `${listing.backups.length} backup(s) in ${store.where}`;
  }

  /** Each backup read and judged, `concurrency` at a time; the first failure stops the others. */
  async #checkBackups(): Promise<string> {
    const gatherer = new BackupGatherer(this.#store!, { scratchDir: this.#options.scratchDir, deadline: this.#deadline, signal: this.#run.internal.signal });
    const queue = [...this.#backups];
    const judged = new Map<string, { report: SnapshotReport; backup: BackupDirectory; bytes: number | null; filesWritten: number | null }>();
    const writing = new Map<string, SnapshotReport>();
    let firstFailure: unknown;
    const worker = async (): Promise<void> => {
      for (let backup = queue.shift(); backup; backup = queue.shift()) {
        if (this.#run.internal.signal.aborted) throw interruption(this.#run.internal.signal);
        const listed = await gatherer.list(backup.name, this.#recent.has(backup.name));
        const inProgress = this.#inProgress(backup, listed);
        if (inProgress) {
          writing.set(backup.name, inProgress);
          continue;
        }
        if (listed.kind === 'too_large') {
          judged.set(backup.name, { report: judgeTooLarge(backup.name, listed.bound), backup, bytes: null, filesWritten: null });
          continue;
        }
        // only a backup that may be being written comes back unlisted (and #inProgress took it): any
        // other could not be listed, the harness's trouble: the run is an error, the others are judged
        if (listed.kind === 'unlisted') {
          this.#harnessErrors.push(`${backup.name}: ${listed.problem}`);
          judged.set(backup.name, { report: judgeUnlisted(backup.name, listed.problem), backup, bytes: null, filesWritten: null });
          continue;
        }
        const facts = await gatherer.read(backup.name, listed.files);
        for (const [path, db] of Object.entries(facts.databases)) if (db.harnessError) this.#harnessErrors.push(`${backup.name}/${path}: ${db.harnessError}`);
        judged.set(backup.name, { report: judgeBackup(facts), backup, bytes: bytesOnDisk(listed.files), filesWritten: filesWrittenMs(listed.files) });
      }
    };
    const workers = Array.from({ length: Math.max(1, Math.min(this.#options.concurrency, queue.length)) }, () =>
      worker().catch((error: unknown) => {
        firstFailure ??= error;
        this.#run.internal.abort(error);
      }),
    );
    await Promise.all(workers);
    if (firstFailure !== undefined) throw firstFailure;
    // in time order, as the overall checks and the console read them
    for (const backup of this.#backups) {
      const unfinished = writing.get(backup.name);
      if (unfinished) {
        this.#beingWritten.push(this.#recent.get(backup.name)!);
        this.#publish(unfinished, null);
        continue;
      }
      const done = judged.get(backup.name)!;
      this.#publish(done.report, { name: backup.name, timeMs: backup.timeMs, unusable: unusableReason(done.report), totalBytes: done.bytes, filesWrittenMs: done.filesWritten });
    }
    const databases = [...judged.values()].flatMap((j) => j.report.checks).filter((c) => c.evidence.integrity_checked === true).length;
    // a backup refused for its size was judged, never read
    this.#metrics.inspected = [...judged.values()].filter((j) => j.bytes !== null).length;
    this.#metrics.deep_checked = databases;
    return `${judged.size} backup(s) checked, ${databases} database(s) with the harness's own integrity_check${writing.size > 0 ? `, ${writing.size} being written (not judged)` : ''}`;
  }

  /** The finding of a backup still being written (null: it is judged as any backup). */
  #inProgress(backup: BackupDirectory, listed: BackupListing): SnapshotReport | null {
    const recent = this.#recent.get(backup.name);
    if (!recent || listed.kind === 'too_large') return null;
    if (listed.kind === 'unlisted') return judgeInProgress(recent, { unlisted: listed.problem }, this.#options.nowMs);
    const unwritten = unwrittenParts(listed.files);
    return unwritten.length > 0 ? judgeInProgress(recent, { files: listed.files, unwritten }, this.#options.nowMs) : null;
  }

  #publish(report: SnapshotReport, summary: BackupSummary | null): void {
    this.#reports.push(report);
    if (summary) this.#summaries.push(summary);
    this.#options.observer?.snapshotFinished?.(report);
  }

  /** The harness's own trouble inspecting a database did not stop the step but makes the run an error. */
  #recordHarnessErrors(): void {
    const troubles = this.#harnessErrors;
    if (troubles.length === 0) return;
    const record: StepRecord = {
      id: 'inspect_databases',
      title: "the harness's own integrity_check",
      status: 'error',
      duration_ms: 0,
      detail: `the harness could not list or inspect ${troubles.length} backup(s) or database(s); their checks are skipped, not judged: ${troubles.slice(0, 3).map((t) => clip(t, 300)).join(' | ')}`,
    };
    this.#run.errorText ??= record.detail;
    this.#run.add(record);
  }

  #judgeOverall(): void {
    const { nowMs, rpoMs, retentionMs, zone } = this.#options;
    const freshness = checkFreshness(this.#summaries, nowMs, rpoMs, zone, this.#beingWritten);
    this.#overall.push(freshness.result, checkRetention(this.#summaries, nowMs, retentionMs, rpoMs));
    this.#metrics.rpo_s = freshness.rpoSeconds;
  }

  async #measureDisk(): Promise<string> {
    const space = await this.#store!.diskSpace();
    this.#overall.push(checkHeadroom(space, this.#summaries));
    return `${(space.availableBytes / 1024 ** 3).toFixed(2)} GiB free of ${(space.totalBytes / 1024 ** 3).toFixed(2)} GiB`;
  }

  #report(): DrillReport {
    const options = this.#options;
    if (!this.#run.noError()) this.#overall.push(...unfinishedSkips(this.#overall, this.#run.errorText));
    const store = this.#store;
    const writing = new Set(this.#beingWritten.map((b) => b.name));
    const newest = this.#backups.filter((b) => b.timeMs - options.nowMs <= 5 * 60_000 && !writing.has(b.name)).at(-1) ?? null;
    return validationReport(this.#run, {
      startedAt: this.#startedAt,
      overall: this.#overall,
      snapshots: this.#reports,
      metrics: this.#metrics,
      target: {
        // as for a profile's drill: the backup's directory name; when it was made (its name read in the stamp zone) beside it
        backup_stamp: newest?.name ?? null,
        backup_time: newest ? new Date(newest.timeMs).toISOString() : null,
        ...options.target,
        ...(store ? { where: store.where, snapshots_dir: store.snapshotsDir } : {}),
        stamp_timezone: describeZone(options.zone),
        retention: `${Math.round(options.retentionMs / 86_400_000)}d`,
        now: new Date(options.nowMs).toISOString(),
        deep: 'all',
        time_budget: formatDuration(options.timeoutMs),
      },
    });
  }
}
