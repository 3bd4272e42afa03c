import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { create } from 'xmlbuilder2';
import { afterAll, describe, expect, it } from 'vitest';
import { rpoBudgetCheck, rtoBudgetCheck, rtoRegressionCheck, regressionBaseline, withRunChecks } from '../src/history/budgets.js';
import { judgeRun, readRuns, recordRun } from '../src/history/keep.js';
import { historyRunOf, targetLabel } from '../src/history/run.js';
import { HISTORY_SCHEMA_VERSION, HistoryStore, checkHistoryFile } from '../src/history/store.js';
import { check, type DrillReport } from '../src/report/model.js';
import { renderHistoryChart } from '../src/render/chart.js';
import { mermaidLabel, stepsGantt, trendChart } from '../src/render/mermaid.js';
import { renderMarkdownSummary } from '../src/render/markdown.js';
import { PROJECT_ROOT } from './support/cli.js';

/** What the tests read of the parsed SVG (xmlbuilder2's DOM). */
interface XmlElement {
  getAttribute(name: string): string | null;
  getElementsByTagName(name: string): ArrayLike<XmlElement> & Iterable<XmlElement>;
}

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-history-store-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let files = 0;
const fresh = (): string => join(work, `history-${++files}.sqlite`);

function report(overrides: Partial<DrillReport> & { rto_ms?: number | null; rpo_s?: number | null } = {}): DrillReport {
  const { rto_ms = 2_000, rpo_s = 3, ...rest } = overrides;
  return {
    schema: 'atocore-drill/report@1',
    kind: 'drill',
    verdict: 'pass',
    started_at: '2026-11-29T10:00:00.000Z',
    finished_at: '2026-11-29T10:00:05.000Z',
    duration_ms: 5_000,
    target: { runtime: 'process', image: null, backup_stamp: '20261129T100001Z' },
    steps: [
      { id: 'start', title: 'Start AtoCore', status: 'pass', duration_ms: 400, detail: '' },
      { id: 'restore', title: 'Restore', status: 'pass', duration_ms: 300, detail: '' },
    ],
    checks: [check('backup.created', 'pass', 'ok', { answer: { db_size_bytes: 4096 } })],
    metrics: { rto_ms, restore_ms: 300, rpo_s },
    snapshots: [],
    ...rest,
  };
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('the history file', () => {
  it('accumulates runs with every figure, steps, sizes and failing check ids, in WAL with a schema version', () => {
    const path = fresh();
    recordRun(path, report());
    recordRun(path, report({ verdict: 'fail', rto_ms: null, checks: [check('marker.post_backup_gone', 'fail', 'B is back')], steps: [{ id: 'verify', title: 'Verify', status: 'fail', duration_ms: 5, detail: '' }] }));
    const runs = readRuns(path, '--history');
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ id: 1, kind: 'drill', target: 'process', verdict: 'pass', backup_stamp: '20261129T100001Z', rto_ms: 2_000, restore_ms: 300, rpo_s: 3, duration_ms: 5_000, failing_checks: [], sizes: { db_bytes: 4096 } });
    expect(runs[0]!.steps).toEqual([{ id: 'start', status: 'pass', duration_ms: 400 }, { id: 'restore', status: 'pass', duration_ms: 300 }]);
    expect(runs[1]).toMatchObject({ verdict: 'fail', rto_ms: null, failing_checks: ['marker.post_backup_gone', 'step:verify'] });
    // the last connection closed: SQLite's -wal and -shm are gone, the file alone is the history (what the CI cache saves)
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(existsSync(`${path}-shm`)).toBe(false);
    const db = new Database(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT version FROM history_schema').all()).toEqual([{ version: HISTORY_SCHEMA_VERSION }]);
    db.close();
  });

  it('two processes appending at once lose no run', async () => {
    const path = fresh();
    const writer = `
      const { recordRun } = await import(${JSON.stringify(join(PROJECT_ROOT, 'lib/history/keep.js'))});
      const report = JSON.parse(process.argv[1]);
      for (let i = 0; i < 40; i++) recordRun(${JSON.stringify(path)}, { ...report, target: { ...report.target, label: process.argv[2] } });
    `;
    const run = (label: string): Promise<{ code: number | null; stderr: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', writer, JSON.stringify(report()), label], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code, stderr }));
      });
    const results = await Promise.all([run('one'), run('two')]);
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const runs = readRuns(path, '--history');
    expect(runs).toHaveLength(80);
    expect(runs.filter((r) => r.target === 'one')).toHaveLength(40);
    expect(runs.filter((r) => r.target === 'two')).toHaveLength(40);
    expect(new Set(runs.map((r) => r.id)).size).toBe(80);
  });

  it('refuses a newer schema version, a foreign SQLite database and a file of other bytes, and changes none of them', () => {
    const newer = fresh();
    recordRun(newer, report());
    const db = new Database(newer);
    db.prepare('UPDATE history_schema SET version = ?').run(HISTORY_SCHEMA_VERSION + 1);
    db.close();
    const foreign = fresh();
    const other = new Database(foreign);
    other.exec('CREATE TABLE memories (id TEXT)');
    other.close();
    const text = fresh();
    writeFileSync(text, 'not a database\n');
    for (const [path, words] of [
      [newer, /schema version 2; this atocore-drill reads up to 1/],
      [foreign, /not an atocore-drill history/],
      [text, /not an SQLite file/],
    ] as const) {
      const before = sha(path);
      expect(() => checkHistoryFile(path, '--history')).toThrow(words);
      expect(() => recordRun(path, report(), '--history')).toThrow(path);
      expect(sha(path)).toBe(before);
    }
  });
});

