import { FieldError, forFieldAsync } from '../inputs/fields.js';
import type { SshAddress } from '../remote/address.js';
import { loadIdentity, type LoadedIdentity } from '../remote/identity.js';
import { loadKnownHosts, parseKnownHosts, type KnownHosts } from '../remote/known-hosts.js';
import { SshConnection } from '../remote/ssh-connection.js';
import { SshSnapshotStore } from '../validation/ssh-store.js';
import type { SnapshotStore, StoreContext } from '../validation/store.js';
import type { ValidateInputs } from './validate-job.js';

/**
 * Everything a validation needs to read snapshots over SSH: the checked host keys, the
 * identity, and one connection per host (shared by the snapshots and an off-host copy on the
 * same host). Its own module so that runs without SSH never load ssh2.
 */
export class SshAccess {
  readonly identity: LoadedIdentity;
  readonly #knownHosts: KnownHosts;
  readonly #inputs: ValidateInputs;
  readonly #connections = new Map<string, SshConnection>();

  private constructor(inputs: ValidateInputs, knownHosts: KnownHosts, identity: LoadedIdentity) {
    this.#inputs = inputs;
    this.#knownHosts = knownHosts;
    this.identity = identity;
  }

  static async load(inputs: ValidateInputs, env: NodeJS.ProcessEnv): Promise<SshAccess> {
    if (!inputs.knownHosts) throw new FieldError('knownHosts', (n) => `${n.one('knownHosts')} is required with SSH: the host key must be checked`);
    if (!inputs.identity) throw new FieldError('identity', 'no SSH key was given');
    const source = inputs.knownHosts;
    const knownHosts = source.kind === 'file' ? await forFieldAsync('knownHosts', (name) => loadKnownHosts(source.path, name)) : parseKnownHosts(source.text, 'the known_hosts lines given');
    return new SshAccess(inputs, knownHosts, await loadIdentity(inputs.identity, env));
  }

  /** The snapshots under `root` on a host, read through the host's one connection. */
  async store(address: SshAddress, root: string, field: 'root' | 'offhost', context: StoreContext): Promise<SnapshotStore> {
    return SshSnapshotStore.open(await this.#connect(address, context), root, field, context, false);
  }

  /** The snapshots directly in `dir` on a host (JellyCore's backup root), through the host's one connection. */
  async directoryStore(address: SshAddress, dir: string, field: 'root', context: StoreContext): Promise<SnapshotStore> {
    return SshSnapshotStore.openDirectory(await this.#connect(address, context), dir, field, context, false);
  }

  close(): void {
    for (const connection of this.#connections.values()) connection.close();
  }

  async #connect(address: SshAddress, context: StoreContext): Promise<SshConnection> {
    const key = `${address.user}@${address.host}:${address.port}`;
    const existing = this.#connections.get(key);
    if (existing) return existing;
    const connection = await SshConnection.open({
      address,
      knownHosts: this.#knownHosts,
      acceptNewHostKey: this.#inputs.acceptNewHostKey,
      identity: this.identity,
      connectTimeoutMs: context.deadline.bound(this.#inputs.connectTimeoutMs),
      maxChannels: this.#inputs.concurrency,
      signal: context.signal,
    });
    this.#connections.set(key, connection);
    return connection;
  }
}
