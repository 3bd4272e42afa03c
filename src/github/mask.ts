/** What a masked secret reads as, as in the runner's logs. */
export const MASK = '***';

/**
 * The strings to hide for one secret value: the whole value and each of its lines (a
 * private key travels line by line through logs and evidence), except the armour lines
 * (`-----BEGIN … KEY-----`), which say what the value is, not what it holds. Pieces
 * shorter than 6 characters are not hidden: they would blank out ordinary words.
 */
export function secretPieces(value: string): string[] {
  const pieces = new Set<string>();
  const whole = value.trim();
  if (whole.length >= 6) pieces.add(whole);
  for (const line of value.split(/\r?\n/)) {
    const piece = line.trim();
    if (piece.length >= 6 && !/^-----(BEGIN|END) [A-Z0-9 ]+-----$/.test(piece)) pieces.add(piece);
  }
  return [...pieces].sort((a, b) => b.length - a.length);
}

export function maskText(text: string, pieces: readonly string[]): string {
  let masked = text;
  for (const piece of pieces) if (masked.includes(piece)) masked = masked.split(piece).join(MASK);
  return masked;
}

/**
 * A deep copy of `value` with every secret piece in every string replaced by `***`. The
 * runner masks its logs, not what the action sends to the API or writes to files, so the
 * report is masked once, before anything renders it.
 */
export function maskSecrets<T>(value: T, pieces: readonly string[]): T {
  if (pieces.length === 0) return value;
  const walk = (item: unknown): unknown => {
    if (typeof item === 'string') return maskText(item, pieces);
    if (Array.isArray(item)) return item.map(walk);
    if (item && typeof item === 'object') return Object.fromEntries(Object.entries(item).map(([key, inner]) => [maskText(key, pieces), walk(inner)]));
    return item;
  };
  return walk(value) as T;
}
