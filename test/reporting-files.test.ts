import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/common/errors.js';
import { checkOutputPlace, writeOutputFile } from '../src/output/output-file.js';
import { emptyLedger, saveLedger } from '../src/validation/ledger.js';
import { CLI, runCli } from './support/cli.js';

/**
 * Report files and the ledger, with real files: devices, FIFOs, links, sockets, a full
 * tmpfs. Runs as root (mknod, mount), as the project's machines do.
 */
const work = mkdtempSync(join(tmpdir(), 'atocore-drill-files-'));
const full = join(work, 'full');
const REPORTS = { writeThrough: true } as const;
const LEDGER = { writeThrough: false } as const;
let server: Server | null = null;
const children: ChildProcess[] = [];

beforeAll(() => {
  // a 64 KiB tmpfs, filled up: ENOSPC for whatever is written there next
  mkdirSync(full);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full]);
  writeFileSync(join(full, 'report.json'), '{"old": true}\n');
  try {
    writeFileSync(join(full, 'filler'), Buffer.alloc(1024 * 1024));
  } catch {
    // full: what this mount is for
  }
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  try {
    execFileSync('umount', [full]);
  } catch {
    // not mounted
  }
  rmSync(work, { recursive: true, force: true });
});

function fifo(name: string): string {
  const path = join(work, name);
  execFileSync('mkfifo', [path]);
  return path;
}

/** A reader on a FIFO (cat), copying what it reads into a file; resolves when the writer closes. */
function reader(fifoPath: string): { done: Promise<string>; ready: Promise<void> } {
  const out = `${fifoPath}.read`;
  const child = spawn('sh', ['-c', `exec cat "$1" > "$2"`, 'sh', fifoPath, out], { stdio: 'ignore' });
  children.push(child);
  const done = new Promise<string>((resolve) => child.on('close', () => resolve(readFileSync(out, 'utf8'))));
  // the reader has the FIFO open once its output file exists (the shell opens it before exec; cat opens the FIFO at once)
  const ready = new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (existsSync(out)) {
        clearInterval(poll);
        setTimeout(resolve, 100);
      }
    }, 10);
  });
  return { done, ready };
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.tmp') || name.includes('atocore-drill-probe'));
}

