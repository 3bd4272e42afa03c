import { request } from 'undici';
import { formatDuration, timerMs } from './duration.js';
import { errorMessage, InfrastructureError, InterruptedError } from './errors.js';

export interface HttpAnswer {
  readonly status: number;
  /** the parsed JSON answer; undefined when it is not JSON or was larger than the client reads */
  readonly body: unknown;
  /** at most the client's maxBodyBytes of the answer, as UTF-8 */
  readonly text: string;
  /** the answer was larger than maxBodyBytes: the rest was never read */
  readonly truncated: boolean;
}

/** What a client needs of a run's deadline (src/common/deadline.ts). */
export interface CallBudget {
  bound(ownLimitMs: number): number;
  limitedBy(ownLimitMs: number): boolean;
  readonly totalMs: number;
  /** the budget as its user set it, for messages (\"--timeout 10m\") */
  describe(): string;
}

export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface HttpCallOptions {
  /** the call's own bound, capped by what is left of `budget` */
  readonly ownTimeoutMs: number;
  readonly maxBodyBytes: number;
  readonly signal?: AbortSignal;
  readonly budget?: CallBudget;
}

/**
 * One HTTP call to a service, bounded in time (its own bound and the run's budget) and in
 * size (the body is cut while it streams). Network failures and timeouts are
 * InfrastructureErrors naming the URL; any HTTP status is an answer.
 */
export async function httpCall(call: HttpRequest, options: HttpCallOptions): Promise<HttpAnswer> {
  const { method, url } = call;
  const budget = options.budget;
  const timeoutMs = budget ? budget.bound(options.ownTimeoutMs) : options.ownTimeoutMs;
  const boundName = budget?.limitedBy(options.ownTimeoutMs) ? ` (what was left of ${budget.describe()})` : '';
  const timeout = AbortSignal.timeout(timerMs(timeoutMs));
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    const response = await request(url, {
      method: method as 'GET',
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      headers: { ...call.headers },
      ...(call.body === undefined ? {} : { body: call.body }),
    });
    const { bytes, truncated } = await readBounded(response.body, options.maxBodyBytes);
    const text = bytes.toString('utf8');
    return { status: response.statusCode, body: truncated ? undefined : parseJson(text), text, truncated };
  } catch (error) {
    if (options.signal?.aborted && options.signal.reason instanceof InterruptedError) throw options.signal.reason;
    const code = (error as { code?: unknown } | null)?.code;
    if (timeout.aborted || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      throw new InfrastructureError(`${method} ${url} did not answer within ${formatDuration(timeoutMs)}${boundName}`, { cause: error });
    }
    throw new InfrastructureError(`${method} ${url} failed: ${errorMessage(error)}`, { cause: error });
  }
}

/**
 * Reads a body up to `limit` bytes while it streams and drops the connection past that, so
 * a huge or endless answer never sits in memory whole.
 */
async function readBounded(body: AsyncIterable<Buffer> & { destroy(error?: Error): unknown }, limit: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const room = limit - size;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      body.destroy();
      return { bytes: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { bytes: Buffer.concat(chunks), truncated: false };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
