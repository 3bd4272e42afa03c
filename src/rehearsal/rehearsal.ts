/**
 * The rehearsal: restore the newest real snapshot into a throwaway AtoCore and check that it
 * serves what the snapshot holds. The plan's steps are the methods of one run, over what the
 * run has learnt so far; the generic step loop (src/engine/step-loop.ts) runs them.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RestoreAnswer } from '../atocore/backup-cli.js';
import { readContextAnswer } from '../atocore/drill/checks.js';
import { DrillTarget } from '../atocore/drill/target.js';
import { stampTime, type SnapshotStamp } from '../atocore/stamp.js';
import { describeProcessResult } from '../common/child-process.js';
import { Deadline } from '../common/deadline.js';
import { formatDuration } from '../common/duration.js';
import { UsageError } from '../common/errors.js';
import { StepFinding } from '../engine/classification.js';
import { PlannedRun } from '../engine/planned-run.js';
import { waitPastSecond } from '../engine/clock.js';
import type { DrillObserver, PlanRun, StepOutcome } from '../engine/step-loop.js';
import { check, SERVICE_OUTPUT_MARK, type DrillReport } from '../report/model.js';
import { preparedRoot, type AtoCoreRuntime } from '../runtimes/types.js';
import { withDatabaseCopy } from '../sqlite/inspect.js';
import type { StoreContext } from '../validation/store.js';
import * as checks from './checks.js';
import { inspectRestoredDatabase, readSnapshotContents, registryProjects, type SnapshotContents } from './contents.js';
import { planRehearsal, type RehearsalStep, type RehearsalStepId } from './plan.js';
import { SnapshotSelector, type SelectedSnapshot } from './select.js';
import type { RehearsalSource } from './source.js';

/** Who watches a rehearsal: the steps, and the copy's progress. */
export interface RehearsalObserver extends DrillObserver {
  progress?(line: string): void;
}

export interface RehearsalOptions {
  readonly runtime: AtoCoreRuntime;
  /** opens where the snapshots are (a directory, or one SSH connection), within the run's budget */
  readonly openSource: (context: StoreContext) => Promise<RehearsalSource>;
  /** --stamp: rehearse this one (it must validate); null: the newest that validates */
  readonly stamp: SnapshotStamp | null;
  /** the deployment's sources root: documents recorded elsewhere came from another deployment */
  readonly sourcesRoot: string;
  readonly timeoutMs: number;
  /** how the run's user named it, for messages (default --timeout) */
  readonly timeoutName?: string;
  readonly signal: AbortSignal;
  readonly observer?: RehearsalObserver;
  /** more of the report's target (source, location, faults, …) */
  readonly target: Record<string, unknown>;
  readonly nowMs?: number;
}

export async function runRehearsal(options: RehearsalOptions): Promise<DrillReport> {
  return new RehearsalRun(options).run();
}

const HTTP_TIMEOUT_MS = 60_000;

class RehearsalRun extends PlannedRun<RehearsalStepId> {
  private readonly options: RehearsalOptions;
  protected readonly plan: readonly RehearsalStep[] = planRehearsal();
  protected readonly deadline: Deadline;
  protected readonly signal: AbortSignal;
  protected readonly serviceName = 'AtoCore';
  private readonly runtime: AtoCoreRuntime;
  private readonly target: DrillTarget;
  private readonly metrics: DrillReport['metrics'] = { rto_ms: null, restore_ms: null, rpo_s: null, copy_ms: null, snapshot_bytes: null };
  private source: RehearsalSource | undefined;
  private selected: SelectedSnapshot | undefined;
  private where: string | null = null;
  private contents: SnapshotContents | undefined;
  private restoreStartedAt: number | null = null;
  private usageError: UsageError | undefined;

  protected readonly actions: Record<RehearsalStepId, () => Promise<string>> = {
    select: () => this.select(),
    inspect: () => this.inspect(),
    restore: () => this.restore(),
    start: () => this.start(),
    verify: () => this.verify(),
    teardown: () => this.tearDown(),
  };

  constructor(options: RehearsalOptions) {
    super();
    this.options = options;
    this.signal = options.signal;
    this.deadline = new Deadline(options.timeoutMs, options.timeoutName);
    this.runtime = options.runtime;
    this.target = new DrillTarget(options.runtime, this.deadline, options.signal);
  }

