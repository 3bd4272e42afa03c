import { lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { BackupMetadata, RestoreAnswer } from '../backup-cli.js';
import { isSnapshotStamp, stampTime, type SnapshotStamp } from '../stamp.js';
import type { HttpAnswer } from '../client.js';
import { describeProcessResult } from '../../common/child-process.js';
import { Deadline } from '../../common/deadline.js';
import { formatDuration } from '../../common/duration.js';
import { InfrastructureError, errorMessage } from '../../common/errors.js';
import { preparedRoot, type AtoCoreRuntime } from '../../runtimes/types.js';
import { fingerprintOf, memoriesWithContent, withLiveDatabase, type DbFingerprint, type DbInspection } from '../../sqlite/inspect.js';
import * as checks from './checks.js';
import { StepFinding } from '../../engine/classification.js';
import { PlannedRun } from '../../engine/planned-run.js';
import { waitPastSecond } from '../../engine/clock.js';
import { hashTree, isHarnessReadError, pathExists, sha256File, treeDifferences, statTree } from '../../engine/files.js';
import { markersFor, newRunId, registryProjectIds, writeMarker, type Marker } from './markers.js';
import { planDrill, type DrillStepId, type PlannedStep } from './plan.js';
import { checkpointSeed, insertSeedRows, postSeedMemories, writeSeedFiles, type Seed } from './seed.js';
import { generateSeedRows, type GeneratedSeed } from './seed-generator.js';
import type { DrillObserver, PlanRun, StepOutcome } from '../../engine/step-loop.js';
import { CorruptionScratch, DEFAULT_COPY_LIMITS } from '../../engine/corruptions.js';
import type { DrillName } from '../../engine/drill-names.js';
import { judgeDryRun, judgeRotation, retentionPromise } from '../../engine/rotation.js';
import { judgeVerification, verificationNotEvidence, verifierAnswer, type CorruptedCopyAnswer, type VerifierAnswer } from '../../engine/verification.js';
import { ownWriteAsync } from '../../engine/own-writes.js';
import { handOverTree, restampMetadata } from './snapshot-copies.js';
import { ATOCORE_CORRUPTIONS, ATOCORE_RETENTION, FOREIGN_DIRECTORY, readValidateAnswer, rotationStamps, type AtoCoreCorruption } from './beyond-restore.js';

import { DrillTarget } from './target.js';
import { check, SERVICE_OUTPUT_MARK, type DrillReport } from '../../report/model.js';

export interface DrillOptions {
  readonly runtime: AtoCoreRuntime;
  readonly seed: Seed;
  /** generated rows on top of the seed until the database holds about this many bytes (seed-generator.ts) */
  readonly seedSizeBytes?: number;
  readonly includeChroma: boolean;
  /** keep the data root (and the service stopped) for inspection */
  readonly keep: boolean;
  /** the whole drill's budget (--timeout) */
  readonly timeoutMs: number;
  /** how the run's user named it, for messages (default --timeout) */
  readonly timeoutName?: string;
  readonly signal?: AbortSignal;
  readonly faults?: readonly string[];
  readonly observer?: DrillObserver;
  readonly runId?: string;
  /** the migration rollback drill: the runtime starts with `fromImage`, upgrades to `toImage`, rolls back */
  readonly migration?: { readonly fromImage: string; readonly toImage: string };
  /** the run's budget, when it is shared with more than this drill; default: a new one of timeoutMs */
  readonly deadline?: Deadline;
  /** which drills (default: restore): rotation and verification run after the restore drill, or after a backup of their own */
  readonly drills?: readonly DrillName[];
}

export { StepFinding };
export type { DrillObserver };

const BACKUP_TIMEOUT_MS = 10 * 60_000;

/** Runs the plan: backup → mutate → stop → restore → start → verify, and tears down whatever happens. */
export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  return new DrillRun(options).run();
}

/** What the drill learnt of the backup it made. */
interface BackupFacts {
  stamp: SnapshotStamp | null;
  /** when AtoCore says the backup was made (ms), for the RPO */
  createdAt: number | null;
  markerAInSnapshot: boolean;
}

