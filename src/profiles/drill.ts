/**
 * The drill of a service declared by a profile: markers A and B in every store around a backup
 * made by the service's own command, the restore refused and then confirmed, the service
 * healthy again, every store and probe judged, and the drills beyond restore the profile
 * declares. Runs the profile's commands on this machine, in a private drill root.
 */
import { constants } from 'node:fs';
import { lstat, mkdir, mkdtemp, open, readdir, realpath, rm, stat, utimes } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, sep } from 'node:path';
import { markDrillRoot, releaseDrillRoot } from '../cleanup/marks.js';
import { describeProcessResult, type ProcessResult } from '../common/child-process.js';
import { Deadline } from '../common/deadline.js';
import { formatDuration } from '../common/duration.js';
import { lastMatchGroup } from '../common/bounded-match.js';
import { fingerprintOf, withDatabaseCopy } from '../sqlite/inspect.js';
import { hasSqliteMagic, SQLITE_MAGIC } from '../sqlite/header.js';
import { registerEmergencyCleanup, registerEmergencyKill } from '../common/emergency-cleanup.js';
import { errorMessage, InfrastructureError } from '../common/errors.js';
import { requireEvidence, StepFinding } from '../engine/classification.js';
import { PlannedRun } from '../engine/planned-run.js';
import { CorruptionScratch } from '../engine/corruptions.js';
import { hashTree, sha256File, treeDifferences, type ReadBounds } from '../engine/files.js';
import { judgeOffsite } from '../engine/offsite.js';
import { judgeRotation, retentionPromise, type AgedBackup } from '../engine/rotation.js';
import type { DrillObserver, PlanRun } from '../engine/step-loop.js';
import { judgeVerification, verificationNotEvidence, verifierAnswer, type CorruptedCopyAnswer, type VerifierAnswer } from '../engine/verification.js';
import { check, type CheckResult, type DrillReport } from '../report/model.js';
import { killCarryingNow, portOwner, processesCarrying, processesReferencing, type PortOwner } from '../runtimes/port-owner.js';
import { freeLoopbackPort } from '../runtimes/free-port.js';
import { ProfileContext } from './context.js';
import { planProfileDrill, probeCheckId, storeCheckId, storesJudgedAtRestore, type ProfileStep, type ProfileStepId } from './plan.js';
import type { CorruptionKind, ExtraDrill, LoadedProfile, ProfileAnswer, ProfileStore, ServiceProfile } from './profile.js';
import { storeContent, StoreFinding, StoreMarkers } from './stores.js';

export interface ProfileDrillOptions {
  readonly profile: LoadedProfile;
  /** the drills beyond restore to run (each declared by the profile) */
  readonly drills: readonly ExtraDrill[];
  readonly keep: boolean;
  readonly timeoutMs: number;
  /** how the run's user named it, for messages (default --timeout) */
  readonly timeoutName?: string;
  readonly runId: string;
  /** where the drill root goes; default: the system's temporary directory */
  readonly tmpDir?: string;
  readonly signal?: AbortSignal;
  readonly observer?: DrillObserver;
}

const START_MS = 60_000;
const STOP_MS = 30_000;
const BACKUP_MS = 10 * 60_000;
const RESTORE_MS = 10 * 60_000;
const SIDE_COMMAND_MS = 5 * 60_000;
/** Once service.stop has ended, its service answers no more within this. */
const STOPPED_WITHIN_MS = 10_000;
/** After a refused restore, a running service still answers its health request within this. */
const HEALTH_AFTER_REFUSAL_MS = 10_000;
/** How long backup.output may take over the backup's output (at most 16 MiB) */
const OUTPUT_MATCH_MS = 5_000;
const BACKUP_OUTPUT_BYTES = 8 * 1024 * 1024;
/** Ages (days) of the backups a rotation drill makes while backups run as they should, and after a pause. */
const ROTATION_AGES = [1, 3, 6, 8, 10];
const PAUSED_AGES = [8, 9, 12];
const DAY_MS = 24 * 3600_000;

export function runProfileDrill(options: ProfileDrillOptions): Promise<DrillReport> {
  return new ProfileDrill(options).run();
}

/** The markers of one run: A goes into the backup, B comes after it. */
function markersOf(runId: string): { readonly a: string; readonly b: string } {
  return { a: `drill-marker-${runId}-a`, b: `drill-marker-${runId}-b` };
}

class ProfileDrill extends PlannedRun<ProfileStepId> {
  private readonly options: ProfileDrillOptions;
  protected readonly plan: readonly ProfileStep[];
  protected readonly deadline: Deadline;
  protected readonly signal: AbortSignal | undefined;
  protected readonly serviceName: string;
  private readonly markers: { readonly a: string; readonly b: string };
  private readonly metrics: DrillReport['metrics'] = { rto_ms: null, restore_ms: null, rpo_s: null };
  private root: string | null = null;
  private context: ProfileContext | null = null;
  private stores: StoreMarkers | null = null;
  private unregisterRoot: (() => void) | null = null;
  private unregisterKill: (() => void) | null = null;
  private backupPath: string | null = null;
  /** the loopback ports reserved for the service, by name */
  private ports: Readonly<Record<string, number>> = {};
  /** the service's listener carried the run's mark when it first answered (plain processes; a container's proxy does not) */
  private listenerMarked = false;
  private backupMadeAt: number | null = null;
  /** `compare: content` stores as they were right after the backup */
  private readonly baselines = new Map<string, Record<string, string>>();
  private downSince: number | null = null;

