import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, PROJECT_ROOT, runCli } from './support/cli.js';
import { writeStream } from '../src/output/report-files.js';

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('bad input: exit 2 and a message naming the thing', () => {
  it.each([
    [['drill', '--no-such-flag'], /--no-such-flag/],
    [['drill', '--timeout', 'soon'], /--timeout.*"soon"/],
    [['drill', '--timeout', '10'], /--timeout.*unit/],
    [['drill', '--seed', '/nonexistent/seed-dir'], /--seed.*\/nonexistent\/seed-dir/],
    [['drill', '--fault', 'restore-eats-cat'], /--fault.*restore-eats-cat/],
    [['drill', '--runtime', 'vm'], /--runtime|vm/],
    [['drill', '--command', 'python3 -m atocore'], /--command and --backup-cli go together/],
    [['drill', '--command', 'python3 -m atocore > log', '--backup-cli', 'x'], /--command.*shell syntax/],
    [['drill', '--fail-on', 'sometimes'], /--fail-on.*sometimes/],
    [['drill', '--from-image', 'a'], /--from-image needs --image/],
    // faults are the embedded stand-in's: your own AtoCore would never see them (the action refuses the same)
    [['drill', '--fault', 'restore-skips-registry', '--command', 'python3 -m atocore', '--backup-cli', 'python3 -m atocore.ops.backup'], /--fault switches faults of the AtoCore stand-in; your AtoCore \(--command\) has none/],
    [['drill', '--image', 'atocore:2', '--command', 'a', '--backup-cli', 'b'], /--command runs AtoCore as a local process; it cannot go with --image/],
    [['frobnicate'], /frobnicate/],
  ])('%j', async (args, message) => {
    const run = await runCli(args as string[], { timeoutMs: 30_000 });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toMatch(message as RegExp);
  });

  it('--report-json pointing at a directory is refused before anything runs', async () => {
    const run = await runCli(['drill', '--report-json', work], { timeoutMs: 30_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--report-json: ${work} is a directory`);
    expect(run.stdout).not.toContain('Start AtoCore');
  });

  it('a report path that cannot be written is refused before the drill, not after it', async () => {
    const run = await runCli(['drill', '--junit', '/proc/atocore-drill.xml'], { timeoutMs: 30_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--junit: cannot write under \/proc/);
    expect(run.stdout).not.toContain('Start AtoCore');
  });

  it('a seed file that is not JSON is named, with exit 2', async () => {
    const seed = join(work, 'bad-seed');
    mkdirSync(seed);
    for (const name of ['project-registry.json', 'documents.json', 'memories.json']) {
      writeFileSync(join(seed, name), readFileSync(join(PROJECT_ROOT, 'fixtures/seed', name)));
    }
    writeFileSync(join(seed, 'memories.json'), '[{"memory_type": ');
    const run = await runCli(['drill', '--seed', seed], { timeoutMs: 30_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/memories\.json is not valid JSON/);
  });

  it('--help documents every drill flag and the exit codes', async () => {
    const run = await runCli(['drill', '--help'], { timeoutMs: 30_000 });
    expect(run.code).toBe(0);
    for (const flag of ['--runtime', '--image', '--from-image', '--command', '--backup-cli', '--include-chroma', '--seed', '--fault', '--keep', '--timeout', '--report-json', '--junit', '--summary', '--fail-on']) {
      expect(run.stdout).toContain(flag);
    }
    expect(run.stdout).toMatch(/3 +could not run/);
  });
});

/** Processes whose environment points into `root` (the service and anything it started). */
function processesUnder(root: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(`ATOCORE_DATA_DIR=${root}`)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

describe('a CLI interrupted mid-drill leaves nothing behind', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s while AtoCore runs', async (signal) => {
    const tmp = mkdtempSync(join(work, `${signal}-`));
    const child = spawn(process.execPath, [CLI, 'drill', '--include-chroma'], { cwd: PROJECT_ROOT, env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // wait until the service is up and seeded, then interrupt
    const deadline = Date.now() + 60_000;
    while (!out.includes('Seed the registry') || processesUnder(tmp).length === 0) {
      if (Date.now() > deadline) throw new Error(`the drill never got going:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(processesUnder(tmp).length).toBeGreaterThan(0);
    child.kill(signal);
    const code = await closed;
    expect(code, out).toBe(3);
    expect(out).toMatch(new RegExp(`interrupted by ${signal}`));
    expect(processesUnder(tmp)).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe('the console output reaches a slow reader whole', () => {
  // 600 empty snapshot directories: each fails, so the console says far more than a pipe's 64 KiB
  const root = join(work, 'many');
  for (let hour = 0; hour < 600; hour++) mkdirSync(join(root, 'snapshots', new Date(Date.UTC(2026, 0, 1, hour)).toISOString().replace(/[-:]|\.\d+/g, '')), { recursive: true });

  it('a reader that waits before reading (a pager, a busy log collector) still gets the verdict line, and the exit code is the verdict\'s', async () => {
    // a real pipe to a reader that sleeps first: the run ends long before it reads
    const script = 'set -o pipefail; "$0" "$1" validate --dir "$2" --now 2026-01-26T00:00:00Z | { sleep 1.5; cat; }';
    const child = spawn('bash', ['-c', script, process.execPath, CLI, root], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    const out = Buffer.concat(chunks).toString('utf8');
    expect(out.length, errors).toBeGreaterThan(128 * 1024);
    expect(out.trimEnd().split('\n').at(-1)).toMatch(/^verdict: FAIL \(exit 1\) — /);
    expect(code).toBe(1);
  });

  it('a reader that goes away (| head -1) ends the run at once with its own exit code', async () => {
    const child = spawn(process.execPath, [CLI, 'validate', '--dir', root, '--now', '2026-01-26T00:00:00Z'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.once('data', () => child.stdout.destroy());
    const began = Date.now();
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(Date.now() - began).toBeLessThan(20_000);
  });

  it('a report on standard output comes after the report files, and a reader that stops reading is given up, not waited for', async () => {
    const junit = join(work, 'slow-reader-junit.xml');
    // the reader looks for the JUnit file before it reads a byte
    const script = '"$0" "$1" validate --dir "$2" --now 2026-01-26T00:00:00Z --report-json - --junit "$3" | { sleep 1.5; test -f "$3" && echo JUNIT-FIRST >&2; cat > /dev/null; }';
    const child = spawn('bash', ['-c', script, process.execPath, CLI, root, junit], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    await new Promise((resolve) => child.on('close', resolve));
    expect(errors).toContain('JUNIT-FIRST');
    // a pipe nobody reads: the write is given up at its bound
    const stuck = spawn('sleep', ['30'], { stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      const began = Date.now();
      await expect(writeStream(stuck.stdin, 'x'.repeat(4 * 1024 * 1024), 500)).rejects.toThrow('writing to standard output (its reader stopped reading) did not finish within 500ms');
      expect(Date.now() - began).toBeLessThan(5_000);
    } finally {
      stuck.kill('SIGKILL');
    }
  });
});
