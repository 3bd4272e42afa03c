/**
 * JSON read from a place the harness does not trust (a snapshot's metadata and registry, a
 * backup's collection list), parsed only when it is shallow. JSON.parse builds the whole
 * value: 8 MiB of `[` makes a tree ~60 times the input (half a gigabyte), enough for an
 * out-of-memory kill on a small runner, with no report. The files read this way are a few
 * levels deep by design (AtoCore's metadata is flat, its registry a list of project objects
 * holding lists of aliases and source roots; JellyCore's collection list a list of objects),
 * so anything deeper than MAX_JSON_DEPTH is no such file: refused after one scan that
 * allocates nothing.
 */

/** Far beyond what the files are (3–4 levels) and what any writer of them produces; far below what costs memory. */
export const MAX_JSON_DEPTH = 64;
/**
 * Shallow but wide costs memory too (8 MiB of `{},` is half a million objects, ~0.4 GB once
 * built): the files hold dozens of values (projects, collections, fields), never this many.
 */
export const MAX_JSON_VALUES = 100_000;

export type UntrustedJson = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string };

/**
 * The value of `text`, or why not: "nested more than 64 levels deep …" (found by the scan,
 * before anything is built) or "not valid JSON: …" (JSON.parse's own words).
 */
export function parseUntrustedJson(text: string, maxDepth = MAX_JSON_DEPTH, maxValues = MAX_JSON_VALUES): UntrustedJson {
  const past = jsonPastBounds(text, maxDepth, maxValues);
  if (past?.bound === 'depth') return { ok: false, reason: `nested more than ${maxDepth} levels deep (at character ${past.at}); not parsed` };
  if (past?.bound === 'values') return { ok: false, reason: `holds more than ${maxValues} values (at character ${past.at}); not parsed` };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, reason: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;

/**
 * Where `text` first passes a bound, in one scan that allocates nothing: `depth` where it
 * opens its (maxDepth + 1)th level of arrays and objects, `values` where it passes maxValues
 * values (arrays, objects and the commas between members: an upper bound on what JSON.parse
 * would build); null when it passes neither. Brackets and commas inside strings (escapes
 * included) do not count. It does not validate: text that is not JSON is JSON.parse's to
 * refuse; this only keeps deep or wide text from reaching it.
 */
export function jsonPastBounds(text: string, maxDepth: number, maxValues: number): { readonly bound: 'depth' | 'values'; readonly at: number } | null {
  let depth = 0;
  let values = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      if (++depth > maxDepth) return { bound: 'depth', at: i };
      if (++values > maxValues) return { bound: 'values', at: i };
    } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) {
      if (depth > 0) depth--;
    } else if (code === COMMA && ++values > maxValues) {
      return { bound: 'values', at: i };
    }
  }
  return null;
}

/** Where `text` first opens its (maxDepth + 1)th level of arrays and objects, or null (jsonPastBounds). */
export function jsonNestingPast(text: string, maxDepth: number): number | null {
  return jsonPastBounds(text, maxDepth, Number.POSITIVE_INFINITY)?.at ?? null;
}

/** Where `text` passes `maxValues` values, or null (jsonPastBounds). */
export function jsonValuesPast(text: string, maxValues: number): number | null {
  return jsonPastBounds(text, Number.POSITIVE_INFINITY, maxValues)?.at ?? null;
}