  protected readonly actions: Record<ProfileStepId, () => Promise<string>> = {
    start: () => this.start(),
    marker_a: () => this.writeMarker('a'),
    backup: () => this.backUp(),
    marker_b: () => this.writeMarker('b'),
    stop: () => this.stop(),
    restore_unconfirmed: () => this.restoreUnconfirmed(),
    restore: () => this.restore(),
    restart: () => this.restart(),
    verify_stores: () => this.verifyStores(),
    verification: () => this.verification(),
    offsite: () => this.offsite(),
    rotation: () => this.rotation(),
    teardown: () => this.tearDown(),
  };

  constructor(options: ProfileDrillOptions) {
    super();
    this.options = options;
    this.signal = options.signal;
    this.serviceName = options.profile.profile.name;
    this.plan = planProfileDrill(options.profile.profile, options.drills);
    this.deadline = new Deadline(options.timeoutMs, options.timeoutName);
    this.markers = markersOf(options.runId);
  }

  async run(): Promise<DrillReport> {
    const { run, startedAt } = await this.runSteps(this.options.observer);
    return this.report(run, startedAt);
  }

  protected diskRoot(): string | null {
    return this.root;
  }

  private get ctx(): ProfileContext {
    if (!this.context) throw new Error('internal: the drill root is not ready');
    return this.context;
  }

  private get profile() {
    return this.options.profile.profile;
  }

  // ---- the steps, in plan order

  private async start(): Promise<string> {
    const root = await mkdtemp(join(this.options.tmpDir ?? tmpdir(), 'atocore-drill-'));
    this.root = root;
    this.unregisterRoot = registerEmergencyCleanup(() => rmSync(root, { recursive: true, force: true }));
    await markDrillRoot(root);
    for (const dir of this.profile.directories ?? []) await mkdir(join(root, dir), { recursive: true });
    const ports: Record<string, number> = {};
    // each name gets its own: freeLoopbackPort never hands one out twice in a row
    for (const name of this.profile.ports ?? []) ports[name] = await freeLoopbackPort();
    this.ports = ports;
    this.context = new ProfileContext(this.options.profile, root, ports, this.options.runId, this.deadline, this.options.signal);
    this.stores = new StoreMarkers(this.context);
    const mark = this.context.mark;
    // a second signal ends the harness at once: what the profile's commands left running goes with it
    this.unregisterKill = registerEmergencyKill(() => killCarryingNow(mark, root));
    await this.command(this.profile.service.start, 'start', START_MS, { must: 'succeed' });
    const health = await this.ctx.waitHealthy(this.ctx.duration(this.profile.service.start_timeout, START_MS));
    if (!health.healthy) throw new InfrastructureError(`${this.profile.name} did not become healthy after it started: ${health.last}`);
    this.listenerMarked = (await this.healthListener())?.kind === 'escaped';
    return `healthy; drill root ${root}`;
  }

  private async writeMarker(which: 'a' | 'b'): Promise<string> {
    const marker = this.markers[which];
    for (const store of this.profile.stores) {
      await this.storeMarkers.write(store, marker);
      // a marker the drill cannot see where it wrote it proves nothing later
      const seen = await this.storeMarkers.has(store, marker).catch((error: unknown) => {
        throw new InfrastructureError(`store ${store.id}: marker ${which.toUpperCase()} was written but could not be read back: ${errorMessage(error)}`);
      });
      if (!seen) throw new InfrastructureError(`store ${store.id}: marker ${which.toUpperCase()} was written but is not found there: the profile's marker and find do not agree`);
    }
    return `"${marker}" in ${this.profile.stores.length} stores`;
  }

  private async backUp(): Promise<string> {
    const backup = this.profile.backup;
    // a backup may be chatty: enough of its output is kept to find where it went
    const result = await this.command(backup.command, 'backup', this.ctx.duration(backup.timeout, BACKUP_MS), { maxOutputBytes: BACKUP_OUTPUT_BYTES });
    const fail = (message: string): never => {
      const failed = check('backup.created', 'fail', message, { exit: result.exitCode, output_tail: tail(result) });
      this.record(failed);
      throw new StepFinding(failed.message);
    };
    if (result.exitCode !== 0) fail(`the backup command failed (${describeProcessResult(result)})`);
    const path = await this.backupLocation(result).catch((error: unknown) => (error instanceof StepFinding ? fail(error.message) : Promise.reject(error)));
    const files = Object.keys(await this.backupTree(path, true));
    if (files.length === 0) fail(`the backup ${path} holds no file`);
    this.backupPath = path;
    this.backupMadeAt = Date.now();
    for (const store of this.comparedStores()) {
      this.baselines.set(store.id, await storeContent(store, this.ctx, [this.markers.a, this.markers.b], this.bounds));
    }
    this.record(check('backup.created', 'pass', `backup ${basename(path)}: ${files.length} files`, { path, files: files.length }));
    return `backup ${path}`;
  }

