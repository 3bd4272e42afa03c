import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { AtoCoreClient } from '../atocore/client.js';
import { markDrillRoot, releaseDrillRoot } from '../cleanup/marks.js';
import type { BackupCliInvoker } from '../atocore/backup-cli.js';
import { BoundedText, isProcessGroupAlive, killProcessGroup, runProcess } from '../common/child-process.js';
import { registerEmergencyCleanup, registerEmergencyKill } from '../common/emergency-cleanup.js';
import { InfrastructureError, ServiceNotHealthyError } from '../common/errors.js';
import { freeLoopbackPort } from './free-port.js';
import { escapedProcesses, hasExited, portOwner, processesCarrying, type EnvironmentMark } from './port-owner.js';
import { STANDIN_BACKUP_CLI, STANDIN_DIR, STANDIN_SERVICE_COMMAND } from '../atocore/standin.js';
import { layoutUnder, type AtoCoreLayout, type AtoCoreRuntime, type FileOwner, type StartedAtoCore } from './types.js';

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/** What a user is told when the service command forked its service out of the drill's reach. */
function daemonized(pids: readonly number[]): string {
  return (
    `process ${pids.join(', ')}, which carries this drill's ATOCORE_DATA_DIR but left the process group the drill started: ` +
    'the service command daemonizes (forks into the background), so the drill can neither watch nor stop it; run it in the foreground'
  );
}

/** How many ports a start tries when other programs keep taking the chosen one. */
const PORT_ATTEMPTS = 3;
/** How long the service of a start whose port was taken gets to stop before the next try. */
const STOP_BEFORE_RETRY_MS = 5_000;

/** Another program listens on the port chosen for the service: the machine's doing. */
class PortTakenError extends InfrastructureError {
  readonly port: number;
  constructor(port: number, message: string) {
    super(message);
    this.port = port;
  }
}

export interface ProcessRuntimeOptions {
  /** how to start the service; default: the stand-in */
  readonly command?: readonly string[];
  /** how to invoke the backup module; default: the stand-in's */
  readonly backupCli?: readonly string[];
  /** ATOCORE_STANDIN_FAULTS */
  readonly faults?: readonly string[];
  /** extra environment (on top of the caller's) */
  readonly env?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  /** parent of the drill's temp root */
  readonly tmpDir?: string;
}

/**
 * AtoCore as local processes on a private temp root and a free loopback port, in the
 * caller's environment plus the ATOCORE_* variables, so two drills can run at once.
 */
export class ProcessRuntime implements AtoCoreRuntime {
  readonly kind = 'process' as const;
  readonly image = null;
  readonly #options: ProcessRuntimeOptions;
  readonly #usesStandin: boolean;
  #layout: AtoCoreLayout | undefined;
  #port = 0;
  #child: ChildProcess | undefined;
  #exit: string | undefined;
  #logs = new BoundedText(256 * 1024);
  #unregisterRoot: (() => void) | undefined;
  #unregisterChild: (() => void) | undefined;

  constructor(options: ProcessRuntimeOptions = {}) {
    this.#options = options;
    this.#usesStandin = options.command === undefined;
  }

