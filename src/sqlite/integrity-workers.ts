import { availableParallelism } from 'node:os';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { errorMessage, InfrastructureError } from '../common/errors.js';
import { sqliteNativeBinding } from './open.js';
import { abortError, ScratchSpaceError, type CopyBounds } from './scratch-copy.js';

/** One check for a worker: the prepared private copy, and whether to read its row index. */
export interface IntegrityJob {
  readonly id: number;
  readonly path: string;
  readonly rows: boolean;
}

export type IntegrityReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  /** the check could not run: the harness's scratch space (`scratch`), or anything else of the harness's */
  | { readonly id: number; readonly ok: false; readonly scratch: boolean; readonly message: string };

export interface IntegrityWorkerData {
  /** better-sqlite3's addon as the main thread loads it (the action's bundle sets one) */
  readonly nativeBinding: string | undefined;
}

/**
 * Where the worker's code is, whichever way the harness runs: from the sources (vitest: a
 * .ts module, loaded through a resolver that maps the sources' `.js` imports to `.ts`), from
 * lib/ (tsc: the .js beside this one), or from the action's bundle (dist/: this code sits in
 * dist/main/ or dist/chunks/, the worker's own entry in dist/integrity-worker/).
 */
export function integrityWorkerEntry(own: string = import.meta.url): { readonly url: URL; readonly fromSource: boolean } {
  if (own.endsWith('.ts')) return { url: new URL('./integrity-worker.ts', own), fromSource: true };
  if (own.endsWith('.mjs')) return { url: new URL('../integrity-worker/index.mjs', own), fromSource: false };
  return { url: new URL('./integrity-worker.js', own), fromSource: false };
}

/** Starts the worker's TypeScript source with Node's type stripping, its `./x.js` imports resolved to `./x.ts`. */
const FROM_SOURCE = `
const { registerHooks } = require('node:module');
const { workerData } = require('node:worker_threads');
registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (error) {
      if (error && error.code === 'ERR_MODULE_NOT_FOUND' && /^\\.\\.?\\//.test(specifier) && specifier.endsWith('.js')) return next(specifier.slice(0, -3) + '.ts', context);
      throw error;
    }
  },
});
import(workerData.entry).catch((error) => setImmediate(() => { throw error; }));
`;

/**
 * The run's integrity workers: at most `size` checks at once, each on a thread of its own,
 * so the main thread goes on streaming, hashing and judging meanwhile. A check is cut short
 * by terminating its worker, when the run is interrupted (the signal) or its --timeout runs
 * out (the deadline): the caller gets the run's error, never a result. Idle workers are kept
 * for the next check and never keep the process alive.
 */
export class IntegrityWorkers {
  readonly #size: number;
  readonly #idle: Worker[] = [];
  readonly #busy = new Set<Worker>();
  readonly #waiting: Array<() => void> = [];
  #running = 0;
  #nextId = 1;
  #closed = false;

  constructor(size: number) {
    this.#size = Math.max(1, Math.floor(size));
  }

  /**
   * As many workers as checks are asked for at once, but one CPU fewer than the machine has:
   * the main thread needs one for the transfers (SSH decryption, hashing) the workers overlap.
   */
  static forConcurrency(concurrency: number): IntegrityWorkers {
    return new IntegrityWorkers(Math.min(concurrency, Math.max(1, availableParallelism() - 1)));
  }

  get size(): number {
    return this.#size;
  }

  /** Workers started and not yet ended (busy or idle). */
  get threads(): number {
    return this.#idle.length + this.#busy.size;
  }

  async run<T>(job: Omit<IntegrityJob, 'id'>, bounds: Required<Pick<CopyBounds, 'signal' | 'deadline'>>, what: string): Promise<T> {
    await this.#acquire();
    try {
      if (this.#closed) throw new InfrastructureError(`${what}: the integrity workers were closed`);
      if (bounds.signal.aborted) throw abortError(bounds.signal, what);
      const worker = this.#idle.pop() ?? this.#spawn();
      this.#busy.add(worker);
      worker.ref();
      let reusable = false;
      try {
        const reply = await this.#ask(worker, { ...job, id: this.#nextId++ }, bounds, what);
        reusable = true;
        if (reply.ok) return reply.value as T;
        if (reply.scratch) throw new ScratchSpaceError(reply.message);
        throw new InfrastructureError(`${what}: ${reply.message}`);
      } finally {
        this.#busy.delete(worker);
        if (reusable && !this.#closed) {
          worker.unref();
          this.#idle.push(worker);
        } else void worker.terminate();
      }
    } finally {
      this.#release();
    }
  }

  /** Ends every worker; a check under way is cut short. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#idle.splice(0), ...this.#busy];
    for (const next of this.#waiting.splice(0)) next();
    await Promise.allSettled(all.map((worker) => worker.terminate()));
  }

  #spawn(): Worker {
    const entry = integrityWorkerEntry();
    const workerData: IntegrityWorkerData & { entry?: string } = { nativeBinding: sqliteNativeBinding(), ...(entry.fromSource ? { entry: entry.url.href } : {}) };
    // stdout/stderr of the thread are not the run's: nothing it prints may reach the report streams.
    // No flags of the main thread's (a `node --input-type=module -e …` host would stop the worker from loading);
    // a small young generation: the worker's garbage is one database's row index at a time
    const options: WorkerOptions = { workerData, stdout: true, stderr: true, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 4 } };
    const worker = entry.fromSource ? new Worker(FROM_SOURCE, { ...options, eval: true }) : new Worker(entry.url, options);
    worker.stdout.resume();
    worker.stderr.resume();
    // a worker that fails while idle must not crash the run, nor be asked again
    worker.on('error', () => {});
    worker.once('exit', () => {
      const idle = this.#idle.indexOf(worker);
      if (idle >= 0) this.#idle.splice(idle, 1);
    });
    return worker;
  }

  #ask(worker: Worker, job: IntegrityJob, bounds: Required<Pick<CopyBounds, 'signal' | 'deadline'>>, what: string): Promise<IntegrityReply> {
    const { signal, deadline } = bounds;
    return new Promise<IntegrityReply>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const fail = (error: Error): void => {
        cleanup();
        reject(error);
      };
      const onMessage = (reply: IntegrityReply): void => {
        if (reply.id !== job.id) return;
        cleanup();
        resolve(reply);
      };
      const onError = (error: unknown): void => fail(new InfrastructureError(`${what}: the integrity worker failed: ${errorMessage(error)}`));
      const onExit = (code: number): void => fail(new InfrastructureError(`${what}: the integrity worker ended (exit code ${code}) before it answered`));
      const onAbort = (): void => fail(abortError(signal, what));
      const timer = setTimeout(() => fail(new InfrastructureError(`${what}: the run's ${deadline.describe()} ran out`)), Math.max(1, deadline.remainingMs()));
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      signal.addEventListener('abort', onAbort, { once: true });
      worker.postMessage(job);
    });
  }

  async #acquire(): Promise<void> {
    if (this.#closed || this.#running < this.#size) {
      this.#running++;
      return;
    }
    // the slot is handed over by #release, never taken back in between
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#running--;
  }
}
