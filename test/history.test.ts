import { createHash } from 'node:crypto';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from 'xmlbuilder2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordRun } from '../src/history/keep.js';
import { readReport, runCli, startCli, statusOf } from './support/cli.js';
import { buildSnapshotTree, FIXTURE_NOW, goodTreePlan } from './support/snapshot-tree.js';
import type { DrillReport } from '../src/report/model.js';

/** What the tests read of the parsed SVG (xmlbuilder2's DOM). */
interface XmlElement {
  getAttribute(name: string): string | null;
  getElementsByTagName(name: string): ArrayLike<XmlElement> & Iterable<XmlElement>;
}

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-history-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let names = 0;
const place = (suffix: string): string => join(work, `${++names}-${suffix}`);
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

async function drill(args: readonly string[]): Promise<{ code: number | null; report: DrillReport | null; stdout: string; stderr: string; reportFile: string }> {
  const reportFile = place('report.json');
  const run = await runCli(['drill', '--report-json', reportFile, ...args], { timeoutMs: 120_000 });
  return { code: run.code, report: existsSync(reportFile) ? readReport(reportFile) : null, stdout: run.stdout, stderr: run.stderr, reportFile };
}

/** The circles of one panel of a chart, read by a strict XML parser. */
function pointsIn(svg: string, panel: string): number {
  const root = create(svg).root().node as unknown as XmlElement;
  const group = [...root.getElementsByTagName('g')].find((g) => g.getAttribute('id') === panel);
  return group ? group.getElementsByTagName('circle').length : 0;
}

