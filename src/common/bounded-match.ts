/**
 * A regular expression the harness did not write, run over text it did not write, in a worker
 * that is ended at a time bound: JavaScript's regular expressions backtrack without limit, and
 * a pattern that backtracks catastrophically on the main thread would block the run past its
 * --timeout and leave it deaf to signals.
 */
import { Worker } from 'node:worker_threads';
import { errorMessage, InfrastructureError } from './errors.js';

// CommonJS, evaluated by the worker (no file to ship beside the bundle)
const MATCHER = `
const { parentPort, workerData } = require('node:worker_threads');
const { pattern, flags, text, group } = workerData;
let found = null;
for (const match of text.matchAll(new RegExp(pattern, flags))) {
  const value = match.groups ? match.groups[group] : undefined;
  if (typeof value === 'string') found = value;
}
parentPort.postMessage(found);
`;

/** The named group of the last match of `pattern` in `text`, or null; an error when the match runs past `timeoutMs`. */
export function lastMatchGroup(pattern: string, text: string, group: string, options: { readonly timeoutMs: number; readonly signal?: AbortSignal | undefined; readonly what: string }): Promise<string | null> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason);
      return;
    }
    const worker = new Worker(MATCHER, { eval: true, workerData: { pattern, flags: 'gm', text, group }, resourceLimits: { maxOldGenerationSizeMb: 64 } });
    let settled = false;
    const finish = (action: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      action();
    };
    const timer = setTimeout(
      () => finish(() => reject(new InfrastructureError(`${options.what}: the pattern ${pattern.slice(0, 120)} did not finish within ${options.timeoutMs} ms over ${text.length} characters (it backtracks too much: make it simpler)`))),
      options.timeoutMs,
    );
    const onAbort = (): void => finish(() => reject(options.signal!.reason));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (value: unknown) => finish(() => resolve(typeof value === 'string' ? value : null)));
    worker.once('error', (error: unknown) => finish(() => reject(new InfrastructureError(`${options.what}: ${errorMessage(error)}`))));
  });
}