describe('a path is written by what it is, never renamed over a device, a FIFO or a link', () => {
  it('/dev/null stays a character device, and nothing is left in /dev', async () => {
    await writeOutputFile('/dev/null', 'x'.repeat(100_000), REPORTS);
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(leftovers('/dev')).toEqual([]);
  });

  it('a symlink to /dev/null stays a link to the device', async () => {
    const link = join(work, 'to-null');
    symlinkSync('/dev/null', link);
    await writeOutputFile(link, 'report', REPORTS);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('/dev/null');
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('a symlink to a file: the link stays, the file it points at is replaced whole, keeping its mode', async () => {
    const dir = join(work, 'kept');
    mkdirSync(dir);
    const file = join(dir, 'junit.xml');
    writeFileSync(file, 'old');
    chmodSync(file, 0o640);
    const link = join(work, 'junit-link.xml');
    symlinkSync(file, link);
    await writeOutputFile(link, 'new', REPORTS);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(leftovers(dir)).toEqual([]);
    expect(leftovers(work)).toEqual([]);
  });

  it('a dangling symlink: the file it names is created, the link stays', async () => {
    const link = join(work, 'dangling');
    symlinkSync('made-later/report.json', link);
    await writeOutputFile(link, 'created', REPORTS);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(work, 'made-later/report.json'), 'utf8')).toBe('created');
  });

  it('a FIFO without a reader: refused at once, and it stays a FIFO', async () => {
    const path = fifo('no-reader');
    const began = Date.now();
    await expect(writeOutputFile(path, 'report', REPORTS)).rejects.toThrow(`${path} is a FIFO with no reader`);
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(lstatSync(path).isFIFO()).toBe(true);
  });

  it('a FIFO with a reader gets all of it (3 MB, more than a pipe holds)', async () => {
    const path = fifo('with-reader');
    const { done, ready } = reader(path);
    await ready;
    const content = 'y'.repeat(3_000_000);
    await writeOutputFile(path, content, REPORTS);
    expect((await done).length).toBe(content.length);
    expect(lstatSync(path).isFIFO()).toBe(true);
  });

  it('a FIFO whose reader stops reading: given up within the bound', async () => {
    const path = fifo('stalled');
    const child = spawn('sh', ['-c', 'exec sleep 30 < "$1"', 'sh', path], { stdio: 'ignore' });
    children.push(child);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const began = Date.now();
    await expect(writeOutputFile(path, 'z'.repeat(1_000_000), REPORTS, 1_000)).rejects.toThrow(/stopped reading.*did not finish within 1(\.0)?s/);
    expect(Date.now() - began).toBeLessThan(3_000);
    child.kill('SIGKILL');
  });

  it('a directory, a socket, a block device and a path under a file are refused before the run, naming the flag', async () => {
    const socket = join(work, 'sock');
    server = createServer();
    await new Promise<void>((resolve) => server!.listen(socket, resolve));
    const block = join(work, 'loop-device');
    execFileSync('mknod', [block, 'b', '7', '200']);
    const cases: Array<[string, RegExp]> = [
      [work, /^--junit: .* is a directory, not a file$/],
      [socket, /^--junit: .*sock is a socket; refusing to write a report there$/],
      [block, /^--junit: .*loop-device is a block device; refusing/],
      ['/etc/passwd/x', /^--junit: \/etc\/passwd\/x: a parent is not a directory$/],
    ];
    for (const [path, message] of cases) {
      expect(() => checkOutputPlace(path, '--junit', REPORTS)).toThrow(UsageError);
      expect(() => checkOutputPlace(path, '--junit', REPORTS)).toThrow(message);
      await expect(writeOutputFile(path, 'x', REPORTS)).rejects.toThrow();
    }
    expect(lstatSync(block).isBlockDevice()).toBe(true);
    expect(lstatSync(socket).isSocket()).toBe(true);
  });

  it('a full disk (ENOSPC): the old file stays as it was, no temp file is left', async () => {
    await expect(writeOutputFile(join(full, 'report.json'), 'n'.repeat(200_000), REPORTS)).rejects.toThrow(/ENOSPC/);
    expect(readFileSync(join(full, 'report.json'), 'utf8')).toBe('{"old": true}\n');
    expect(leftovers(full)).toEqual([]);
  });

  it('the ledger: a device or a FIFO is refused before the run; a symlinked ledger stays a link to the updated file', async () => {
    expect(() => checkOutputPlace('/dev/null', '--ledger', LEDGER)).toThrow('--ledger: /dev/null is a character device, not a regular file');
    expect(() => checkOutputPlace(fifo('ledger-fifo'), '--ledger', LEDGER)).toThrow(/--ledger: .*ledger-fifo is a FIFO, not a regular file/);
    const real = join(work, 'ledger-real.json');
    writeFileSync(real, '{}');
    const link = join(work, 'ledger-link.json');
    symlinkSync(real, link);
    await saveLedger(link, emptyLedger());
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(real, 'utf8')).schema).toBe('atocore-drill/ledger@1');
    await expect(saveLedger('/dev/null', emptyLedger())).rejects.toThrow(/character device/);
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
  });
});

