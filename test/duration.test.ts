import { describe, expect, it } from 'vitest';
import { formatDuration } from '../src/common/duration.js';

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [999.4, '999ms'],
    [999.6, '1.0s'],
    [12_345, '12.3s'],
    [59_949, '59.9s'],
    [59_950, '1m00s'],
    [59_999, '1m00s'],
    [60_000, '1m00s'],
    [119_499, '1m59s'],
    [119_500, '2m00s'],
    [245_000, '4m05s'],
    [3_569_499, '59m29s'],
    [3_599_499, '59m59s'],
    [3_599_500, '1h00m'],
    [3_599_999, '1h00m'],
    [7_169_999, '1h59m'],
    [7_170_000, '2h00m'],
    [8 * 86_400_000, '192h00m'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('never prints 60 in the seconds or minutes place', () => {
    for (let ms = 0; ms < 4 * 3_600_000; ms += 499) {
      expect(formatDuration(ms)).not.toMatch(/(^|[hm])60[sm]$|^60\.0s$/);
    }
  });

  it('prints nonsense durations as zero rather than "NaNms" or a negative', () => {
    expect(formatDuration(Number.NaN)).toBe('0ms');
    expect(formatDuration(-5)).toBe('0ms');
  });
});
