import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NodeSSH } from 'node-ssh';
import type { Client, ClientChannel } from 'ssh2';
import { BoundedText } from '../common/child-process.js';
import { formatDuration } from '../common/duration.js';
import { DrillError, errorMessage, InfrastructureError, UsageError } from '../common/errors.js';
import { formatSshAddress, type SshAddress } from './address.js';
import { renderRemoteCommand, type RemoteCommand } from './commands.js';
import type { LoadedIdentity } from './identity.js';
import { appendKnownHost, fingerprint, hostKeyAlgorithmsFor, verifyHostKey, type HostKeyVerdict, type KnownHosts } from './known-hosts.js';

export interface SshConnectOptions {
  readonly address: SshAddress;
  readonly knownHosts: KnownHosts;
  /** trust on first use: accept (and record) the key of a host known_hosts does not list. Off unless asked for. */
  readonly acceptNewHostKey: boolean;
  readonly identity: LoadedIdentity;
  readonly connectTimeoutMs: number;
  /** channels open at once on the one connection (sshd's MaxSessions defaults to 10) */
  readonly maxChannels?: number;
  readonly signal?: AbortSignal;
  /** a dead peer is noticed after interval × 3 without an answer */
  readonly keepaliveIntervalMs?: number;
}

export interface RemoteResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  /** stdout went past the limit: the channel was closed and stdout holds the first maxStdoutBytes */
  readonly overflowed: boolean;
  readonly durationMs: number;
}

export interface StreamedFile {
  readonly bytes: number;
  readonly sha256: string;
  readonly exitCode: number | null;
  readonly stderr: string;
}

export interface ExecOptions {
  /** what this is, for messages: "listing 20260407T060000Z" */
  readonly what: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** A tiny semaphore: the connection multiplexes at most N channels. */
class ChannelSlots {
  #free: number;
  readonly #waiting: Array<() => void> = [];
  constructor(size: number) {
    this.#free = size;
  }
  async acquire(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    };
  }
}

function abortReason(signal: AbortSignal, doing: string): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof DrillError) return reason;
  return new InfrastructureError(`aborted while ${doing}`);
}

/**
 * One SSH connection to one host, multiplexed: every remote command is a channel on it. The
 * host key must match known_hosts (fail closed); commands come only from the fixed list in
 * commands.ts; each has a timeout and an AbortSignal; output is bounded. A connection that
 * drops makes every command in flight fail as "could not run", never as a finding.
 */
export class SshConnection {
  readonly address: SshAddress;
  readonly hostKeyFingerprint: string;
  readonly #ssh: NodeSSH;
  readonly #client: Client;
  readonly #slots: ChannelSlots;
  #lost: string | null = null;
  readonly #channels = new Set<ClientChannel>();