  async run(): Promise<DrillReport> {
    const { run, startedAt } = await this.runSteps(this.options.observer);
    // bad input found on the way (a root without snapshots, an unknown stamp or host key): exit 2, after the teardown
    if (this.usageError) throw this.usageError;
    return this.report(run, startedAt);
  }

  // ---- the loop's view of a step

  protected diskRoot(): string | null {
    return preparedRoot(this.runtime);
  }

  protected override failure(step: RehearsalStep, error: unknown): StepOutcome {
    if (error instanceof UsageError && !this.options.signal.aborted) this.usageError ??= error;
    // the service's log only where the service ran
    return super.failure(step, error, SERVICE_STEPS.has(step.id) ? `${SERVICE_OUTPUT_MARK}${this.runtime.recentLogs().slice(-2_000)}` : undefined);
  }

  private get context(): StoreContext {
    return { deadline: this.deadline, signal: this.options.signal };
  }

  // ---- the steps, in plan order

  private async select(): Promise<string> {
    await this.runtime.prepare();
    const layout = this.runtime.layout;
    this.source = await this.options.openSource(this.context);
    this.where = this.source.store.where;
    try {
      const selection = await new SnapshotSelector({
        source: this.source,
        context: this.context,
        copyInto: layout.snapshotsDir,
        // inside the throwaway root: removed with it, whatever ends the run
        scratchDir: await this.scratchDir(),
        nowMs: this.options.nowMs ?? Date.now(),
        ...(this.options.observer?.progress ? { progress: (line: string) => this.options.observer!.progress!(line) } : {}),
      }).select(this.options.stamp);
      const chosen = selection.chosen;
      const result = checks.snapshotCheck({
        chosen: chosen ? { stamp: chosen.stamp, files: chosen.files, bytes: chosen.bytes, warnings: chosen.warnings } : null,
        passedOver: selection.passedOver,
        requested: this.options.stamp,
        where: this.source.store.where,
        snapshots: selection.snapshots,
      });
      this.record(result);
      if (!chosen) throw new StepFinding(result.message);
      this.selected = chosen;
      this.metrics.copy_ms = chosen.copyMs;
      this.metrics.snapshot_bytes = chosen.bytes;
      const takenAt = chosen.createdAtMs ?? stampTime(chosen.stamp);
      this.metrics.rpo_s = Math.max(0, Math.round(((this.options.nowMs ?? Date.now()) - takenAt) / 1000));
      // the service user (the container's) restores and serves these files
      for (const entry of [{ path: '' }, ...chosen.copied]) await this.runtime.handOver(join(chosen.dir, entry.path));
      return `${chosen.stamp} copied from ${this.source.store.where} into ${chosen.dir} (${chosen.files} files, ${chosen.bytes} bytes in ${formatDuration(chosen.copyMs)})`;
    } finally {
      // the source is not needed past the copy: one connection, held no longer than that
      await this.closeSource();
    }
  }

  private async inspect(): Promise<string> {
    const chosen = this.requireSelected();
    const projects = registryProjects(chosen.registry?.ok ? chosen.registry.data : null);
    if (projects === null) throw new StepFinding(`the registry of ${chosen.stamp} is not {"projects": [...]}`);
    const contents = await withDatabaseCopy(join(chosen.dir, 'db', 'atocore.db'), (db) => readSnapshotContents(db, projects, this.options.sourcesRoot), await this.scratchDir(), {
      deadline: this.deadline,
      signal: this.options.signal,
    });
    this.contents = contents;
    this.record(checks.deploymentCheck(contents.sourcePaths, this.options.sourcesRoot));
    const c = contents.counts;
    return `${c.documents} documents, ${c.chunks} chunks, ${c.memories} memories, ${projects.length} registered project(s)`;
  }

