import { request } from 'undici';
import { InfrastructureError, InterruptedError, ServiceNotHealthyError, errorMessage } from '../common/errors.js';
import { formatDuration } from '../common/duration.js';
import { sleep } from '../common/sleep.js';

export interface HttpAnswer {
  readonly status: number;
  /** the parsed JSON answer; undefined when it is not JSON or was larger than the client reads */
  readonly body: unknown;
  /** at most the client's maxBodyBytes of the answer, as UTF-8 */
  readonly text: string;
  /** the answer was larger than maxBodyBytes: the rest was never read */
  readonly truncated: boolean;
}

export interface AtoCoreClientOptions {
  /** bound of one HTTP call */
  readonly requestTimeoutMs?: number;
  /** fires on interruption */
  readonly signal?: AbortSignal;
  /** largest answer read, in bytes */
  readonly maxBodyBytes?: number;
  /** the run's budget: each call's bound is capped by what is left of it */
  readonly budget?: CallBudget;
}

/** What a client needs of a run's deadline (src/common/deadline.ts). */
export interface CallBudget {
  bound(ownLimitMs: number): number;
  limitedBy(ownLimitMs: number): boolean;
  readonly totalMs: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/** AtoCore's HTTP API (contract: "The HTTP API"). Every call has a timeout and names its URL when it fails. */
export class AtoCoreClient {
  readonly baseUrl: string;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal | undefined;
  readonly #maxBodyBytes: number;
  readonly #budget: CallBudget | undefined;

  constructor(baseUrl: string, options: AtoCoreClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#signal = options.signal;
    this.#maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
    this.#budget = options.budget;
  }

  /** One call. Network failures and timeouts are InfrastructureErrors; any HTTP status is an answer. */
  async call(method: 'GET' | 'POST', path: string, body?: unknown, ownTimeoutMs = this.#timeoutMs): Promise<HttpAnswer> {
    const url = `${this.baseUrl}${path}`;
    const timeoutMs = this.#budget ? this.#budget.bound(ownTimeoutMs) : ownTimeoutMs;
    const boundName = this.#budget?.limitedBy(ownTimeoutMs) ? ` (what was left of --timeout ${formatDuration(this.#budget.totalMs)})` : '';
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = this.#signal ? AbortSignal.any([timeout, this.#signal]) : timeout;
    try {
      const response = await request(url, {
        method,
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const { bytes, truncated } = await readBounded(response.body, this.#maxBodyBytes);
      const text = bytes.toString('utf8');
      // a cut answer is not JSON, whatever its first bytes say
      return { status: response.statusCode, body: truncated ? undefined : parseJson(text), text, truncated };
    } catch (error) {
      if (this.#signal?.aborted && this.#signal.reason instanceof InterruptedError) throw this.#signal.reason;
      const code = (error as { code?: unknown } | null)?.code;
      if (timeout.aborted || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
        throw new InfrastructureError(`${method} ${url} did not answer within ${formatDuration(timeoutMs)}${boundName}`, { cause: error });
      }
      throw new InfrastructureError(`${method} ${url} failed: ${errorMessage(error)}`, { cause: error });
    }
  }

  /** Like call(), but a non-2xx status or a non-JSON answer is an error naming the URL. */
  async json<T = Record<string, unknown>>(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs?: number): Promise<T> {
    const answer = await this.call(method, path, body, timeoutMs);
    if (answer.status < 200 || answer.status >= 300) {
      throw new AtoCoreHttpError(method, `${this.baseUrl}${path}`, answer);
    }
    if (answer.body === undefined) {
      throw new AtoCoreHttpError(method, `${this.baseUrl}${path}`, answer, 'the answer is not JSON');
    }
    return answer.body as T;
  }

  /**
   * Polls GET /health until it answers 200. Gives up after `timeoutMs`, naming the URL
   * and the bound; `isAlive` lets the caller stop early when the process died.
   */
  async waitHealthy(timeoutMs: number, isAlive: () => string | undefined, boundName: string): Promise<HttpAnswer> {
    const started = Date.now();
    let last = 'no answer yet';
    for (;;) {
      const died = isAlive();
      if (died) throw new ServiceNotHealthyError('exited', `AtoCore exited before it became healthy at ${this.baseUrl}/health: ${died}`);
      const left = timeoutMs - (Date.now() - started);
      if (left <= 0) {
        throw new ServiceNotHealthyError(
          'unhealthy',
          `AtoCore did not become healthy: GET ${this.baseUrl}/health gave no 200 within ${formatDuration(timeoutMs)} (${boundName}); last: ${last}`,
        );
      }
      const attemptMs = Math.min(2_000, left);
      try {
        const answer = await this.call('GET', '/health', undefined, attemptMs);
        if (answer.status === 200) return answer;
        last = `HTTP ${answer.status}`;
      } catch (error) {
        if (error instanceof InterruptedError) throw error;
        // an attempt cut short by the end of the budget says nothing about the service
        if (attemptMs >= 500) last = errorMessage(error);
      }
      await sleep(Math.min(200, Math.max(1, timeoutMs - (Date.now() - started))), this.#signal);
    }
  }
}

export class AtoCoreHttpError extends InfrastructureError {
  readonly status: number;
  constructor(method: string, url: string, answer: HttpAnswer, why?: string) {
    super(`${method} ${url} answered HTTP ${answer.status}${why ? ` (${why})` : ''}: ${answer.text.slice(0, 300)}`);
    this.status = answer.status;
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