  private constructor(address: SshAddress, ssh: NodeSSH, client: Client, hostKeyFingerprint: string, maxChannels: number) {
    this.address = address;
    this.#ssh = ssh;
    this.#client = client;
    this.hostKeyFingerprint = hostKeyFingerprint;
    this.#slots = new ChannelSlots(maxChannels);
    client.on('error', (error: Error) => {
      this.#lost ??= errorMessage(error);
    });
    client.on('close', () => {
      this.#lost ??= 'the connection closed';
      for (const channel of this.#channels) channel.destroy();
    });
  }

  get where(): string {
    return formatSshAddress(this.address);
  }

  static async open(options: SshConnectOptions): Promise<SshConnection> {
    const { address, knownHosts } = options;
    const where = formatSshAddress(address);
    if (options.signal?.aborted) throw abortReason(options.signal, `connecting to ${where}`);
    let verdict: HostKeyVerdict | undefined;
    let offered: Buffer | undefined;
    const ssh = new NodeSSH();
    const algorithms = hostKeyAlgorithmsFor(knownHosts, address.host, address.port);
    const connecting = ssh.connect({
      host: address.host,
      port: address.port,
      username: address.user,
      privateKey: options.identity.privateKey.reveal(),
      ...(options.identity.passphrase ? { passphrase: options.identity.passphrase.reveal() } : {}),
      readyTimeout: options.connectTimeoutMs,
      keepaliveInterval: options.keepaliveIntervalMs ?? 5_000,
      keepaliveCountMax: 3,
      // no agent, no keyboard-interactive, no password: the key given, or nothing
      tryKeyboard: false,
      ...(algorithms ? { algorithms: { serverHostKey: algorithms as never } } : {}),
      hostVerifier: (key: Buffer): boolean => {
        offered = Buffer.from(key);
        verdict = verifyHostKey(knownHosts, address.host, address.port, offered);
        return verdict.outcome === 'match' || (verdict.outcome === 'unknown' && options.acceptNewHostKey);
      },
    });
    const onAbort = (): void => {
      ssh.connection?.end();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await connecting;
    } catch (error) {
      ssh.dispose();
      if (options.signal?.aborted) throw abortReason(options.signal, `connecting to ${where}`);
      throw connectError(error, where, options, verdict, offered);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    const client = ssh.connection;
    if (!client || !offered || !verdict) {
      ssh.dispose();
      throw new InfrastructureError(`connecting to ${where}: the connection closed right after it opened`);
    }
    if (verdict.outcome === 'unknown') {
      // trust on first use, asked for explicitly: remember the key so that the next run checks it
      await appendKnownHost(knownHosts.file, address.host, address.port, offered).catch((error: unknown) => {
        ssh.dispose();
        throw new UsageError(`--known-hosts: could not record ${where}'s key in ${knownHosts.file}: ${errorMessage(error)}`);
      });
    }
    return new SshConnection(address, ssh, client, fingerprint(offered), options.maxChannels ?? 4);
  }

  #assertUsable(doing: string): void {
    if (this.#lost !== null) throw new InfrastructureError(`the SSH connection to ${this.where} was lost (${this.#lost}) before ${doing}`);
  }

  async #openChannel(command: string, what: string): Promise<ClientChannel> {
    this.#assertUsable(what);
    return new Promise((resolve, reject) => {
      this.#client.exec(command, (error, channel) => {
        if (error) reject(new InfrastructureError(`${what} on ${this.where}: could not open a channel: ${error.message}`));
        else resolve(channel);
      });
    });
  }

  /** Runs one command from the fixed list and collects its output, bounded. */
  async exec(command: RemoteCommand, options: ExecOptions & { readonly maxStdoutBytes: number }): Promise<RemoteResult> {
    const release = await this.#slots.acquire();
    const started = Date.now();
    try {
      if (options.signal?.aborted) throw abortReason(options.signal, options.what);
      const channel = await this.#openChannel(renderRemoteCommand(command), options.what);
      this.#channels.add(channel);
      return await new Promise<RemoteResult>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let overflowed = false;
        const stderr = new BoundedText(64 * 1024);
        let exitCode: number | null = null;
        let exitSignal: string | null = null;
        let sawExit = false;
        let failure: Error | undefined;
        const stop = (error: Error | undefined): void => {
          failure ??= error;
          channel.close();
        };
        const timer = setTimeout(() => stop(new InfrastructureError(`${options.what} on ${this.where} timed out after ${formatDuration(options.timeoutMs)}`)), options.timeoutMs);
        const onAbort = (): void => stop(abortReason(options.signal!, options.what));
        options.signal?.addEventListener('abort', onAbort, { once: true });
        channel.on('data', (chunk: Buffer) => {
          if (overflowed) return;
          const room = options.maxStdoutBytes - size;
          if (chunk.length > room) {
            chunks.push(chunk.subarray(0, room));
            size += room;
            overflowed = true;
            stop(undefined);
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        channel.on('exit', (code: number | null, signalName?: string) => {
          sawExit = true;
          exitCode = code;
          exitSignal = signalName ?? null;
        });
        channel.on('close', () => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          this.#channels.delete(channel);
          if (failure) return reject(failure);
          if (!sawExit && !overflowed) {
            return reject(new InfrastructureError(`${options.what} on ${this.where}: the channel closed without an exit status (${this.#lost ?? 'connection lost?'})`));
          }
          resolve({ exitCode, signal: exitSignal, stdout: Buffer.concat(chunks), stderr: stderr.text(), overflowed, durationMs: Date.now() - started });
        });
      });
    } finally {
      release();
    }
  }

  /**
   * Streams a command's stdout into a local file, hashing it on the way. `idleTimeoutMs`
   * bounds a stall (no byte for that long), `timeoutMs` the whole transfer; more than
   * `maxBytes` is refused (the remote file grew, or it is not what the listing said).
   */
  async streamToFile(command: RemoteCommand, file: string, options: ExecOptions & { readonly idleTimeoutMs: number; readonly maxBytes: number }): Promise<StreamedFile> {
    const release = await this.#slots.acquire();
    try {
      if (options.signal?.aborted) throw abortReason(options.signal, options.what);
      const channel = await this.#openChannel(renderRemoteCommand(command), options.what);
      this.#channels.add(channel);
      const stderr = new BoundedText(64 * 1024);
      channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      let exitCode: number | null = null;
      let sawExit = false;
      channel.on('exit', (code: number | null) => {
        sawExit = true;
        exitCode = code;
      });
      const closed = new Promise<void>((resolve) => channel.on('close', () => resolve()));
      const hash = createHash('sha256');
      let bytes = 0;
      let failure: Error | undefined;
      const controller = new AbortController();
      const fail = (error: Error): void => {
        failure ??= error;
        controller.abort(error);
        channel.close();
      };
      let idle = setTimeout(() => fail(new InfrastructureError(`${options.what} from ${this.where} stalled: no data for ${formatDuration(options.idleTimeoutMs)}`)), options.idleTimeoutMs);
      const whole = setTimeout(() => fail(new InfrastructureError(`${options.what} from ${this.where} timed out after ${formatDuration(options.timeoutMs)}`)), options.timeoutMs);
      const onAbort = (): void => fail(abortReason(options.signal!, options.what));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const meter = new Transform({
        transform: (chunk: Buffer, _encoding, done) => {
          clearTimeout(idle);
          idle = setTimeout(() => fail(new InfrastructureError(`${options.what} from ${this.where} stalled: no data for ${formatDuration(options.idleTimeoutMs)}`)), options.idleTimeoutMs);
          bytes += chunk.length;
          if (bytes > options.maxBytes) {
            done(new InfrastructureError(`${options.what} from ${this.where}: more than the ${options.maxBytes} bytes listed; the file changed during the run`));
            return;
          }
          hash.update(chunk);
          done(null, chunk);
        },
      });
      try {
        await pipeline(channel, meter, createWriteStream(file, { mode: 0o600 }), { signal: controller.signal });
        await closed;
      } catch (error) {
        channel.close();
        if (failure) throw failure;
        if (error instanceof DrillError) throw error;
        throw new InfrastructureError(`${options.what} from ${this.where} failed: ${this.#lost ?? errorMessage(error)}`);
      } finally {
        clearTimeout(idle);
        clearTimeout(whole);
        options.signal?.removeEventListener('abort', onAbort);
        this.#channels.delete(channel);
      }
      if (failure) throw failure;
      if (!sawExit) throw new InfrastructureError(`${options.what} from ${this.where}: the channel closed without an exit status (${this.#lost ?? 'connection lost?'})`);
      return { bytes, sha256: hash.digest('hex'), exitCode, stderr: stderr.text() };
    } finally {
      release();
    }
  }

  close(): void {
    this.#lost ??= 'closed by the harness';
    this.#ssh.dispose();
  }
}

