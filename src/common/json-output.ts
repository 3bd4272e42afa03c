import { parseUntrustedJson } from './json-depth.js';

/**
 * The last complete top-level JSON object in a program's output. AtoCore's backup CLI
 * prints indented JSON and a structured logger may write JSON lines before it, so
 * "parse all of stdout" is wrong. Hand-written: a brace scanner that understands
 * strings; no JSON library offers "last object in mixed text".
 */
export function lastJsonObject(text: string): Record<string, unknown> | undefined {
  const candidates: Array<[number, number]> = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"' && depth > 0) inString = true;
    else if (ch === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === '}' && depth > 0) {
      depth--;
      if (depth === 0) candidates.push([start, i + 1]);
    }
  }
  for (let i = candidates.length - 1; i >= 0; i--) {
    const [from, to] = candidates[i]!;
    // not JSON after all, or nested deeper than any answer (never built: json-depth.ts): try the one before
    const parsed = parseUntrustedJson(text.slice(from, to));
    if (parsed.ok && parsed.value !== null && typeof parsed.value === 'object' && !Array.isArray(parsed.value)) return parsed.value as Record<string, unknown>;
  }
  return undefined;
}