/** The live state just after the backup, which the restore must bring back. */
interface Baseline {
  readonly db: DbFingerprint;
  readonly registrySha256: string;
  readonly chroma: Record<string, string>;
}

/** What the confirmed restore left and said. */
interface RestoredFacts {
  readonly inspection: DbInspection;
  readonly answer: RestoreAnswer;
}

/** The live database just before the confirmed restore, which its pre-restore snapshot must hold. */
interface BeforeRestore {
  readonly inspection: DbInspection;
  readonly markerB: boolean;
  readonly modes: Map<string, number>;
}

/** One drill: the plan's steps as methods over what the run has learnt so far. */
class DrillRun extends PlannedRun<DrillStepId> {
  private readonly options: DrillOptions;
  protected readonly plan: readonly PlannedStep[];
  protected readonly deadline: Deadline;
  protected readonly signal: AbortSignal | undefined;
  protected readonly serviceName = 'AtoCore';
  private readonly runtime: AtoCoreRuntime;
  private readonly target: DrillTarget;
  private readonly runId: string;
  /** the rows --seed-size added (null: the seed alone) */
  private generated: GeneratedSeed | null = null;
  private readonly markers: { readonly a: Marker; readonly b: Marker };
  private readonly metrics: DrillReport['metrics'] = { rto_ms: null, restore_ms: null, rpo_s: null };
  private readonly backupFacts: BackupFacts = { stamp: null, createdAt: null, markerAInSnapshot: false };
  /** the newest moment a snapshot may carry as its stamp: the next one must come a second later */
  private lastSnapshotMoment = 0;
  private baseline: Baseline | undefined;
  private markerBLive = false;
  private stopStartedAt: number | null = null;
  private restored: RestoredFacts | undefined;

  /** each step's action; its detail when it passes */
  protected readonly actions: Record<DrillStepId, () => Promise<string>> = {
    start: () => this.start(),
    seed: () => this.seed(),
    marker_a: () => this.writeMarkerA(),
    backup: () => this.backUp(),
    baseline: () => this.recordBaseline(),
    upgrade: () => this.upgrade(),
    marker_b: () => this.writeMarkerB(),
    stop: () => this.stop(),
    restore_unconfirmed: () => this.restoreUnconfirmed(),
    restore: () => this.restore(),
    restart: () => this.restart(),
    verify_service: () => this.verifyService(),
    verification: () => this.verifyBackups(),
    rotation: () => this.rotate(),
    teardown: () => this.tearDown(),
  };

  constructor(options: DrillOptions) {
    super();
    this.options = options;
    this.signal = options.signal;
    if (options.migration && !options.runtime.useImage) throw new Error('the migration drill needs a runtime with images');
    this.plan = planDrill({ includeChroma: options.includeChroma, migration: options.migration !== undefined, ...(options.drills ? { drills: options.drills } : {}) });
    this.deadline = options.deadline ?? new Deadline(options.timeoutMs, options.timeoutName);
    this.runtime = options.runtime;
    this.target = new DrillTarget(options.runtime, this.deadline, options.signal);
    this.runId = options.runId ?? newRunId();
    this.markers = markersFor(this.runId);
  }

  async run(): Promise<DrillReport> {
    const { run, startedAt } = await this.runSteps(this.options.observer);
    return this.report(run, startedAt);
  }

  // ---- the loop's view of a step

  protected diskRoot(): string | null {
    return preparedRoot(this.runtime);
  }

  /** The backup CLI's own output is in the finding; the service's log only where the service ran. */
  protected override failure(step: PlannedStep, error: unknown): StepOutcome {
    return super.failure(step, error, SERVICE_STOPPED_STEPS.has(step.id) ? undefined : `${SERVICE_OUTPUT_MARK}${this.runtime.recentLogs().slice(-2_000)}`);
  }

  // ---- the steps, in plan order

  private async start(): Promise<string> {
    await this.runtime.prepare();
    return `healthy at ${await this.target.start()}, data root ${this.runtime.layout.root}`;
  }