describe('budgets and the regression', () => {
  it('rto.budget fails over the budget, passes within it, skips with the reason when no RTO was measured', () => {
    expect(rtoBudgetCheck(3_000, 2_000, null)).toMatchObject({ status: 'fail', message: 'RTO 3.0s is over the budget of 2.0s' });
    expect(rtoBudgetCheck(2_000, 2_000, null)).toMatchObject({ status: 'pass', message: 'RTO 2.0s, within the budget of 2.0s' });
    expect(rtoBudgetCheck(null, 2_000, 'interrupted by SIGINT')).toMatchObject({ status: 'skip', message: 'no RTO was measured: interrupted by SIGINT' });
  });

  it('rpo.budget judges the restored backup\'s age in seconds against the budget', () => {
    expect(rpoBudgetCheck(90_000, 86_400_000, null).status).toBe('fail');
    expect(rpoBudgetCheck(3, 86_400_000, null).status).toBe('pass');
    expect(rpoBudgetCheck(null, 86_400_000, null).status).toBe('skip');
  });

  it('a failed budget makes the verdict fail; a warning never hides a fail or an error', () => {
    expect(withRunChecks(report(), [rtoBudgetCheck(3_000, 1_000, null)]).verdict).toBe('fail');
    expect(withRunChecks(report(), [rtoBudgetCheck(3_000, 10_000, null)]).verdict).toBe('pass');
    expect(withRunChecks(report({ verdict: 'error', error: 'no Docker' }), [check('rto.regression', 'warn', 'slow')]).verdict).toBe('error');
  });

  it('rto.regression warns above twice the median of the last 10 passing runs of the same kind and target, and only then', () => {
    const runs = [1_000, 1_200, 900, 50_000].map((rto, i) => historyRunOf(report({ rto_ms: rto, verdict: i === 3 ? 'fail' : 'pass' })));
    const baseline = regressionBaseline([...runs, historyRunOf(report({ target: { runtime: 'container', image: 'x', backup_stamp: null }, rto_ms: 1 }))], 'drill', 'process');
    expect(baseline.map((r) => r.rto_ms)).toEqual([1_000, 1_200, 900]);
    expect(rtoRegressionCheck(2_100, baseline)).toMatchObject({ status: 'warn', evidence: { median_ms: 1_000, runs_compared: 3 } });
    expect(rtoRegressionCheck(1_900, baseline).status).toBe('pass');
    expect(rtoRegressionCheck(9_000, baseline.slice(0, 2)).status).toBe('skip');
  });

  it('judgeRun reads the history file: a drill three times slower than its recorded runs warns', () => {
    const path = fresh();
    for (const rto of [1_000, 1_100, 1_000, 900]) recordRun(path, report({ rto_ms: rto }));
    const judged = judgeRun(report({ rto_ms: 3_000 }), { history: path, chart: null, rtoBudgetMs: null, rpoBudgetMs: null });
    expect(judged.checks.at(-1)).toMatchObject({ id: 'rto.regression', status: 'warn' });
    expect(judged.checks.at(-1)!.step).toBeUndefined();
    expect(judged.verdict).toBe('warn');
    expect(judgeRun(report({ rto_ms: 1_500 }), { history: path, chart: null, rtoBudgetMs: null, rpoBudgetMs: null }).verdict).toBe('pass');
  });
});