  get layout(): AtoCoreLayout {
    if (!this.#layout) throw new Error('ProcessRuntime.prepare() has not run');
    return this.#layout;
  }

  async prepare(): Promise<void> {
    const root = await mkdtemp(join(this.#options.tmpDir ?? tmpdir(), 'atocore-drill-'));
    this.#unregisterRoot = registerEmergencyCleanup(() => rmSync(root, { recursive: true, force: true }));
    await markDrillRoot(root);
    this.#layout = layoutUnder(root);
    for (const dir of [join(this.#layout.dataDir, 'db'), this.#layout.chromaDir, this.#layout.configDir, this.#layout.snapshotsDir]) {
      await mkdir(dir, { recursive: true });
    }
  }

  environment(): NodeJS.ProcessEnv {
    const layout = this.layout;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...this.#options.env,
      ATOCORE_HOST: '127.0.0.1',
      // the backup CLI run before any start (a rehearsal restores first) needs a valid port; it never listens
      ATOCORE_PORT: String(this.#port || 8100),
      ATOCORE_DATA_DIR: layout.dataDir,
      ATOCORE_BACKUP_DIR: layout.backupDir,
      ATOCORE_PROJECT_REGISTRY_PATH: layout.registryPath,
      PYTHONUNBUFFERED: '1',
    };
    if (this.#options.faults && this.#options.faults.length > 0) env.ATOCORE_STANDIN_FAULTS = this.#options.faults.join(',');
    else delete env.ATOCORE_STANDIN_FAULTS;
    if (this.#usesStandin || this.#options.backupCli === undefined) {
      env.PYTHONPATH = [STANDIN_DIR, env.PYTHONPATH].filter(Boolean).join(delimiter);
    }
    return env;
  }

  /**
   * Starts the service on a free loopback port and waits for /health. The port is free when
   * chosen but not held until the service binds it: when another program takes it in between
   * (the machine's doing, not AtoCore's), the service is stopped and started again on a new
   * port, up to PORT_ATTEMPTS times within the same bound; the URL says so.
   */
  async start(healthTimeoutMs: number, boundName: string): Promise<StartedAtoCore> {
    if (this.#child && this.#exit === undefined) throw new Error('AtoCore is already running');
    const began = Date.now();
    const until = began + healthTimeoutMs;
    const taken: number[] = [];
    for (;;) {
      const attemptBegan = Date.now();
      try {
        const started = await this.#startOnce(Math.max(0, until - attemptBegan), boundName);
        if (taken.length === 0) return started;
        const moved = `port ${taken.join(', then ')} was taken by another program before AtoCore bound it; started again on ${this.#port}`;
        // the attempts another program spoiled are the machine's time, not the service's
        return { ...started, identityNote: [moved, started.identityNote].filter(Boolean).join('; '), lostMs: attemptBegan - began };
      } catch (error) {
        if (!(error instanceof PortTakenError) || taken.length + 1 >= PORT_ATTEMPTS || Date.now() >= until) throw error;
        taken.push(error.port);
        if ((await this.#halt(STOP_BEFORE_RETRY_MS)) === 'interrupted') throw error;
      }
    }
  }

  async #startOnce(healthTimeoutMs: number, boundName: string): Promise<StartedAtoCore> {
    const [command, ...args] = this.#options.command ?? STANDIN_SERVICE_COMMAND;
    this.#exit = undefined;
    // a port reserved for this start: one kept from an earlier start may have been taken since
    this.#port = await freeLoopbackPort();
    const child = spawn(command!, args, { env: this.environment(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#unregisterChild = registerEmergencyKill(() => killProcessGroup(child.pid, 'SIGKILL'));
    child.stdout?.on('data', (chunk: Buffer) => this.#logs.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.#logs.push(chunk));
    // what an earlier attempt's process does late (its exit, stopped by the harness) is not this one's
    const ended = (why: string): void => {
      if (this.#child === child) this.#exit ??= why;
    };
    child.on('error', (error) => {
      if (this.#child === child) this.#exit = `could not start ${command}: ${error.message}`;
    });
    child.on('exit', (code, signal) => {
      const why = signal ? `killed by ${signal}` : `exited with code ${code}`;
      // its last words may still be in the pipes: wait for them, but not for a grandchild
      // that keeps the pipes open
      const settle = setTimeout(() => ended(why), 250);
      child.once('close', () => {
        clearTimeout(settle);
        ended(why);
      });
    });
    const port = this.#port;
    const baseUrl = `http://127.0.0.1:${port}`;
    const client = new AtoCoreClient(baseUrl, this.#options.signal ? { signal: this.#options.signal } : {});
    try {
      await client.waitHealthy(healthTimeoutMs, () => this.#exit, boundName);
    } catch (error) {
      // the service died because another process took its port: the machine's doing, not AtoCore's
      if (error instanceof ServiceNotHealthyError) await this.#refuseForeignListener(port, child.pid, error.message);
      throw error;
    }
    const owner = await this.#refuseForeignListener(port, child.pid, `GET ${baseUrl}/health answered`);
    return { baseUrl, ...(owner === 'unknown' ? { identityNote: `not proven that the answer came from the started process (${port}: no /proc to read)` } : {}) };
  }

  /** What marks a process as this drill's own: the data root in its environment, as every process the drill starts has it. */
  #mark(): EnvironmentMark {
    return { name: 'ATOCORE_DATA_DIR', value: this.layout.dataDir };
  }

  /**
   * Throws when something other than the started process group listens on the port, or when
   * the command's service left that group (it daemonized): the drill cannot watch or stop it.
   */
  async #refuseForeignListener(port: number, pgid: number | undefined, context: string): Promise<'ours' | 'free' | 'unknown'> {
    const owner = await portOwner(port, pgid, this.#mark());
    if (owner.kind === 'escaped') throw new InfrastructureError(`${context}, but port ${port} is held by ${daemonized(owner.pids)}`);
    if (owner.kind === 'foreign') {
      const who = owner.pids.length > 0 ? `process ${owner.pids.join(', ')}` : 'a process of another user';
      throw new PortTakenError(port, `${context}, but port ${port} is held by ${who}, not by the AtoCore this drill started: another program took the drill's port`);
    }
    if (owner.kind === 'free' && pgid !== undefined) {
      // the command ended, but what it forked into the background lives on: a daemon
      const escaped = await escapedProcesses(pgid, this.#mark());
      if (escaped.length > 0) throw new InfrastructureError(`${context}; ${daemonized(escaped)}`);
    }
    return owner.kind;
  }

  /**
   * Stops the service: SIGTERM to its group, SIGKILL after `timeoutMs`, or at once when an
   * interrupt comes while it waits (then the stop throws the interrupt: the service did not
   * stop by itself). A stop begun after the interrupt (teardown's) is orderly; a second signal
   * cuts that one.
   */
  async stop(timeoutMs: number): Promise<void> {
    if ((await this.#halt(timeoutMs)) === 'interrupted') {
      const reason: unknown = this.#options.signal?.reason;
      throw reason instanceof Error ? reason : new InfrastructureError('interrupted while stopping AtoCore');
    }
  }

  async #halt(timeoutMs: number): Promise<'stopped' | 'interrupted'> {
    const child = this.#child;
    let outcome: 'stopped' | 'interrupted' = 'stopped';
    if (child && child.pid !== undefined) {
      const pid = child.pid;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<'exited'>((resolve) => child.once('exit', () => resolve('exited')));
        const waited = await this.#termThenWait(pid, exited, timeoutMs);
        if (waited !== 'exited') {
          killProcessGroup(pid, 'SIGKILL');
          await exited;
        }
        if (waited === 'interrupted') outcome = 'interrupted';
      }
      // whatever the service started in its group goes too
      if (isProcessGroupAlive(pid)) killProcessGroup(pid, 'SIGKILL');
      this.#unregisterChild?.();
      this.#child = undefined;
    }
    await this.#killEscaped();
    return outcome;
  }

  /** SIGTERM to the group, then whichever comes first: its exit, the bound, an interrupt of the run (one already past does not count). */
  async #termThenWait(pid: number, exited: Promise<'exited'>, timeoutMs: number): Promise<'exited' | 'timeout' | 'interrupted'> {
    const signal = this.#options.signal;
    killProcessGroup(pid, 'SIGTERM');
    let onAbort = (): void => {};
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        exited,
        new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
        new Promise<'interrupted'>((resolve) => {
          onAbort = () => resolve('interrupted');
          signal?.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Processes that carry this drill's data root but left the groups it started (a service or
   * backup CLI that daemonized): the drill's own, so they go with it.
   */
  async #killEscaped(): Promise<void> {
    if (!this.#layout) return;
    const pids = await processesCarrying(this.#mark());
    for (const pid of pids) killPid(pid);
    // SIGKILL lands when the kernel next schedules the process: wait (bounded) until none runs,
    // so nothing of the drill's still writes when its data root is removed
    const until = Date.now() + 2_000;
    for (const pid of pids) {
      while (!(await hasExited(pid)) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  readonly backupCli: BackupCliInvoker = (args, timeoutMs) => {
    const argv = [...(this.#options.backupCli ?? STANDIN_BACKUP_CLI), ...args];
    return runProcess(argv, {
      env: this.environment(),
      timeoutMs,
      ...(this.#options.signal ? { signal: this.#options.signal } : {}),
    });
  };

  serviceOwner(): FileOwner {
    return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  }

  async handOver(): Promise<void> {
    // the service runs as the harness's own user: nothing to hand over
  }

  recentLogs(): string {
    return this.#logs.text();
  }

  async dispose(keepData: boolean): Promise<void> {
    try {
      await this.#halt(5_000);
    } finally {
      if (this.#layout && !keepData) await rm(this.#layout.root, { recursive: true, force: true });
      else if (this.#layout) await releaseDrillRoot(this.#layout.root);
      this.#unregisterRoot?.();
    }
  }
}

