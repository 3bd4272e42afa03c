import { timerMs } from './duration.js';
import { spawn } from 'node:child_process';
import shellQuote from 'shell-quote';
import { registerEmergencyKill } from './emergency-cleanup.js';
import { UsageError } from './errors.js';

/** A finished child process, as a value: never an exception for a non-zero exit. */
export interface ProcessResult {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  readonly timedOut: boolean;
  readonly aborted: boolean;
  /** set when the process could not be started at all (ENOENT, EACCES) */
  readonly spawnError?: string;
  /**
   * set when the process had ended but its output pipes were still held open (by a process it
   * left behind) and reading stopped there: stdout and stderr may lack what came later
   */
  readonly outputIncomplete?: boolean;
}

export interface RunProcessOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** output beyond this many bytes per stream is dropped (the head and the tail are kept) */
  readonly maxOutputBytes?: number;
  readonly input?: string;
  /** between TERM (at timeoutMs) and KILL; 2 s unless given (see killedWithin) */
  readonly killGraceMs?: number;
}

const KILL_GRACE_MS = 2_000;

/**
 * timeoutMs and killGraceMs for a process that must be gone, KILL included, within `totalMs`
 * (the run's --timeout): TERM 2 s before the end, or with less than 4 s a quarter of what
 * there is before it. A process that ignores TERM then ends by the bound, not 2 s after.
 */
export function killedWithin(totalMs: number): { timeoutMs: number; killGraceMs: number } {
  const total = Math.max(1, totalMs);
  const killGraceMs = total >= 2 * KILL_GRACE_MS ? KILL_GRACE_MS : Math.max(1, Math.floor(total / 4));
  return { timeoutMs: Math.max(1, total - killGraceMs), killGraceMs };
}
/**
 * How long the pipes may stay open once the process has ended: its last words are in them
 * at once; a process it left behind (a daemon, a `setsid` child) may hold them for good.
 */
const PIPE_GRACE_MS = 1_000;
/** The pipe wait once the bound has passed: only what is already buffered. */
const PIPE_GRACE_PAST_BOUND_MS = 50;

/**
 * Runs argv without a shell, in its own process group so a timeout or an abort kills
 * whatever it started too; a second signal or an exit of the harness kills the group at
 * once (emergency cleanup). Output is bounded, and so is the wait for it: once the process
 * has ended, pipes held open by something it left behind are read only briefly, then let go
 * (what is still in its group is killed), so a lingering grandchild never holds the run.
 */
export function runProcess(argv: readonly string[], options: RunProcessOptions): Promise<ProcessResult> {
  const [command, ...args] = argv;
  if (!command) throw new UsageError('empty command');
  const started = Date.now();
  const limit = options.maxOutputBytes ?? 4 * 1024 * 1024;
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    const unregisterKill = pid === undefined ? () => {} : registerEmergencyKill(() => signalProcessGroup(pid, 'SIGKILL'));
    const stdout = new BoundedText(limit);
    const stderr = new BoundedText(limit);
    let timedOut = false;
    let aborted = false;
    let spawnError: string | undefined;
    let settled = false;
    let pipeTimer: NodeJS.Timeout | undefined;
    const kill = (): void => {
      if (pid === undefined) return;
      signalProcessGroup(pid, 'SIGTERM');
      setTimeout(() => signalProcessGroup(pid, 'SIGKILL'), timerMs(options.killGraceMs ?? KILL_GRACE_MS)).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timerMs(options.timeoutMs));
    const onAbort = (): void => {
      aborted = true;
      kill();
    };
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, outputIncomplete: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(pipeTimer);
      unregisterKill();
      options.signal?.removeEventListener('abort', onAbort);
      resolve({
        argv,
        exitCode,
        signal,
        stdout: stdout.text(),
        stderr: stderr.text(),
        durationMs: Date.now() - started,
        timedOut,
        aborted,
        ...(spawnError === undefined ? {} : { spawnError }),
        ...(outputIncomplete ? { outputIncomplete } : {}),
      });
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
    child.on('error', (error) => {
      spawnError = error.message;
    });
    child.on('exit', (exitCode, signal) => {
      // it ended by itself (or was killed): the bound no longer applies, only the pipe wait
      clearTimeout(timer);
      const pastBound = timedOut || aborted;
      const grace = pastBound ? PIPE_GRACE_PAST_BOUND_MS : Math.max(PIPE_GRACE_PAST_BOUND_MS, Math.min(PIPE_GRACE_MS, started + options.timeoutMs - Date.now()));
      pipeTimer = setTimeout(() => {
        // something the process left behind holds its pipes: stop reading, and what is still
        // in its group goes (processes that left the group are out of reach here)
        child.stdout.destroy();
        child.stderr.destroy();
        if (pid !== undefined) signalProcessGroup(pid, 'SIGKILL');
        finish(exitCode, signal, true);
      }, grace);
    });
    child.on('close', (exitCode, signal) => finish(exitCode, signal, false));
    if (options.signal?.aborted) onAbort();
  });
}

