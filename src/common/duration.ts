import { UsageError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses "90s", "15m", "1h30m", "8d", "250ms". Hand-written on purpose: the grammar is
 * small and must be strict (a bare number, a negative or an unknown unit is an error
 * naming the flag), which general duration libraries do not offer.
 */
export function parseDuration(text: string, what: string): number {
  const trimmed = text.trim();
  if (!/^(\d+(ms|s|m|h|d))+$/.test(trimmed)) {
    throw new UsageError(
      `${what}: "${text}" is not a duration; write it as a number with a unit (ms, s, m, h, d), e.g. 90s, 15m, 1h30m`,
    );
  }
  let total = 0;
  for (const match of trimmed.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? 0);
  }
  if (total <= 0) throw new UsageError(`${what}: "${text}" must be longer than zero`);
  return total;
}

/**
 * "250ms", "12.3s", "4m05s", "2h07m". Each form rounds to its own precision first and
 * picks the form from the rounded value, so a carry moves up a unit (59_999 ms is
 * "1m00s", 3_599_999 ms "1h00m") instead of printing "60s" in the minute place.
 */
export function formatDuration(ms: number): string {
  const clamped = Number.isFinite(ms) && ms > 0 ? ms : 0;
  const wholeMs = Math.round(clamped);
  if (wholeMs < 1_000) return `${wholeMs}ms`;
  const tenths = Math.round(clamped / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)}s`;
  const seconds = Math.round(clamped / 1_000);
  if (seconds < 3_600) return `${Math.floor(seconds / 60)}m${twoDigits(seconds % 60)}s`;
  const minutes = Math.round(clamped / 60_000);
  return `${Math.floor(minutes / 60)}h${twoDigits(minutes % 60)}m`;
}

function twoDigits(value: number): string {
  return value.toString().padStart(2, '0');
}

/** Node's timers hold at most 2^31 - 1 ms (about 24.8 days); a longer wait fires at once. */
export const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** A wait as a timer can hold it: longer ones are cut to the longest (no run lasts 24 days). */
export function timerMs(ms: number): number {
  return Math.min(Math.max(0, ms), LONGEST_TIMER_MS);
}