describe('drill --history', () => {
  const history = join(work, 'drills', 'history.sqlite');
  const runs: DrillReport[] = [];
  const summary = place('summary.md');
  let secondReport = '';

  beforeAll(async () => {
    // two runs of the stand-in: the second with budgets, one met and one not
    const first = await drill(['--history', history]);
    expect(first.code, first.stderr).toBe(0);
    runs.push(first.report!);
    const second = await drill(['--history', history, '--rto-budget', '1ms', '--rpo', '24h', '--summary', summary]);
    expect(second.code, second.stdout).toBe(1);
    runs.push(second.report!);
    secondReport = second.reportFile;
  }, 240_000);

  it('two runs give a history of two and a chart with two points, beside the JSON report', () => {
    const chart = secondReport.replace(/\.json$/, '.history.svg');
    expect(existsSync(chart)).toBe(true);
    const svg = readFileSync(chart, 'utf8');
    expect(pointsIn(svg, 'rto')).toBe(2);
    expect(pointsIn(svg, 'duration')).toBe(2);
    // the run over budget is marked failed in each of the four panels
    expect(svg.match(/class="point failed"/g)?.length).toBe(4);
    // the history is one file again once the runs have ended: what a CI cache saves
    expect(existsSync(`${history}-wal`) || existsSync(`${history}-shm`)).toBe(false);
  });

  it('budgets: rto.budget fails when exceeded and makes the verdict fail; rpo.budget passes within its budget; neither belongs to a step', () => {
    const second = runs[1]!;
    expect(second.verdict).toBe('fail');
    expect(statusOf(second)).toMatchObject({ 'rto.budget': 'fail', 'rpo.budget': 'pass', 'rto.regression': 'skip' });
    const budget = second.checks.find((c) => c.id === 'rto.budget')!;
    expect(budget.message).toMatch(/^RTO \d.* is over the budget of 1ms$/);
    expect(budget.step).toBeUndefined();
    expect(statusOf(runs[0]!)['rto.budget']).toBeUndefined();
  });

  it('history FILE prints what was stored, as a table and as JSON, and draws it', async () => {
    const table = await runCli(['history', history]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^#\s+started \(UTC\)\s+kind\s+target\s+verdict\s+backup\s+RTO\s+restore\s+RPO\s+duration\s+failed$/);
    expect(lines[1]).toMatch(new RegExp(`^1\\s+\\S+ \\S+\\s+drill\\s+process\\s+pass\\s+${runs[0]!.target.backup_stamp}\\s`));
    expect(lines[2]).toMatch(/^2\s.*\sfail\s.*rto\.budget$/);
    const json = await runCli(['history', history, '--json']);
    const stored = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(stored.map((r) => [r.verdict, r.rto_ms, r.backup_stamp])).toEqual(runs.map((r) => [r.verdict, r.metrics.rto_ms, r.target.backup_stamp]));
    expect(stored[1]!.failing_checks).toEqual(['rto.budget']);
    expect((stored[0]!.steps as unknown[]).length).toBe(runs[0]!.steps.length);
    const chart = place('all.svg');
    const drawn = await runCli(['history', history, '--chart', chart, '--rto-budget', '15m']);
    expect(drawn.code, drawn.stderr).toBe(0);
    expect(pointsIn(readFileSync(chart, 'utf8'), 'rto')).toBe(2);
    expect(readFileSync(chart, 'utf8')).toContain('class="budget"');
  });

  it('the summary draws the RTO trend and the step timeline as Mermaid', () => {
    const text = readFileSync(summary, 'utf8');
    expect(text).toContain('```mermaid\nxychart-beta');
    expect(text).toMatch(/line \[[\d.]+, [\d.]+\]/);
    expect(text).toContain('```mermaid\ngantt');
  });
});

describe('rto.regression against the history', () => {
  it('a drill much slower than the recorded runs of the same target warns (exit 0), and passes against slower ones', async () => {
    const fast = place('fast.sqlite');
    const slow = place('slow.sqlite');
    const recorded = (rto: number): DrillReport => ({
      schema: 'atocore-drill/report@1',
      kind: 'drill',
      verdict: 'pass',
      started_at: '2026-11-01T10:00:00.000Z',
      finished_at: '2026-11-01T10:00:05.000Z',
      duration_ms: 5_000,
      target: { runtime: 'process', image: null, backup_stamp: null },
      steps: [],
      checks: [],
      metrics: { rto_ms: rto, restore_ms: 100, rpo_s: 1 },
      snapshots: [],
    });
    for (let i = 0; i < 3; i++) recordRun(fast, recorded(5));
    for (let i = 0; i < 3; i++) recordRun(slow, recorded(600_000));
    const warned = await drill(['--history', fast]);
    expect(warned.code, warned.stdout).toBe(0);
    expect(warned.report!.verdict).toBe('warn');
    expect(warned.report!.checks.find((c) => c.id === 'rto.regression')).toMatchObject({ status: 'warn', evidence: { median_ms: 5, runs_compared: 3 } });
    const passed = await drill(['--history', slow]);
    expect(passed.code).toBe(0);
    expect(statusOf(passed.report!)['rto.regression']).toBe('pass');
  }, 240_000);
});

describe('validate --history', () => {
  it('two validations appending to one history at once both land', async () => {
    const tree = join(work, 'tree');
    buildSnapshotTree(tree, goodTreePlan());
    const history = place('validate.sqlite');
    const run = (): ReturnType<typeof runCli> => runCli(['validate', '--dir', tree, '--now', FIXTURE_NOW, '--history', history], { timeoutMs: 120_000 });
    const [a, b] = await Promise.all([run(), run()]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const shown = JSON.parse((await runCli(['history', history, '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(shown).toHaveLength(2);
    expect(shown.map((r) => [r.kind, r.target, r.verdict, r.rpo_s])).toEqual([
      ['validate', tree, 'pass', 3600],
      ['validate', tree, 'pass', 3600],
    ]);
    expect((shown[0]!.sizes as Record<string, number>).db_bytes).toBeGreaterThan(0);
    // a third: its summary's trend is the RPO, its chart beside the report draws the --rpo line
    const summary = place('validate-summary.md');
    const reportFile = place('validate-report.json');
    const third = await runCli(['validate', '--dir', tree, '--now', FIXTURE_NOW, '--rpo', '2h', '--history', history, '--summary', summary, '--report-json', reportFile], { timeoutMs: 120_000 });
    expect(third.code, third.stderr).toBe(0);
    expect(readFileSync(summary, 'utf8')).toContain('title "RPO over the last 3 runs (hours)"');
    const svg = readFileSync(reportFile.replace(/\.json$/, '.history.svg'), 'utf8');
    expect(pointsIn(svg, 'rpo')).toBe(3);
    expect(svg.split('<g id="rpo"')[1]!.split('</g>')[0]).toContain('class="budget"');
  }, 240_000);
});

describe('hostile history files: exit 2 naming the file before anything runs, nothing changed', () => {
  const refused = async (history: string, words: RegExp, wrap?: readonly string[]): Promise<void> => {
    const reportFile = place('report.json');
    const run = await runCli(['drill', '--history', history, '--report-json', reportFile], { timeoutMs: 60_000, ...(wrap ? { wrap } : {}) });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toContain(history);
    expect(run.stderr).toMatch(words);
    // refused before the run: no drill started, no report, no chart
    expect(run.stdout).not.toContain('Start AtoCore');
    expect(existsSync(reportFile)).toBe(false);
  };

  it('a file that is not SQLite', async () => {
    const path = place('notes.txt');
    writeFileSync(path, 'my notes\n');
    await refused(path, /--history: .* is not an SQLite file/);
    expect(readFileSync(path, 'utf8')).toBe('my notes\n');
  });

  it('an SQLite database that is not a history (e.g. AtoCore\'s own)', async () => {
    const path = place('atocore.db');
    execFileSync('python3', ['-c', `import sqlite3; c = sqlite3.connect(${JSON.stringify(path)}); c.execute('CREATE TABLE memories (id TEXT)'); c.commit()`]);
    const before = sha(path);
    await refused(path, /not an atocore-drill history/);
    expect(sha(path)).toBe(before);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('a history of a newer schema version', async () => {
    const path = place('newer.sqlite');
    recordRun(path, { schema: 'atocore-drill/report@1', kind: 'drill', verdict: 'pass', started_at: '2026-11-01T10:00:00.000Z', finished_at: '2026-11-01T10:00:01.000Z', duration_ms: 1, target: { runtime: 'process', image: null, backup_stamp: null }, steps: [], checks: [], metrics: { rto_ms: 1, restore_ms: 1, rpo_s: 1 }, snapshots: [] });
    execFileSync('python3', ['-c', `import sqlite3; c = sqlite3.connect(${JSON.stringify(path)}); c.execute('UPDATE history_schema SET version = 99'); c.commit()`]);
    const before = sha(path);
    await refused(path, /schema version 99/);
    expect(sha(path)).toBe(before);
    expect(existsSync(`${path}-wal`) || existsSync(`${path}-shm`)).toBe(false);
  });

  it('a symlink (to a good history or anywhere): refused, never followed', async () => {
    const target = place('real.sqlite');
    writeFileSync(target, '');
    const link = place('link.sqlite');
    symlinkSync(target, link);
    await refused(link, /is a symlink/);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(target);
    expect(readFileSync(target).length).toBe(0);
  });

  it('a FIFO: refused without opening it (no hang)', async () => {
    const path = place('fifo');
    execFileSync('mkfifo', [path]);
    await refused(path, /is a FIFO/);
    expect(lstatSync(path).isFIFO()).toBe(true);
  });

  it('a directory', async () => {
    const path = place('dir');
    mkdirSync(path);
    await refused(path, /is a directory/);
  });

  it('a history this user cannot write', async () => {
    const dir = place('ro');
    mkdirSync(dir);
    const path = join(dir, 'history.sqlite');
    recordRun(path, { schema: 'atocore-drill/report@1', kind: 'drill', verdict: 'pass', started_at: '2026-11-01T10:00:00.000Z', finished_at: '2026-11-01T10:00:01.000Z', duration_ms: 1, target: { runtime: 'process', image: null, backup_stamp: null }, steps: [], checks: [], metrics: { rto_ms: 1, restore_ms: 1, rpo_s: 1 }, snapshots: [] });
    chmodSync(work, 0o755);
    chmodSync(dir, 0o755);
    chmodSync(path, 0o644);
    const before = sha(path);
    // as nobody: the file is root's and read-only to others
    await refused(path, /cannot write/, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
    expect(sha(path)).toBe(before);
  });

  it('--chart without --history, and a chart that names the same file as the history', async () => {
    const chartOnly = await runCli(['drill', '--chart', place('c.svg')]);
    expect(chartOnly.code).toBe(2);
    expect(chartOnly.stderr).toContain('--chart draws the run history: it needs --history FILE');
    const same = place('same.sqlite');
    const clash = await runCli(['drill', '--history', same, '--chart', same]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/--history and --chart name the same file/);
  });
});

describe('history FILE on a history written by someone else', () => {
  it('odd values in every column are shown escaped, never crash the table or the chart', async () => {
    const path = place('odd.sqlite');
    recordRun(path, { schema: 'atocore-drill/report@1', kind: 'drill', verdict: 'pass', started_at: '2026-11-01T10:00:00.000Z', finished_at: '2026-11-01T10:00:01.000Z', duration_ms: 1, target: { runtime: 'process', image: null, backup_stamp: null }, steps: [], checks: [], metrics: { rto_ms: 1, restore_ms: 1, rpo_s: 1 }, snapshots: [] });
    const sql = "INSERT INTO runs (kind, target, verdict, backup_stamp, rto_ms, restore_ms, rpo_s, started_at, duration_ms, failing_checks, recorded_at) VALUES ('drill', 'evil\x1b]0;pwned\x07<svg>', 'fail', 42, 'fast', x'00ff', -5, 1234, 'long', '{not json', 'now')";
    execFileSync('python3', ['-c', `import sqlite3; c = sqlite3.connect(${JSON.stringify(path)}); c.execute(${JSON.stringify(sql)}.replace('\\x1b', chr(27)).replace('\\x07', chr(7))); c.commit()`]);
    const chart = place('odd.svg');
    const shown = await runCli(['history', path, '--chart', chart]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).not.toContain('\x1b]');
    expect(shown.stdout).toContain('evil\\x1b]0;pwned\\x07<svg>');
    expect(pointsIn(readFileSync(chart, 'utf8'), 'rto')).toBe(1);
    const json = JSON.parse((await runCli(['history', path, '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(json[1]).toMatchObject({ started_at: '1234', rto_ms: null, restore_ms: null, rpo_s: -5, duration_ms: 0, failing_checks: [], backup_stamp: '42' });
  });
});

describe('history FILE through a pipe', () => {
  it('a long listing (5,001 runs, 1.5 MB of JSON) arrives whole: the command waits for the pipe before it exits', async () => {
    const path = place('long.sqlite');
    recordRun(path, aRun('2026-11-01T10:00:00.000Z'));
    const append = "INSERT INTO runs (kind, target, verdict, started_at, duration_ms, failing_checks, recorded_at) VALUES ('drill', 'process', 'pass', '2026-11-03T10:00:00.000Z', 1, '[]', 'now')";
    execFileSync('python3', ['-c', `import sqlite3\nc = sqlite3.connect(${JSON.stringify(path)})\nfor i in range(5000): c.execute(${JSON.stringify(append)})\nc.commit()`]);
    const json = await runCli(['history', path, '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as unknown[]).length).toBe(5001);
    const table = await runCli(['history', path]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(5002);
  });
});

describe('a history that cannot be written after the run', () => {
  it('a passing run exits 3 with an error line naming the file; its report keeps the verdict pass', async () => {
    const history = place('gone.sqlite');
    const reportFile = place('report.json');
    let planted = false;
    // while the drill runs, something takes the history's place: a directory
    const result = await startCli(['drill', '--history', history, '--report-json', reportFile], (output) => {
      if (!planted && output.includes('Start AtoCore on the restored data')) {
        planted = true;
        mkdirSync(history);
      }
    });
    expect(planted).toBe(true);
    expect(result.code, result.output).toBe(3);
    expect(result.output).toContain(`--history: ${history} is a directory`);
    expect(result.output).toContain('the run was not recorded; its verdict stands');
    expect(readReport(reportFile).verdict).toBe('pass');
  }, 120_000);

  it('a failing run keeps exit 1 (the finding matters more than the record), and still says the history was not kept', async () => {
    const history = place('gone-too.sqlite');
    let planted = false;
    const result = await startCli(['drill', '--fault', 'restore-skips-db', '--history', history], (output) => {
      if (!planted && output.includes('Start AtoCore on the restored data')) {
        planted = true;
        mkdirSync(history);
      }
    });
    expect(planted).toBe(true);
    expect(result.code, result.output).toBe(1);
    expect(result.output).toContain(`--history: ${history} is a directory`);
  }, 120_000);
});

/** A run as recordRun takes it: one passing drill of the stand-in, started at `at`. */
function aRun(at: string): DrillReport {
  return { schema: 'atocore-drill/report@1', kind: 'drill', verdict: 'pass', started_at: at, finished_at: at, duration_ms: 1, target: { runtime: 'process', image: null, backup_stamp: null }, steps: [], checks: [], metrics: { rto_ms: 1, restore_ms: 1, rpo_s: 1 }, snapshots: [] };
}

/** Every entry of a folder with its bytes' hash: what "nothing written there" compares. */
function folderState(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((entry) => [entry, sha(join(dir, entry))]));
}

/** Mounts a small tmpfs at `dir`; false (the test skips, saying why) where this machine does not allow it, except in CI, whose machine does. */
function mountTmpfs(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    return false;
  }
}

describe('history FILE where this user cannot write: read from a private copy, nothing written beside the file', () => {
  const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
  /** `history --json` with a temp folder of its own, which must be empty again afterwards. */
  const show = async (path: string, wrap?: readonly string[]): Promise<{ code: number | null; runs: Array<Record<string, unknown>>; stderr: string; tempLeft: string[] }> => {
    const temp = place('tmp');
    mkdirSync(temp, { mode: 0o1777 });
    chmodSync(temp, 0o1777);
    const run = await runCli(['history', path, '--json'], { env: { TMPDIR: temp }, ...(wrap ? { wrap } : {}) });
    return { code: run.code, runs: run.code === 0 ? (JSON.parse(run.stdout) as Array<Record<string, unknown>>) : [], stderr: run.stderr, tempLeft: readdirSync(temp) };
  };

  it('on a tmpfs remounted read-only (a restored cache, an archive): the runs are shown', async (context) => {
    const mount = place('ro-mount');
    mkdirSync(mount);
    if (!mountTmpfs(mount)) context.skip('mounting a tmpfs is not permitted here (it needs root; CI runs as root)');
    try {
      const path = join(mount, 'history.sqlite');
      recordRun(path, aRun('2026-11-01T10:00:00.000Z'));
      recordRun(path, aRun('2026-11-02T10:00:00.000Z'));
      execFileSync('mount', ['-o', 'remount,ro', mount]);
      const before = folderState(mount);
      expect(Object.keys(before)).toEqual(['history.sqlite']);
      const shown = await show(path);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.runs.map((r) => r.started_at)).toEqual(['2026-11-01T10:00:00.000Z', '2026-11-02T10:00:00.000Z']);
      expect(folderState(mount)).toEqual(before);
      // the private copy is gone once the command ends
      expect(shown.tempLeft).toEqual([]);
      // writing there is still refused before a run, naming the file
      const write = await runCli(['drill', '--history', path]);
      expect(write.code).toBe(2);
      expect(write.stderr).toContain(path);
    } finally {
      execFileSync('umount', [mount]);
    }
  });

  it('in a folder this user cannot write, with the -wal of a writer that was killed (and no -shm): its runs too are shown', async () => {
    const dir = place('ro-dir');
    mkdirSync(dir);
    const path = join(dir, 'history.sqlite');
    recordRun(path, aRun('2026-11-01T10:00:00.000Z'));
    // a writer appends a run and dies before SQLite folds its -wal back into the file
    const append = "INSERT INTO runs (kind, target, verdict, started_at, duration_ms, failing_checks, recorded_at) VALUES ('drill', 'process', 'pass', '2026-11-03T10:00:00.000Z', 1, '[]', 'now')";
    const writer = spawnSync('python3', ['-c', `import os, signal, sqlite3\nc = sqlite3.connect(${JSON.stringify(path)})\nc.execute(${JSON.stringify(append)})\nc.commit()\nos.kill(os.getpid(), signal.SIGKILL)`]);
    expect(writer.signal, writer.stderr.toString()).toBe('SIGKILL');
    expect(readFileSync(`${path}-wal`).length).toBeGreaterThan(0);
    rmSync(`${path}-shm`);
    chmodSync(work, 0o755);
    chmodSync(dir, 0o555);
    const before = folderState(dir);
    const shown = await show(path, asNobody);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.runs.map((r) => r.started_at)).toEqual(['2026-11-01T10:00:00.000Z', '2026-11-03T10:00:00.000Z']);
    expect(folderState(dir)).toEqual(before);
    expect(shown.tempLeft).toEqual([]);
  });

  it('refused: a history past the copy\'s bound (before a byte is copied), a -wal that is a symlink; a temp folder this user cannot write is an error naming both', async () => {
    const dir = place('ro-hostile');
    mkdirSync(dir);
    chmodSync(work, 0o755);
    // sparse: 300 MiB that take no room, an SQLite header first
    const huge = join(dir, 'huge.sqlite');
    writeFileSync(huge, 'SQLite format 3\0');
    execFileSync('truncate', ['-s', '300M', huge]);
    const linked = join(dir, 'linked.sqlite');
    recordRun(linked, aRun('2026-11-01T10:00:00.000Z'));
    symlinkSync('/etc/passwd', `${linked}-wal`);
    const good = join(dir, 'good.sqlite');
    recordRun(good, aRun('2026-11-01T10:00:00.000Z'));
    chmodSync(dir, 0o555);
    const before = folderState(dir);
    const tooLarge = await show(huge, asNobody);
    expect(tooLarge.code).toBe(2);
    expect(tooLarge.stderr).toContain(`history FILE: ${huge} is larger than the 256 MiB`);
    expect(tooLarge.tempLeft).toEqual([]);
    const link = await show(linked, asNobody);
    expect(link.code).toBe(2);
    expect(link.stderr).toContain(`${linked}-wal is a symlink; refused, not followed`);
    expect(link.tempLeft).toEqual([]);
    // the temp folder is root's: nobody cannot make the copy there, which is the machine's trouble (exit 3), not the file's
    const closed = place('closed-tmp');
    mkdirSync(closed, { mode: 0o755 });
    const run = await runCli(['history', good], { env: { TMPDIR: closed }, wrap: asNobody });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain(`history FILE: ${good} is read from a private copy (this user cannot write it or its folder), which could not be made in ${closed}`);
    expect(readdirSync(closed)).toEqual([]);
    expect(folderState(dir)).toEqual(before);
  });

  it('while its owner keeps appending (and checkpointing): each read shows a state the history was in, never a torn copy', async () => {
    const dir = place('ro-busy');
    mkdirSync(dir);
    const path = join(dir, 'history.sqlite');
    recordRun(path, aRun('2026-11-01T10:00:00.000Z'));
    chmodSync(work, 0o755);
    chmodSync(dir, 0o755);
    chmodSync(path, 0o644);
    const append = "INSERT INTO runs (kind, target, verdict, started_at, duration_ms, failing_checks, recorded_at) VALUES ('drill', 'process', 'pass', '2026-11-03T10:00:00.000Z', 1, '[]', 'now')";
    const writer = spawn('python3', ['-c', `import sqlite3, time\nc = sqlite3.connect(${JSON.stringify(path)}, isolation_level=None)\nc.execute('PRAGMA wal_autocheckpoint = 2')\nfor i in range(100000):\n    c.execute(${JSON.stringify(append)})\n    time.sleep(0.002)`], { stdio: 'ignore' });
    try {
      let last = 0;
      for (let i = 0; i < 8; i++) {
        const shown = await show(path, asNobody);
        // another process writing it the whole time may make every copy differ (exit 3): never a damaged read (exit 2)
        if (shown.code === 3) {
          expect(shown.stderr).toContain('times it was copied to be read (another process is writing it)');
          continue;
        }
        expect(shown.code, shown.stderr).toBe(0);
        expect(shown.runs.length).toBeGreaterThanOrEqual(last);
        last = shown.runs.length;
        expect(shown.tempLeft).toEqual([]);
      }
      expect(last).toBeGreaterThan(1);
    } finally {
      writer.kill('SIGKILL');
    }
  });

  it('a history in a shared folder (sticky, world-writable, as /tmp) with links another user put at its -wal and -shm names: read from a private copy, the links refused, nothing left beside it', async () => {
    const dir = place('shared-dir');
    mkdirSync(dir);
    chmodSync(dir, 0o1777);
    chmodSync(work, 0o755);
    const path = join(dir, 'history.sqlite');
    recordRun(path, aRun('2026-11-01T10:00:00.000Z'));
    const victim = place('victim.txt');
    writeFileSync(victim, 'untouched');
    // a clean shared folder: read from a copy, all there, nothing beside the file
    const before = folderState(dir);
    const clean = await show(path);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.runs).toHaveLength(1);
    expect(folderState(dir)).toEqual(before);
    // another user's link at the -shm name: the copy never reads -shm; at the -wal name it is refused by name
    symlinkSync(victim, `${path}-shm`);
    execFileSync('chown', ['-h', '65534:65534', `${path}-shm`]);
    const shm = await show(path);
    expect(shm.code, shm.stderr).toBe(0);
    expect(existsSync(`${path}-wal`)).toBe(false);
    rmSync(`${path}-shm`);
    symlinkSync(victim, `${path}-wal`);
    execFileSync('chown', ['-h', '65534:65534', `${path}-wal`]);
    const wal = await show(path);
    expect(wal.code).toBe(2);
    expect(wal.stderr).toContain(`${path}-wal is a symlink; refused, not followed`);
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
  });

  it('a read-only history in a folder this user can write: no -wal or -shm is left beside it', async () => {
    const dir = place('rw-dir');
    mkdirSync(dir);
    const path = join(dir, 'history.sqlite');
    recordRun(path, aRun('2026-11-01T10:00:00.000Z'));
    chmodSync(work, 0o755);
    chmodSync(path, 0o444);
    execFileSync('chown', ['65534:65534', dir]);
    const before = folderState(dir);
    const shown = await show(path, asNobody);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.runs).toHaveLength(1);
    expect(folderState(dir)).toEqual(before);
  });
});

/**
 * Another program holding the history's lock until it is killed: its write lock (a transaction
 * kept open), or with `wholeFile` every lock (SQLite's exclusive locking mode: readers wait too).
 */
async function holdLock(history: string, wholeFile = false): Promise<ReturnType<typeof spawn>> {
  const take = wholeFile ? "c.execute('PRAGMA locking_mode = EXCLUSIVE')\nc.execute('BEGIN EXCLUSIVE')\nc.execute('INSERT INTO history_schema SELECT * FROM history_schema WHERE 0')" : "c.execute('BEGIN IMMEDIATE')";
  const holder = spawn('python3', ['-c', `import sqlite3, time\nc = sqlite3.connect(${JSON.stringify(history)}, isolation_level=None)\n${take}\nprint('held', flush=True)\ntime.sleep(120)`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
    holder.on('exit', () => reject(new Error('the lock holder exited')));
  });
  return holder;
}

describe('a history another process holds locked', () => {
  it('before the run (every lock): an error (exit 3) after 15 s saying what, nothing run; history FILE likewise', async () => {
    const history = place('held.sqlite');
    recordRun(history, aRun('2026-11-01T10:00:00.000Z'));
    const holder = await holdLock(history, true);
    try {
      const reportFile = place('held-report.json');
      const run = await runCli(['drill', '--history', history, '--report-json', reportFile], { timeoutMs: 60_000 });
      expect(run.code, run.stdout + run.stderr).toBe(3);
      expect(run.stderr).toContain(`${history} could not be read: database is locked (another process held its lock longer than the 15 s a run waits for it)`);
      expect(run.stdout).not.toContain('Start AtoCore');
      expect(existsSync(reportFile)).toBe(false);
      const shown = await runCli(['history', history], { timeoutMs: 60_000 });
      expect(shown.code).toBe(3);
      expect(shown.stderr).toContain(`history FILE: ${history} could not be read: database is locked`);
    } finally {
      holder.kill('SIGKILL');
    }
  }, 120_000);

  it('through the run (the write lock): a passing run waits 15 s once, says the write failed and why, and every output agrees on exit 3', async () => {
    const tree = join(work, 'locked-tree');
    buildSnapshotTree(tree, goodTreePlan());
    const history = place('locked.sqlite');
    recordRun(history, aRun('2026-11-01T10:00:00.000Z'));
    const holder = await holdLock(history);
    try {
      const reportFile = place('locked-report.json');
      const summary = place('locked-summary.md');
      const began = Date.now();
      const run = await runCli(['validate', '--dir', tree, '--now', FIXTURE_NOW, '--history', history, '--report-json', reportFile, '--summary', summary], { timeoutMs: 120_000 });
      const took = Date.now() - began;
      expect(run.code, run.stdout + run.stderr).toBe(3);
      // the last line of the console says the code the process exits with, and why
      expect(run.stdout.trimEnd().split('\n').at(-1)).toMatch(/^verdict: PASS \(exit 3: the history was not kept\) — /);
      expect(run.stdout).not.toMatch(/exit 0/);
      // the error line says it was the write, and why; not that the file cannot be read
      expect(run.stderr).toContain(`--history: ${history} could not be written: database is locked (another process held its lock longer than the 15 s a run waits for it) (the run was not recorded; its verdict stands)`);
      expect(run.stderr).not.toMatch(/cannot be read/);
      // one wait for the lock, not one per statement
      expect(took).toBeGreaterThan(14_000);
      expect(took).toBeLessThan(28_000);
      // the report keeps its verdict; neither file claims the run exited 0
      expect(readReport(reportFile).verdict).toBe('pass');
      expect(readFileSync(summary, 'utf8')).not.toMatch(/exit 0/i);
      // the summary says what was not kept and what it does to the exit code
      expect(readFileSync(summary, 'utf8')).toMatch(/> \*\*Run history not kept:\*\* --history: .* could not be written: database is locked.*The verdict stands; the run exits 3 for this/);
    } finally {
      holder.kill('SIGKILL');
    }
    // the lock gone, the file is intact and holds the runs recorded before
    const shown = JSON.parse((await runCli(['history', history, '--json'])).stdout) as unknown[];
    expect(shown).toHaveLength(1);
  }, 120_000);
});
