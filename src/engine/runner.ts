import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AtoCoreClient } from '../atocore/client.js';
import { callBackupCli, type BackupMetadata, type RestoreAnswer } from '../atocore/backup-cli.js';
import { isSnapshotStamp, stampTime, type SnapshotStamp } from '../atocore/stamp.js';
import { describeProcessResult } from '../common/child-process.js';
import { Deadline } from '../common/deadline.js';
import { formatDuration } from '../common/duration.js';
import { InfrastructureError, errorMessage } from '../common/errors.js';
import type { AtoCoreRuntime } from '../runtimes/types.js';
import type { SqliteDatabase } from '../sqlite/open.js';
import { fingerprintOf, inspectDatabaseFile, memoriesWithContent, withLiveDatabase, type DbFingerprint, type DbInspection } from '../sqlite/inspect.js';
import * as checks from './checks.js';
import { isExpectedError, isServiceStartFinding, requireEvidence, stepStatusFor, StepFinding } from './classification.js';
import { waitPastSecond } from './clock.js';
import { hashTree, isHarnessReadError, pathExists, sha256File, treeDifferences } from './files.js';
import { markersFor, newRunId, registryProjectIds, writeMarker } from './markers.js';
import { planDrill, plannedCheckIds, type DrillStepId, type PlannedStep } from './planner.js';
import { checkpointSeed, insertSeedRows, postSeedMemories, writeSeedFiles, type Seed } from './seed.js';
import { check, SERVICE_OUTPUT_MARK, type CheckResult, type DrillReport, type StepRecord } from '../report/model.js';
import { decideVerdict } from '../report/verdict.js';

export interface DrillObserver {
  stepStarted?(step: PlannedStep): void;
  stepFinished?(record: StepRecord, checks: readonly CheckResult[]): void;
}

export interface DrillOptions {
  readonly runtime: AtoCoreRuntime;
  readonly seed: Seed;
  readonly includeChroma: boolean;
  /** keep the data root (and the service stopped) for inspection */
  readonly keep: boolean;
  /** the whole drill's budget (--timeout) */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly faults?: readonly string[];
  readonly observer?: DrillObserver;
  readonly runId?: string;
  /** the migration rollback drill: the runtime starts with `fromImage`, upgrades to `toImage`, rolls back */
  readonly migration?: { readonly fromImage: string; readonly toImage: string };
  /** the run's budget, when it is shared with more than this drill; default: a new one of timeoutMs */
  readonly deadline?: Deadline;
}

export { StepFinding };

const HEALTH_TIMEOUT_MS = 60_000;
const BACKUP_TIMEOUT_MS = 10 * 60_000;
const CLI_TIMEOUT_MS = 5 * 60_000;
const STOP_TIMEOUT_MS = 30_000;

