import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { CLI, PROJECT_ROOT, readReport } from './support/cli.js';

/**
 * A signal while the CLI is still loading its modules (before the run's own handling is in
 * place) ends it with exit 3 and a word, never Node's silent 143. Real processes, real
 * signals; a test loader (support/slow-cli-import.mjs) stretches the load to 3 s where the
 * window must be hit every time.
 */
const work = mkdtempSync(join(tmpdir(), 'atocore-drill-early-signal-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SLOW_LOAD = fileURLToPath(new URL('./support/slow-cli-import.mjs', import.meta.url));
const EARLY_LINE = (signal: string): string => `atocore-drill: interrupted by ${signal} before the run began: nothing was created, no report was written\n`;

/** Whether the process has a handler of its own for `signal` (Node itself catches SIGINT and SIGTERM, never SIGQUIT). */
function catches(pid: number, signal: NodeJS.Signals): boolean {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return false;
  }
  const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return mask !== undefined && ((BigInt(`0x${mask}`) >> BigInt(constants.signals[signal] - 1)) & 1n) === 1n;
}

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly afterSignalMs: number;
  readonly report: string;
  readonly tmp: string;
}

/**
 * Starts `drill --report-json` (or `command`, given the report path), and sends `signal` the
 * moment the CLI's first lines have run (the earliest a program can catch anything: before
 * that, Node is still starting).
 */
async function signalledAtOnce(name: string, signal: NodeJS.Signals, slowLoad?: 'block' | 'await' | 'bare', command = (report: string): string[] => ['drill', '--report-json', report]): Promise<Ended> {
  const tmp = join(work, name);
  mkdirSync(tmp);
  const report = join(tmp, 'report.json');
  const args = [...(slowLoad ? ['--import', SLOW_LOAD] : []), CLI, ...command(report)];
  const env = { ...process.env, TMPDIR: tmp, ...(slowLoad ? { ATOCORE_DRILL_TEST_SLOW_LOAD: slowLoad } : {}) };
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, sig) => resolve({ code, signal: sig })));
  const started = Date.now();
  // the interim handlers take SIGQUIT too, which Node alone never catches: once it is caught, all four are
  while (!catches(child.pid!, 'SIGQUIT')) {
    if (child.exitCode !== null || Date.now() - started > 20_000) throw new Error(`the CLI never caught SIGQUIT:\n${stdout}${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const sentAt = Date.now();
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const end = await closed;
  clearTimeout(timer);
  return { ...end, stdout, stderr, afterSignalMs: Date.now() - sentAt, report, tmp };
}

/** Nothing the run would create (its drill root, a probe, a temp file) is left. */
function leftovers(tmp: string): string[] {
  return readdirSync(tmp).filter((entry) => entry !== 'report.json');
}

describe('a signal while the CLI is loading: exit 3 with a word, never a silent 143', () => {
  it.each(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const)('%s while the event loop turns during the load: one line, exit 3 at once, nothing created', async (signal) => {
    const ended = await signalledAtOnce(`await-${signal}`, signal, 'await');
    expect(ended.code, ended.stdout + ended.stderr).toBe(3);
    expect(ended.stderr).toBe(EARLY_LINE(signal));
    expect(ended.stdout).toBe('');
    // at once, not once the load is done (3 s)
    expect(ended.afterSignalMs).toBeLessThan(2_000);
    expect(existsSync(ended.report)).toBe(false);
    expect(leftovers(ended.tmp)).toEqual([]);
  });

  it('SIGTERM while a load that does not let the event loop turn (Node 24): the run takes it as soon as its own handling is there, reports error, exit 3; the interim handler says nothing', async () => {
    const ended = await signalledAtOnce('block', 'SIGTERM', 'block');
    expect(ended.code, ended.stdout + ended.stderr).toBe(3);
    expect(ended.stderr + ended.stdout).not.toContain('before the run began');
    expect(ended.stdout).toMatch(/^ERROR: interrupted by SIGTERM$/m);
    const report = readReport(ended.report);
    expect(report.verdict).toBe('error');
    expect(report.checks.every((check) => check.status === 'skip')).toBe(true);
    expect(leftovers(ended.tmp)).toEqual([]);

    // a command with no signal handling of its own (merge-reports): the held signal ends it as Node would have, never swallowed
    const merged = await signalledAtOnce('block-merge', 'SIGTERM', 'block', (out) => ['merge-reports', ended.report, '--report-json', out]);
    expect({ code: merged.code, signal: merged.signal }, merged.stdout + merged.stderr).toEqual({ code: null, signal: 'SIGTERM' });
    expect(merged.stderr).not.toContain('before the run began');
    expect(existsSync(merged.report)).toBe(false);
  });

  it('a command with no signal handling of its own and nothing else listening: the signal held during the load ends it as Node would have, never swallowed', async () => {
    const ended = await signalledAtOnce('bare', 'SIGTERM', 'bare');
    expect({ code: ended.code, signal: ended.signal }, ended.stdout + ended.stderr).toEqual({ code: null, signal: 'SIGTERM' });
    expect(ended.stderr).toBe('');
  });

  it('the real load, signalled at once, five times: exit 3 every time, one way or the other, never both', async () => {
    for (const [index, signal] of (['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGTERM'] as const).entries()) {
      const ended = await signalledAtOnce(`real-${index}`, signal);
      const output = ended.stdout + ended.stderr;
      expect({ code: ended.code, signal: ended.signal }, output).toEqual({ code: 3, signal: null });
      const early = output.includes('before the run began');
      const byTheRun = output.includes(`ERROR: interrupted by ${signal}`);
      expect(early !== byTheRun, output).toBe(true);
      if (early) expect(ended.stderr).toBe(EARLY_LINE(signal));
      else expect(readReport(ended.report).verdict).toBe('error');
      expect(leftovers(ended.tmp)).toEqual([]);
    }
  });
});

describe('what the CLI entry relies on', () => {
  it.each([
    [['drill', '--timeout', 'bogus']],
    [['validate', '--dir', '/nonexistent']],
    [['rehearse', '--dir', '/nonexistent']],
  ])('main %j has its signal handling in place when it returns its promise (so the interim handlers can step aside with no moment uncovered)', async (args) => {
    const quiet = { write: () => true } as unknown as NodeJS.WriteStream;
    const before = process.listenerCount('SIGQUIT');
    const running = main(args, { stdout: quiet, stderr: quiet });
    expect(process.listenerCount('SIGQUIT')).toBe(before + 1);
    expect(await running).toBe(2);
    expect(process.listenerCount('SIGQUIT')).toBe(before);
  });
});
