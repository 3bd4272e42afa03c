import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Deadline } from '../src/common/deadline.js';
import { DrillError, InfrastructureError } from '../src/common/errors.js';
import { IntegrityWorkers, integrityWorkerEntry } from '../src/sqlite/integrity-workers.js';
import { expandRowIndex, inspectSnapshotDatabase, type SnapshotDatabaseInspection } from '../src/validation/database.js';
import { PROJECT_ROOT } from './support/cli.js';

/**
 * The harness's own integrity_check on worker threads: the same inspection as on the main
 * thread, cut short (the worker terminated, the run's error, never a result) by an interrupt
 * or the run's --timeout, and found whether the harness runs from src/, lib/ or dist/.
 */

const work = mkdtempSync(join(tmpdir(), 'atocore-drill-integrity-worker-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let made = 0;
/** A small AtoCore-shaped database with rows that carry their creation time. */
function database(rows = 50): string {
  const path = join(work, `db-${made++}.db`);
  const db = new Database(path);
  db.exec('CREATE TABLE memories (id TEXT PRIMARY KEY, content TEXT, created_at TEXT); CREATE INDEX m_content ON memories(content)');
  const insert = db.prepare('INSERT INTO memories VALUES (?, ?, ?)');
  for (let i = 0; i < rows; i++) insert.run(`m${i}`, `memory ${i} ${'x'.repeat(200)}`, new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString());
  db.close();
  return path;
}

const bounds = (ms = 60_000, signal = new AbortController().signal) => ({ signal, deadline: new Deadline(ms) });

describe('integrity workers', () => {
  it('give the same inspection as the main thread, row index included', async () => {
    const workers = new IntegrityWorkers(2);
    try {
      const path = database();
      const here = await inspectSnapshotDatabase(path, 1, 60_000);
      const there = await inspectSnapshotDatabase(path, 1, 60_000, { offThread: { workers, bounds: bounds() } });
      expect(there.integrity).toEqual({ ok: true, messages: ['ok'] });
      expect(there.foreignKeys.ok).toBe(true);
      expect(expandRowIndex(there.rows!)).toEqual(expandRowIndex(here.rows!));
      expect(expandRowIndex(there.rows!).get('memories')?.size).toBe(50);
      expect(workers.threads).toBe(1);
    } finally {
      await workers.close();
    }
    expect(workers.threads).toBe(0);
  });

  it('a damaged database is a finding from the worker, not an error', async () => {
    const workers = new IntegrityWorkers(1);
    try {
      const path = database(400);
      // the index's pages overwritten with garbage past the first pages: integrity_check sees it
      const db = new Database(path);
      const pages = db.pragma('page_count', { simple: true }) as number;
      db.close();
      const bytes = Buffer.alloc(4096, 0x5a);
      const fd = openSync(path, 'r+');
      writeSync(fd, bytes, 0, bytes.length, (pages - 2) * 4096);
      closeSync(fd);
      const inspection: SnapshotDatabaseInspection = await inspectSnapshotDatabase(path, 1, 60_000, { offThread: { workers, bounds: bounds() } });
      expect(inspection.integrity.ok).toBe(false);
      expect(inspection.rows).toBeNull();
    } finally {
      await workers.close();
    }
  });

  it('a file that is not a database is a finding too', async () => {
    const workers = new IntegrityWorkers(1);
    try {
      const path = join(work, 'not-a-db.db');
      writeFileSync(path, 'SQLite format 3\0'.padEnd(8192, 'z'));
      const inspection = await inspectSnapshotDatabase(path, 1, 60_000, { offThread: { workers, bounds: bounds() } });
      expect(inspection.integrity.ok).toBe(false);
    } finally {
      await workers.close();
    }
  });

  it("the run's --timeout running out ends the worker: the run's error, no result", async () => {
    const workers = new IntegrityWorkers(1);
    try {
      const path = database();
      // the deadline is shorter than a worker takes to start: it runs out while the check is under way
      const run = workers.run({ path, rows: true }, bounds(1), 'integrity_check of test.db');
      await expect(run).rejects.toThrow(InfrastructureError);
      await expect(run).rejects.toThrow(/--timeout \S+ ran out/);
      expect(workers.threads).toBe(0);
      // the next check gets a fresh worker
      const inspection = await workers.run<SnapshotDatabaseInspection>({ path, rows: false }, bounds(), 'integrity_check of test.db');
      expect(inspection.integrity.ok).toBe(true);
    } finally {
      await workers.close();
    }
  });

  it('an interrupt ends the worker: the interrupt is the error, no result', async () => {
    const workers = new IntegrityWorkers(1);
    try {
      const controller = new AbortController();
      const reason = new InfrastructureError('interrupted by SIGTERM');
      const run = workers.run({ path: database(), rows: true }, bounds(60_000, controller.signal), 'integrity_check of test.db');
      controller.abort(reason);
      await expect(run).rejects.toBe(reason);
      expect(reason).toBeInstanceOf(DrillError);
      expect(workers.threads).toBe(0);
    } finally {
      await workers.close();
    }
  });

  it('runs at most its size at once; the rest wait for a worker', async () => {
    const workers = new IntegrityWorkers(2);
    try {
      const paths = Array.from({ length: 6 }, () => database(20));
      let most = 0;
      const watching = setInterval(() => (most = Math.max(most, workers.threads)), 1);
      const results = await Promise.all(paths.map((path) => workers.run<SnapshotDatabaseInspection>({ path, rows: false }, bounds(), path)));
      clearInterval(watching);
      expect(results.every((r) => r.integrity.ok)).toBe(true);
      expect(most).toBeLessThanOrEqual(2);
      expect(workers.threads).toBeLessThanOrEqual(2);
    } finally {
      await workers.close();
    }
  });
});

describe("the worker's entry, wherever the harness runs from", () => {
  it('src/ (vitest): the TypeScript source beside the pool', () => {
    const entry = integrityWorkerEntry(pathToFileURL(join(PROJECT_ROOT, 'src/sqlite/integrity-workers.ts')).href);
    expect(entry.fromSource).toBe(true);
    expect(existsSync(fileURLToPath(entry.url))).toBe(true);
  });

  it('lib/ (tsc): the compiled worker beside the compiled pool, and it runs', () => {
    const entry = integrityWorkerEntry(pathToFileURL(join(PROJECT_ROOT, 'lib/sqlite/integrity-workers.js')).href);
    expect(fileURLToPath(entry.url)).toBe(join(PROJECT_ROOT, 'lib/sqlite/integrity-worker.js'));
    expect(existsSync(fileURLToPath(entry.url))).toBe(true);
    const path = database(10);
    const script = `
      import { IntegrityWorkers } from ${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, 'lib/sqlite/integrity-workers.js')).href)};
      import { Deadline } from ${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, 'lib/common/deadline.js')).href)};
      const workers = new IntegrityWorkers(1);
      const result = await workers.run({ path: ${JSON.stringify(path)}, rows: false }, { signal: new AbortController().signal, deadline: new Deadline(60000) }, 'x');
      await workers.close();
      console.log(JSON.stringify(result.integrity));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(JSON.parse(out)).toEqual({ ok: true, messages: ['ok'] });
  });

  it('dist/ (the bundle): dist/integrity-worker/index.mjs, from an entry or a chunk one level below dist/', () => {
    for (const own of ['dist/main/index.mjs', 'dist/chunks/chunk-ABC.mjs']) {
      expect(fileURLToPath(integrityWorkerEntry(pathToFileURL(join(PROJECT_ROOT, own)).href).url)).toBe(join(PROJECT_ROOT, 'dist/integrity-worker/index.mjs'));
    }
    const script = readFileSync(join(PROJECT_ROOT, 'scripts/package.mjs'), 'utf8');
    expect(script).toContain("'integrity-worker/index': 'src/sqlite/integrity-worker.ts'");
  });
});