  private async seed(): Promise<string> {
    const seed = this.options.seed;
    await writeSeedFiles(seed, this.runtime);
    insertSeedRows(seed, this.runtime.layout.dbPath);
    const size = this.options.seedSizeBytes;
    if (size !== undefined) this.generated = generateSeedRows(this.runtime.layout.dbPath, size, seed.registry.projects);
    await postSeedMemories(seed, this.target.api());
    checkpointSeed(this.runtime.layout.dbPath);
    const generated = this.generated ? `; generated: ${this.generated.documents} documents, ${this.generated.chunks} chunks, ${this.generated.interactions} interactions (${(this.generated.bytes / 1e6).toFixed(0)} MB database)` : '';
    return `${seed.registry.projects.length} projects, ${seed.documents.length} documents, ${seed.chunkCount} chunks, ${seed.memories.length} memories${seed.chromaDir ? ', Chroma files' : ''}${generated}`;
  }

  private async writeMarkerA(): Promise<string> {
    await writeMarker(this.markers.a, this.target.api(), this.runtime, this.options.includeChroma);
    return `"${this.markers.a.memoryContent}"`;
  }

  private async backUp(): Promise<string> {
    const requestedAtMs = Date.now();
    const answer = await this.requestBackup();
    const window = { requestedAtMs, answeredAtMs: Date.now() };
    const stamp = await this.judgeBackupCreated(answer, window);
    this.backupFacts.createdAt = checks.backupMoment(answer, stamp, window.requestedAtMs, window.answeredAtMs).ms;
    this.lastSnapshotMoment = Math.max(stampTime(stamp), Date.now());
    // the harness's own look first, while the snapshot is exactly as AtoCore wrote it
    const inspection = await this.target.inspect(this.target.snapshotDbPath(stamp), (db) => {
      this.backupFacts.markerAInSnapshot = memoriesWithContent(db, this.markers.a.memoryContent).length > 0;
    });
    this.record(checks.independentIntegrityCheck(inspection, stamp));
    const validation = await this.target.backupCli(['validate', stamp]);
    this.record(checks.backupValidCheck(validation, stamp));
    return `snapshot ${stamp}`;
  }

  private async recordBaseline(): Promise<string> {
    const layout = this.runtime.layout;
    const db = withLiveDatabase(layout.dbPath, fingerprintOf);
    this.baseline = {
      db,
      registrySha256: await sha256File(layout.registryPath),
      chroma: this.options.includeChroma ? await hashTree(layout.chromaDir) : {},
    };
    const rows = Object.values(db.tables).reduce((sum, t) => sum + t.rows, 0);
    return `${Object.keys(db.tables).length} tables, ${rows} rows, content ${db.contentSha256.slice(0, 12)}`;
  }

  private async upgrade(): Promise<string> {
    const migration = this.options.migration;
    if (!migration || !this.baseline) throw new Error('upgrade without a migration plan or a baseline');
    await this.target.stop();
    this.runtime.useImage!(migration.toImage);
    const upgraded = await this.target.startOrFinding();
    if ('finding' in upgraded) {
      this.record(checks.upgradeHealthyCheck(migration.toImage, upgraded.finding, this.runtime.recentLogs()));
      throw new StepFinding(`the new image ${migration.toImage} did not come up on the old data: ${upgraded.finding}`);
    }
    this.record(checks.upgradeHealthyCheck(migration.toImage, null, ''));
    const old = this.baseline.db;
    const [migrated, oldColumns] = withLiveDatabase(this.runtime.layout.dbPath, (db) => [fingerprintOf(db), fingerprintOf(db, old)] as const);
    this.record(checks.schemaAdditiveCheck(old, migrated));
    this.record(checks.dataPreservedCheck(old, oldColumns));
    return `${migration.toImage} healthy on the data of ${migration.fromImage}`;
  }

  private async writeMarkerB(): Promise<string> {
    await writeMarker(this.markers.b, this.target.api(), this.runtime, this.options.includeChroma);
    if (!this.liveDatabaseHas(this.markers.b)) throw new StepFinding('marker B was accepted by POST /memory but is not in the database');
    this.markerBLive = true;
    return `"${this.markers.b.memoryContent}"`;
  }