export function killProcessGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Signals the group only (never a lone pid that may since belong to someone else); false when it is gone. */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export function isProcessGroupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Keeps the first and the last `limit / 2` bytes of a stream. */
export class BoundedText {
  readonly #limit: number;
  #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  #dropped = 0;
  constructor(limit: number) {
    this.#limit = limit;
  }
  push(chunk: Buffer): void {
    const half = Math.floor(this.#limit / 2);
    if (this.#headBytes < half) {
      const take = chunk.subarray(0, half - this.#headBytes);
      this.#head.push(take);
      this.#headBytes += take.length;
      chunk = chunk.subarray(take.length);
    }
    if (chunk.length === 0) return;
    this.#tail.push(chunk);
    this.#tailBytes += chunk.length;
    while (this.#tailBytes > half && this.#tail.length > 0) {
      const first = this.#tail[0]!;
      const excess = this.#tailBytes - half;
      if (first.length <= excess) {
        this.#tail.shift();
        this.#tailBytes -= first.length;
        this.#dropped += first.length;
      } else {
        this.#tail[0] = first.subarray(excess);
        this.#tailBytes -= excess;
        this.#dropped += excess;
      }
    }
  }
  text(): string {
    const head = Buffer.concat(this.#head).toString('utf8');
    const tail = Buffer.concat(this.#tail).toString('utf8');
    return this.#dropped > 0 ? `${head}\n… ${this.#dropped} bytes dropped …\n${tail}` : head + tail;
  }
}

/**
 * Splits a command line into argv without a shell (quotes are honoured; variables are
 * not expanded; pipes, redirections and globs are refused). `what` names the flag.
 */
export function splitCommandLine(line: string, what: string): string[] {
  // shell-quote reads an unclosed quote as if it were closed at the end: say so instead
  const open = unclosedQuote(line);
  if (open) throw new UsageError(`${what}: "${line}" has an unclosed ${open} quote`);
  const tokens = shellQuote.parse(line, (name: string) => `$${name}`);
  const argv: string[] = [];
  for (const token of tokens) {
    if (typeof token === 'string') {
      argv.push(token);
      continue;
    }
    throw new UsageError(`${what}: "${line}" uses shell syntax (${JSON.stringify(token)}); give a plain command and its arguments`);
  }
  if (argv.length === 0) throw new UsageError(`${what}: the command is empty`);
  return argv;
}

/** The kind of quote a command line leaves open (`'` or `"`), or null when every quote is closed. */
function unclosedQuote(line: string): 'single' | 'double' | null {
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = null;
    } else if (c === '\\') {
      i++;
    } else if (quote === '"') {
      if (c === '"') quote = null;
    } else if (c === "'" || c === '"') {
      quote = c;
    }
  }
  return quote === "'" ? 'single' : quote === '"' ? 'double' : null;
}

export function describeProcessResult(result: ProcessResult): string {
  if (result.spawnError) return `could not start ${result.argv[0]}: ${result.spawnError}`;
  if (result.timedOut) return `timed out after ${result.durationMs}ms`;
  if (result.aborted) return 'aborted';
  if (result.signal) return `killed by ${result.signal}`;
  return `exit ${result.exitCode}`;
}
