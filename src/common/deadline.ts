import { InfrastructureError } from './errors.js';
import { formatDuration, timerMs } from './duration.js';

/**
 * The drill's overall time budget (--timeout). Every external call takes the smaller of
 * its own bound and what is left, and an AbortSignal that fires on interruption.
 */
export class Deadline {
  readonly totalMs: number;
  /** the budget as its user set it: `--timeout` on the command line, `input timeout` in a workflow */
  readonly name: string;
  readonly #endsAt: number;
  constructor(totalMs: number, name = '--timeout') {
    this.totalMs = totalMs;
    this.name = name;
    this.#endsAt = Date.now() + totalMs;
  }
  /** "--timeout 10m", for messages about the budget. */
  describe(): string {
    return `${this.name} ${formatDuration(this.totalMs)}`;
  }
  remainingMs(): number {
    return Math.max(0, this.#endsAt - Date.now());
  }
  /** The bound for one call: its own limit, capped by what is left of the drill. */
  bound(ownLimitMs: number): number {
    return Math.max(1, timerMs(Math.min(ownLimitMs, this.remainingMs())));
  }
  /** True when a call's bound came from the overall budget rather than its own limit. */
  limitedBy(ownLimitMs: number): boolean {
    return this.remainingMs() < ownLimitMs;
  }
  assertTimeLeft(doing: string): void {
    if (this.remainingMs() <= 0) {
      throw new InfrastructureError(`the run's ${this.describe()} ran out before ${doing}`);
    }
  }
}