  /** Where the backup landed: from its output (the profile's pattern) or the newest entry of the root, always inside the root. */
  private async backupLocation(result: ProcessResult): Promise<string> {
    const backup = this.profile.backup;
    const root = await realpath(this.ctx.text(backup.root)).catch(() => {
      throw new StepFinding(`the backup root ${this.ctx.text(backup.root)} does not exist after the backup`);
    });
    let candidate: string | null = null;
    if (backup.output !== undefined) {
      candidate = await lastMatchGroup(backup.output, `${result.stdout}\n${result.stderr}`, 'path', {
        timeoutMs: Math.min(OUTPUT_MATCH_MS, this.deadline.bound(OUTPUT_MATCH_MS)),
        signal: this.signal,
        what: 'finding where the backup went (backup.output)',
      });
      if (candidate === null) {
        // what the harness dropped of a long output may hold the line: it cannot tell
        if (/\n… \d+ bytes dropped …\n/.test(result.stdout + result.stderr) || result.outputIncomplete) {
          throw new InfrastructureError(`the backup's output is longer than the harness keeps (the middle was dropped) and what is kept does not say where it went (no match of ${backup.output})`);
        }
        throw new StepFinding(`the backup's output does not say where it went (no match of ${backup.output})`);
      }
    } else {
      const entries = await readdir(root, { withFileTypes: true });
      const dirs = await Promise.all(entries.filter((e) => e.isDirectory()).map(async (e) => ({ path: join(root, e.name), mtime: (await stat(join(root, e.name))).mtimeMs })));
      candidate = dirs.sort((x, y) => y.mtime - x.mtime)[0]?.path ?? null;
      if (candidate === null) throw new StepFinding(`the backup root ${root} holds no backup`);
    }
    const real = await realpath(candidate).catch(() => {
      throw new StepFinding(`the backup says it went to ${candidate}, which does not exist`);
    });
    if (!real.startsWith(root + sep)) throw new StepFinding(`the backup says it went to ${candidate}, outside the backup root ${root}`);
    // a directory, or one file (an archive)
    const info = await stat(real);
    if (!info.isDirectory() && !info.isFile()) throw new StepFinding(`the backup ${candidate} is neither a directory nor a file`);
    return real;
  }

  private async stop(): Promise<string> {
    const began = Date.now();
    this.downSince = began;
    this.noteRpo(began);
    const ownMs = this.ctx.duration(this.profile.service.stop_timeout, STOP_MS);
    await this.command(this.profile.service.stop, 'stop', ownMs, { must: 'succeed' });
    // a service still answering after its stop would answer the restart's health for the restored one
    const downMs = Math.min(ownMs, STOPPED_WITHIN_MS);
    const down = await this.ctx.waitDown(downMs);
    if (!down.down) {
      if (down.budgetLimited) throw new InfrastructureError(`the wait for ${this.serviceName} to stop was cut by what was left of ${this.deadline.describe()}`);
      throw new StepFinding(`${this.serviceName} still answers its health request ${formatDuration(downMs)} after service.stop ended: the stop does not stop it, so nothing it serves afterwards proves the restore`);
    }
    return `stopped in ${formatDuration(Date.now() - began)}`;
  }

  /**
   * The restore answered no must refuse and change nothing. With the service stopped, nothing
   * else writes: its stores are compared byte for byte. With it running (`restore.service:
   * running`), it keeps writing its own files (sessions, counters): the stores are compared by
   * what the restore would change, marker B, which must still be in every one.
   */
  private async restoreUnconfirmed(): Promise<string> {
    const restore = this.profile.restore;
    const stopped = restore.service === 'stopped';
    const before = stopped ? await this.fileStoresState() : {};
    const result = await this.command(restore.command, 'restore (unconfirmed)', this.ctx.duration(restore.timeout, RESTORE_MS), { answer: restore.refuse });
    const changed = stopped ? changedStores(before, await this.fileStoresState()) : await this.storesWithoutMarkerB();
    // a refusal that takes the running service down has changed what matters most
    if (!stopped && !(await this.ctx.waitHealthy(HEALTH_AFTER_REFUSAL_MS)).healthy) changed.push(`the service (it no longer answers its health request)`);
    const evidence = { exit: result.exitCode, changed_stores: changed, output_tail: tail(result) };
    const id = 'restore.refuses_without_confirm';
    let result_: CheckResult;
    if (result.exitCode === 0) result_ = check(id, 'fail', `the restore went ahead without being confirmed (exit 0)${changed.length ? `; it changed ${changed.join(', ')}` : ''}`, evidence);
    else if (changed.length > 0) result_ = check(id, 'fail', `the restore refused (exit ${result.exitCode}) but changed ${changed.join(', ')}`, evidence);
    else result_ = check(id, 'pass', `refused (exit ${result.exitCode}); no store changed`, evidence);
    this.record(result_);
    return result_.message;
  }

  private async restore(): Promise<string> {
    const restore = this.profile.restore;
    const began = Date.now();
    if (this.downSince === null) {
      this.downSince = began;
      this.noteRpo(began);
    }
    const backup = this.requireBackup();
    const backupBefore = await this.backupTree(backup);
    const databasesBefore = await this.backupDatabases(backup, backupBefore);
    const result = await this.command(restore.command, 'restore', this.ctx.duration(restore.timeout, RESTORE_MS), { answer: restore.confirm });
    this.metrics.restore_ms = result.durationMs;
    // a restore that moves or edits its backup leaves nothing to restore from a second time
    const backupAfter = await this.backupTree(backup);
    const differences = await this.sameDataAside(withoutOpenedSidecars(treeDifferences(backupBefore, backupAfter), backupAfter), backup, databasesBefore);
    this.record(backupKeptCheck(basename(backup), Object.keys(backupBefore).length, differences));
    if (result.exitCode !== 0) throw new StepFinding(`the confirmed restore of ${basename(backup)} failed (${describeProcessResult(result)})${tail(result) ? `; its output ends:\n${tail(result)}` : ''}`);
    const wrong = await this.judgeStores(storesJudgedAtRestore(this.profile));
    return `restored ${basename(backup)} in ${formatDuration(result.durationMs)}${wrong.length ? `; not restored as backed up: ${wrong.join(', ')}` : ''}`;
  }

