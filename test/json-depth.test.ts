import { describe, expect, it } from 'vitest';
import { jsonNestingPast, jsonValuesPast, MAX_JSON_DEPTH, MAX_JSON_VALUES, parseUntrustedJson } from '../src/common/json-depth.js';
import { lastJsonObject } from '../src/common/json-output.js';

const nested = (levels: number, open = '[', close = ']'): string => `${open.repeat(levels)}${close.repeat(levels)}`;

describe('JSON from untrusted files is parsed only when shallow', () => {
  it('64 levels parse; the 65th opening is refused where it is, before anything is built', () => {
    expect(parseUntrustedJson(nested(MAX_JSON_DEPTH))).toMatchObject({ ok: true });
    expect(parseUntrustedJson(nested(MAX_JSON_DEPTH + 1))).toEqual({ ok: false, reason: 'nested more than 64 levels deep (at character 64); not parsed' });
    // objects and lists count alike
    const mixed = `${'{"a":['.repeat(32)}1${']}'.repeat(32)}`;
    expect(parseUntrustedJson(mixed)).toMatchObject({ ok: true });
    expect(jsonNestingPast(`{"b":${mixed}}`, 64)).toBe(`{"b":${mixed}}`.lastIndexOf('['));
  });

  it('brackets in strings do not count, escaped quotes and backslashes do not end a string', () => {
    const inString = JSON.stringify({ s: `${nested(1000)}\\"${'{'.repeat(100)}"\\`, t: '\\' });
    expect(jsonNestingPast(inString, 1)).toBeNull();
    expect(parseUntrustedJson(inString)).toMatchObject({ ok: true });
    // a string ending in an escaped backslash: the quote after it closes the string, so the brackets count
    expect(jsonNestingPast(`["\\\\",[[]]]`, 2)).toBe(7);
    // an escaped quote does not close it: these brackets are text
    expect(jsonNestingPast(`["\\"[[[[",1]`, 1)).toBeNull();
    // non-ASCII text is no bracket
    expect(jsonNestingPast(`["［［［", "\u{1F600}"]`, 1)).toBeNull();
  });

  it('closing more than was opened never lowers the count below zero; malformed text is JSON.parse\'s to refuse', () => {
    expect(jsonNestingPast(`]]]]${nested(3)}`, 2)).toBe(6);
    expect(parseUntrustedJson('{"a":')).toMatchObject({ ok: false, reason: expect.stringMatching(/^not valid JSON: /) });
    expect(parseUntrustedJson('')).toMatchObject({ ok: false, reason: expect.stringMatching(/^not valid JSON: /) });
  });

  it('a validator\'s answer nested past the bound is no answer: the one before it is taken', () => {
    expect(lastJsonObject(`{"log":1}\n{"valid":true,"x":${nested(100)}}`)).toEqual({ log: 1 });
    expect(lastJsonObject(`{"log":1}\n{"valid":true,"x":${nested(10)}}`)).toMatchObject({ valid: true });
  });

  it('shallow but wide: more than MAX_JSON_VALUES values is refused before anything is built; commas and brackets in strings do not count', () => {
    const wide = (n: number): string => `[${Array.from({ length: n }, () => '{}').join(',')}]`;
    expect(parseUntrustedJson(wide(MAX_JSON_VALUES / 2 - 1))).toMatchObject({ ok: true });
    expect(parseUntrustedJson(wide(MAX_JSON_VALUES))).toMatchObject({ ok: false, reason: expect.stringMatching(/^holds more than 100000 values \(at character \d+\); not parsed$/) });
    expect(jsonValuesPast(`["${',{['.repeat(1000)}"]`, 10)).toBeNull();
    expect(jsonValuesPast('[1,2,3]', 2)).toBe(4);
  });
});
