/**
 * A profile drill's reach into the service: its placeholders' values, the environment every
 * command gets, and the commands and HTTP calls themselves, each bounded by its own limit and
 * by what is left of the run's budget, and cut by an interrupt.
 */
import { PROFILE_ROOT_VARIABLE, PROFILE_RUN_VARIABLE } from '../cleanup/marks.js';
import { runProcess, type ProcessResult } from '../common/child-process.js';
import type { Deadline } from '../common/deadline.js';
import { formatDuration, parseDuration } from '../common/duration.js';
import { InterruptedError } from '../common/errors.js';
import { httpCall, type HttpAnswer } from '../common/http.js';
import { pollUntil } from '../common/sleep.js';
import type { EnvironmentMark } from '../runtimes/port-owner.js';
import type { LoadedProfile, ProfileRequest, ServiceProfile } from './profile.js';
import { expand } from './template.js';


const HTTP_CALL_MS = 15_000;
const MAX_BODY_BYTES = 1024 * 1024;
const COMMAND_OUTPUT_BYTES = 1024 * 1024;

export class ProfileContext {
  readonly profile: ServiceProfile;
  readonly values: Readonly<Record<string, string>>;
  readonly mark: EnvironmentMark;
  private readonly env: NodeJS.ProcessEnv;
  private readonly deadline: Deadline;
  private readonly signal: AbortSignal | undefined;

  constructor(loaded: LoadedProfile, root: string, ports: Readonly<Record<string, number>>, runId: string, deadline: Deadline, signal?: AbortSignal) {
    this.profile = loaded.profile;
    const builtins: Record<string, string> = { drill_root: root, profile_dir: loaded.dir, harness_pid: String(process.pid) };
    for (const [name, port] of Object.entries(ports)) builtins[`port:${name}`] = String(port);
    // a variable may use the harness's own values, never another variable (no order to get wrong)
    const variables = Object.fromEntries(Object.entries(loaded.variables).map(([name, value]) => [name, expand(value, { ...builtins, backup: '${backup}', marker: '${marker}' })]));
    this.values = { ...builtins, ...variables };
    this.mark = { name: PROFILE_RUN_VARIABLE, value: runId };
    const own = Object.fromEntries(Object.entries(loaded.profile.environment ?? {}).map(([name, value]) => [name, this.text(value)]));
    this.env = { ...process.env, ...own, [PROFILE_RUN_VARIABLE]: runId, [PROFILE_ROOT_VARIABLE]: root };
    this.deadline = deadline;
    this.signal = signal;
  }

  /** A profile string with its placeholders filled; `extra` adds `backup` or `marker`. */
  text(template: string, extra: Readonly<Record<string, string>> = {}): string {
    return expand(template, { ...this.values, ...extra });
  }

  /** A duration of the profile (`start_timeout: 60s`), or the default. */
  duration(value: string | undefined, fallbackMs: number): number {
    return value === undefined ? fallbackMs : parseDuration(value, 'profile duration');
  }

  /** Runs one of the profile's commands; what its result means is the caller's to judge (classification.ts). */
  run(
    argv: readonly string[],
    options: {
      readonly ownLimitMs: number;
      readonly extra?: Readonly<Record<string, string>>;
      readonly input?: string;
      readonly env?: Readonly<Record<string, string>>;
      /** false: teardown's stop, which runs to its own bound even after an interrupt (a second signal still ends it) */
      readonly interruptible?: boolean;
      /** output kept per stream (its head and tail); default 1 MiB */
      readonly maxOutputBytes?: number;
    },
  ): Promise<ProcessResult> {
    const extra = options.extra ?? {};
    const env = options.env ? { ...this.env, ...Object.fromEntries(Object.entries(options.env).map(([k, v]) => [k, this.text(v, extra)])) } : this.env;
    return runProcess(
      argv.map((arg) => this.text(arg, extra)),
      {
        env,
        // teardown runs past the budget, within its own bound
        timeoutMs: options.interruptible === false ? options.ownLimitMs : this.deadline.bound(options.ownLimitMs),
        maxOutputBytes: options.maxOutputBytes ?? COMMAND_OUTPUT_BYTES,
        ...(options.input !== undefined ? { input: options.input } : {}),
        ...(this.signal && options.interruptible !== false ? { signal: this.signal } : {}),
      },
    );
  }

