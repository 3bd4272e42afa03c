import { describe, expect, it } from 'vitest';
import { renderServiceOutput } from '../src/output/console.js';
import { runCli } from './support/cli.js';

describe('the console shows what a dying service said', () => {
  it('your AtoCore exits at start: its stderr is on the console, under the step', async () => {
    const run = await runCli(
      ['drill', '--command', `python3 -c 'import sys; sys.stderr.write("boom: no such table\\n"); sys.exit(1)'`, '--backup-cli', 'python3 -m atocore.ops.backup', '--timeout', '60s'],
      { timeoutMs: 90_000 },
    );
    expect(run.code, run.stdout + run.stderr).toBe(3);
    const lines = run.stdout.split('\n');
    const start = lines.findIndex((l) => l.startsWith('! Start AtoCore'));
    expect(start, run.stdout).toBeGreaterThanOrEqual(0);
    expect(lines.slice(start + 1, start + 3)).toEqual(["    AtoCore's output:", '    | boom: no such table']);
  });

  it('untrusted output: terminal escapes neutralised, lines and their number bounded', () => {
    const many = Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n');
    const shown = renderServiceOutput(`start failed\n--- AtoCore output (tail) ---\n\u001b[2J\u001b]0;owned\u0007x\r\n${'y'.repeat(1_000)}\n${many}\n`);
    expect(shown).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(shown).toContain("AtoCore's output, last 15 lines:");
    expect(shown).toContain('| line 39\n');
    expect(shown).not.toContain('| line 24\n');
    const short = renderServiceOutput(`x\n--- AtoCore output (tail) ---\n\u001b[2Jhello\n${'y'.repeat(1_000)}`);
    expect(short).toContain('| ?[2Jhello\n');
    expect(short).toContain(`| ${'y'.repeat(300)}…\n`);
  });

  it('nothing when there is no output, or no output section', () => {
    expect(renderServiceOutput('timed out\n--- AtoCore output (tail) ---\n\n  \n')).toBe('');
    expect(renderServiceOutput('a plain failure')).toBe('');
  });
});
