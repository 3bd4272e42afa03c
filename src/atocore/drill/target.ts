import { join } from 'node:path';
import { AtoCoreClient } from '../client.js';
import { callBackupCli, type BackupCliCall } from '../backup-cli.js';
import type { Deadline } from '../../common/deadline.js';
import { formatDuration } from '../../common/duration.js';
import { errorMessage } from '../../common/errors.js';
import type { AtoCoreRuntime } from '../../runtimes/types.js';
import type { SqliteDatabase } from '../../sqlite/open.js';
import { inspectDatabaseFile } from '../../sqlite/inspect.js';
import { isServiceStartFinding, requireEvidence } from '../../engine/classification.js';

const HEALTH_TIMEOUT_MS = 60_000;
const CLI_TIMEOUT_MS = 5 * 60_000;
const STOP_TIMEOUT_MS = 30_000;

/**
 * The service as a drill reaches it: started and stopped, asked over HTTP, its backup CLI run
 * and its database files read, every call within the run's budget and signal.
 */
export class DrillTarget {
  readonly runtime: AtoCoreRuntime;
  private readonly deadline: Deadline;
  private readonly signal: AbortSignal | undefined;
  #client: AtoCoreClient | undefined;

  constructor(runtime: AtoCoreRuntime, deadline: Deadline, signal?: AbortSignal) {
    this.runtime = runtime;
    this.deadline = deadline;
    this.signal = signal;
  }

  /** Of the last start: the time the machine took from it (attempts spoiled by another program on the port), left out of an RTO. */
  lostStartMs = 0;

  /** The running service's HTTP API. */
  api(): AtoCoreClient {
    if (!this.#client) throw new Error('AtoCore is not running');
    return this.#client;
  }

  /** Starts the service on the layout's data, waits for /health (bounded) and points the client at it; its URL. */
  async start(): Promise<string> {
    const ms = this.deadline.bound(HEALTH_TIMEOUT_MS);
    const name = this.deadline.limitedBy(HEALTH_TIMEOUT_MS) ? `what was left of ${this.deadline.describe()}` : 'the health wait';
    const started = await this.runtime.start(ms, name);
    this.lostStartMs = started.lostMs ?? 0;
    this.#client = new AtoCoreClient(started.baseUrl, { budget: this.deadline, ...(this.signal ? { signal: this.signal } : {}) });
    return started.identityNote ? `${started.baseUrl} (${started.identityNote})` : started.baseUrl;
  }

  /**
   * A start whose failure is a finding about the service (it exited, or stayed unhealthy for
   * the whole health bound): the message of that finding; any other failure is thrown.
   */
  async startOrFinding(): Promise<{ url: string } | { finding: string }> {
    const budgetLimited = this.deadline.limitedBy(HEALTH_TIMEOUT_MS);
    try {
      return { url: await this.start() };
    } catch (error) {
      if (!isServiceStartFinding(error, { budgetLimited, interrupted: this.signal?.aborted === true })) throw error;
      return { finding: errorMessage(error) };
    }
  }

  async stop(): Promise<void> {
    await this.runtime.stop(this.deadline.bound(STOP_TIMEOUT_MS));
    this.#client = undefined;
  }

  /** A backup-CLI call whose outcome is evidence; an interrupted, cut or killed call is an error. */
  async backupCli(args: string[]) {
    const { call, boundName } = await this.backupCliCall(args);
    return requireEvidence(call, `backup ${args.join(' ')}`, boundName);
  }

  /** A backup-CLI call as it ended, evidence or not, and the name of the bound it ran under (for classification.ts). */
  async backupCliCall(args: string[]): Promise<{ readonly call: BackupCliCall; readonly boundName: string }> {
    const boundName = this.deadline.limitedBy(CLI_TIMEOUT_MS) ? `what was left of ${this.deadline.describe()}` : `its own bound of ${formatDuration(CLI_TIMEOUT_MS)}`;
    return { call: await callBackupCli(this.runtime.backupCli, args, this.deadline.bound(CLI_TIMEOUT_MS)), boundName };
  }

  /** The harness's own look at a database, from a private copy bounded by the run's budget and signal. */
  inspect(path: string, probe: (db: SqliteDatabase) => void) {
    return inspectDatabaseFile(path, probe, undefined, { deadline: this.deadline, ...(this.signal ? { signal: this.signal } : {}) });
  }

  /** Where a snapshot's database lies. */
  snapshotDbPath(stamp: string): string {
    return join(this.snapshotDir(stamp), 'db', 'atocore.db');
  }

  snapshotDir(stamp: string): string {
    return join(this.runtime.layout.snapshotsDir, stamp);
  }
}