  /** What a command's bound was, for the message when it was cut. */
  boundName(ownLimitMs: number, own: string): string {
    return this.deadline.limitedBy(ownLimitMs) ? `what was left of ${this.deadline.describe()}` : own;
  }

  /** A call's bound (its own limit, capped by the budget) and how a message names it. */
  bounded(ownLimitMs: number): { readonly timeoutMs: number; readonly boundName: string; readonly signal: AbortSignal | undefined } {
    return { timeoutMs: this.deadline.bound(ownLimitMs), boundName: this.boundName(ownLimitMs, `its own bound of ${formatDuration(ownLimitMs)}`), signal: this.signal };
  }

  /** True when a call with this own limit is capped by the run's budget. */
  budgetLimited(ownLimitMs: number): boolean {
    return this.deadline.limitedBy(ownLimitMs);
  }

  /** One HTTP call the profile declares. */
  http(request: ProfileRequest, extra: Readonly<Record<string, string>> = {}, ownLimitMs = HTTP_CALL_MS): Promise<HttpAnswer> {
    const headers = Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k, this.text(v, extra)]));
    return httpCall(
      { method: request.method ?? 'GET', url: this.text(request.url, extra), headers, ...(request.body !== undefined ? { body: this.text(request.body, extra) } : {}) },
      { ownTimeoutMs: ownLimitMs, maxBodyBytes: MAX_BODY_BYTES, budget: this.deadline, ...(this.signal ? { signal: this.signal } : {}) },
    );
  }

  /**
   * Polls the health request until the service no longer answers it as healthy, for at most
   * `ownLimitMs` (capped by the budget).
   */
  async waitDown(ownLimitMs: number): Promise<{ down: true } | { down: false; budgetLimited: boolean }> {
    const expected = this.profile.service.health.status ?? 200;
    const budgetLimited = this.deadline.limitedBy(ownLimitMs);
    const down = await pollUntil(
      this.deadline.bound(ownLimitMs),
      async (attemptMs) => {
        try {
          const answer = await this.http(this.profile.service.health, {}, attemptMs);
          return answer.status !== expected ? true : undefined;
        } catch (error) {
          if (error instanceof InterruptedError) throw error;
          // no answer: nothing listens any more
          return true;
        }
      },
      // each ask gets a fair bound of its own: a call cut short by the end of the wait says nothing
      { signal: this.signal, minAttemptMs: 500 },
    );
    return down ? { down } : { down: false, budgetLimited };
  }

  /**
   * Polls the health request until it answers the expected status, for at most `ownLimitMs`
   * (capped by the budget): 'healthy', or the last thing seen when it never did.
   */
  async waitHealthy(ownLimitMs: number): Promise<{ healthy: true } | { healthy: false; last: string; budgetLimited: boolean }> {
    const expected = this.profile.service.health.status ?? 200;
    const budgetLimited = this.deadline.limitedBy(ownLimitMs);
    let last = 'no answer yet';
    const healthy = await pollUntil(
      this.deadline.bound(ownLimitMs),
      async (attemptMs) => {
        try {
          const answer = await this.http(this.profile.service.health, {}, attemptMs);
          if (answer.status === expected) return true;
          last = `HTTP ${answer.status}`;
        } catch (error) {
          if (error instanceof InterruptedError) throw error;
          last = error instanceof Error ? error.message : String(error);
        }
        return undefined;
      },
      { signal: this.signal },
    );
    return healthy ? { healthy } : { healthy: false, last, budgetLimited };
  }
}