describe('pictures', () => {
  const hostile = '</text><script>alert(1)</script>&"\'\u0000\u001b[31m';

  it('the SVG chart is well-formed XML with one point per run in each panel, failed runs marked, budgets dashed, every text escaped', () => {
    const runs = [
      { id: 1, verdict: 'pass', started_at: '2026-11-01T10:00:00Z', rto_ms: 2_000, restore_ms: 300, rpo_s: 60, duration_ms: 5_000 },
      { id: 2, verdict: 'fail', started_at: `2026-11-02T10:00:00Z${hostile}`, rto_ms: 9_000, restore_ms: 400, rpo_s: 120, duration_ms: 6_000 },
      { id: 3, verdict: 'pass', started_at: '2026-11-03T10:00:00Z', rto_ms: 2_100, restore_ms: 350, rpo_s: null, duration_ms: 5_500 },
    ];
    const svg = renderHistoryChart(runs, { title: `drill · ${hostile}`, rtoBudgetMs: 5_000, rpoBudgetMs: 3_600_000 });
    // a strict XML parser: a stray '<' or '&' from a hostile value would throw here
    const root = create(svg).root().node as unknown as XmlElement;
    const panel = (id: string): XmlElement => [...root.getElementsByTagName('g')].find((g) => g.getAttribute('id') === id)!;
    const count = (id: string, tag: string, cls?: string): number => [...panel(id).getElementsByTagName(tag)].filter((e) => cls === undefined || e.getAttribute('class') === cls).length;
    expect(count('rto', 'circle')).toBe(3);
    expect(count('duration', 'circle')).toBe(3);
    expect(count('rpo', 'circle')).toBe(2);
    expect(count('rto', 'circle', 'point failed')).toBe(1);
    expect(count('rto', 'rect', 'failed-run')).toBe(1);
    expect(count('restore', 'rect', 'failed-run')).toBe(1);
    expect(svg.match(/class="budget"/g)).toHaveLength(2);
    expect(svg).not.toContain('<script');
    expect(svg).not.toMatch(/[\u0000\u001b]/);
  });

  it('an empty history draws a chart that says so', () => {
    const svg = renderHistoryChart([], { title: 'none', rtoBudgetMs: null, rpoBudgetMs: null });
    expect(() => create(svg)).not.toThrow();
    expect(svg).toContain('no runs recorded yet');
  });

  it('Mermaid blocks carry no character that could end a label, a line or the fence', () => {
    expect(mermaidLabel('a"b`c\nd:e#f;g```')).toBe('a b c d e f g');
    const gantt = stepsGantt([{ id: 'x', title: 'Restore: ```\n"now"; #1', status: 'fail', duration_ms: 1_500, detail: '' }, { id: 'y', title: 'Verify', status: 'pass', duration_ms: 200, detail: '' }], 'Steps')!;
    expect(gantt.split('\n').filter((line) => line.startsWith('```'))).toEqual(['```mermaid', '```']);
    expect(gantt).toContain('Restore now 1 (fail) :crit, s0, 0, 1500');
    expect(gantt).toContain('Verify (pass) :done, s1, 1500, 1700');
    const trend = trendChart({ figure: 'RTO', points: [{ label: `#1 ${hostile}`, ms: 2_000 }, { label: 'run 2 11-29 10:00', ms: 2_500 }], budgetMs: 3_000 })!;
    expect(trend).toContain('title "RTO over the last 2 runs (seconds)"');
    expect(trend).toContain('x-axis ["1 /text script alert(1)", "run 2 11-29 10:00"]');
    expect(trend).toContain('line [2, 2.5]');
    expect(trend).toContain('line [3, 3]');
  });

  it('the summary shows the step timeline, and the RTO trend when the history is kept', () => {
    expect(renderMarkdownSummary(report())).toContain('```mermaid\ngantt');
    expect(renderMarkdownSummary(report())).not.toContain('xychart-beta');
    expect(renderMarkdownSummary(report(), 'fail', { trend: { figure: 'RTO', points: [{ label: '#1', ms: 2_000 }], budgetMs: null } })).toContain('```mermaid\nxychart-beta');
    // a validation's trend is its RPO, in the unit that reads best
    const rpo = trendChart({ figure: 'RPO', points: [{ label: 'a', ms: 3_600_000 }, { label: 'b', ms: 7_200_000 }], budgetMs: 86_400_000 })!;
    expect(rpo).toContain('title "RPO over the last 2 runs (hours)"');
    expect(rpo).toContain('line [1, 2]');
    expect(rpo).toContain('line [24, 24]');
  });

  it('the target label groups runs by the report\'s own label, a location, or profile, runtime and images', () => {
    expect(targetLabel({ runtime: 'container', image: 'atocore:2', from_image: 'atocore:1' })).toBe('container atocore:1→atocore:2');
    expect(targetLabel({ runtime: null, image: null, location: 'atocore@dalidou:22:/srv/atocore' })).toBe('atocore@dalidou:22:/srv/atocore');
    expect(targetLabel({ runtime: 'process', image: null, profile: 'jellycore' })).toBe('jellycore process');
  });
});

describe('the store, directly', () => {
  it('reads nothing from a history that is not there yet, and creates none', () => {
    const path = fresh();
    expect(HistoryStore.openForReading(path, '--history')).toBeNull();
    expect(existsSync(path)).toBe(false);
  });
});
