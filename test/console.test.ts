import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderConsoleSummary, renderServiceOutput, renderStepOutput, terminalText } from '../src/output/console.js';
import type { DrillReport } from '../src/report/model.js';
import { PROJECT_ROOT, runCli } from './support/cli.js';

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
    expect(short).toContain('| \\x1b[2Jhello\n');
    expect(short).toContain(`| ${'y'.repeat(300)}…\n`);
  });

  it('what a step said past its first line (a CLI\'s last words) comes first, then the service\'s output; long ones cut to their last lines', () => {
    const many = Array.from({ length: 20 }, (_, i) => `err ${i}`).join('\n');
    const shown = renderStepOutput(`restore did not complete (exit 1); its output ends:\n${many}\n--- AtoCore output (tail) ---\nservice said\n`);
    expect(shown.split('\n').slice(0, 3)).toEqual(['    (last 15 lines)', '    | err 5', '    | err 6']);
    expect(shown).toContain("    AtoCore's output:\n    | service said\n");
    expect(renderStepOutput('one line only')).toBe('');
  });

  it('nothing when there is no output, or no output section', () => {
    expect(renderServiceOutput('timed out\n--- AtoCore output (tail) ---\n\n  \n')).toBe('');
    expect(renderServiceOutput('a plain failure')).toBe('');
  });
});

/** Any character a terminal acts on: C0 controls but the tab, DEL, C1 controls, bidirectional overrides. */
const ACTED_ON = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('what the target wrote reaches the terminal as text, never as terminal sequences', () => {
  it('a confirmed restore that writes a title change and a screen clear to stderr and fails: shown escaped under the step', async () => {
    const work = mkdtempSync(join(tmpdir(), 'atocore-drill-console-'));
    try {
      const cli = join(work, 'hostile.py');
      writeFileSync(
        cli,
        [
          'import runpy, sys',
          "if 'restore' in sys.argv and '--confirm-service-stopped' in sys.argv:",
          "    sys.stderr.write('\\x1b]0;PWNED\\x07\\x1b[2J')",
          '    sys.exit(1)',
          "runpy.run_module('atocore.ops.backup', run_name='__main__')",
        ].join('\n'),
      );
      const run = await runCli(['drill', '--command', 'python3 -m atocore', '--backup-cli', `python3 ${cli}`, '--timeout', '60s'], {
        env: { TMPDIR: work, PYTHONPATH: join(PROJECT_ROOT, 'fixtures/atocore') },
        timeoutMs: 90_000,
      });
      expect(run.code, run.stdout + run.stderr).toBe(1);
      const lines = run.stdout.split('\n');
      const restore = lines.findIndex((l) => l.startsWith('✗ Restore with --confirm-service-stopped'));
      expect(restore, run.stdout).toBeGreaterThanOrEqual(0);
      // the CLI's last words, under the step that failed, escaped
      expect(lines.slice(restore, restore + 3).join('\n'), run.stdout).toContain('\\x1b]0;PWNED\\x07\\x1b[2J');
      for (const line of (run.stdout + run.stderr).split('\n')) expect(line, JSON.stringify(line)).not.toMatch(ACTED_ON);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('terminalText: every control shown as an escape, bidi overrides too, tabs and printable text kept, bounded', () => {
    expect(terminalText('a\u001b[2Jb\u0007c\rd\ne\u009b31mf\u202eg\th é')).toBe('a\\x1b[2Jb\\x07c\\rd\\ne\\x9b31mf\\u202eg\th é');
    expect(terminalText('x'.repeat(5_000))).toHaveLength(1_000);
  });

  it('the summary: messages, evidence and the error line of a report escaped', () => {
    const hostile = '\u001b]0;PWNED\u0007\u001b[2J\u009b2J\u202e';
    const report = {
      verdict: 'fail',
      checks: [{ id: 'service.health', status: 'fail', message: `bad ${hostile}`, evidence: { body: hostile } }],
      snapshots: [],
      error: `boom ${hostile}`,
      target: { data_root: null, backup_stamp: hostile },
      metrics: { rto_ms: null, restore_ms: null },
      duration_ms: 10,
    } as unknown as DrillReport;
    const text = renderConsoleSummary(report);
    for (const line of text.split('\n')) expect(line, JSON.stringify(line)).not.toMatch(ACTED_ON);
    expect(text).toContain('FAIL service.health: bad \\x1b]0;PWNED\\x07\\x1b[2J\\x9b2J\\u202e');
  });
});
