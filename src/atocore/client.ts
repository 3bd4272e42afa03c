import { InfrastructureError, InterruptedError, ServiceNotHealthyError, errorMessage } from '../common/errors.js';
import { formatDuration } from '../common/duration.js';
import { pollUntil } from '../common/sleep.js';
import { httpCall, type CallBudget, type HttpAnswer } from '../common/http.js';

export type { CallBudget, HttpAnswer };

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
    return httpCall(
      { method, url: `${this.baseUrl}${path}`, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) },
      { ownTimeoutMs, maxBodyBytes: this.#maxBodyBytes, ...(this.#signal ? { signal: this.#signal } : {}), ...(this.#budget ? { budget: this.#budget } : {}) },
    );
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
    const exited = (): void => {
      const died = isAlive();
      if (died) throw new ServiceNotHealthyError('exited', `AtoCore exited before it became healthy at ${this.baseUrl}/health: ${died}`);
    };
    let last = 'no answer yet';
    const healthy = await pollUntil(
      timeoutMs,
      async (attemptMs) => {
        exited();
        try {
          const answer = await this.call('GET', '/health', undefined, attemptMs);
          if (answer.status === 200) return answer;
          last = `HTTP ${answer.status}`;
        } catch (error) {
          if (error instanceof InterruptedError) throw error;
          // an attempt cut short by the end of the budget says nothing about the service
          if (attemptMs >= 500) last = errorMessage(error);
        }
        return undefined;
      },
      { signal: this.#signal },
    );
    if (healthy) return healthy;
    exited();
    throw new ServiceNotHealthyError('unhealthy', `AtoCore did not become healthy: GET ${this.baseUrl}/health gave no 200 within ${formatDuration(timeoutMs)} (${boundName}); last: ${last}`);
  }
}

export class AtoCoreHttpError extends InfrastructureError {
  readonly status: number;
  constructor(method: string, url: string, answer: HttpAnswer, why?: string) {
    super(`${method} ${url} answered HTTP ${answer.status}${why ? ` (${why})` : ''}: ${answer.text.slice(0, 300)}`);
    this.status = answer.status;
  }
}