  private async restart(): Promise<string> {
    const service = this.profile.service;
    const ownMs = this.ctx.duration(service.start_timeout, START_MS);
    if (!this.profile.restore.starts_service) {
      const started = await this.command(service.start, 'start', ownMs);
      if (started.exitCode !== 0) {
        const failed = check('service.health', 'fail', `${this.profile.name} does not start on the restored data (${describeProcessResult(started)})`, { output_tail: tail(started) });
        this.record(failed);
        throw new StepFinding(failed.message);
      }
    }
    const health = await this.ctx.waitHealthy(ownMs);
    if (!health.healthy) {
      if (health.budgetLimited) throw new InfrastructureError(`the health wait was cut by what was left of ${this.deadline.describe()}; last: ${health.last}`);
      await this.unlessPortTaken(health.last);
      const failed = check('service.health', 'fail', `${this.profile.name} did not become healthy on the restored data within ${formatDuration(ownMs)}; last: ${health.last}`, { last: health.last });
      this.record(failed);
      throw new StepFinding(failed.message);
    }
    // the service's own processes answered at the start: now something without the run's mark does
    if (this.listenerMarked) await this.unlessPortTaken('a healthy answer');
    if (this.downSince !== null) this.metrics.rto_ms = Date.now() - this.downSince;
    this.record(check('service.health', 'pass', `healthy again; RTO ${formatDuration(this.metrics.rto_ms ?? 0)}`, { rto_ms: this.metrics.rto_ms }));
    return `healthy again; RTO ${formatDuration(this.metrics.rto_ms ?? 0)}`;
  }

  /**
   * The drill's own port held by another program (one that carries no mark of this run): what
   * the health request got (`last`) is the machine's doing, not the service's. A healthy
   * answer is questioned this way only when the service's listener carried the mark at the
   * start: a container's proxy carries none and cannot be told from a stranger.
   */
  private async unlessPortTaken(last: string): Promise<void> {
    const owner = await this.healthListener();
    if (owner?.kind !== 'foreign') return;
    const who = owner.pids.length > 0 ? `process ${owner.pids.join(', ')}` : 'a process of another user';
    throw new InfrastructureError(`the health request got ${last}, but port ${this.healthPort()} is held by ${who}, which this drill did not start: another program took the drill's port`);
  }

  /** The drill's own port the health request goes to, or null (another host or port: not the drill's to judge). */
  private healthPort(): number | null {
    try {
      const port = Number(new URL(this.ctx.text(this.profile.service.health.url)).port);
      return Object.values(this.ports).includes(port) ? port : null;
    } catch {
      return null;
    }
  }

  /** Who listens on the health port: the run's own processes ('escaped': they carry its mark), another program, nobody. */
  private async healthListener(): Promise<PortOwner | null> {
    const port = this.healthPort();
    return port === null ? null : portOwner(port, undefined, this.ctx.mark);
  }

  /** store.<id>.restored for each of `stores`; the ids not restored as backed up. */
  private async judgeStores(stores: ServiceProfile['stores']): Promise<string[]> {
    const wrong: string[] = [];
    for (const store of stores) {
      const result = await this.judgeStore(store);
      if (result.status !== 'pass') wrong.push(store.id);
      this.record(result);
    }
    return wrong;
  }

  private async verifyStores(): Promise<string> {
    const judged = storesJudgedAtRestore(this.profile);
    const wrong = await this.judgeStores(this.profile.stores.filter((store) => !judged.includes(store)));
    for (const probe of this.profile.probes ?? []) {
      const answer = await this.ctx.http(probe.request);
      const expected = probe.status ?? 200;
      const contains = probe.contains === undefined ? null : this.ctx.text(probe.contains);
      const evidence = { status: answer.status, answer_head: answer.text.slice(0, 500) };
      const ok = answer.status === expected && (contains === null || answer.text.includes(contains));
      if (!ok && answer.status === expected && answer.truncated) {
        throw new InfrastructureError(`probe ${probe.id}: the answer is larger than the drill reads (1 MiB) and the part read does not hold "${contains}": cannot tell`);
      }
      this.record(
        ok
          ? check(probeCheckId(probe.id), 'pass', `answered HTTP ${answer.status}${contains ? ` with "${contains}"` : ''}`, evidence)
          : check(probeCheckId(probe.id), 'fail', `answered HTTP ${answer.status}${answer.status === expected && contains ? ` without "${contains}"` : ` (expected ${expected})`}`, evidence),
      );
    }
    return wrong.length === 0 ? 'every store came back as it was at the backup' : `not restored as backed up: ${wrong.join(', ')}`;
  }

  /** store.<id>.restored: marker A back, marker B gone. */
  private async judgeStore(store: ProfileStore): Promise<CheckResult> {
    const id = storeCheckId(store.id);
    let a: boolean;
    let b: boolean;
    let differences: ReturnType<typeof treeDifferences> | null;
    try {
      a = await this.storeMarkers.has(store, this.markers.a);
      b = await this.storeMarkers.has(store, this.markers.b);
      differences = await this.contentDifferences(store);
    } catch (error) {
      if (error instanceof StoreFinding) return check(id, 'fail', `store ${store.id} after the restore: ${error.message}`, { store: store.id });
      throw error;
    }
    const evidence = { store: store.id, kind: store.kind, marker_a_present: a, marker_b_present: b, ...(differences ? { differences } : {}) };
    const changed = differences ? [...differences.changed, ...differences.removed, ...differences.added] : [];
    if (a && !b && changed.length === 0) return check(id, 'pass', `store ${store.id}: marker A is back and marker B is gone${differences ? '; its content equals the backup' : ''}`, evidence);
    const problems = [
      ...(a ? [] : ['marker A (written before the backup) is missing']),
      ...(b ? ['marker B (written after the backup) is still there'] : []),
      ...(changed.length > 0 ? [`its content differs from the backup (${describeDifferences(differences!)})`] : []),
    ];
    return check(id, 'fail', `store ${store.id} is not restored as backed up: ${problems.join('; ')}`, evidence);
  }

