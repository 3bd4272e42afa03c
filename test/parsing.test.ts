import { describe, expect, it } from 'vitest';
import { parseDuration } from '../src/common/duration.js';
import { lastJsonObject } from '../src/common/json-output.js';
import { splitCommandLine } from '../src/common/child-process.js';
import { isSnapshotStamp, stampOf } from '../src/atocore/stamp.js';
import { UsageError } from '../src/common/errors.js';

describe('parseDuration', () => {
  it('reads units and sums compound durations', () => {
    expect(parseDuration('250ms', 'x')).toBe(250);
    expect(parseDuration('90s', 'x')).toBe(90_000);
    expect(parseDuration('1h30m', 'x')).toBe(5_400_000);
    expect(parseDuration('8d', 'x')).toBe(8 * 86_400_000);
  });
  it.each(['10', '-5s', '5 parsecs', '', '0s', '1.5h'])('refuses %j naming the flag', (text) => {
    expect(() => parseDuration(text, '--timeout')).toThrow(UsageError);
    expect(() => parseDuration(text, '--timeout')).toThrow(/--timeout/);
  });
});

describe('lastJsonObject', () => {
  it('takes the last complete object after log lines, with braces inside strings', () => {
    const out = '{"level":"info","event":"restore_started"}\n{\n  "stamp": "20260407T060000Z",\n  "note": "a } and a { in a string",\n  "nested": {"a": 1}\n}\n';
    expect(lastJsonObject(out)).toEqual({ stamp: '20260407T060000Z', note: 'a } and a { in a string', nested: { a: 1 } });
  });
  it('skips a truncated trailing object and returns undefined for no JSON', () => {
    expect(lastJsonObject('{"a": 1}\n{"b": ')).toEqual({ a: 1 });
    expect(lastJsonObject('Traceback (most recent call last):\n  RuntimeError')).toBeUndefined();
  });
});

describe('splitCommandLine', () => {
  it('honours quotes and does not expand variables', () => {
    expect(splitCommandLine('python -m "atocore ops" $HOME', '--command')).toEqual(['python', '-m', 'atocore ops', '$HOME']);
  });
  it('refuses shell operators, naming the flag', () => {
    expect(() => splitCommandLine('python -m atocore | tee log', '--backup-cli')).toThrow(/--backup-cli/);
    expect(() => splitCommandLine('   ', '--command')).toThrow(/--command/);
  });
  it('refuses an unclosed quote instead of guessing where it ends', () => {
    expect(() => splitCommandLine("python3 'unterminated", '--command')).toThrow(/--command: .* unclosed single quote/);
    expect(() => splitCommandLine('sh -c "exec x', '--command')).toThrow(/unclosed double quote/);
    // quotes inside the other kind, and escaped ones, are closed
    expect(splitCommandLine(`sh -c "echo 'a' \\"b\\""`, '--command')).toEqual(['sh', '-c', `echo 'a' "b"`]);
    expect(splitCommandLine(`echo it\\'s`, '--command')).toEqual(['echo', "it's"]);
  });
});

describe('snapshot stamps', () => {
  it('accepts exactly YYYYMMDDTHHMMSSZ with a real date', () => {
    expect(isSnapshotStamp('20260407T060000Z')).toBe(true);
    expect(isSnapshotStamp('20261340T060000Z')).toBe(false);
    expect(isSnapshotStamp('20260407T060000Z.old')).toBe(false);
    expect(isSnapshotStamp('20260407T060000Z;rm -rf')).toBe(false);
    expect(stampOf(new Date(Date.UTC(2026, 3, 7, 6, 0, 0, 450)))).toBe('20260407T060000Z');
  });
});