/** Runs the plan: backup → mutate → stop → restore → start → verify, and tears down whatever happens. */
export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const startedAt = new Date();
  const migration = options.migration;
  if (migration && !options.runtime.useImage) throw new Error('the migration drill needs a runtime with images');
  const plan = planDrill({ includeChroma: options.includeChroma, migration: migration !== undefined });
  const deadline = options.deadline ?? new Deadline(options.timeoutMs);
  const runtime = options.runtime;
  const runId = options.runId ?? newRunId();
  const markers = markersFor(runId);
  const found = new Map<string, CheckResult>();
  const steps: StepRecord[] = [];
  const signal = options.signal;
  let client: AtoCoreClient | undefined;
  let stamp: SnapshotStamp | null = null;
  let backupCreatedAt: number | null = null;
  let lastSnapshotMoment = 0;
  let baseline: { db: DbFingerprint; registrySha256: string; chroma: Record<string, string> } | undefined;
  let markerAInSnapshot = false;
  let markerBLive = false;
  let restored: { inspection: DbInspection; answer: RestoreAnswer } | undefined;
  let stopStartedAt: number | null = null;
  const metrics: DrillReport['metrics'] = { rto_ms: null, restore_ms: null, rpo_s: null };
  let halted: string | undefined;
  let errorText: string | undefined;

  const record = (result: CheckResult): void => {
    found.set(result.id, result);
  };
  const api = (): AtoCoreClient => {
    if (!client) throw new Error('AtoCore is not running');
    return client;
  };
  const healthBound = (): { ms: number; name: string } => {
    const ms = deadline.bound(HEALTH_TIMEOUT_MS);
    return { ms, name: deadline.limitedBy(HEALTH_TIMEOUT_MS) ? `what was left of --timeout ${formatDuration(options.timeoutMs)}` : 'the health wait' };
  };
  /** A backup-CLI call whose outcome is evidence; an interrupted, cut or killed call is an error. */
  const cli = async (args: string[], ms = CLI_TIMEOUT_MS) => {
    const boundName = deadline.limitedBy(ms) ? `what was left of --timeout ${formatDuration(deadline.totalMs)}` : `its own bound of ${formatDuration(ms)}`;
    return requireEvidence(await callBackupCli(runtime.backupCli, args, deadline.bound(ms)), `backup ${args.join(' ')}`, boundName);
  };
  const snapshotDir = (name: string): string => join(runtime.layout.snapshotsDir, name);
  /** The harness's own look at a database, from a private copy bounded by the run's budget and signal. */
  const inspect = (path: string, probe: (db: SqliteDatabase) => void) =>
    inspectDatabaseFile(path, probe, undefined, { deadline, ...(signal ? { signal } : {}) });
  /** Starts AtoCore on the layout's data, waits for /health (bounded) and points the client at it. */
  const startService = async (): Promise<string> => {
    const bound = healthBound();
    const started = await runtime.start(bound.ms, bound.name);
    client = new AtoCoreClient(started.baseUrl, signal ? { signal } : {});
    return started.identityNote ? `${started.baseUrl} (${started.identityNote})` : started.baseUrl;
  };
  /**
   * A start whose failure is a finding about the service (it exited, or stayed unhealthy for
   * the whole health bound): the message of that finding; any other failure is thrown.
   */
  const startOrFinding = async (): Promise<{ url: string } | { finding: string }> => {
    const budgetLimited = deadline.limitedBy(HEALTH_TIMEOUT_MS);
    try {
      return { url: await startService() };
    } catch (error) {
      if (!isServiceStartFinding(error, { budgetLimited, interrupted: signal?.aborted === true })) throw error;
      return { finding: errorMessage(error) };
    }
  };
  const stopService = async (): Promise<void> => {
    await runtime.stop(deadline.bound(STOP_TIMEOUT_MS));
    client = undefined;
  };

  const handlers: Record<Exclude<DrillStepId, 'teardown'>, () => Promise<string>> = {
    async start() {
      await runtime.prepare();
      return `healthy at ${await startService()}, data root ${runtime.layout.root}`;
    },

    async seed() {
      const seed = options.seed;
      await writeSeedFiles(seed, runtime);
      insertSeedRows(seed, runtime.layout.dbPath);
      await postSeedMemories(seed, api());
      checkpointSeed(runtime.layout.dbPath);
      return `${seed.registry.projects.length} projects, ${seed.documents.length} documents, ${seed.chunkCount} chunks, ${seed.memories.length} memories${seed.chromaDir ? ', Chroma files' : ''}`;
    },

    async marker_a() {
      await writeMarker(markers.a, api(), runtime, options.includeChroma);
      return `"${markers.a.memoryContent}"`;
    },

    async backup() {
      const reply = await api().call('POST', '/admin/backup', { include_chroma: options.includeChroma }, deadline.bound(BACKUP_TIMEOUT_MS));
      if (reply.status < 200 || reply.status >= 300 || reply.body === null || typeof reply.body !== 'object') {
        const why = reply.status < 200 || reply.status >= 300 ? `answered HTTP ${reply.status}` : reply.truncated ? 'answered more than the client reads' : 'did not answer a JSON object';
        const failed = check('backup.created', 'fail', `POST /admin/backup ${why}: ${reply.text.slice(0, 300).replace(/\s*\n\s*/g, ' ')}`, { status: reply.status, answer_head: reply.text.slice(0, 2_000) });
        record(failed);
        throw new StepFinding(failed.message);
      }
      const answer = reply.body as BackupMetadata;
      const name = typeof answer.backup_root === 'string' ? basename(answer.backup_root.replace(/\/+$/, '')) : '';
      stamp = isSnapshotStamp(name) ? name : null;
      const dir = stamp ? snapshotDir(stamp) : null;
      const dbPath = dir ? join(dir, 'db', 'atocore.db') : null;
      const dbBytes = dbPath ? await stat(dbPath).then((s) => s.size, () => null) : null;
      const chromaFiles = dir && options.includeChroma ? Object.keys(await hashTree(join(dir, 'chroma'))).length : null;
      const created = checks.backupCreatedCheck({
        answer,
        stamp,
        snapshotDir: dir,
        metadataOnDisk: dir ? await pathExists(join(dir, 'backup-metadata.json')) : false,
        dbBytesOnDisk: dbBytes,
        chromaRequested: options.includeChroma,
        chromaFilesOnDisk: chromaFiles,
      });
      record(created);
      if (!stamp || !dbPath) throw new StepFinding(created.message);
      backupCreatedAt = typeof answer.created_at === 'string' ? Date.parse(answer.created_at) : stampTime(stamp);
      lastSnapshotMoment = Math.max(stampTime(stamp), Date.now());
      // the harness's own look first, while the snapshot is exactly as AtoCore wrote it
      const inspection = await inspect(dbPath, (db) => {
        markerAInSnapshot = memoriesWithContent(db, markers.a.memoryContent).length > 0;
      });
      record(checks.independentIntegrityCheck(inspection, stamp));
      const validation = await cli(['validate', stamp]);
      record(checks.backupValidCheck(validation, stamp));
      return `snapshot ${stamp}`;
    },

    async baseline() {
      const db = withLiveDatabase(runtime.layout.dbPath, fingerprintOf);
      baseline = {
        db,
        registrySha256: await sha256File(runtime.layout.registryPath),
        chroma: options.includeChroma ? await hashTree(runtime.layout.chromaDir) : {},
      };
      const rows = Object.values(db.tables).reduce((sum, t) => sum + t.rows, 0);
      return `${Object.keys(db.tables).length} tables, ${rows} rows, content ${db.contentSha256.slice(0, 12)}`;
    },

    async upgrade() {
      if (!migration || !baseline) throw new Error('upgrade without a migration plan or a baseline');
      await stopService();
      runtime.useImage!(migration.toImage);
      const upgraded = await startOrFinding();
      if ('finding' in upgraded) {
        record(checks.upgradeHealthyCheck(migration.toImage, upgraded.finding, runtime.recentLogs()));
        throw new StepFinding(`the new image ${migration.toImage} did not come up on the old data: ${upgraded.finding}`);
      }
      record(checks.upgradeHealthyCheck(migration.toImage, null, ''));
      const old = baseline.db;
      const [migrated, oldColumns] = withLiveDatabase(runtime.layout.dbPath, (db) => [fingerprintOf(db), fingerprintOf(db, old)] as const);
      record(checks.schemaAdditiveCheck(old, migrated));
      record(checks.dataPreservedCheck(old, oldColumns));
      return `${migration.toImage} healthy on the data of ${migration.fromImage}`;
    },

    async marker_b() {
      await writeMarker(markers.b, api(), runtime, options.includeChroma);
      const live = withLiveDatabase(runtime.layout.dbPath, (db) => memoriesWithContent(db, markers.b.memoryContent).length > 0);
      if (!live) throw new StepFinding('marker B was accepted by POST /memory but is not in the database');
      markerBLive = true;
      return `"${markers.b.memoryContent}"`;
    },

    async stop() {
      stopStartedAt = Date.now();
      if (backupCreatedAt !== null && !Number.isNaN(backupCreatedAt)) metrics.rpo_s = Math.round((stopStartedAt - backupCreatedAt) / 1000);
      await stopService();
      // the rollback: A's tools restore A's snapshot, and A boots again
      if (migration) runtime.useImage!(migration.fromImage);
      return `stopped in ${formatDuration(Date.now() - stopStartedAt)}${migration ? `; rolling back to ${migration.fromImage}` : ''}`;
    },

    async restore_unconfirmed() {
      const target = requireStamp(stamp);
      const before = await hashTree(runtime.layout.root);
      await waitPastSecond(lastSnapshotMoment, signal);
      const call = await cli(['restore', target]);
      lastSnapshotMoment = Math.max(lastSnapshotMoment, Date.now());
      const after = await hashTree(runtime.layout.root);
      const result = checks.refusalCheck(call, treeDifferences(before, after));
      record(result);
      return result.message;
    },

    async restore() {
      const target = requireStamp(stamp);
      // B may already be gone here if the unconfirmed restore did not refuse; the pre-restore
      // snapshot is judged against this state, marker.post_backup_gone against B having been live
      let markerBBefore = false;
      const before = await inspect(runtime.layout.dbPath, (db) => {
        markerBBefore = memoriesWithContent(db, markers.b.memoryContent).length > 0;
      });
      const modesBefore = await fileModes([runtime.layout.dbPath, runtime.layout.registryPath]);
      await waitPastSecond(lastSnapshotMoment, signal);
      const args = ['restore', target, '--confirm-service-stopped', ...(options.includeChroma ? ['--chroma'] : [])];
      const call = await cli(args);
      metrics.restore_ms = call.result.durationMs;
      const answer = call.json as RestoreAnswer | undefined;
      if (call.result.exitCode !== 0 || !answer) {
        throw new StepFinding(`restore ${target} --confirm-service-stopped did not complete (${describeProcessResult(call.result)}): ${call.result.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
      }
      let markerAInRestored = false;
      let markerBInRestored = false;
      const inspection = await inspect(runtime.layout.dbPath, (db) => {
        markerAInRestored = memoriesWithContent(db, markers.a.memoryContent).length > 0;
        markerBInRestored = memoriesWithContent(db, markers.b.memoryContent).length > 0;
      });
      restored = { inspection, answer };
      record(checks.restoreIntegrityCheck(inspection, answer));
      const chromaFiles = options.includeChroma ? Object.keys(await hashTree(runtime.layout.chromaDir)).map((f) => join(runtime.layout.chromaDir, f)) : [];
      record(checks.restoreOwnershipCheck(await ownedFiles([runtime.layout.dbPath, runtime.layout.registryPath, ...chromaFiles], modesBefore), runtime.serviceOwner()));

      const reported = answer.pre_restore_snapshot;
      let preInspection: DbInspection | null = null;
      let markerBInPre = false;
      const preExists = typeof reported === 'string' && isSnapshotStamp(reported) && (await pathExists(join(snapshotDir(reported), 'db', 'atocore.db')));
      if (preExists) {
        preInspection = await inspect(join(snapshotDir(reported), 'db', 'atocore.db'), (db) => {
          markerBInPre = memoriesWithContent(db, markers.b.memoryContent).length > 0;
        });
      }
      record(
        checks.preRestoreSnapshotCheck({
          reported,
          backupStamp: target,
          snapshotExists: preExists,
          inspection: preInspection,
          before: before.fingerprint,
          markerBBefore,
          markerBInSnapshot: markerBInPre,
        }),
      );
      record(checks.markerPreBackupCheck(markers.a.memoryContent, markerAInSnapshot, markerAInRestored));
      record(checks.markerPostBackupGoneCheck(markers.b.memoryContent, markerBLive, markerBInRestored));
      const restoredRegistrySha = await sha256File(runtime.layout.registryPath).catch((error: unknown) => {
        // a missing registry is the restore's doing; a file the harness cannot read is not
        if (isHarnessReadError(error)) throw new InfrastructureError(`reading the restored registry ${runtime.layout.registryPath}: ${errorMessage(error)}`);
        return null;
      });
      record(
        checks.registryRestoredCheck({
          baselineSha256: baseline?.registrySha256 ?? null,
          restoredSha256: restoredRegistrySha,
          markerAId: markers.a.registryId,
          markerBId: markers.b.registryId,
          restoredIds: await registryProjectIds(runtime.layout.registryPath),
          reported: answer.registry_restored,
        }),
      );
      if (options.includeChroma) {
        record(checks.chromaRestoredCheck(baseline?.chroma ?? {}, await hashTree(runtime.layout.chromaDir), markers.a.chromaFile, markers.b.chromaFile, answer.chroma_restored));
      }
      if (baseline) record(checks.baselineIntactCheck(baseline.db, inspection.fingerprint));
      if (migration && baseline) record(checks.schemaRestoredCheck(baseline.db, inspection.fingerprint));
      return `restored ${target} in ${formatDuration(call.result.durationMs)}; pre-restore snapshot ${String(reported)}`;
    },

    async restart() {
      const restarted = await startOrFinding();
      if ('finding' in restarted) {
        record(checks.serviceHealthCheck(null, restarted.finding, runtime.recentLogs()));
        throw new StepFinding(`AtoCore did not come back on the restored data: ${restarted.finding}`);
      }
      if (stopStartedAt !== null) metrics.rto_ms = Date.now() - stopStartedAt;
      const health = await api().call('GET', '/health');
      record(checks.serviceHealthCheck(health.status === 200 ? health : null, `GET /health answered ${health.status}`, runtime.recentLogs()));
      return `healthy again at ${restarted.url}; RTO ${formatDuration(metrics.rto_ms ?? 0)}`;
    },

    async verify_service() {
      const seed = options.seed;
      const memories = restored?.inspection.fingerprint?.tables.memories?.rows ?? -1;
      // the restored service answering with an error is a finding about the restore, not an infrastructure problem
      const stats = await api().call('GET', '/stats');
      const expected = { documents: seed.documents.length, chunks: seed.chunkCount, memories };
      record(
        stats.status === 200 && stats.body && typeof stats.body === 'object'
          ? checks.serviceStatsCheck(stats.body as Record<string, unknown>, expected)
          : check('service.stats', 'fail', `GET /stats answered HTTP ${stats.status}: ${stats.text.slice(0, 200)}`, { expected }),
      );
      const projects = await api().call('GET', '/projects');
      record(
        checks.serviceProjectsCheck(
          projects.status === 200 ? projects.body : null,
          (await registryProjectIds(runtime.layout.registryPath)) ?? [],
          seed.registry.projects.map((p) => p.id),
        ),
      );
      const owners = checks.sourceOwnersOf(seed.documents, seed.registry.projects);
      const probes: checks.ContextProbeResult[] = [];
      for (const probe of seed.probes) {
        const answer = await api().call('POST', '/context/build', { prompt: probe.prompt, project: probe.project });
        probes.push(checks.readContextAnswer(probe, answer, owners));
      }
      record(checks.serviceContextCheck(probes));
      return 'answered /stats, /projects and /context/build';
    },
  };

  for (const step of plan) {
    if (step.id === 'teardown') continue;
    if (halted) {
      steps.push({ id: step.id, title: step.title, status: 'skip', duration_ms: 0, detail: `not run: ${halted}` });
      options.observer?.stepFinished?.(steps.at(-1)!, []);
      continue;
    }
    options.observer?.stepStarted?.(step);
    const began = Date.now();
    let status: StepRecord['status'] = 'pass';
    let detail: string;
    try {
      if (signal?.aborted) throw signal.reason;
      deadline.assertTimeLeft(`step "${step.title}"`);
      detail = await handlers[step.id]();
    } catch (error) {
      const interrupted = signal?.aborted ? signal.reason : undefined;
      detail = errorMessage(interrupted ?? error);
      status = stepStatusFor(error, interrupted !== undefined);
      if (status === 'error') errorText = detail;
      halted = `step ${step.id} ${status === 'fail' ? 'failed' : 'could not run'}: ${(detail.split('\n')[0] ?? '').slice(0, 300)}`;
      if (!isExpectedError(error) && !interrupted) {
        detail = `${detail}${error instanceof Error && error.stack ? `\n${error.stack}` : ''}`;
      }
      if (status === 'error' || step.id === 'restore') detail = `${detail}${SERVICE_OUTPUT_MARK}${runtime.recentLogs().slice(-2_000)}`;
    }
    const recordOfStep: StepRecord = { id: step.id, title: step.title, status, duration_ms: Date.now() - began, detail };
    steps.push(recordOfStep);
    options.observer?.stepFinished?.(recordOfStep, step.checks.map((id) => found.get(id)).filter((c): c is CheckResult => c !== undefined));
  }

  const teardownStep = plan.find((s) => s.id === 'teardown')!;
  options.observer?.stepStarted?.(teardownStep);
  const teardownBegan = Date.now();
  let teardown: StepRecord;
  try {
    await runtime.dispose(options.keep);
    teardown = { id: 'teardown', title: teardownStep.title, status: 'pass', duration_ms: Date.now() - teardownBegan, detail: options.keep ? `kept ${runtime.layout.root}` : 'removed everything the drill created' };
  } catch (error) {
    teardown = { id: 'teardown', title: teardownStep.title, status: 'error', duration_ms: Date.now() - teardownBegan, detail: `teardown failed: ${errorMessage(error)}` };
    errorText ??= teardown.detail;
  }
  steps.push(teardown);
  options.observer?.stepFinished?.(teardown, []);

  const orderedChecks = plannedCheckIds(plan).map((id) => found.get(id) ?? check(id, 'skip', `not evaluated: ${halted ?? 'no observation'}`));
  // every step ran, yet a planned check saw nothing: the harness is wrong, not the service
  const unobserved = halted ? [] : orderedChecks.filter((c) => c.status === 'skip').map((c) => c.id);
  if (unobserved.length > 0) errorText ??= `internal: the drill ran every step but never evaluated ${unobserved.join(', ')}`;
  const finishedAt = new Date();
  return {
    schema: 'atocore-drill/report@1',
    kind: 'drill',
    verdict: decideVerdict(steps, orderedChecks, errorText),
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
    duration_ms: finishedAt.getTime() - startedAt.getTime(),
    target: {
      runtime: runtime.kind,
      image: migration ? migration.toImage : runtime.image,
      ...(migration ? { from_image: migration.fromImage } : {}),
      backup_stamp: stamp,
      include_chroma: options.includeChroma,
      faults: options.faults ?? [],
      run_id: runId,
      ...(options.keep ? { data_root: runtime.layout.root } : {}),
    },
    steps,
    checks: orderedChecks,
    metrics,
    snapshots: [],
    ...(errorText ? { error: errorText } : {}),
  };
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

function requireStamp(stamp: SnapshotStamp | null): SnapshotStamp {
  if (!stamp) throw new StepFinding('no backup stamp to restore');
  return stamp;
}