  private async stop(): Promise<string> {
    const migration = this.options.migration;
    const stopStartedAt = Date.now();
    this.stopStartedAt = stopStartedAt;
    const createdAt = this.backupFacts.createdAt;
    if (createdAt !== null && !Number.isNaN(createdAt)) this.metrics.rpo_s = Math.round((stopStartedAt - createdAt) / 1000);
    await this.target.stop();
    // the rollback: A's tools restore A's snapshot, and A boots again
    if (migration) this.runtime.useImage!(migration.fromImage);
    return `stopped in ${formatDuration(Date.now() - stopStartedAt)}${migration ? `; rolling back to ${migration.fromImage}` : ''}`;
  }

  private async restoreUnconfirmed(): Promise<string> {
    const stamp = requireStamp(this.backupFacts.stamp);
    // what any write changes, read in milliseconds whatever the data's size (statTree)
    const before = await statTree(this.runtime.layout.root);
    await waitPastSecond(this.lastSnapshotMoment, this.options.signal);
    const call = await this.target.backupCli(['restore', stamp]);
    this.lastSnapshotMoment = Math.max(this.lastSnapshotMoment, Date.now());
    const after = await statTree(this.runtime.layout.root);
    const result = checks.refusalCheck(call, treeDifferences(before, after));
    this.record(result);
    return result.message;
  }

  private async restore(): Promise<string> {
    const stamp = requireStamp(this.backupFacts.stamp);
    const before = await this.observeBeforeRestore();
    await waitPastSecond(this.lastSnapshotMoment, this.options.signal);
    const call = await this.target.backupCli(['restore', stamp, '--confirm-service-stopped', ...(this.options.includeChroma ? ['--chroma'] : [])]);
    this.metrics.restore_ms = call.result.durationMs;
    const answer = call.json as RestoreAnswer | undefined;
    if (call.result.exitCode !== 0 || !answer) {
      const tail = call.result.stderr.trim().split('\n').slice(-15).join('\n');
      throw new StepFinding(`restore ${stamp} --confirm-service-stopped did not complete (${describeProcessResult(call.result)})${tail ? `; its output ends:\n${tail}` : ''}`);
    }
    const restored = await this.judgeRestoredFiles(answer, before);
    await this.judgePreRestoreSnapshot(answer.pre_restore_snapshot, stamp, before);
    this.record(checks.markerPreBackupCheck(this.markers.a.memoryContent, this.backupFacts.markerAInSnapshot, restored.markerA));
    this.record(checks.markerPostBackupGoneCheck(this.markers.b.memoryContent, this.markerBLive, restored.markerB));
    await this.judgeRestoredRegistry(answer);
    await this.judgeRestoredStores(answer, restored.inspection);
    return `restored ${stamp} in ${formatDuration(call.result.durationMs)}; pre-restore snapshot ${String(answer.pre_restore_snapshot)}`;
  }

  private async restart(): Promise<string> {
    const restarted = await this.target.startOrFinding();
    if ('finding' in restarted) {
      this.record(checks.serviceHealthCheck(null, restarted.finding, this.runtime.recentLogs()));
      throw new StepFinding(`AtoCore did not come back on the restored data: ${restarted.finding}`);
    }
    if (this.stopStartedAt !== null) this.metrics.rto_ms = Date.now() - this.stopStartedAt - this.target.lostStartMs;
    const health = await this.target.api().call('GET', '/health');
    this.record(checks.serviceHealthCheck(health.status === 200 ? health : null, `GET /health answered ${health.status}`, this.runtime.recentLogs()));
    return `healthy again at ${restarted.url}; RTO ${formatDuration(this.metrics.rto_ms ?? 0)}`;
  }

  // the restored service answering with an error is a finding about the restore, not an infrastructure problem
  private async verifyService(): Promise<string> {
    const seed = this.options.seed;
    const api = this.target.api();
    const memories = this.restored?.inspection.fingerprint?.tables.memories?.rows ?? -1;
    const stats = await api.call('GET', '/stats');
    const expected = { documents: seed.documents.length + (this.generated?.documents ?? 0), chunks: seed.chunkCount + (this.generated?.chunks ?? 0), memories };
    this.record(
      stats.status === 200 && stats.body && typeof stats.body === 'object'
        ? checks.serviceStatsCheck(stats.body as Record<string, unknown>, expected)
        : check('service.stats', 'fail', `GET /stats answered HTTP ${stats.status}: ${stats.text.slice(0, 200)}`, { expected }),
    );
    const projects = await api.call('GET', '/projects');
    const registered = (await registryProjectIds(this.runtime.layout.registryPath)) ?? [];
    this.record(checks.serviceProjectsCheck(projects.status === 200 ? projects.body : null, registered, seed.registry.projects.map((p) => p.id)));
    this.record(checks.serviceContextCheck(await this.askContextProbes()));
    return 'answered /stats, /projects and /context/build';
  }

