import { InfrastructureError } from './errors.js';
import { formatDuration, timerMs } from './duration.js';

/**
 * The drill's overall time budget (--timeout). Every external call takes the smaller of
 * its own bound and what is left, and an AbortSignal that fires on interruption.
 */
export class Deadline {
  readonly totalMs: number;
  readonly #endsAt: number;
  constructor(totalMs: number) {
    this.totalMs = totalMs;
    this.#endsAt = Date.now() + totalMs;
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
      throw new InfrastructureError(`the drill's --timeout of ${formatDuration(this.totalMs)} ran out before ${doing}`);
    }
  }
}
