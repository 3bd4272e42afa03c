import { EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import { errorMessage } from '../common/errors.js';
import { formatDuration } from '../common/duration.js';

/** What went wrong talking to the API host: the call, where, and GitHub's (or Gitea's) own words. */
export class GitHubApiError extends Error {
  /** HTTP status; null when no answer came (network, timeout) */
  readonly status: number | null;
  readonly method: string;
  readonly url: string;
  constructor(message: string, details: { status: number | null; method: string; url: string; cause?: unknown }) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'GitHubApiError';
    this.status = details.status;
    this.method = details.method;
    this.url = details.url;
  }
}

export interface GitHubApiOptions {
  /** GITHUB_API_URL: https://api.github.com, https://ghe.example/api/v3, https://gitea.example/api/v1 */
  readonly baseUrl: string;
  readonly token: string;
  /** bound of one HTTP call (connect, headers, body) */
  readonly requestTimeoutMs?: number;
  /** attempts for answers that may go away (network errors, 5xx, 429) */
  readonly attempts?: number;
  readonly signal?: AbortSignal;
  readonly userAgent?: string;
}

export interface GitHubAnswer {
  readonly status: number;
  readonly body: unknown;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The few REST calls the action makes (check runs, commit statuses), with undici: every
 * call bounded in time and by the caller's signal, retried only when the failure may pass
 * (no answer, 5xx, 429), and failing with a GitHubApiError that says what and where.
 * Proxies follow HTTPS_PROXY / NO_PROXY, as on self-hosted runners.
 */
export class GitHubApi {
  readonly baseUrl: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #attempts: number;
  readonly #signal: AbortSignal | undefined;
  readonly #userAgent: string;
  readonly #dispatcher: Dispatcher;

  constructor(options: GitHubApiOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#token = options.token;
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#attempts = Math.max(1, options.attempts ?? 2);
    this.#signal = options.signal;
    this.#userAgent = options.userAgent ?? 'atocore-drill';
    this.#dispatcher = new EnvHttpProxyAgent({ connect: { timeout: this.#timeoutMs } });
  }

  /** One call: a 2xx answer, or a GitHubApiError. */
  async call(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<GitHubAnswer> {
    const url = `${this.baseUrl}${path}`;
    let last: GitHubApiError | undefined;
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      if (attempt > 1) await delay(500 * 2 ** (attempt - 2), this.#signal);
      try {
        const answer = await this.#once(method, url, body);
        if (answer.status >= 200 && answer.status < 300) return answer;
        last = new GitHubApiError(`${method} ${url} answered ${answer.status}${apiMessage(answer.body)}`, { status: answer.status, method, url });
        if (answer.status < 500 && answer.status !== 429) throw last;
      } catch (error) {
        if (error instanceof GitHubApiError && error.status !== null && error.status < 500 && error.status !== 429) throw error;
        last = error instanceof GitHubApiError ? error : new GitHubApiError(`${method} ${url}: ${errorMessage(error)}`, { status: null, method, url, cause: error });
        if (this.#signal?.aborted) throw last;
      }
    }
    throw last ?? new GitHubApiError(`${method} ${url}: no attempt was made`, { status: null, method, url });
  }

  async #once(method: string, url: string, body: unknown): Promise<GitHubAnswer> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = this.#signal ? AbortSignal.any([timeout, this.#signal]) : timeout;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: method as Dispatcher.HttpMethod,
        dispatcher: this.#dispatcher,
        signal,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        headers: {
          accept: 'application/vnd.github+json',
          authorization: `Bearer ${this.#token}`,
          'user-agent': this.#userAgent,
          'x-github-api-version': '2022-11-28',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      const why = timeout.aborted ? `no answer within ${formatDuration(this.#timeoutMs)}` : errorMessage(error);
      throw new GitHubApiError(`${method} ${url}: ${why}`, { status: null, method, url, cause: error });
    }
    let text = '';
    try {
      const bytes = Buffer.from(await response.body.arrayBuffer());
      text = bytes.subarray(0, MAX_BODY_BYTES).toString('utf8');
    } catch (error) {
      const why = timeout.aborted ? `the answer did not arrive within ${formatDuration(this.#timeoutMs)}` : errorMessage(error);
      throw new GitHubApiError(`${method} ${url}: ${why}`, { status: null, method, url, cause: error });
    }
    let parsed: unknown = undefined;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text.slice(0, 300);
    }
    return { status: response.statusCode, body: parsed };
  }

  async close(): Promise<void> {
    await this.#dispatcher.close().catch(() => {});
  }
}

/** GitHub's own message for a refused call ("Resource not accessible by integration"). */
function apiMessage(body: unknown): string {
  if (body && typeof body === 'object' && 'message' in body && typeof (body as { message: unknown }).message === 'string') {
    return `: ${(body as { message: string }).message}`;
  }
  if (typeof body === 'string' && body.trim() !== '') return `: ${body.trim().slice(0, 200)}`;
  return '';
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