function connectError(error: unknown, where: string, options: SshConnectOptions, verdict: HostKeyVerdict | undefined, offered: Buffer | undefined): DrillError {
  const file = options.knownHosts.file;
  if (verdict && offered && verdict.outcome !== 'match' && !(verdict.outcome === 'unknown' && options.acceptNewHostKey)) {
    const print = fingerprint(offered);
    if (verdict.outcome === 'unknown') {
      return new UsageError(
        `--known-hosts: ${where} is not in ${file}; refusing its host key ${print}. Add the host's key ` +
          `(e.g. from \`ssh-keyscan -p ${options.address.port} ${options.address.host}\`, checked against the host itself), ` +
          `or pass --accept-new-host-key once to trust it on first use`,
      );
    }
    if (verdict.outcome === 'revoked') return new UsageError(`--known-hosts: ${where} presented host key ${print}, which ${file} line ${verdict.lineNumber} marks @revoked; refusing it`);
    return new UsageError(
      `--known-hosts: the host key of ${where} has CHANGED: it presented ${print}, which does not match ${file} ` +
        `(line${verdict.lineNumbers.length > 1 ? 's' : ''} ${verdict.lineNumbers.join(', ')}). Someone may be intercepting the connection, ` +
        `or the host was reinstalled; refusing to connect`,
    );
  }
  const message = errorMessage(error);
  const level = (error as { level?: string }).level;
  if (level === 'client-authentication' || /authentication methods failed/i.test(message)) {
    return new UsageError(`${options.identity.description}: ${where} refused the key (${message})`);
  }
  if (level === 'client-timeout' || /timed out/i.test(message)) {
    return new InfrastructureError(`connecting to ${where}: no SSH handshake within ${formatDuration(options.connectTimeoutMs)} (${message})`);
  }
  return new InfrastructureError(`connecting to ${where}: ${message}`);
}
