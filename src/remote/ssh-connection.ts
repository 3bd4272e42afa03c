import { createHash } from 'node:crypto';
import { FieldError } from '../inputs/fields.js';
import { createWriteStream } from 'node:fs';
import { NodeSSH } from 'node-ssh';
import type { Client, ClientChannel } from 'ssh2';
import { BoundedText } from '../common/child-process.js';
import { formatDuration } from '../common/duration.js';
import { DrillError, errorMessage, InfrastructureError, UsageError } from '../common/errors.js';
import { scratchError } from '../sqlite/scratch-copy.js';
import { formatSshAddress, type SshAddress } from './address.js';
import { renderRemoteCommand, type RemoteBound, type RemoteCommand } from './commands.js';
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

/** Where streamed output goes, a chunk at a time (a file, a decoder). */
export interface StreamSink {
  /** takes one chunk; resolves false when the rest is not wanted; rejects when the sink itself failed */
  write(chunk: Buffer): Promise<boolean>;
  /** every chunk was given */
  end(): Promise<void>;
  /** the transfer failed: let go of what the sink holds */
  abort(): void;
}

export interface ExecOptions {
  /** what this is, for messages: "listing 20260407T060000Z" */
  readonly what: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /**
   * the run's budget: what is left of it when the command is actually sent (after waiting
   * for a channel slot) caps the wait, and the host's own bound is computed from that
   */
  readonly deadline?: { remainingMs(): number };
}