  /** AtoCore's validate on the snapshot and on copies of it with one corruption each (placed as stamps of their own, removed after). */
  private async verifyBackups(): Promise<string> {
    const stamp = requireStamp(this.backupFacts.stamp);
    const good = await this.askValidate(stamp);
    const corrupted: CorruptedCopyAnswer[] = [];
    if (good.said !== 'not_evidence') {
      const scratch = await CorruptionScratch.at(this.runtime.layout.snapshotsDir);
      for (const corruption of ATOCORE_CORRUPTIONS) {
        this.assertNotInterrupted();
        const answer = await this.validateCorruptedCopy(scratch, stamp, corruption);
        corrupted.push({ kind: corruption.kind, target: corruption.target, answer });
        // an interrupt or the budget ends every later call the same way
        if (answer.said === 'not_evidence') break;
      }
    }
    const observation = { good, corrupted };
    for (const result of judgeVerification(observation)) this.record(result);
    const why = verificationNotEvidence(observation);
    if (why) throw new InfrastructureError(why);
    // the seed gives AtoCore a registry and a database: a snapshot without one is a backup that lost it
    const lacking = corrupted.find((copy) => copy.answer.said === 'not_asked');
    if (lacking) throw new StepFinding(`${lacking.answer.detail}, which the live data root has: the backup left it out`);
    const caught = corrupted.filter((copy) => copy.answer.said === 'rejected').length;
    return `validate ${good.said} the snapshot and rejected ${caught} of ${corrupted.length} corrupted copies`;
  }

