import { randomBytes } from 'node:crypto';
import { chown, chmod, mkdtemp, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { GenericContainer, PullPolicy, getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';
import { AbstractWaitStrategy } from 'testcontainers/build/wait-strategies/wait-strategy.js';
import { AtoCoreClient } from '../atocore/client.js';
import { markDrillRoot, releaseDrillRoot } from '../cleanup/marks.js';
import type { BackupCliInvoker } from '../atocore/backup-cli.js';
import { BoundedText, type ProcessResult } from '../common/child-process.js';
import { registerEmergencyCleanup, registerEmergencyKill } from '../common/emergency-cleanup.js';
import { InfrastructureError, errorMessage } from '../common/errors.js';
import { formatDuration } from '../common/duration.js';
import { CONTAINER_ROLE_LABEL, CONTAINER_RUN_LABEL, layoutUnder, type AtoCoreLayout, type AtoCoreRuntime, type FileOwner, type StartedAtoCore } from './types.js';

/** Dalidou's root inside the container (contract: "State on disk"). */
export const CONTAINER_ROOT = '/srv/storage/atocore';
const SERVICE_PORT = 8100;

export interface ContainerRuntimeOptions {
  readonly image: string;
  /** the service user inside the image; the real AtoCore runs as 1000:1000 */
  readonly serviceUser?: FileOwner;
  readonly faults?: readonly string[];
  readonly signal?: AbortSignal;
  readonly tmpDir?: string;
  readonly runId: string;
  /** images the drill switches to later (the migration drill's --image), checked up front */
  readonly otherImages?: readonly string[];
}

/** The harness waits for /health itself (with a bound it can name); testcontainers only starts. */
class NoWaitStrategy extends AbstractWaitStrategy {
  override async waitUntilReady(): Promise<void> {}
}

/**
 * AtoCore as Dalidou runs it: a container of the image with the data root bind-mounted in
 * Dalidou's layout and the Chroma directory as its own bind mount; the backup CLI runs in a
 * one-off container of the same image with the same mounts (`docker compose run --rm`).
 */
export class ContainerRuntime implements AtoCoreRuntime {
  readonly kind = 'container' as const;
  readonly #options: ContainerRuntimeOptions;
  #image: string;
  #layout: AtoCoreLayout | undefined;
  #service: StartedTestContainer | undefined;
  #serviceExit: string | undefined;
  #logs = new BoundedText(256 * 1024);
  #unregister: Array<() => void> = [];

  constructor(options: ContainerRuntimeOptions) {
    this.#options = options;
    this.#image = options.image;
  }

  get image(): string {
    return this.#image;
  }

  /** The migration drill switches images between starts (A → B → A). */
  useImage(image: string): void {
    this.#image = image;
  }

  get layout(): AtoCoreLayout {
    if (!this.#layout) throw new Error('ContainerRuntime.prepare() has not run');
    return this.#layout;
  }

  serviceOwner(): FileOwner {
    return this.#options.serviceUser ?? { uid: 1000, gid: 1000 };
  }

  async prepare(): Promise<void> {
    try {
      await withTimeout(getContainerRuntimeClient(), 20_000, 'reaching the Docker engine');
    } catch (error) {
      throw new InfrastructureError(`no Docker engine reachable (${errorMessage(error)}); the container runtime needs one (DOCKER_HOST or /var/run/docker.sock)`);
    }
    for (const image of new Set([this.#image, ...(this.#options.otherImages ?? [])])) {
      if (!(await imageExists(image))) {
        throw new InfrastructureError(`image ${image} is not on this machine (the harness never pulls); build it first, e.g. fixtures/atocore/build-image`);
      }
    }
    // a second signal while a container is still being started: everything with this run's label goes
    this.#unregister.push(registerEmergencyKill(() => dockerRemoveRunNow(this.#options.runId)));
    const root = await mkdtemp(join(this.#options.tmpDir ?? tmpdir(), 'atocore-drill-'));
    this.#unregister.push(registerEmergencyCleanup(() => rmSync(root, { recursive: true, force: true })));
    await markDrillRoot(root);
    this.#layout = layoutUnder(root);
    for (const dir of [this.#layout.dataDir, join(this.#layout.dataDir, 'db'), this.#layout.chromaDir, this.#layout.configDir, this.#layout.backupDir, this.#layout.snapshotsDir]) {
      await mkdir(dir, { recursive: true });
      await this.handOver(dir);
    }
    await chmod(root, 0o755);
    await proveBindMountReaches(root, { image: this.#image, user: this.#user(), runId: this.#options.runId, ...(this.#options.signal ? { signal: this.#options.signal } : {}) });
  }

  /** Gives a path the harness created to the service user (root can chown; others open it up). */
  async handOver(path: string): Promise<void> {
    const owner = this.serviceOwner();
    if (process.getuid?.() === 0) await chown(path, owner.uid, owner.gid);
    else await chmod(path, (await stat(path)).isDirectory() ? 0o777 : 0o666);
  }

  #environment(): Record<string, string> {
    const env: Record<string, string> = {
      ATOCORE_HOST: '0.0.0.0',
      ATOCORE_PORT: String(SERVICE_PORT),
      ATOCORE_DATA_DIR: `${CONTAINER_ROOT}/data`,
      ATOCORE_BACKUP_DIR: `${CONTAINER_ROOT}/backups`,
      ATOCORE_PROJECT_REGISTRY_PATH: `${CONTAINER_ROOT}/config/project-registry.json`,
    };
    if (this.#options.faults && this.#options.faults.length > 0) env.ATOCORE_STANDIN_FAULTS = this.#options.faults.join(',');
    return env;
  }

  #binds(): Array<{ source: string; target: string }> {
    const layout = this.layout;
    // the Chroma directory is its own bind mount, nested in data/, as on Dalidou
    return [
      { source: layout.dataDir, target: `${CONTAINER_ROOT}/data` },
      { source: layout.chromaDir, target: `${CONTAINER_ROOT}/data/chroma` },
      { source: layout.configDir, target: `${CONTAINER_ROOT}/config` },
      { source: layout.backupDir, target: `${CONTAINER_ROOT}/backups` },
    ];
  }

  #user(): string {
    const owner = this.serviceOwner();
    return `${owner.uid}:${owner.gid}`;
  }

  async start(healthTimeoutMs: number, boundName: string): Promise<StartedAtoCore> {
    if (this.#service) throw new Error('AtoCore is already running');
    this.#serviceExit = undefined;
    const logs = this.#logs;
    const container = new GenericContainer(this.#image)
      .withPullPolicy(PullPolicy.neverPull())
      .withExposedPorts(SERVICE_PORT)
      .withEnvironment(this.#environment())
      .withBindMounts(this.#binds().map((b) => ({ ...b, mode: 'rw' as const })))
      .withUser(this.#user())
      .withLabels({ [CONTAINER_RUN_LABEL]: this.#options.runId, [CONTAINER_ROLE_LABEL]: 'service' })
      .withWaitStrategy(new NoWaitStrategy().withStartupTimeout(healthTimeoutMs))
      .withLogConsumer((stream) => {
        stream.on('data', (chunk: Buffer | string) => logs.push(Buffer.from(chunk)));
        stream.on('error', () => {});
      });
    let started: StartedTestContainer;
    try {
      started = await withTimeout(container.start(), healthTimeoutMs, `starting a container of ${this.#image}`);
    } catch (error) {
      throw new InfrastructureError(`could not start a container of ${this.#image}: ${await describeStartFailure(error)}`, { cause: error });
    }
    this.#service = started;
    const id = started.getId();
    this.#unregister.push(registerEmergencyKill(() => dockerRemoveNow(id)));
    const baseUrl = `http://${started.getHost()}:${started.getMappedPort(SERVICE_PORT)}`;
    const client = new AtoCoreClient(baseUrl, this.#options.signal ? { signal: this.#options.signal } : {});
    const runtimeClient = await getContainerRuntimeClient();
    const handle = runtimeClient.container.getById(id);
    let lastProbe = 0;
    try {
      await client.waitHealthy(
        healthTimeoutMs,
        () => {
          // asking the engine on every poll is wasteful; once a second is enough
          if (Date.now() - lastProbe < 1_000) return this.#serviceExit;
          lastProbe = Date.now();
          void runtimeClient.container.inspect(handle).then(
            (info) => {
              if (!info.State.Running) this.#serviceExit = `container ${id.slice(0, 12)} exited with code ${info.State.ExitCode}`;
            },
            () => {},
          );
          return this.#serviceExit;
        },
        boundName,
      );
    } catch (error) {
      const unreachable = this.#serviceExit === undefined ? unreachableFromJobContainer(started.getHost()) : null;
      if (unreachable) throw new InfrastructureError(`${errorMessage(error)}; ${unreachable}`, { cause: error });
      throw error;
    }
    return { baseUrl };
  }

  /**
   * Stops the service's container (SIGTERM, SIGKILL after the bound) and removes it. An
   * interrupt that comes while the stop waits removes it at once and is thrown: the service
   * did not stop by itself. (A stop begun after the interrupt, as teardown's, is orderly; a
   * second signal cuts that one.)
   */
  async stop(timeoutMs: number): Promise<void> {
    const service = this.#service;
    if (!service) return;
    this.#service = undefined;
    const id = service.getId();
    const signal = this.#options.signal;
    const removeNow = async (): Promise<void> => {
      try {
        const docker = (await getContainerRuntimeClient()).container.dockerode;
        await withTimeout(docker.getContainer(id).remove({ force: true }), 10_000, `removing container ${id.slice(0, 12)}`);
      } catch {
        dockerRemoveNow(id);
      }
    };
    let onAbort = (): void => {};
    const interrupted = new Promise<'interrupted'>((resolve) => {
      onAbort = () => resolve('interrupted');
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    const stopping = withTimeout(service.stop({ timeout: Math.max(1_000, timeoutMs - 2_000), remove: true }), timeoutMs + 5_000, `stopping container ${id.slice(0, 12)}`);
    // an interrupt leaves the graceful stop behind: its later failure is nobody's to hear
    stopping.catch(() => {});
    let outcome: 'stopped' | 'interrupted';
    try {
      outcome = await Promise.race([stopping.then(() => 'stopped' as const), interrupted]);
    } catch (error) {
      dockerRemoveNow(id);
      throw new InfrastructureError(`could not stop AtoCore's container ${id.slice(0, 12)}: ${errorMessage(error)}`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (outcome === 'interrupted') {
      await removeNow();
      const reason: unknown = signal?.reason;
      throw reason instanceof Error ? reason : new InfrastructureError(`interrupted while stopping AtoCore's container ${id.slice(0, 12)}`);
    }
  }

  /** `docker compose run --rm --entrypoint python atocore -m atocore.ops.backup …`, as a value. */
  readonly backupCli: BackupCliInvoker = async (args, timeoutMs) => {
    const argv = ['python3', '-m', 'atocore.ops.backup', ...args];
    const started = Date.now();
    const docker = (await getContainerRuntimeClient()).container.dockerode;
    const container = await docker.createContainer({
      Image: this.#image,
      Entrypoint: ['python3'],
      Cmd: argv.slice(1),
      User: this.#user(),
      Env: Object.entries(this.#environment()).map(([k, v]) => `${k}=${v}`),
      Labels: { [CONTAINER_RUN_LABEL]: this.#options.runId, [CONTAINER_ROLE_LABEL]: 'backup-cli' },
      AttachStdout: true,
      AttachStderr: true,
      HostConfig: { Binds: this.#binds().map((b) => `${b.source}:${b.target}:rw`), AutoRemove: false },
    });
    const unregister = registerEmergencyKill(() => dockerRemoveNow(container.id));
    const stdout = new BoundedText(4 * 1024 * 1024);
    const stderr = new BoundedText(4 * 1024 * 1024);
    let timedOut = false;
    let aborted = false;
    try {
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      const out = new PassThrough();
      const err = new PassThrough();
      out.on('data', (d: Buffer) => stdout.push(d));
      err.on('data', (d: Buffer) => stderr.push(d));
      docker.modem.demuxStream(stream, out, err);
      const ended = new Promise<void>((resolve) => stream.on('end', () => resolve()));
      await container.start();
      const kill = (): void => {
        void container.kill().catch(() => {});
      };
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, timeoutMs);
      const onAbort = (): void => {
        aborted = true;
        kill();
      };
      this.#options.signal?.addEventListener('abort', onAbort, { once: true });
      const status = (await container.wait()) as { StatusCode: number };
      clearTimeout(timer);
      this.#options.signal?.removeEventListener('abort', onAbort);
      await Promise.race([ended, new Promise((r) => setTimeout(r, 2_000))]);
      // a container's process killed by signal N exits 128+N (docker's convention): report the
      // signal, so a kill from outside (docker stop, the OOM killer) is not read as an answer
      const killedBy = status.StatusCode > 128 ? signalName(status.StatusCode - 128) : null;
      const result: ProcessResult = {
        argv: ['docker run', this.#image, ...argv],
        exitCode: killedBy ? null : status.StatusCode,
        signal: killedBy,
        stdout: stdout.text(),
        stderr: stderr.text(),
        durationMs: Date.now() - started,
        timedOut,
        aborted,
      };
      return result;
    } finally {
      await container.remove({ force: true }).catch(() => {});
      unregister();
    }
  };

  recentLogs(): string {
    return this.#logs.text();
  }

  async dispose(keepData: boolean): Promise<void> {
    const problems: string[] = [];
    try {
      await this.stop(15_000);
    } catch (error) {
      problems.push(errorMessage(error));
    }
    // anything else this run created (a one-off container cut off by a signal)
    try {
      const docker = (await getContainerRuntimeClient()).container.dockerode;
      const leftovers = await docker.listContainers({ all: true, filters: { label: [`${CONTAINER_RUN_LABEL}=${this.#options.runId}`] } });
      await Promise.all(leftovers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
    } catch (error) {
      problems.push(`listing leftover containers: ${errorMessage(error)}`);
    }
    if (this.#layout && !keepData) {
      try {
        await rm(this.#layout.root, { recursive: true, force: true });
      } catch (error) {
        problems.push(`removing ${this.#layout.root}: ${errorMessage(error)}`);
      }
    } else if (this.#layout) {
      await releaseDrillRoot(this.#layout.root).catch((error: unknown) => problems.push(`unmarking the kept ${this.#layout!.root}: ${errorMessage(error)}`));
    }
    for (const unregister of this.#unregister.splice(0)) unregister();
    if (problems.length > 0) throw new InfrastructureError(problems.join('; '));
  }
}

/** How long the bind-mount proof may take: one short container of a local image. */
export const CANARY_TIMEOUT_MS = 30_000;

/** Reads the canary's content through the mount; "absent" when the mounted directory does not hold it. */
const CANARY_READER = [
  'import sys',
  'try:',
  "    sys.stdout.write('canary:' + open(sys.argv[1]).read())",
  'except FileNotFoundError:',
  "    sys.stdout.write('absent')",
].join('\n');

/**
 * What a user is told when bind mounts do not reach the drill's files: the usual cause is a
 * job that runs in a container (GitHub's `container:`, every Gitea act_runner job) and talks
 * to the host's Docker: the host resolves bind-mount paths in its own filesystem.
 */
export function workDirNotSharedMessage(dir: string, why: string): string {
  return (
    `the job seems to run in a container whose paths the Docker host does not see: the drill's bind mounts of ${dir} would be empty (${why}). ` +
    'Give a directory shared with the host at the same path as --work-dir DIR (action input work-dir), e.g. ' +
    "-v /srv/atocore-drill-work:/srv/atocore-drill-work in the job container's options and --work-dir /srv/atocore-drill-work"
  );
}

/**
 * Before a container drill: proves that a bind mount of `dir` shows what the harness wrote
 * there. A canary file of random content is written into `dir` and read back by a throwaway
 * container of the drill's own image (never pulled), with `dir` mounted read-only as a
 * `bind` mount, which, unlike a `-v` bind, never creates a missing path on the host. Bounded
 * in time, removed afterwards (also on a signal). Exit 3 either way it fails: the drill could
 * not run, the service is not to blame.
 */
export async function proveBindMountReaches(dir: string, options: { image: string; user: string; runId: string; signal?: AbortSignal; timeoutMs?: number }): Promise<void> {
  const content = randomBytes(24).toString('hex');
  const name = `.atocore-drill-canary-${randomBytes(6).toString('hex')}`;
  const canary = join(dir, name);
  try {
    await writeFile(canary, content, { mode: 0o644, flag: 'wx' });
  } catch (error) {
    throw new InfrastructureError(`could not write the bind-mount canary ${canary}: ${errorMessage(error)}`, { cause: error });
  }
  try {
    const answer = await readThroughBindMount(dir, name, { ...options, timeoutMs: options.timeoutMs ?? CANARY_TIMEOUT_MS });
    if (answer === `canary:${content}`) return;
    const why =
      answer === 'no-such-host-path'
        ? 'the Docker host has no such directory'
        : answer === 'absent'
          ? "the Docker host's directory of that name lacks the canary file written here"
          : 'a container of the image reads another canary there than the one written';
    throw new InfrastructureError(workDirNotSharedMessage(dir, why));
  } finally {
    await rm(canary, { force: true }).catch(() => {});
  }
}

/** The canary reader's answer: "canary:<content>", "absent", or "no-such-host-path" when the host has no such directory. */
async function readThroughBindMount(dir: string, name: string, options: { image: string; user: string; runId: string; signal?: AbortSignal; timeoutMs: number }): Promise<string> {
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const mountPoint = '/atocore-drill-canary';
  let container: Awaited<ReturnType<typeof docker.createContainer>>;
  try {
    container = await withTimeout(
      docker.createContainer({
        Image: options.image,
        Entrypoint: ['python3'],
        Cmd: ['-c', CANARY_READER, `${mountPoint}/${name}`],
        User: options.user,
        Labels: { [CONTAINER_RUN_LABEL]: options.runId, [CONTAINER_ROLE_LABEL]: 'canary' },
        HostConfig: { Mounts: [{ Type: 'bind', Source: dir, Target: mountPoint, ReadOnly: true }], NetworkMode: 'none', AutoRemove: false },
      }),
      options.timeoutMs,
      `creating the bind-mount canary container of ${options.image}`,
    );
  } catch (error) {
    // the engine checks a bind source on its own filesystem
    if (/bind source path does not exist|not a valid Windows path|invalid mount config/i.test(errorMessage(error))) return 'no-such-host-path';
    throw new InfrastructureError(`could not create a container of ${options.image} to prove the drill's bind mounts: ${errorMessage(error)}`, { cause: error });
  }
  const unregister = registerEmergencyKill(() => dockerRemoveNow(container.id));
  const stop = (): void => {
    void container.kill().catch(() => {});
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    if (options.signal?.aborted) throw new InfrastructureError('interrupted before the bind-mount proof');
    try {
      await withTimeout(container.start(), options.timeoutMs, `starting the bind-mount canary container of ${options.image}`);
    } catch (error) {
      if (/bind source path does not exist|invalid mount config/i.test(errorMessage(error))) return 'no-such-host-path';
      throw error;
    }
    const status = (await withTimeout(container.wait(), options.timeoutMs, `reading the bind-mount canary through a container of ${options.image}`).catch((error: unknown) => {
      stop();
      throw error;
    })) as { StatusCode: number };
    if (options.signal?.aborted) throw new InfrastructureError('interrupted during the bind-mount proof');
    const logs = await withTimeout(container.logs({ stdout: true, stderr: true, follow: false }), 10_000, 'reading the canary container\'s output');
    const { stdout, stderr } = demuxDockerLogs(Buffer.isBuffer(logs) ? logs : Buffer.from(String(logs)));
    if (status.StatusCode !== 0) {
      throw new InfrastructureError(`a container of ${options.image} could not read the bind-mount canary (exit ${status.StatusCode}): ${stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500) || 'no output'}`);
    }
    return stdout;
  } catch (error) {
    // the engine's own errors (no python3 in the image, a daemon gone away) say what failed, not what was being done
    throw error instanceof InfrastructureError ? error : new InfrastructureError(`could not prove the drill's bind mounts with a container of ${options.image}: ${errorMessage(error)}`, { cause: error });
  } finally {
    options.signal?.removeEventListener('abort', stop);
    await container.remove({ force: true }).catch(() => {});
    unregister();
  }
}

/** Docker's multiplexed log format (no TTY): frames of an 8-byte header (stream, 0, 0, 0, size) and the bytes. */
export function demuxDockerLogs(buffer: Buffer, limit = 64 * 1024): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let offset = 0;
  let total = 0;
  while (offset + 8 <= buffer.length && total < limit) {
    const stream = buffer[offset];
    const size = buffer.readUInt32BE(offset + 4);
    const frame = buffer.subarray(offset + 8, Math.min(buffer.length, offset + 8 + size));
    (stream === 2 ? err : out).push(frame);
    total += frame.length;
    offset += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

async function imageExists(image: string): Promise<boolean> {
  try {
    const docker = (await getContainerRuntimeClient()).container.dockerode;
    await docker.getImage(image).inspect();
    return true;
  } catch {
    return false;
  }
}

/** Synchronous last resort for signals and exits: the docker CLI when there is one. */
function dockerRemoveNow(id: string): void {
  try {
    execFileSync('docker', ['rm', '-f', id], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    // no CLI, or already gone
  }
}

/** The same, for every container of a run (by its label), whether or not the harness has its id yet. */
function dockerRemoveRunNow(runId: string): void {
  try {
    const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=${CONTAINER_RUN_LABEL}=${runId}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 })
      .split('\n')
      .filter(Boolean);
    if (ids.length > 0) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    // no CLI, or already gone
  }
}

/**
 * Inside a container (a CI job container) "localhost" is the job container itself, not the
 * Docker host that publishes the service's port: testcontainers falls back to it when it
 * cannot find the host's address. The service may be up and unreachable; say how to fix it.
 */
function unreachableFromJobContainer(host: string): string | null {
  const local = host === 'localhost' || host === '127.0.0.1' || host === '::1';
  const inContainer = existsSync('/.dockerenv') || existsSync('/run/.containerenv');
  if (!local || !inContainer) return null;
  return (
    'this harness runs in a container, where localhost is not the Docker host that publishes the service\'s port: ' +
    'set TESTCONTAINERS_HOST_OVERRIDE to the host\'s address as the job container sees it (e.g. host.docker.internal, with --add-host=host.docker.internal:host-gateway on the job container)'
  );
}

function signalName(number: number): NodeJS.Signals | null {
  const entry = Object.entries(osConstants.signals).find(([, value]) => value === number);
  return entry ? (entry[0] as NodeJS.Signals) : null;
}

/**
 * testcontainers starts its reaper (Ryuk) before the first container and pulls its image when
 * it is missing; offline that fails with a registry error that names neither Ryuk nor the way
 * around it. The drill never pulls its own images, so a start failure while Ryuk is on and its
 * image is absent is Ryuk's.
 */
export async function describeStartFailure(error: unknown): Promise<string> {
  const message = errorMessage(error);
  if (process.env.TESTCONTAINERS_RYUK_DISABLED === 'true') return message;
  const ryukImage = process.env.RYUK_CONTAINER_IMAGE || 'testcontainers/ryuk';
  if (/ryuk/i.test(message) || !(await anyImageNamed(ryukImage))) {
    return `testcontainers' Ryuk (its reaper container, image ${ryukImage}) could not start: ${message}. Where its image cannot be pulled, set TESTCONTAINERS_RYUK_DISABLED=true: the drill removes its own containers without it`;
  }
  return message;
}

async function anyImageNamed(name: string): Promise<boolean> {
  try {
    const docker = (await getContainerRuntimeClient()).container.dockerode;
    const repository = name.replace(/:[^/:]+$/, '');
    const images = await docker.listImages({ filters: { reference: [repository] } });
    return images.length > 0;
  } catch {
    return true;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, doing: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new InfrastructureError(`${doing} took longer than ${formatDuration(ms)}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
