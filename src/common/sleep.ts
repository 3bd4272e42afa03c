/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface PollOptions {
  readonly signal?: AbortSignal | undefined;
  /** the longest one ask may take (cut to what is left of the wait) */
  readonly attemptMs?: number;
  /** no ask is begun with less than this left: one cut that short says nothing */
  readonly minAttemptMs?: number;
  readonly intervalMs?: number;
}

/**
 * Asks until `ask` gives a value or `timeoutMs` has passed (then undefined), a short pause
 * between asks; each ask is told how long it may take. An interrupt ends the wait with the
 * signal's reason; whatever `ask` throws ends it too.
 */
export async function pollUntil<T>(timeoutMs: number, ask: (attemptMs: number) => Promise<T | undefined>, options: PollOptions = {}): Promise<T | undefined> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const left = until - Date.now();
    if (left < Math.max(1, options.minAttemptMs ?? 1)) break;
    const value = await ask(Math.min(options.attemptMs ?? 2_000, left));
    if (value !== undefined) return value;
    await sleep(Math.max(1, Math.min(options.intervalMs ?? 200, until - Date.now())), options.signal);
  }
  if (options.signal?.aborted) throw options.signal.reason;
  return undefined;
}