describe('the CLI: bad report and ledger places are usage errors before the run (exit 2)', () => {
  it.each([
    [['drill', '--summary', '/etc/passwd/x'], /^atocore-drill: --summary: \/etc\/passwd\/x: a parent is not a directory$/m],
    [['drill', '--junit', '-', '--summary', '-'], /--junit and --summary: only one report can go to standard output/],
    [['validate', '--dir', '.', '--ledger', '/dev/null'], /^atocore-drill: --ledger: \/dev\/null is a character device, not a regular file$/m],
    [['validate', '--dir', '.', '--ledger', '/tmp'], /--ledger: \/tmp is a directory, not a file/],
    [['validate', '--dir', '.', '--report-json', '/etc/passwd/r.json'], /--report-json: \/etc\/passwd\/r.json: a parent is not a directory/],
    [['validate', '--dir', '.', '--ledger', join(work, 'same.json'), '--report-json', join(work, 'same.json')], /--ledger and --report-json name the same file \(.*same.json\): one would overwrite the other/],
    [['drill', '--junit', join(work, 'same.xml'), '--summary', join(work, '.', 'same.xml')], /--junit and --summary name the same file/],
  ])('%j', async (args, message) => {
    const run = await runCli(args as string[], { timeoutMs: 30_000 });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toMatch(message as RegExp);
    expect(run.stdout).not.toMatch(/Start AtoCore|open the backup root/);
  });
});

describe('the CLI end to end: the verdict keeps its exit code; each report not written is named', () => {
  it('--junit - with standard output on a full disk (/dev/full): the report is named as not written, the verdict keeps exit 0, no crash', () => {
    const result = execFileSync('bash', ['-c', '"$0" "$1" drill --timeout 3m --junit - >/dev/full 2>"$2"; echo $?', process.execPath, CLI, join(work, 'full-stdout.err')], { encoding: 'utf8', timeout: 180_000 });
    expect(result.trim()).toBe('0');
    const stderr = readFileSync(join(work, 'full-stdout.err'), 'utf8');
    expect(stderr).toMatch(/--junit: not written: standard output: ENOSPC/);
    expect(stderr).not.toMatch(/at .*node:internal|Error: write/);
  }, 180_000);

  it('a passing drill: --summary /dev/null stays a device, a symlinked --junit stays a link, a --report-json on a full disk is named on stderr, exit 0', async () => {
    const junitFile = join(work, 'e2e-junit.xml');
    writeFileSync(junitFile, 'old');
    const junitLink = join(work, 'e2e-junit-link.xml');
    symlinkSync(junitFile, junitLink);
    const run = await runCli(['drill', '--timeout', '3m', '--summary', '/dev/null', '--junit', junitLink, '--report-json', join(full, 'report.json')]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(lstatSync(junitLink).isSymbolicLink()).toBe(true);
    expect(readFileSync(junitFile, 'utf8')).toMatch(/<testsuites name="atocore-drill drill" tests="\d+" failures="0" errors="0"/);
    expect(run.stderr).toMatch(new RegExp(`^atocore-drill: --report-json: not written: .*${full}/report.json.*ENOSPC`, 'm'));
    expect(readFileSync(join(full, 'report.json'), 'utf8')).toBe('{"old": true}\n');
    expect(leftovers(full)).toEqual([]);
  });

  it('a failing drill: its JUnit (through a FIFO with a reader) has failures; a FIFO without a reader is named; the summary on stdout (-); exit 1', async () => {
    const junitFifo = fifo('e2e-junit-fifo');
    const { done, ready } = reader(junitFifo);
    await ready;
    const noReader = fifo('e2e-json-fifo');
    const run = await runCli(['drill', '--timeout', '3m', '--fault', 'restore-skips-db', '--junit', junitFifo, '--report-json', noReader, '--summary', '-']);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const junit = await done;
    expect(junit).toMatch(/<testsuites name="atocore-drill drill" tests="\d+" failures="[1-9]\d*"/);
    expect(junit).toMatch(/<failure message="[^"]*" type="marker.post_backup_gone">/);
    expect(run.stderr).toContain(`atocore-drill: --report-json: not written: ${noReader} is a FIFO with no reader`);
    // the summary is all of stdout; progress went to stderr
    expect(run.stdout.startsWith('## AtoCore restore drill: ❌ FAIL\n')).toBe(true);
    expect(run.stderr).toContain('Restore with --confirm-service-stopped');
    expect(lstatSync(noReader).isFIFO()).toBe(true);
  });

  it('--report-json - writes the JSON report, alone, to stdout', async () => {
    const run = await runCli(['drill', '--timeout', '3m', '--report-json', '-']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { verdict: string };
    expect(report.verdict).toBe('pass');
  });
});