  private comparedStores(): ProfileStore[] {
    return this.profile.stores.filter((store) => 'compare' in store && store.compare === 'content');
  }

  /** For a `compare: content` store: what differs from its state right after the backup (a store the restore broke is thrown as a finding). */
  private async contentDifferences(store: ProfileStore): Promise<ReturnType<typeof treeDifferences> | null> {
    const baseline = this.baselines.get(store.id);
    if (!baseline) return null;
    return treeDifferences(baseline, await storeContent(store, this.ctx, [this.markers.a, this.markers.b], this.bounds));
  }

  /** The profile's verifier on the backup and on copies of it with one corruption each (in the drill root, removed after). */
  private async verification(): Promise<string> {
    const verification = this.profile.verification!;
    const backup = this.requireBackup();
    const scratchDir = join(this.root!, '.drill-verification');
    await mkdir(scratchDir, { recursive: true });
    const scratch = await CorruptionScratch.at(scratchDir);
    const good = await this.askVerifier(backup, 'the good backup');
    const corrupted: CorruptedCopyAnswer[] = [];
    for (const corruption of verification.corruptions) {
      if (good.said === 'not_evidence') break;
      if (this.signal?.aborted) throw this.signal.reason;
      const answer = await this.verifyCorruptedCopy(scratch, scratchDir, backup, corruption);
      corrupted.push({ kind: corruption.kind, target: corruption.path, answer });
      // an interrupt or the budget ends every later call the same way
      if (answer.said === 'not_evidence') break;
    }
    const observation = { good, corrupted };
    for (const result of judgeVerification(observation)) this.record(result);
    const notEvidence = verificationNotEvidence(observation);
    if (notEvidence) throw new InfrastructureError(notEvidence);
    // the profile says the backup holds it: a backup without it lost it
    const lacking = corrupted.find((copy) => copy.answer.said === 'not_asked');
    if (lacking) throw new StepFinding(`${lacking.answer.detail}, which the profile's verification names: the backup left it out`);
    const missed = corrupted.filter((c) => c.answer.said === 'accepted').map((c) => c.kind);
    return missed.length === 0 ? 'the verification rejects every corrupted copy' : `the verification lets through: ${missed.join(', ')}`;
  }