interface ChannelExit {
  seen: boolean;
  code: number | null;
  signal: string | null;
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
  /** what to tell each command in flight when the connection goes: it fails at once, never hangs */
  readonly #inFlight = new Set<(error: Error) => void>();

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
      const lost = new InfrastructureError(`the SSH connection to ${this.where} was lost (${this.#lost})`);
      for (const notify of [...this.#inFlight]) notify(lost);
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
    // destroy, not end: a peer that never answers would also never acknowledge a polite close
    const onAbort = (): void => {
      ssh.connection?.destroy();
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
        throw new FieldError('knownHosts', `could not record ${where}'s key in ${knownHosts.file}: ${errorMessage(error)}`);
      });
    }
    return new SshConnection(address, ssh, client, fingerprint(offered), options.maxChannels ?? 4);
  }

  #assertUsable(doing: string): void {
    if (this.#lost !== null) throw new InfrastructureError(`the SSH connection to ${this.where} was lost (${this.#lost}) before ${doing}`);
  }

  /**
   * Opens a channel running `command`. ssh2 calls back when the exec request is answered and
   * may, in the same tick, deliver a fast command's exit status; the exit listener is attached
   * inside the callback so that it cannot be missed (the output is buffered by the stream).
   */
  async #openChannel(command: string, options: ExecOptions): Promise<{ channel: ClientChannel; exit: ChannelExit }> {
    const what = options.what;
    this.#assertUsable(what);
    return new Promise((resolve, reject) => {
      let settled = false;
      // opening a channel is a round trip too: bounded, interruptible, and given up on when the connection goes
      const giveUp = (error: Error): void => {
        if (settled) return;
        settled = true;
        cleanup();
        reject(error);
      };
      const timer = setTimeout(() => giveUp(new InfrastructureError(`${what} on ${this.where}: no channel within ${formatDuration(options.timeoutMs)}`)), options.timeoutMs);
      const onAbort = (): void => giveUp(abortReason(options.signal!, what));
      const onLost = (error: Error): void => giveUp(new InfrastructureError(`${what}: ${error.message}`));
      const cleanup = (): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.#inFlight.delete(onLost);
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#inFlight.add(onLost);
      const opened = (error: Error | undefined, channel: ClientChannel): void => {
        if (settled) {
          // given up on already: close what arrived late
          channel?.close();
          return;
        }
        settled = true;
        cleanup();
        if (error) {
          reject(new InfrastructureError(`${what} on ${this.where}: could not open a channel: ${error.message}`));
          return;
        }
        const exit: ChannelExit = { seen: false, code: null, signal: null };
        channel.on('exit', (code: number | null, signalName?: string) => {
          exit.seen = true;
          exit.code = code;
          exit.signal = signalName ?? null;
        });
        resolve({ channel, exit });
      };
      try {
        this.#client.exec(command, opened);
      } catch (error) {
        // ssh2 throws at once when the socket is already gone
        giveUp(new InfrastructureError(`${what} on ${this.where}: ${errorMessage(error)}`));
      }
    });
  }

  /** Runs one command from the fixed list and collects its output, bounded. */
  async exec(command: RemoteCommand, options: ExecOptions & { readonly maxStdoutBytes: number }): Promise<RemoteResult> {
    const calledAt = Date.now();
    const release = await this.#slots.acquire();
    const started = Date.now();
    try {
      if (options.signal?.aborted) throw abortReason(options.signal, options.what);
      const sent = this.#boundAtSend(command, options, calledAt);
      const { channel, exit } = await this.#openChannel(sent.line, { ...options, timeoutMs: sent.waitMs });
      return await new Promise<RemoteResult>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let overflowed = false;
        const stderr = new BoundedText(64 * 1024);
        let failure: Error | undefined;
        let settled = false;
        const settle = (): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          this.#inFlight.delete(onLost);
          if (failure) return reject(failure);
          if (exit.seen && sent.endedByHost(exit.code)) return reject(sent.timedOut());
          if (!exit.seen && !overflowed) {
            return reject(new InfrastructureError(`${options.what} on ${this.where}: the channel closed without an exit status (${this.#lost ?? 'connection lost?'})`));
          }
          resolve({ exitCode: exit.code, signal: exit.signal, stdout: Buffer.concat(chunks), stderr: stderr.text(), overflowed, durationMs: Date.now() - started });
        };
        // Settled at once, not when the channel closes: OpenSSH answers a close only once the
        // remote command has exited, and a command that hangs silently never does (the remote
        // `timeout` in front of every command ends it there).
        const stop = (error: Error | undefined): void => {
          failure ??= error;
          abandon(channel);
          settle();
        };
        const onLost = (error: Error): void => {
          failure ??= new InfrastructureError(`${options.what}: ${error.message}`);
          settle();
        };
        this.#inFlight.add(onLost);
        const timer = setTimeout(() => stop(sent.timedOut()), sent.leftMs());
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
        channel.on('close', settle);
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
    const out = createWriteStream(file, { mode: 0o600 });
    // the harness's own disk (full, unwritable): not the remote file's fault
    let failure: Error | null = null;
    out.on('error', (error) => {
      failure ??= scratchError(file, 'writing', error);
    });
    const sink: StreamSink = {
      write: (chunk) =>
        new Promise<boolean>((resolve, reject) => {
          if (failure) return reject(failure);
          if (out.write(chunk)) return resolve(true);
          const drained = (): void => {
            out.off('error', failed);
            resolve(true);
          };
          const failed = (): void => {
            out.off('drain', drained);
            reject(failure!);
          };
          out.once('drain', drained);
          out.once('error', failed);
        }),
      end: () =>
        new Promise<void>((resolve, reject) => {
          if (failure) return reject(failure);
          out.once('error', () => reject(failure!));
          out.end(() => (failure ? reject(failure) : resolve()));
        }),
      abort: () => out.destroy(),
    };
    const streamed = await this.streamTo(command, sink, options);
    return { bytes: streamed.bytes, sha256: streamed.sha256, exitCode: streamed.exitCode, stderr: streamed.stderr };
  }

  /**
   * Streams a command's stdout chunk by chunk into `sink`, hashing it on the way; the channel
   * is paused while the sink works on a chunk. `idleTimeoutMs` bounds a stall (no byte for
   * that long), `timeoutMs` the whole transfer; more than `maxBytes` is refused. A sink that
   * wants no more (its write resolves false) ends the transfer early: the command is killed,
   * its exit status not waited for, and the result says `stopped`.
   */
  async streamTo(command: RemoteCommand, sink: StreamSink, options: ExecOptions & { readonly idleTimeoutMs: number; readonly maxBytes: number }): Promise<StreamedFile & { readonly stopped: boolean }> {
    const calledAt = Date.now();
    const release = await this.#slots.acquire();
    try {
      if (options.signal?.aborted) throw abortReason(options.signal, options.what);
      const sent = this.#boundAtSend(command, options, calledAt);
      const { channel, exit } = await this.#openChannel(sent.line, { ...options, timeoutMs: sent.waitMs });
      const stderr = new BoundedText(64 * 1024);
      channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      const hash = createHash('sha256');
      let bytes = 0;
      let stopped = false;
      // Pumped by hand, not with stream.pipeline: ssh2's channels do not emit 'close' when
      // destroyed, and a pipeline waiting for it would hang after a dropped connection.
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        let ended = false;
        let closed = false;
        // the chunks handed to the sink, one after the other
        let pending: Promise<void> = Promise.resolve();
        const finish = (error?: Error): void => {
          if (settled) return;
          settled = true;
          clearTimeout(idle);
          clearTimeout(whole);
          options.signal?.removeEventListener('abort', onAbort);
          this.#inFlight.delete(onLost);
          if (error) {
            abandon(channel);
            sink.abort();
            reject(error);
          } else {
            if (stopped) abandon(channel);
            sink.end().then(resolve, (sinkError: unknown) => reject(sinkError instanceof Error ? sinkError : new Error(String(sinkError))));
          }
        };
        // complete only when the stream ended, the channel closed, an exit status came and the sink took every chunk
        const maybeDone = (): void => {
          if (!ended || !closed) return;
          void pending.then(() => {
            if (!exit.seen) finish(new InfrastructureError(`${options.what} from ${this.where}: the channel closed without an exit status (${this.#lost ?? 'connection lost?'})`));
            else if (sent.endedByHost(exit.code)) finish(sent.timedOut());
            else finish();
          });
        };
        const stalled = (): void => finish(new InfrastructureError(`${options.what} from ${this.where} stalled: no data for ${formatDuration(options.idleTimeoutMs)}`));
        let idle = setTimeout(stalled, options.idleTimeoutMs);
        const whole = setTimeout(() => finish(sent.timedOut()), sent.leftMs());
        const onAbort = (): void => finish(abortReason(options.signal!, options.what));
        options.signal?.addEventListener('abort', onAbort, { once: true });
        // a lost connection ends the channel's stream as if the file were complete: fail instead
        const onLost = (error: Error): void => finish(new InfrastructureError(`${options.what}: ${error.message}`));
        this.#inFlight.add(onLost);
        channel.on('data', (chunk: Buffer) => {
          if (settled || stopped) return;
          clearTimeout(idle);
          idle = setTimeout(stalled, options.idleTimeoutMs);
          bytes += chunk.length;
          if (bytes > options.maxBytes) {
            finish(new InfrastructureError(`${options.what} from ${this.where}: more than the ${options.maxBytes} bytes listed; the file changed during the run`));
            return;
          }
          hash.update(chunk);
          channel.pause();
          pending = pending
            .then(() => (settled ? true : sink.write(chunk)))
            .then(
              (more) => {
                if (settled) return;
                if (more) channel.resume();
                else {
                  stopped = true;
                  finish();
                }
              },
              (error: unknown) => finish(error instanceof Error ? error : new Error(String(error))),
            );
        });
        channel.on('end', () => {
          ended = true;
          maybeDone();
        });
        channel.on('close', () => {
          closed = true;
          ended = true;
          maybeDone();
        });
      });
      return { bytes, sha256: hash.digest('hex'), exitCode: exit.code, stderr: stderr.text(), stopped };
    } finally {
      release();
    }
  }

  /**
   * The command line as sent, with the host's own bound computed now from what is left of
   * the call's limit and of the run's budget: the host's `timeout` (its KILL included) ends
   * the command before the harness stops waiting, so nothing outlives the harness's cut.
   */
  #boundAtSend(command: RemoteCommand, options: ExecOptions, calledAt: number): SentCommand {
    const sentAt = Date.now();
    const waitMs = Math.min(options.timeoutMs - (sentAt - calledAt), options.deadline?.remainingMs() ?? Number.POSITIVE_INFINITY);
    const bound = remoteBound(waitMs);
    if (!bound) throw new InfrastructureError(`${options.what} on ${this.where}: not sent, only ${formatDuration(Math.max(0, waitMs))} of its time limit left`);
    const timedOut = (): InfrastructureError => new InfrastructureError(`${options.what} on ${this.where} timed out after ${formatDuration(Date.now() - sentAt)} (limit ${formatDuration(waitMs)})`);
    return {
      line: renderRemoteCommand(command, bound),
      waitMs,
      leftMs: () => Math.max(0, sentAt + waitMs - Date.now()),
      // coreutils' timeout exits 124 after its TERM, 137 after its KILL; not before its bound
      endedByHost: (code) => (code === 124 || code === 137) && Date.now() - sentAt >= bound.seconds * 1000,
      timedOut,
    };
  }

  close(): void {
    this.#lost ??= 'closed by the harness';
    this.#ssh.dispose();
  }
}