  private async restore(): Promise<string> {
    const chosen = this.requireSelected();
    const contents = this.requireContents();
    // AtoCore's pre-restore snapshot must not land in the second of the one being restored
    await waitPastSecond(stampTime(chosen.stamp), this.options.signal);
    this.restoreStartedAt = Date.now();
    const call = await this.target.backupCli(['restore', chosen.stamp, '--confirm-service-stopped']);
    this.metrics.restore_ms = call.result.durationMs;
    const answer = call.json as RestoreAnswer | undefined;
    if (call.result.exitCode !== 0 || !answer) {
      const tail = call.result.stderr.trim().split('\n').slice(-15).join('\n');
      const message = `AtoCore's restore ${chosen.stamp} --confirm-service-stopped did not complete (${describeProcessResult(call.result)})${tail ? `; its output ends:\n${tail}` : ''}`;
      this.record(check('rehearsal.integrity', 'fail', message, { exit_code: call.result.exitCode }));
      throw new StepFinding(message);
    }
    const inspection = await inspectRestoredDatabase(this.runtime.layout.dbPath, await this.scratchDir(), { deadline: this.deadline, signal: this.options.signal });
    this.record(checks.restoredIntegrityCheck(inspection, contents.tableRows));
    return `restored ${chosen.stamp} in ${formatDuration(call.result.durationMs)}; pre-restore snapshot ${String(answer.pre_restore_snapshot)}`;
  }

  private async start(): Promise<string> {
    const started = await this.target.startOrFinding();
    if ('finding' in started) {
      this.record(checks.healthCheck(null, started.finding, this.runtime.recentLogs()));
      throw new StepFinding(`AtoCore did not come up on the restored snapshot: ${started.finding}`);
    }
    if (this.restoreStartedAt !== null) this.metrics.rto_ms = Date.now() - this.restoreStartedAt - this.target.lostStartMs;
    const health = await this.target.api().call('GET', '/health', undefined, HTTP_TIMEOUT_MS);
    this.record(checks.healthCheck(health, null, this.runtime.recentLogs()));
    return `healthy at ${started.url}; restore to healthy in ${formatDuration(this.metrics.rto_ms ?? 0)}`;
  }

  // the restored service answering with an error is a finding about the snapshot's restore, not infrastructure
  private async verify(): Promise<string> {
    const contents = this.requireContents();
    const api = this.target.api();
    this.record(checks.statsCheck(await api.call('GET', '/stats', undefined, HTTP_TIMEOUT_MS), contents.counts));
    this.record(checks.projectsCheck(await api.call('GET', '/projects', undefined, HTTP_TIMEOUT_MS), contents.probes.map((p) => p.project)));
    const answers: checks.ProjectContext[] = [];
    for (const probe of contents.probes) {
      const answer = await api.call('POST', '/context/build', { prompt: probe.prompt, project: probe.project }, HTTP_TIMEOUT_MS);
      const result = readContextAnswer(probe, answer, contents.owners);
      // a context pack larger than the client reads has no budget worth the name: say so, not "no chunks_used"
      answers.push({ result: answer.truncated ? { ...result, error: `the answer is larger than the ${answer.text.length} bytes the harness reads` } : result, chunksInSnapshot: probe.chunksInSnapshot });
    }
    this.record(checks.contextCheck(answers));
    return `answered /stats, /projects and /context/build for ${contents.probes.length} project(s)`;
  }

  private async tearDown(): Promise<string> {
    await this.closeSource();
    await this.runtime.dispose(false);
    return 'removed the copy and the throwaway root';
  }

  // ---- pieces

  private async closeSource(): Promise<void> {
    const source = this.source;
    this.source = undefined;
    await source?.close();
  }

  private scratch: string | undefined;
  private async scratchDir(): Promise<string> {
    if (!this.scratch) {
      this.scratch = join(this.runtime.layout.root, 'rehearsal-scratch');
      await mkdir(this.scratch, { recursive: true, mode: 0o700 });
    }
    return this.scratch;
  }

  private requireSelected(): SelectedSnapshot {
    if (!this.selected) throw new Error('internal: no snapshot selected');
    return this.selected;
  }

  private requireContents(): SnapshotContents {
    if (!this.contents) throw new Error('internal: the snapshot was not read');
    return this.contents;
  }

  // ---- the report

  private report(run: PlanRun, startedAt: Date): DrillReport {
    return this.reportOf(run, startedAt, 'rehearsal', {
      kind: 'rehearse',
      target: {
        runtime: this.runtime.kind,
        image: this.runtime.image,
        backup_stamp: this.selected?.stamp ?? null,
        ...this.options.target,
        ...(this.where ? { where: this.where } : {}),
        sources_root: this.options.sourcesRoot,
        time_budget: formatDuration(this.options.timeoutMs),
      },
      metrics: this.metrics,
    });
  }
}

/** Steps during which the throwaway AtoCore runs: its output says something about them. */
const SERVICE_STEPS: ReadonlySet<string> = new Set(['start', 'verify']);