  private async validateCorruptedCopy(scratch: CorruptionScratch, stamp: SnapshotStamp, corruption: AtoCoreCorruption): Promise<VerifierAnswer> {
    if (!(await pathExists(join(this.target.snapshotDir(stamp), corruption.target)))) {
      return { said: 'not_asked', detail: `the snapshot ${stamp} holds no ${corruption.target} to corrupt` };
    }
    const copy = await scratch.copyOf(this.target.snapshotDir(stamp), corruption.stamp, VERIFICATION_COPY_LIMITS);
    try {
      const did = await scratch.corrupt(corruption.kind, join(copy, corruption.target));
      await handOverTree(this.runtime, copy);
      const answer = await this.askValidate(corruption.stamp);
      return { ...answer, detail: `${answer.detail} (copy ${corruption.stamp}: ${corruption.target} ${did})` };
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  }

  /** What `validate STAMP` said, or why its call is no answer. */
  private async askValidate(stamp: SnapshotStamp): Promise<VerifierAnswer> {
    const { call, boundName } = await this.target.backupCliCall(['validate', stamp]);
    return verifierAnswer(call.result, `validate ${stamp}`, () => readValidateAnswer(call), boundName);
  }

  /**
   * Rotation: copies of the snapshot stamped across 220 days and a directory that is not a
   * snapshot; `cleanup` as a dry run (must change nothing), then confirmed; what is left is
   * judged against what AtoCore's policy promises for the stamps that were there.
   */
  private async rotate(): Promise<string> {
    const stamp = requireStamp(this.backupFacts.stamp);
    const snapshots = this.runtime.layout.snapshotsDir;
    const now = Date.now();
    const made = await this.makeOldSnapshots(stamp, now);
    const before = await entryNames(snapshots);
    const backups = before.filter(isSnapshotStamp).map((name) => ({ name, time: stampTime(name) }));
    const promise = retentionPromise(ATOCORE_RETENTION, backups, now);
    const treeBefore = await hashTree(snapshots);
    const dry = await this.target.backupCli(['cleanup']);
    const rootAfterDryRun = await isDirectory(snapshots);
    this.record(judgeDryRun(treeDifferences(treeBefore, rootAfterDryRun ? await hashTree(snapshots) : {}), rootAfterDryRun));
    if (dry.result.exitCode !== 0) throw new StepFinding(`cleanup (dry run) did not complete (${describeProcessResult(dry.result)}): ${lastLine(dry.result.stderr)}`);
    const confirmed = await this.target.backupCli(['cleanup', '--confirm']);
    const rootSurvived = await isDirectory(snapshots);
    const survivors = rootSurvived ? await entryNames(snapshots) : [];
    const judged = judgeRotation({
      backups: backups.map((backup) => ({ name: backup.name, ageDays: Math.round(((now - backup.time) / 86_400_000) * 10) / 10 })),
      promised: promise.promised,
      expired: promise.expired,
      newest: promise.newest,
      foreign: before.filter((name) => !isSnapshotStamp(name)),
      rootSurvived,
      survivors,
    });
    for (const result of judged) this.record(result);
    if (confirmed.result.exitCode !== 0) throw new StepFinding(`cleanup --confirm did not complete (${describeProcessResult(confirmed.result)}): ${lastLine(confirmed.result.stderr)}`);
    const left = survivors.filter(isSnapshotStamp).length;
    return `made ${made} old snapshots; of ${backups.length} snapshots cleanup kept ${left} (the policy promises ${promise.promised.length})`;
  }

  /** Copies of the snapshot under old stamps (their metadata's time and paths made to match), and the foreign directory. */
  private async makeOldSnapshots(stamp: SnapshotStamp, now: number): Promise<number> {
    const scratch = await CorruptionScratch.at(this.runtime.layout.snapshotsDir);
    const stamps = rotationStamps(now).filter((old) => old !== stamp);
    for (const old of stamps) {
      this.assertNotInterrupted();
      const copy = await scratch.copyOf(this.target.snapshotDir(stamp), old, ROTATION_COPY_LIMITS);
      await restampMetadata(join(copy, 'backup-metadata.json'), stamp, old);
      await handOverTree(this.runtime, copy);
    }
    const foreign = join(this.runtime.layout.snapshotsDir, FOREIGN_DIRECTORY);
    await ownWriteAsync(foreign, 'making a directory that is not a snapshot', () => mkdir(foreign));
    await this.runtime.handOver(foreign);
    return stamps.length;
  }

  private async tearDown(): Promise<string> {
    await this.runtime.dispose(this.options.keep);
    return this.options.keep ? `kept ${this.runtime.layout.root}` : 'removed everything the drill created';
  }

  // ---- the backup's pieces

  /** AtoCore's answer to POST /admin/backup; an answer that is not a JSON object fails backup.created. */
  private async requestBackup(): Promise<BackupMetadata> {
    const reply = await this.target.api().call('POST', '/admin/backup', { include_chroma: this.options.includeChroma }, BACKUP_TIMEOUT_MS);
    if (reply.status >= 200 && reply.status < 300 && reply.body !== null && typeof reply.body === 'object') return reply.body as BackupMetadata;
    const failed = check('backup.created', 'fail', `POST /admin/backup ${whyNotABackup(reply)}: ${reply.text.slice(0, 300).replace(/\s*\n\s*/g, ' ')}`, {
      status: reply.status,
      answer_head: reply.text.slice(0, 2_000),
    });
    this.record(failed);
    throw new StepFinding(failed.message);
  }

  /** backup.created, from the answer and what is on disk; the snapshot's stamp, or a finding. */
  private async judgeBackupCreated(answer: BackupMetadata, window: { requestedAtMs: number; answeredAtMs: number }): Promise<SnapshotStamp> {
    const includeChroma = this.options.includeChroma;
    const name = typeof answer.backup_root === 'string' ? basename(answer.backup_root.replace(/\/+$/, '')) : '';
    const stamp = isSnapshotStamp(name) ? name : null;
    this.backupFacts.stamp = stamp;
    const dir = stamp ? this.target.snapshotDir(stamp) : null;
    const dbBytes = stamp ? await stat(this.target.snapshotDbPath(stamp)).then((s) => s.size, () => null) : null;
    const chromaFiles = dir && includeChroma ? Object.keys(await hashTree(join(dir, 'chroma'))).length : null;
    const created = checks.backupCreatedCheck({
      answer,
      stamp,
      snapshotDir: dir,
      metadataOnDisk: dir ? await pathExists(join(dir, 'backup-metadata.json')) : false,
      dbBytesOnDisk: dbBytes,
      chromaRequested: includeChroma,
      chromaFilesOnDisk: chromaFiles,
      ...window,
    });
    this.record(created);
    if (!stamp) throw new StepFinding(created.message);
    return stamp;
  }

  // ---- the restore's pieces

  private async observeBeforeRestore(): Promise<BeforeRestore> {
    const layout = this.runtime.layout;
    // B may already be gone here if the unconfirmed restore did not refuse; the pre-restore
    // snapshot is judged against this state, marker.post_backup_gone against B having been live
    let markerB = false;
    const inspection = await this.target.inspect(layout.dbPath, (db) => {
      markerB = memoriesWithContent(db, this.markers.b.memoryContent).length > 0;
    });
    return { inspection, markerB, modes: await fileModes([layout.dbPath, layout.registryPath]) };
  }

  /** restore.integrity and restore.ownership; the restored database and which markers it holds. */
  private async judgeRestoredFiles(answer: RestoreAnswer, before: BeforeRestore): Promise<{ inspection: DbInspection; markerA: boolean; markerB: boolean }> {
    const layout = this.runtime.layout;
    let markerA = false;
    let markerB = false;
    const inspection = await this.target.inspect(layout.dbPath, (db) => {
      markerA = memoriesWithContent(db, this.markers.a.memoryContent).length > 0;
      markerB = memoriesWithContent(db, this.markers.b.memoryContent).length > 0;
    });
    this.restored = { inspection, answer };
    this.record(checks.restoreIntegrityCheck(inspection, answer));
    const chromaFiles = this.options.includeChroma ? Object.keys(await hashTree(layout.chromaDir)).map((f) => join(layout.chromaDir, f)) : [];
    const owned = await ownedFiles([layout.dbPath, layout.registryPath, ...chromaFiles], before.modes);
    this.record(checks.restoreOwnershipCheck(owned, this.runtime.serviceOwner()));
    return { inspection, markerA, markerB };
  }

  /** restore.pre_restore_snapshot: the snapshot the restore says it took must hold the state it replaced. */
  private async judgePreRestoreSnapshot(reported: unknown, backupStamp: SnapshotStamp, before: BeforeRestore): Promise<void> {
    let inspection: DbInspection | null = null;
    let markerBInSnapshot = false;
    const exists = typeof reported === 'string' && isSnapshotStamp(reported) && (await pathExists(this.target.snapshotDbPath(reported)));
    if (exists) {
      inspection = await this.target.inspect(this.target.snapshotDbPath(reported), (db) => {
        markerBInSnapshot = memoriesWithContent(db, this.markers.b.memoryContent).length > 0;
      });
    }
    this.record(
      checks.preRestoreSnapshotCheck({ reported, backupStamp, snapshotExists: exists, inspection, before: before.inspection.fingerprint, markerBBefore: before.markerB, markerBInSnapshot }),
    );
  }

  private async judgeRestoredRegistry(answer: RestoreAnswer): Promise<void> {
    const registryPath = this.runtime.layout.registryPath;
    const restoredSha256 = await sha256File(registryPath).catch((error: unknown) => {
      // a missing registry is the restore's doing; a file the harness cannot read is not
      if (isHarnessReadError(error)) throw new InfrastructureError(`reading the restored registry ${registryPath}: ${errorMessage(error)}`);
      return null;
    });
    this.record(
      checks.registryRestoredCheck({
        baselineSha256: this.baseline?.registrySha256 ?? null,
        restoredSha256,
        markerAId: this.markers.a.registryId,
        markerBId: this.markers.b.registryId,
        restoredIds: await registryProjectIds(registryPath),
        reported: answer.registry_restored,
      }),
    );
  }

  /** chroma.restored, baseline.intact and (rolling back) migration.schema_restored. */
  private async judgeRestoredStores(answer: RestoreAnswer, inspection: DbInspection): Promise<void> {
    const baseline = this.baseline;
    if (this.options.includeChroma) {
      const chroma = await hashTree(this.runtime.layout.chromaDir);
      this.record(checks.chromaRestoredCheck(baseline?.chroma ?? {}, chroma, this.markers.a.chromaFile, this.markers.b.chromaFile, answer.chroma_restored));
    }
    if (baseline) this.record(checks.baselineIntactCheck(baseline.db, inspection.fingerprint));
    if (this.options.migration && baseline) this.record(checks.schemaRestoredCheck(baseline.db, inspection.fingerprint));
  }

  // ---- the restored service's pieces

  private async askContextProbes(): Promise<checks.ContextProbeResult[]> {
    const seed = this.options.seed;
    const owners = checks.sourceOwnersOf(seed.documents, seed.registry.projects);
    const probes: checks.ContextProbeResult[] = [];
    for (const probe of seed.probes) {
      const answer = await this.target.api().call('POST', '/context/build', { prompt: probe.prompt, project: probe.project });
      probes.push(checks.readContextAnswer(probe, answer, owners));
    }
    return probes;
  }

  private liveDatabaseHas(marker: Marker): boolean {
    return withLiveDatabase(this.runtime.layout.dbPath, (db) => memoriesWithContent(db, marker.memoryContent).length > 0);
  }

  // ---- the report

  private report(run: PlanRun, startedAt: Date): DrillReport {
    const { options, runtime } = this;
    const migration = options.migration;
    return this.reportOf(run, startedAt, 'drill', {
      kind: 'drill',
      target: {
        runtime: runtime.kind,
        image: migration ? migration.toImage : runtime.image,
        ...(migration ? { from_image: migration.fromImage } : {}),
        backup_stamp: this.backupFacts.stamp,
        include_chroma: options.includeChroma,
        faults: options.faults ?? [],
        ...(options.drills ? { drills: [...options.drills] } : {}),
        run_id: this.runId,
        ...(options.keep ? { data_root: runtime.layout.root } : {}),
      },
      metrics: this.metrics,
    });
  }
}

function whyNotABackup(reply: HttpAnswer): string {
  if (reply.status < 200 || reply.status >= 300) return `answered HTTP ${reply.status}`;
  return reply.truncated ? 'answered more than the client reads' : 'did not answer a JSON object';
}

async function fileModes(paths: readonly string[]): Promise<Map<string, number>> {
  const modes = new Map<string, number>();
  for (const path of paths) {
    const info = await stat(path).catch(() => null);
    if (info) modes.set(path, info.mode & 0o7777);
  }
  return modes;
}

async function ownedFiles(paths: readonly string[], modesBefore: Map<string, number>): Promise<checks.OwnedFile[]> {
  const files: checks.OwnedFile[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => null);
    if (info) files.push({ path, uid: info.uid, gid: info.gid, mode: info.mode & 0o7777, modeBefore: modesBefore.get(path) ?? null });
  }
  return files;
}

/** The names in a directory (empty when it is gone). */
async function entryNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new InfrastructureError(`listing ${dir}: ${errorMessage(error)}`);
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return (await pathExists(path)) && (await lstat(path)).isDirectory();
}

/** Rotation makes ~40 copies of the snapshot, verification 3, one at a time: bounds that keep a drill's disk use sane. */
const ROTATION_COPY_LIMITS = { ...DEFAULT_COPY_LIMITS, maxBytes: 256 * 1024 ** 2 };
const VERIFICATION_COPY_LIMITS = { ...DEFAULT_COPY_LIMITS, maxBytes: 2 * 1024 ** 3 };

function lastLine(text: string): string {
  return (text.trim().split('\n').at(-1) ?? '').slice(0, 300);
}

function requireStamp(stamp: SnapshotStamp | null): SnapshotStamp {
  if (!stamp) throw new StepFinding('no backup stamp to restore');
  return stamp;
}

/** Steps during which the service is stopped: its log says nothing about them. */
const SERVICE_STOPPED_STEPS: ReadonlySet<string> = new Set(['restore_unconfirmed', 'restore']);
