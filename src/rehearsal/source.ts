/**
 * Where a rehearsal takes its snapshot from: the validation's snapshot store (listing and
 * reading, for the judge) plus a way to copy one regular file of a snapshot here. Locally a
 * bounded copy that opens only regular files and never follows a link; over SSH a `cat` on
 * the one connection, streamed. Both only read the source.
 */
import { join } from 'node:path';
import type { SnapshotStamp } from '../atocore/stamp.js';
import { errorMessage, InfrastructureError } from '../common/errors.js';
import { forFieldAsync } from '../inputs/fields.js';
import { formatSshAddress } from '../remote/address.js';
import { loadIdentity, type LoadedIdentity } from '../remote/identity.js';
import { loadKnownHosts, parseKnownHosts } from '../remote/known-hosts.js';
import { copyRegularFile, NotRegularFileError, ScratchSpaceError } from '../sqlite/scratch-copy.js';
import { LocalSnapshotStore } from '../validation/local-store.js';
import { STREAM_IDLE_TIMEOUT_MS, transferBudgetMs, type SnapshotStore, type StoreContext } from '../validation/store.js';
import type { RehearseInputs } from '../jobs/rehearse-job.js';
import type { SshConnection as Connection } from '../remote/ssh-connection.js';

/** A cut transfer of one file is tried this many times in all before the run gives up. */
export const FILE_ATTEMPTS = 3;

export interface RehearsalSource {
  readonly store: SnapshotStore;
  /** how the key was found, for the report (SSH only) */
  readonly identity: string | null;
  /**
   * Copies one regular file of a snapshot (as listed, `size` bytes) to `destination`, a new
   * file; the bytes copied. A file that is not `size` bytes any more is the run's error.
   */
  copyFile(stamp: SnapshotStamp, path: string, size: number, destination: string): Promise<number>;
  close(): Promise<void>;
}

/** Opens the source the inputs name: a directory here, or the host over SSH (one connection). */
export async function openRehearsalSource(inputs: RehearseInputs, context: StoreContext, env: NodeJS.ProcessEnv): Promise<RehearsalSource> {
  const source = inputs.source;
  if (source.kind === 'dir') return new LocalSource(await LocalSnapshotStore.open(source.path, 'dir', context), context);
  // ssh2 is loaded only by runs that reach a host
  const [{ SshConnection }, { SshSnapshotStore }] = await Promise.all([import('../remote/ssh-connection.js'), import('../validation/ssh-store.js')]);
  if (!inputs.knownHosts || !inputs.identity) throw new InfrastructureError('internal: SSH without known_hosts or a key');
  const hosts = inputs.knownHosts;
  const knownHosts = hosts.kind === 'file' ? await forFieldAsync('knownHosts', (name) => loadKnownHosts(hosts.path, name)) : parseKnownHosts(hosts.text, 'the known_hosts lines given');
  const identity: LoadedIdentity = await loadIdentity(inputs.identity, env);
  const connection = await SshConnection.open({
    address: source.address,
    knownHosts,
    acceptNewHostKey: inputs.acceptNewHostKey,
    identity,
    connectTimeoutMs: context.deadline.bound(inputs.connectTimeoutMs),
    maxChannels: 2,
    signal: context.signal,
  });
  try {
    const store = await SshSnapshotStore.open(connection, source.root, 'root', context, false);
    return new SshSource(store, connection, context, identity.description);
  } catch (error) {
    connection.close();
    throw error;
  }
}

class LocalSource implements RehearsalSource {
  readonly store: LocalSnapshotStore;
  readonly identity = null;
  readonly #context: StoreContext;
  constructor(store: LocalSnapshotStore, context: StoreContext) {
    this.store = store;
    this.#context = context;
  }

  async copyFile(stamp: SnapshotStamp, path: string, size: number, destination: string): Promise<number> {
    const from = join(this.store.snapshotsDir, stamp, path);
    let copied: { bytes: number };
    try {
      copied = await copyRegularFile(from, destination, { signal: this.#context.signal, deadline: this.#context.deadline, maxBytes: size });
    } catch (error) {
      if (error instanceof NotRegularFileError) throw new InfrastructureError(`copying ${from}: it is ${error.kind} now; the snapshot changed during the run`);
      throw error;
    }
    if (copied.bytes !== size) throw new InfrastructureError(`copying ${from}: ${copied.bytes} bytes, the listing said ${size}; the snapshot changed during the run`);
    return copied.bytes;
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

class SshSource implements RehearsalSource {
  readonly store: SnapshotStore;
  readonly identity: string;
  readonly #connection: Connection;
  readonly #context: StoreContext;
  constructor(store: SnapshotStore, connection: Connection, context: StoreContext, identity: string) {
    this.store = store;
    this.#connection = connection;
    this.#context = context;
    this.identity = identity;
  }

  /**
   * One `cat` per file on the one connection. A transfer cut mid-file (a stall, a channel that
   * closed early, fewer bytes than listed) restarts that file, never the files already copied;
   * an interrupt, the run's budget, the harness's own disk or a lost connection end the run.
   */
  async copyFile(stamp: SnapshotStamp, path: string, size: number, destination: string): Promise<number> {
    const full = `${this.store.snapshotsDir}/${stamp}/${path}`;
    const context = this.#context;
    let lastError: unknown;
    for (let attempt = 1; attempt <= FILE_ATTEMPTS; attempt++) {
      try {
        const streamed = await this.#connection.streamToFile({ op: 'stream', path: full }, destination, {
          what: `copying ${full}`,
          timeoutMs: context.deadline.bound(transferBudgetMs(size)),
          idleTimeoutMs: context.deadline.bound(STREAM_IDLE_TIMEOUT_MS),
          maxBytes: size,
          deadline: context.deadline,
          signal: context.signal,
        });
        if (streamed.exitCode !== 0) throw new InfrastructureError(`copying ${full} from ${this.#connection.where}: cat exited ${streamed.exitCode}: ${streamed.stderr.trim().slice(0, 300)}`);
        if (streamed.bytes !== size) throw new CutTransfer(`copying ${full} from ${this.#connection.where}: got ${streamed.bytes} bytes, the listing said ${size}`);
        return streamed.bytes;
      } catch (error) {
        lastError = error;
        if (!this.#mayRetry(error)) throw error;
      }
    }
    throw new InfrastructureError(`copying ${full}: cut ${FILE_ATTEMPTS} times: ${errorMessage(lastError)}`);
  }

  #mayRetry(error: unknown): boolean {
    if (this.#context.signal.aborted || this.#context.deadline.remainingMs() <= 0) return false;
    if (error instanceof ScratchSpaceError) return false;
    if (error instanceof CutTransfer) return true;
    // a stall or a channel closed early on a connection that still stands; a lost connection refuses the next try itself
    return error instanceof InfrastructureError && /stalled|closed without an exit status/.test(error.message);
  }

  async close(): Promise<void> {
    await this.store.close();
    this.#connection.close();
  }
}

/** A file that arrived shorter than listed: the transfer was cut (the next try restarts the file). */
class CutTransfer extends InfrastructureError {}

export function describeSshSource(inputs: RehearseInputs): string {
  const source = inputs.source;
  return source.kind === 'dir' ? source.path : `${formatSshAddress(source.address)}:${source.root}`;
}