/** A command on its way: its line, how long the harness waits for it, and how its end is read. */
interface SentCommand {
  readonly line: string;
  readonly waitMs: number;
  /** what is left of the wait */
  leftMs(): number;
  /** the exit status is the host's `timeout` ending it at its bound */
  endedByHost(code: number | null): boolean;
  timedOut(): InfrastructureError;
}

/** Below this much time a command is not sent: no bound on the host could end it before the harness stops waiting. */
export const MIN_REMOTE_WAIT_MS = 500;
/** The KILL grace after the host's TERM, when the wait leaves room for it. */
export const REMOTE_KILL_GRACE_S = 5;

const tenths = (seconds: number): number => Math.floor(seconds * 10 + 1e-6) / 10;

/**
 * The host's own bound for a command the harness waits `waitMs` for: TERM at `seconds`,
 * KILL `killAfterSeconds` later, both over before the wait ends, less a margin for the
 * command reaching the host (a tenth of the wait, at most a second). With room, a 5 s grace
 * and whole seconds; near the end of the budget, tenths. Null: too little time to send it.
 */
export function remoteBound(waitMs: number): RemoteBound | null {
  if (!(waitMs >= MIN_REMOTE_WAIT_MS)) return null;
  const available = (waitMs - Math.min(1_000, waitMs / 10)) / 1000;
  if (available >= 2 * REMOTE_KILL_GRACE_S) return { seconds: Math.floor(available) - REMOTE_KILL_GRACE_S, killAfterSeconds: REMOTE_KILL_GRACE_S };
  const killAfterSeconds = Math.max(0.1, tenths(available / 4));
  return { seconds: Math.max(0.1, tenths(available - killAfterSeconds)), killAfterSeconds };
}