  private async verifyCorruptedCopy(
    scratch: CorruptionScratch,
    scratchDir: string,
    backup: string,
    corruption: { readonly kind: CorruptionKind; readonly path: string },
  ): Promise<VerifierAnswer> {
    // a backup that is one file (an archive) is itself what is corrupted
    const oneFile = (await lstat(backup)).isFile();
    if (!oneFile && (await lstat(join(backup, corruption.path)).catch(() => null)) === null) {
      return { said: 'not_asked', detail: `the backup holds no ${corruption.path} to corrupt` };
    }
    const parent = join(scratchDir, corruption.kind);
    await mkdir(parent, { recursive: true });
    try {
      // the copy keeps the backup's name: a verifier may read it
      const copy = await scratch.copyOf(backup, join(corruption.kind, basename(backup)));
      const did = await scratch.corrupt(corruption.kind, oneFile ? copy : join(copy, corruption.path));
      const answer = await this.askVerifier(copy, `a copy with ${corruption.kind} at ${corruption.path}`);
      return { ...answer, detail: `${answer.detail} (${corruption.path} ${did})` };
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  }

  /** What the profile's verifier said of a backup (exit 0: accepted), or why its call is no answer. */
  private async askVerifier(path: string, what: string): Promise<VerifierAnswer> {
    const ownMs = SIDE_COMMAND_MS;
    const result = await this.ctx.run(this.profile.verification!.command, { ownLimitMs: ownMs, extra: { backup: path } });
    const read = (r: ProcessResult): VerifierAnswer =>
      r.exitCode === 0 ? { said: 'accepted', detail: 'exit 0' } : { said: 'rejected', detail: `${describeProcessResult(r)}: ${tail(r).split('\n').at(-1) ?? ''}` };
    return verifierAnswer(result, `verify ${what}`, read, this.ctx.boundName(ownMs, `its own bound of ${formatDuration(ownMs)}`));
  }

  private async offsite(): Promise<string> {
    const offsite = this.profile.offsite!;
    const backup = this.requireBackup();
    // what must arrive is the backup as it is before the sync: a sync that damages it sends the damage
    const expected = await this.backupTree(backup);
    if (Object.keys(expected).length === 0) throw new StepFinding(`the backup ${basename(backup)} holds no file any more: there is nothing to send off-site`);
    const result = await this.command(offsite.command, 'off-site sync', SIDE_COMMAND_MS, { env: offsite.environment ?? {} });
    const remote = this.ctx.text(offsite.remote);
    await this.ownDirectory(remote, 'the off-site remote', true);
    const arrivedAt = await findEntryNamed(remote, basename(backup), 4);
    const judged = judgeOffsite({ backup: basename(backup), expected, arrived: arrivedAt ? await this.backupTree(arrivedAt) : null, remote });
    this.record(
      result.exitCode === 0 || judged.status !== 'fail'
        ? judged
        : check(judged.id, 'fail', `${judged.message}; the sync command failed (${describeProcessResult(result)})`, { ...judged.evidence, output_tail: tail(result) }),
    );
    return `sync ${describeProcessResult(result)}; ${judged.message}`;
  }

  /**
   * Two rounds over aged backups (named by the profile's stamp and dated to match): backups
   * made as they should be, then after a pause (every backup old, the root too).
   */
  private async rotation(): Promise<string> {
    const rotation = this.profile.rotation!;
    const root = await this.ownDirectory(this.ctx.text(this.profile.backup.root), 'the backup root');
    const now = Date.now();
    const steady = await this.rotationRound(root, ROTATION_AGES, now, false);
    await rm(root, { recursive: true, force: true });
    await mkdir(root, { recursive: true });
    const paused = await this.rotationRound(root, PAUSED_AGES, now, true);
    for (const [i, steadyCheck] of steady.entries()) {
      const pausedCheck = paused[i]!;
      const worse = SEVERITY[pausedCheck.status] > SEVERITY[steadyCheck.status] ? { ...pausedCheck, message: `after a pause in backups: ${pausedCheck.message}` } : steadyCheck;
      this.record(worse);
    }
    return `rotation (${rotation.keep_days} days) over ${ROTATION_AGES.length} aged backups, then ${PAUSED_AGES.length} after a pause`;
  }

  private async rotationRound(root: string, ages: readonly number[], now: number, rootIsOld: boolean): Promise<CheckResult[]> {
    const rotation = this.profile.rotation!;
    const backups: AgedBackup[] = [];
    for (const age of ages) {
      const time = now - age * DAY_MS;
      const name = stampName(time, rotation.stamp);
      const dir = join(root, name);
      await mkdir(dir, { recursive: true });
      await writeAgedFile(join(dir, 'drill-aged-backup'), time);
      await utimes(dir, time / 1000, time / 1000);
      backups.push({ name, time });
    }
    // what is in the root already (the drill's own backup) counts as made now
    for (const entry of await readdir(root, { withFileTypes: true })) {
      if (entry.isDirectory() && !backups.some((b) => b.name === entry.name) && isStampName(entry.name, rotation.stamp)) backups.push({ name: entry.name, time: now });
    }
    const foreign = 'lost+found';
    await mkdir(join(root, foreign), { recursive: true });
    const oldest = now - Math.max(...ages) * DAY_MS;
    await utimes(join(root, foreign), oldest / 1000, oldest / 1000);
    const rootTime = rootIsOld ? now - Math.min(...ages) * DAY_MS : now;
    await utimes(root, rootTime / 1000, rootTime / 1000);
    const promise = retentionPromise({ keepDays: rotation.keep_days }, backups, now);
    const before = new Map<string, Record<string, string>>();
    for (const backup of backups) before.set(backup.name, await hashTree(join(root, backup.name), this.bounds));
    const result = await this.command(rotation.command, 'rotation', SIDE_COMMAND_MS);
    if (result.exitCode !== 0) throw new StepFinding(`the rotation failed (${describeProcessResult(result)})${tail(result) ? `: ${tail(result)}` : ''}`);
    const listed = await readdir(root).catch(() => null);
    // a backup kept by name but emptied or changed is not kept
    const survivors: string[] | null = listed === null ? null : [];
    for (const name of listed ?? []) {
      const was = before.get(name);
      if (was === undefined) survivors!.push(name);
      else if (lostOrChanged(was, await hashTree(join(root, name), this.bounds)) === 0) survivors!.push(name);
    }
    return judgeRotation({
      backups: backups.map((b) => ({ name: b.name, ageDays: Math.round(((now - b.time) / DAY_MS) * 10) / 10 })),
      promised: promise.promised,
      expired: promise.expired,
      newest: promise.newest,
      foreign: [foreign],
      rootSurvived: survivors !== null,
      survivors: survivors ?? [],
    });
  }

  private async tearDown(): Promise<string> {
    const problems: string[] = [];
    if (this.context) {
      const stopped = await this.ctx.run(this.profile.service.stop, { ownLimitMs: this.ctx.duration(this.profile.service.stop_timeout, STOP_MS), interruptible: false }).catch((error: unknown) => error);
      if (!(stopped && typeof stopped === 'object' && 'exitCode' in stopped && stopped.exitCode === 0)) problems.push(`stop: ${stopped instanceof Error ? stopped.message : describeProcessResult(stopped as ProcessResult)}`);
      // whatever the service's commands left running (a daemon) carries the run's mark, or at least a path under its root
      const roots = this.root ? [...new Set([this.root, await realpath(this.root).catch(() => this.root!)])] : [];
      const left = new Set([...(await processesCarrying(this.ctx.mark)), ...(await Promise.all(roots.map((root) => processesReferencing(root)))).flat()]);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    if (this.root) {
      if (this.options.keep) await releaseDrillRoot(this.root);
      else await rm(this.root, { recursive: true, force: true });
    }
    this.unregisterRoot?.();
    this.unregisterKill?.();
    if (problems.length > 0 && !this.options.keep) return `removed the drill root; ${problems.join('; ')}`;
    return this.options.keep ? `kept ${this.root}` : 'stopped the service and removed everything the drill created';
  }

  // ---- pieces

  private get storeMarkers(): StoreMarkers {
    if (!this.stores) throw new Error('internal: the stores are not ready');
    return this.stores;
  }

  /** The backup's files by path and hash: a directory's tree, or one file (an archive) under its own name. */
  private async backupTree(path: string, namesOnly = false): Promise<Record<string, string>> {
    const info = await lstat(path).catch(() => null);
    if (info?.isFile()) return { [basename(path)]: namesOnly ? 'file' : await sha256File(path, this.bounds) };
    return hashTree(path, this.bounds, namesOnly);
  }

  /** The SQLite databases in a backup, by path, with what they hold (read from private copies: the backup is never opened in place). */
  private async backupDatabases(backup: string, tree: Record<string, string>): Promise<Map<string, string>> {
    const databases = new Map<string, string>();
    if (!(await lstat(backup)).isDirectory()) return databases;
    for (const path of Object.keys(tree)) {
      if (/-(wal|shm|journal)$/.test(path) || !(await isSqliteFile(join(backup, path)))) continue;
      const print = await this.databaseContent(join(backup, path));
      if (print !== null) databases.set(path, print);
    }
    return databases;
  }

  /** A database's content (schema and every table's rows) as one digest, or null when it cannot be read. */
  private async databaseContent(path: string): Promise<string | null> {
    try {
      return await withDatabaseCopy(path, (db) => { const print = fingerprintOf(db); return `${print.schemaSha256}:${print.contentSha256}`; }, this.root ?? undefined, this.bounds);
    } catch {
      return null;
    }
  }

  /**
   * The differences that are not about the data: a database of the backup whose bytes changed
   * (the restore read it through SQLite, which folds its WAL in on close) but whose content is
   * the same, with its -wal and -shm.
   */
  private async sameDataAside(differences: ReturnType<typeof treeDifferences>, backup: string, before: Map<string, string>): Promise<ReturnType<typeof treeDifferences>> {
    const all = [...differences.added, ...differences.removed, ...differences.changed];
    const aside = new Set<string>();
    for (const [db, content] of before) {
      const own = [db, `${db}-wal`, `${db}-shm`];
      if (!all.some((path) => own.includes(path))) continue;
      // the database with its WAL read from a private copy: what a later restore would read
      if ((await this.databaseContent(join(backup, db))) === content) for (const path of own) aside.add(path);
    }
    const keep = (path: string): boolean => !aside.has(path);
    return { added: differences.added.filter(keep), removed: differences.removed.filter(keep), changed: differences.changed.filter(keep) };
  }

  /** What cuts the drill's own long reads: the interrupt and the budget. */
  private get bounds(): ReadBounds {
    return { signal: this.options.signal, deadline: this.deadline };
  }

  /** A store file's hash, or null when it is not a regular file there. */
  private async fileHash(path: string): Promise<string | null> {
    const info = await lstat(path).catch(() => null);
    return info?.isFile() ? sha256File(path, this.bounds) : null;
  }

  /**
   * A directory the drill is about to write into or read at length: a real directory inside the
   * drill root, never through a link the service's commands may have put there.
   */
  private async ownDirectory(path: string, what: string, mayBeMissing = false): Promise<string> {
    const root = await realpath(this.root!);
    const info = await lstat(path).catch(() => null);
    if (info === null && mayBeMissing) return path;
    if (info === null || info.isSymbolicLink() || !info.isDirectory()) throw new StepFinding(`${what} ${path} is not a directory (a link, a file or nothing) after the service's commands ran`);
    const real = await realpath(path);
    if (!real.startsWith(root + sep)) throw new StepFinding(`${what} ${path} resolves to ${real}, outside the drill root`);
    return real;
  }

  private requireBackup(): string {
    if (!this.backupPath) throw new StepFinding('no backup to work with');
    return this.backupPath;
  }

  private noteRpo(at: number): void {
    if (this.backupMadeAt !== null) this.metrics.rpo_s = Math.round((at - this.backupMadeAt) / 1000);
  }

  /**
   * One of the profile's commands whose outcome is evidence (an interrupted, cut or killed call
   * is an error); `must: 'succeed'` makes a non-zero exit an error too (a command that sets the
   * drill up, not one it judges).
   */
  private async command(
    argv: readonly string[],
    doing: string,
    ownMs: number,
    options: { readonly must?: 'succeed'; readonly answer?: ProfileAnswer; readonly env?: Readonly<Record<string, string>>; readonly maxOutputBytes?: number } = {},
  ): Promise<ProcessResult> {
    const answer = options.answer;
    const full = answer?.args ? [...argv, ...answer.args] : argv;
    const result = await this.ctx.run(full, {
      ownLimitMs: ownMs,
      ...(this.backupPath ? { extra: { backup: this.backupPath } } : {}),
      ...(answer?.stdin !== undefined ? { input: answer.stdin } : { input: '' }),
      ...(options.env ? { env: options.env } : {}),
      ...(options.maxOutputBytes ? { maxOutputBytes: options.maxOutputBytes } : {}),
    });
    requireEvidence({ result }, `${this.profile.name} ${doing}`, this.ctx.boundName(ownMs, `its own bound of ${formatDuration(ownMs)}`));
    if (options.must === 'succeed' && result.exitCode !== 0) throw new InfrastructureError(`${this.profile.name} ${doing} failed (${describeProcessResult(result)})${tail(result) ? `; its output ends:\n${tail(result)}` : ''}`);
    return result;
  }

  /** Stores in which marker B is no longer found (a store the restore broke counts as changed). */
  private async storesWithoutMarkerB(): Promise<string[]> {
    const changed: string[] = [];
    for (const store of this.profile.stores) {
      const still = await this.storeMarkers.has(store, this.markers.b).catch((error: unknown) => {
        if (error instanceof StoreFinding) return false;
        throw error;
      });
      if (!still) changed.push(store.id);
    }
    return changed;
  }

  /** The file trees of the stores on disk, by store id (a database: its file and sidecars' directory entry). */
  private async fileStoresState(): Promise<Record<string, Record<string, string>>> {
    const state: Record<string, Record<string, string>> = {};
    for (const store of this.profile.stores) {
      const path = this.storeMarkers.pathOf(store);
      if (path === null) continue;
      if (store.kind === 'directory') state[store.id] = await hashTree(path, this.bounds);
      else state[store.id] = pick(await hashTree(join(path, '..'), this.bounds, true), basename(path), await this.fileHash(path));
    }
    return state;
  }

  // ---- the report

  private report(run: PlanRun, startedAt: Date): DrillReport {
    const profile = this.options.profile;
    return this.reportOf(run, startedAt, 'drill', {
      kind: 'drill',
      target: {
        runtime: 'process',
        image: null,
        backup_stamp: this.backupPath ? basename(this.backupPath) : null,
        profile: profile.profile.name,
        profile_source: profile.source,
        drills: ['restore', ...this.options.drills],
        run_id: this.options.runId,
        ...(this.options.keep && this.root ? { data_root: this.root } : {}),
      },
      metrics: this.metrics,
    });
  }
}

const SEVERITY: Record<CheckResult['status'], number> = { skip: 0, pass: 1, warn: 2, fail: 3 };

/** The last lines of a command's output, for a message. */
function tail(result: ProcessResult): string {
  return `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-8).join('\n').slice(-1_500);
}

/**
 * A store file and what lies beside it under its name (`app.db`, `app.db-wal`, …) as a tree:
 * the file by its hash, the others by name (a new `-wal` next to a database is a change).
 */
function pick(listing: Record<string, string>, name: string, hash: string | null): Record<string, string> {
  const beside = Object.fromEntries(Object.entries(listing).filter(([path]) => path !== name && path.startsWith(name) && !path.includes('/')));
  return hash === null ? beside : { ...beside, [name]: hash };
}

function stampName(time: number, stamp: 'YYYYMMDD_HHMMSS' | 'YYYYMMDDTHHMMSSZ'): string {
  const iso = new Date(time).toISOString();
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}`;
  const clock = `${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
  return stamp === 'YYYYMMDD_HHMMSS' ? `${digits}_${clock}` : `${digits}T${clock}Z`;
}

function isStampName(name: string, stamp: 'YYYYMMDD_HHMMSS' | 'YYYYMMDDTHHMMSSZ'): boolean {
  return stamp === 'YYYYMMDD_HHMMSS' ? /^\d{8}_\d{6}$/.test(name) : /^\d{8}T\d{6}Z$/.test(name);
}

async function writeAgedFile(path: string, time: number): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, 'a backup the drill aged\n');
  await utimes(path, time / 1000, time / 1000);
}

/** The first directory or file named `name` under `root`, at most `depth` levels down, never through a link. */
async function findEntryNamed(root: string, name: string, depth: number): Promise<string | null> {
  const queue: { dir: string; level: number }[] = [{ dir: root, level: 0 }];
  let visited = 0;
  while (queue.length > 0 && visited < 10_000) {
    const { dir, level } = queue.shift()!;
    visited += 1;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.name === name && (entry.isDirectory() || entry.isFile())) return path;
      if (!entry.isDirectory()) continue;
      if (level + 1 < depth) queue.push({ dir: path, level: level + 1 });
    }
  }
  return null;
}



/** "changed table notes; removed a.txt" — at most a few of each, for a message. */
function describeDifferences(differences: { readonly added: readonly string[]; readonly removed: readonly string[]; readonly changed: readonly string[] }): string {
  const few = (items: readonly string[]): string => `${items.slice(0, 5).join(', ')}${items.length > 5 ? ` and ${items.length - 5} more` : ''}`;
  return [
    ...(differences.changed.length ? [`changed: ${few(differences.changed)}`] : []),
    ...(differences.removed.length ? [`missing: ${few(differences.removed)}`] : []),
    ...(differences.added.length ? [`not in the backup: ${few(differences.added)}`] : []),
  ].join('; ');
}

/** How many files of `before` are gone or changed in `after` (files added beside them do not count). */
function lostOrChanged(before: Record<string, string>, after: Record<string, string>): number {
  const d = treeDifferences(before, after);
  return d.removed.length + d.changed.length;
}

/** How many paths differ between two hashed trees. */
function changedCount(before: Record<string, string>, after: Record<string, string>): number {
  const d = treeDifferences(before, after);
  return d.added.length + d.removed.length + d.changed.length;
}

/** The stores whose state differs between two snapshots of them. */
function changedStores(before: Record<string, Record<string, string>>, after: Record<string, Record<string, string>>): string[] {
  return Object.entries(before)
    .filter(([id, tree]) => changedCount(tree, after[id] ?? {}) > 0)
    .map(([id]) => id);
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * What opening a backup's database through SQLite leaves beside it and changes nothing of its
 * data: a new `-shm`, an empty new `-wal` or `-journal`. A WAL with frames is a change.
 */
function withoutOpenedSidecars(differences: ReturnType<typeof treeDifferences>, after: Record<string, string>): ReturnType<typeof treeDifferences> {
  const harmless = (path: string): boolean => path.endsWith('-shm') || ((path.endsWith('-wal') || path.endsWith('-journal')) && after[path] === EMPTY_SHA256);
  return { ...differences, added: differences.added.filter((path) => !harmless(path)) };
}

/** restore.backup_kept: nothing of the backup lost or changed; files the restore added beside it only warn. */
function backupKeptCheck(name: string, files: number, differences: ReturnType<typeof treeDifferences>): CheckResult {
  const id = 'restore.backup_kept';
  if (differences.removed.length + differences.changed.length > 0) {
    return check(id, 'fail', `the restore changed the backup it restored from (${describeDifferences(differences)}): it cannot be restored again as it was`, { ...differences });
  }
  if (differences.added.length > 0) return check(id, 'warn', `the restore wrote into its backup (${describeDifferences(differences)}); what was there is intact`, { ...differences });
  return check(id, 'pass', `the backup ${name} is as it was before the restore`, { files });
}

/** Whether a file starts as a SQLite database does (read without following a link). */
async function isSqliteFile(path: string): Promise<boolean> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => null);
  if (!handle) return false;
  try {
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return hasSqliteMagic(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}
