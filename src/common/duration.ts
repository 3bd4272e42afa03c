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

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1_000);
  if (minutes < 60) return `${minutes}m${seconds.toString().padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${(minutes % 60).toString().padStart(2, '0')}m`;
}