/** Gives up on a channel: asks the host to kill the command (where sshd supports it) and closes our side. */
function abandon(channel: ClientChannel): void {
  try {
    channel.signal('KILL');
  } catch {
    // a channel already closing, or a server without signal support: close regardless
  }
  channel.close();
}

function connectError(error: unknown, where: string, options: SshConnectOptions, verdict: HostKeyVerdict | undefined, offered: Buffer | undefined): DrillError {
  const file = options.knownHosts.file;
  if (verdict && offered && verdict.outcome !== 'match' && !(verdict.outcome === 'unknown' && options.acceptNewHostKey)) {
    const print = fingerprint(offered);
    if (verdict.outcome === 'unknown') {
      return new FieldError(
        'knownHosts',
        (names) =>
          `${names.one('knownHosts')}: ${where} is not in ${file}; refusing its host key ${print}. Add the host's key ` +
          `(e.g. from \`ssh-keyscan -p ${options.address.port} ${options.address.host}\`, checked against the host itself), ` +
          `or set ${names.one('acceptNewHostKey')} once to trust it on first use`,
      );
    }
    if (verdict.outcome === 'revoked') return new FieldError('knownHosts', `${where} presented host key ${print}, which ${file} line ${verdict.lineNumber} marks @revoked; refusing it`);
    return new FieldError('knownHosts', `the host key of ${where} has CHANGED: it presented ${print}, which does not match ${file} ` +
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
